// GIF: Gannet's own GIF89a writer (animated, looping), with the GIF flavour of LZW.
//
// Contract (user-expectations §3.2):
// - Header `GIF89a`, logical screen descriptor with a global colour table of 2^bits entries
//   (bits = palette size rounded up to a power of two, at least 2 entries), NETSCAPE2.0 loop
//   extension when `loop` is given (0 = forever), then per frame a Graphic Control Extension
//   (disposal 1 "do not dispose", delay in 1/100 s), an image descriptor covering the screen,
//   the LZW minimum code size max(2, bits) and LZW data in sub-blocks of ≤ 255 bytes, and `3B`.
// - LZW: codes packed LSB-first; CLEAR = 2^min first; width starts at min + 1 and grows when
//   the next code to assign reaches 2^width, capped at 12 bits; when code 4095 has been
//   assigned, CLEAR is emitted and the table resets; EOI = CLEAR + 1 ends the stream.
// - `Image8` frames: gray images use an exact 256-level gray ramp; RGB images are quantised to
//   a 6×7×6 colour cube (252 colours, nearest level per channel).

import Foundation
import GraphIR

public enum GIF {
    /// The LZW code stream (packed bytes, before sub-blocking) of `indices`, each < 2^minCodeSize.
    public static func lzw(_ indices: [UInt8], minCodeSize: Int) -> [UInt8] {
        precondition((2...8).contains(minCodeSize))
        let clear = 1 << minCodeSize, eoi = clear + 1
        var out: [UInt8] = []
        out.reserveCapacity(indices.count / 2 + 16)
        var bitBuf: UInt32 = 0, bitCount = 0
        var width = minCodeSize + 1
        func emit(_ code: Int) {
            bitBuf |= UInt32(code) << UInt32(bitCount)
            bitCount += width
            while bitCount >= 8 {
                out.append(UInt8(truncatingIfNeeded: bitBuf))
                bitBuf >>= 8
                bitCount -= 8
            }
        }
        // Table: (prefix code, next byte) -> code, valid when the stored epoch matches.
        var table = [UInt32](repeating: 0, count: 4096 * 256)
        var epoch: UInt32 = 1
        var next = eoi + 1
        emit(clear)
        guard var prefix = indices.first.map(Int.init) else {
            emit(eoi)
            if bitCount > 0 { out.append(UInt8(truncatingIfNeeded: bitBuf)) }
            return out
        }
        for k in indices.dropFirst() {
            let key = prefix << 8 | Int(k)
            let entry = table[key]
            if entry >> 12 == epoch {
                prefix = Int(entry & 0xFFF)
                continue
            }
            emit(prefix)
            table[key] = epoch << 12 | UInt32(next)
            if next == 4095 {
                emit(clear)
                epoch += 1
                next = eoi + 1
                width = minCodeSize + 1
            } else {
                if next == 1 << width { width += 1 }
                next += 1
            }
            prefix = Int(k)
        }
        emit(prefix)
        // The decoder assigns one more entry on reading the last code before it reads EOI.
        if next == 1 << width && width < 12 { width += 1 }
        emit(eoi)
        if bitCount > 0 { out.append(UInt8(truncatingIfNeeded: bitBuf)) }
        return out
    }

    /// A complete GIF89a file: `frames` are palette indices (width × height each), `palette`
    /// RGB triples (at most 256), `delays` in 1/100 s per frame (the last value repeats);
    /// `loop` nil writes no loop extension (play once), 0 loops forever.
    public static func encode(width: Int, height: Int, palette: [UInt8], frames: [[UInt8]],
                              delays: [Int], loop: Int? = 0) -> [UInt8] {
        precondition(width > 0 && height > 0 && width <= 65535 && height <= 65535)
        precondition(palette.count % 3 == 0 && palette.count / 3 >= 1 && palette.count / 3 <= 256)
        let colours = palette.count / 3
        var bits = 1
        while 1 << bits < colours { bits += 1 }
        let minCode = max(2, bits)
        var o: [UInt8] = Array("GIF89a".utf8)
        func u16(_ v: Int) { o.append(UInt8(v & 0xFF)); o.append(UInt8((v >> 8) & 0xFF)) }
        u16(width); u16(height)
        o.append(0x80 | UInt8(bits - 1) << 4 | UInt8(bits - 1))
        o.append(0); o.append(0)
        o += palette
        o += [UInt8](repeating: 0, count: (1 << bits) * 3 - palette.count)
        if let loop {
            o += [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [0x03, 0x01]
            u16(loop)
            o.append(0)
        }
        for (f, indices) in frames.enumerated() {
            precondition(indices.count == width * height)
            let delay = delays.isEmpty ? 0 : delays[min(f, delays.count - 1)]
            o += [0x21, 0xF9, 0x04, 1 << 2]
            u16(max(0, min(65535, delay)))
            o += [0, 0]
            o.append(0x2C)
            u16(0); u16(0); u16(width); u16(height)
            o.append(0)
            o.append(UInt8(minCode))
            let data = lzw(indices, minCodeSize: minCode)
            var i = 0
            while i < data.count {
                let n = min(255, data.count - i)
                o.append(UInt8(n))
                o += data[i..<(i + n)]
                i += n
            }
            o.append(0)
        }
        o.append(0x3B)
        return o
    }

    /// The 256-level gray ramp palette.
    public static let grayPalette: [UInt8] = (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }

    /// The 6×7×6 colour cube palette (index = r·42 + g·6 + b).
    public static let cubePalette: [UInt8] = {
        var p: [UInt8] = []
        for r in 0..<6 { for g in 0..<7 { for b in 0..<6 {
            p += [UInt8((r * 255 + 2) / 5), UInt8((g * 255 + 3) / 6), UInt8((b * 255 + 2) / 5)]
        } } }
        return p
    }()

    /// Palette indices of an image: gray values as they are, RGB through the colour cube.
    public static func indices(_ image: Image8) -> [UInt8] {
        switch image.channels {
        case 1: return image.pixels
        default:
            let c = image.channels
            var out = [UInt8](repeating: 0, count: image.width * image.height)
            image.pixels.withUnsafeBufferPointer { px in
                for i in 0..<out.count {
                    let r = (Int(px[i * c]) * 5 + 127) / 255
                    let g = (Int(px[i * c + 1]) * 6 + 127) / 255
                    let b = (Int(px[i * c + 2]) * 5 + 127) / 255
                    out[i] = UInt8(r * 42 + g * 6 + b)
                }
            }
            return out
        }
    }

    /// An animated GIF of same-sized 8-bit images (all gray, or RGB/RGBA quantised to the cube).
    public static func encode(images: [Image8], delay: Int, loop: Int? = 0) throws -> [UInt8] {
        guard let first = images.first else { throw MediaError("GIF: no frames") }
        guard images.allSatisfy({ $0.width == first.width && $0.height == first.height && $0.channels == first.channels }) else {
            throw MediaError("GIF: frames differ in size or channels")
        }
        guard first.width <= 65535, first.height <= 65535 else { throw MediaError("GIF: \(first.width)x\(first.height) is too large (max 65535)") }
        let palette = first.channels == 1 ? grayPalette : cubePalette
        return encode(width: first.width, height: first.height, palette: palette, frames: images.map(indices),
                      delays: [delay], loop: loop)
    }

    /// Writes an animated GIF to `path` (temporary file, then rename).
    public static func write(_ images: [Image8], delay: Int, loop: Int? = 0, to path: String) throws {
        let bytes = try encode(images: images, delay: delay, loop: loop)
        do {
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw MediaError("cannot write GIF: \(error)")
        }
    }
}
