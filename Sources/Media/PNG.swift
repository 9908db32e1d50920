// PNG: writing and reading 8-bit gray/RGB images through libpng's simplified API.
//
// Contract: `PNG.read` checks the header's size (ImageSize: the one-tensor limit, and that the
// file can hold that many pixels) before it allocates the pixels; every failure is a
// MediaError naming the file.

import CPNG
import Foundation

/// An 8-bit image, row-major, `channels` interleaved samples per pixel (1 gray, 3 RGB).
public struct Image8: Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3 || channels == 4)
        precondition(pixels.count == width * height * channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// A PNG read or write failure, naming the file.
public struct MediaError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum PNG {
    static func format(_ channels: Int) -> UInt32 {
        switch channels {
        case 1: return 0          // PNG_FORMAT_GRAY
        case 3: return 2          // PNG_FORMAT_RGB = PNG_FORMAT_FLAG_COLOR
        default: return 3         // PNG_FORMAT_RGBA = COLOR | ALPHA
        }
    }

    /// Writes `image` to `path` (written to a temporary file, then renamed).
    public static func write(_ image: Image8, to path: String) throws {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(image.width)
        img.height = UInt32(image.height)
        img.format = format(image.channels)
        let tmp = path + ".tmp\(getpid())"
        let ok = image.pixels.withUnsafeBytes { buf in
            png_image_write_to_file(&img, tmp, 0, buf.baseAddress, Int32(image.width * image.channels), nil)
        }
        if ok == 0 {
            let msg = withUnsafeBytes(of: img.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            png_image_free(&img)
            unlink(tmp)
            throw MediaError("\(path): cannot write PNG: \(msg)")
        }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw MediaError("\(path): cannot write PNG: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads a PNG as gray (1 channel), RGB (3) or RGBA (4), whichever is closest to the file.
    public static func read(_ path: String) throws -> Image8 {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&img, path) != 0 else {
            let msg = withUnsafeBytes(of: img.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            throw MediaError("\(path): not a readable PNG: \(msg)")
        }
        let channels: Int
        if img.format & 2 != 0 {
            channels = img.format & 1 != 0 ? 4 : 3
        } else {
            channels = 1
        }
        img.format = format(channels)
        let (w, h) = (Int(img.width), Int(img.height))
        // From the header alone, before the pixels are allocated: the size limit, and whether
        // the file can hold that many pixels at all (a crafted header claiming 60000×60000).
        var st = stat()
        let fileBytes = stat(path, &st) == 0 ? Int(st.st_size) : Int.max
        if let problem = ImageSize.problem(width: w, height: h, bytesPerPixel: channels, format: "PNG")
            ?? ImageSize.pngDataProblem(width: w, height: h, fileBytes: fileBytes) {
            png_image_free(&img)
            throw MediaError("\(path): \(problem)")
        }
        // Uninitialized: libpng writes every byte on success, and the pages of rows it never
        // reaches (a truncated file) are never touched.
        var message = ""
        let pixels = [UInt8](unsafeUninitializedCapacity: w * h * channels) { buf, count in
            if png_image_finish_read(&img, nil, buf.baseAddress, Int32(w * channels), nil) != 0 {
                count = w * h * channels
            } else {
                message = withUnsafeBytes(of: img.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                png_image_free(&img)
                count = 0
            }
        }
        guard pixels.count == w * h * channels else { throw MediaError("\(path): cannot decode PNG: \(message)") }
        return Image8(width: w, height: h, channels: channels, pixels: pixels)
    }
}
