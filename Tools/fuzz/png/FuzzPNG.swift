// FuzzPNG: libFuzzer target for the path a stranger's image file takes into a dataset:
// `Dataset.loadImageFolder` on a folder holding that one file — decode (PNG through libpng's
// simplified API, JPEG through libjpeg-turbo), center crop, channel conversion, resize, the
// Dataset's shape checks. Errors are fine; traps, sanitizer reports and huge allocations are bugs.
//
// Input: two option bytes, then the file.
//   byte 0: bit 0 channels given (bit 1: 3, else 1) · bit 2 crop given · bit 3 size given ·
//           bit 4 bilinear (else nearest) · bit 5 range −1…1 · bit 6 skip bad images ·
//           bit 7 rewrite every PNG chunk's CRC-32 before writing the file
//   byte 1: crop (b & 15) + 1; size (height × width) ((b >> 4)·2 + 1) × ((b & 15)·2 + 1)
//   rest:   the image; a file starting FF D8 is written as `image.jpg`, anything else as `image.png`.
// libpng and libjpeg-turbo are system C libraries built without coverage instrumentation, so
// libFuzzer's coverage is the Swift side only (the decoder wrappers' size checks, crop,
// conversion, Resizer, Dataset). libpng rejects a chunk whose CRC is wrong, so without bit 7
// almost every mutation of a header or IDAT dies there; with it the harness recomputes the
// CRCs (zlib's crc32, the one PNG specifies) and the mutated sizes and pixel data reach the
// decoder and the Swift code after it.

import CZlib
import Data
import Foundation
import FuzzSupport

/// The one-tensor ceiling the readers check a header against (GANNET_MAX_TENSOR_BYTES, read
/// once, on first use) is lowered from 8 GiB to 256 MiB here, unless the environment sets it:
/// an image the limit allows must decode under libFuzzer's -rss_limit_mb=4096 (its
/// malloc limit too), so that only a reader allocating past its own check is reported.
let lowerTheImageLimit: Void = { setenv("GANNET_MAX_TENSOR_BYTES", "256M", 0) }()

/// Recomputes the CRC of every complete chunk after the 8-byte PNG signature.
func fixChunkCRCs(_ png: inout [UInt8]) {
    var pos = 8
    while pos + 12 <= png.count {
        let length = png[pos ..< pos + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length <= png.count - pos - 12 else { return }
        let crc = png.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress! + pos + 4, uInt(length + 4)) }
        let at = pos + 8 + length
        for k in 0..<4 { png[at + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * k)) }
        pos = at + 4
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = lowerTheImageLimit
    guard size >= 2 else { return 0 }
    let bytes = FuzzInput.bytes(data, size)
    let (flags, b) = (bytes[0], Int(bytes[1]))
    var file = Array(bytes[2...])
    let jpeg = file.count >= 2 && file[0] == 0xFF && file[1] == 0xD8
    if !jpeg && flags & 0x80 != 0 { fixChunkCRCs(&file) }
    FuzzInput.withFolder(file, name: jpeg ? "image.jpg" : "image.png") { dir in
        _ = try? Dataset.loadImageFolder(
            dir,
            channels: flags & 1 == 0 ? nil : (flags & 2 != 0 ? 3 : 1),
            size: flags & 8 == 0 ? nil : (height: (b >> 4) * 2 + 1, width: (b & 15) * 2 + 1),
            crop: flags & 4 == 0 ? nil : (b & 15) + 1,
            filter: flags & 16 != 0 ? .bilinear : .nearest,
            range: flags & 32 != 0 ? .minusOneToOne : .zeroToOne,
            skipBadImages: flags & 64 != 0, threads: 1)
    }
    return 0
}
