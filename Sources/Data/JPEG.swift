// JPEG: baseline and progressive JPEG decoding through libjpeg-turbo's TurboJPEG API.
//
// Contract: `JPEG.decode(bytes, file:)` returns interleaved 8-bit pixels: 1 channel for
// grayscale JPEGs, else 3 (RGB; YCbCr and CMYK converted by libjpeg-turbo), with libjpeg's
// defaults (accurate integer IDCT, fancy upsampling), as Pillow decodes. Any libjpeg warning
// (e.g. "Premature end of JPEG file" from a truncated file) is an error: every failure is a
// DataError naming `file` and libjpeg's reason. Each call owns its decompressor, so calls may
// run concurrently.

import CTurboJPEG
import Foundation
import Media

public enum JPEG {
    /// Whether `bytes` start with the JPEG SOI marker FF D8 FF.
    public static func isJPEG(_ bytes: [UInt8]) -> Bool { bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF }

    /// Reads and decodes the JPEG file at `path`.
    public static func read(_ path: String) throws -> Image8 {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read file") }
        return try decode([UInt8](data), file: path)
    }

    /// Decodes JPEG `bytes`; `file` names them in errors.
    public static func decode(_ bytes: [UInt8], file: String) throws -> Image8 {
        guard isJPEG(bytes) else { throw DataError("\(file): not a JPEG file (no FF D8 FF start-of-image marker)") }
        guard let h = tjInitDecompress() else { throw DataError("\(file): cannot create a JPEG decompressor") }
        defer { tjDestroy(h) }
        func failure(_ what: String) -> DataError {
            let reason = tjGetErrorStr2(h).map { String(cString: $0) } ?? "unknown error"
            return DataError("\(file): \(what): \(reason)")
        }
        var width: Int32 = 0, height: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        let ok = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(h, $0.baseAddress, UInt(bytes.count), &width, &height, &subsamp, &colorspace)
        }
        guard ok == 0 else { throw failure("not a readable JPEG") }
        guard width > 0, height > 0, Int(width) * Int(height) <= 1 << 28 else {
            throw DataError("\(file): JPEG size \(width)×\(height) is out of range")
        }
        let gray = colorspace == Int32(TJCS_GRAY.rawValue)
        let channels = gray ? 1 : 3
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let format = gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue)
        let rc = bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(h, src.baseAddress, UInt(bytes.count), dst.baseAddress, width, 0, height, format, TJFLAG_STOPONWARNING)
            }
        }
        guard rc == 0 else { throw failure("corrupt or truncated JPEG") }
        return Image8(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }
}
