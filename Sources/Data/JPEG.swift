// JPEG: baseline and progressive JPEG decoding through libjpeg-turbo's TurboJPEG API.
//
// Contract: `JPEG.decode(bytes, file:)` returns interleaved 8-bit pixels: 1 channel for
// grayscale JPEGs, else 3 (RGB; YCbCr and CMYK converted by libjpeg-turbo), with libjpeg's
// defaults (accurate integer IDCT, fancy upsampling), as Pillow decodes. Any libjpeg warning
// (e.g. "Premature end of JPEG file" from a truncated file) is an error: every failure is a
// DataError naming `file` and libjpeg's reason. Each call owns its decompressor, so calls may
// run concurrently. The header's size is checked (ImageSize, the one-tensor limit) before the
// pixels, or libjpeg's buffers, are allocated.

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
        let gray = colorspace == Int32(TJCS_GRAY.rawValue)
        let channels = gray ? 1 : 3
        // From the header alone, before anything is allocated: the output pixels, plus, for a
        // progressive JPEG, libjpeg's zero-filled coefficient buffer (2 bytes per sample of
        // every component).
        let frame = Self.frame(bytes) ?? (progressive: true, components: gray ? 1 : 4)
        let perPixel = channels + (frame.progressive ? 2 * frame.components : 0)
        let (w, ht) = (Int(width), Int(height))
        if let problem = ImageSize.problem(width: w, height: ht, bytesPerPixel: perPixel,
                                           format: frame.progressive ? "progressive JPEG" : "JPEG") {
            throw DataError("\(file): \(problem)")
        }
        let format = gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue)
        // Uninitialized: libjpeg writes every byte on success, and the pages of rows it never
        // reaches (a truncated file) are never touched.
        let pixels = bytes.withUnsafeBufferPointer { src in
            [UInt8](unsafeUninitializedCapacity: w * ht * channels) { dst, count in
                let rc = tjDecompress2(h, src.baseAddress, UInt(bytes.count), dst.baseAddress, width, 0, height, format, TJFLAG_STOPONWARNING)
                count = rc == 0 ? w * ht * channels : 0
            }
        }
        guard pixels.count == w * ht * channels else { throw failure("corrupt or truncated JPEG") }
        return Image8(width: w, height: ht, channels: channels, pixels: pixels)
    }

    /// Whether the frame header (the first SOFn marker) of JPEG `bytes` is progressive, and its
    /// component count; nil when the marker walk finds no frame header before the first scan.
    public static func frame(_ b: [UInt8]) -> (progressive: Bool, components: Int)? {
        var i = 2
        while i + 3 < b.count {
            guard b[i] == 0xFF else { return nil }
            let m = b[i + 1]
            if m == 0xFF { i += 1; continue }                                  // fill byte
            if m == 0x01 || (0xD0...0xD7).contains(m) { i += 2; continue }     // no length
            if m == 0xDA || m == 0xD9 { return nil }                           // SOS, EOI
            if (0xC0...0xCF).contains(m) && m != 0xC4 && m != 0xC8 && m != 0xCC {
                // SOFn: length, precision, height, width, then the component count.
                guard i + 9 < b.count else { return nil }
                return ([0xC2, 0xC6, 0xCA, 0xCE].contains(m), Int(b[i + 9]))
            }
            i += 2 + (Int(b[i + 2]) << 8 | Int(b[i + 3]))
        }
        return nil
    }
}
