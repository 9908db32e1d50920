// GIFTests: Gannet's GIF writer decoded by an independent GIF/LZW decoder written here.

import Foundation
import Media
import XCTest

/// A minimal GIF89a reader: global palette, loop count, per-frame delay and indices.
struct DecodedGIF {
    var width = 0, height = 0
    var palette: [UInt8] = []
    var loop: Int?
    var frames: [(delay: Int, indices: [UInt8])] = []
    var maxCodeWidth = 0
    var clears = 0
    var maxSubBlock = 0

    enum Failure: Error { case bad(String) }

    init(_ b: [UInt8]) throws {
        var p = 0
        func byte() throws -> Int { guard p < b.count else { throw Failure.bad("truncated at \(p)") }; p += 1; return Int(b[p - 1]) }
        func u16() throws -> Int { let lo = try byte(); return lo | (try byte()) << 8 }
        guard b.count > 13, String(decoding: b[0..<6], as: UTF8.self) == "GIF89a" else { throw Failure.bad("header") }
        p = 6
        width = try u16(); height = try u16()
        let packed = try byte()
        _ = try byte(); _ = try byte()
        if packed & 0x80 != 0 {
            let n = 1 << ((packed & 7) + 1)
            palette = Array(b[p..<(p + 3 * n)]); p += 3 * n
        }
        var delay = 0
        while true {
            let kind = try byte()
            if kind == 0x3B { break }
            if kind == 0x21 {
                let label = try byte()
                var blocks: [[UInt8]] = []
                while true {
                    let n = try byte()
                    if n == 0 { break }
                    blocks.append(Array(b[p..<(p + n)])); p += n
                }
                if label == 0xF9, let g = blocks.first { delay = Int(g[1]) | Int(g[2]) << 8 }
                if label == 0xFF, blocks.count >= 2, String(decoding: blocks[0], as: UTF8.self) == "NETSCAPE2.0" {
                    loop = Int(blocks[1][1]) | Int(blocks[1][2]) << 8
                }
                continue
            }
            guard kind == 0x2C else { throw Failure.bad("unexpected block \(kind) at \(p - 1)") }
            let x = try u16(), y = try u16(), w = try u16(), h = try u16()
            guard x == 0, y == 0, w == width, h == height else { throw Failure.bad("frame geometry") }
            let ipacked = try byte()
            guard ipacked & 0x80 == 0 else { throw Failure.bad("local palette unexpected") }
            let minCode = try byte()
            var data: [UInt8] = []
            while true {
                let n = try byte()
                if n == 0 { break }
                maxSubBlock = max(maxSubBlock, n)
                data += b[p..<(p + n)]; p += n
            }
            frames.append((delay, try decodeLZW(data, minCode: minCode, count: w * h)))
        }
    }

    /// GIF LZW decoding (LSB-first codes, CLEAR/EOI, width growth to 12 bits).
    mutating func decodeLZW(_ data: [UInt8], minCode: Int, count: Int) throws -> [UInt8] {
        let clear = 1 << minCode, eoi = clear + 1
        var prefix = [Int](repeating: -1, count: 4096)
        var suffix = [UInt8](repeating: 0, count: 4096)
        var length = [Int](repeating: 0, count: 4096)
        for i in 0..<clear { suffix[i] = UInt8(i); length[i] = 1 }
        var width = minCode + 1, next = eoi + 1
        var bitPos = 0
        var out: [UInt8] = []
        var prev = -1
        func string(_ c: Int) -> [UInt8] {
            var s = [UInt8](repeating: 0, count: length[c])
            var k = c
            for i in stride(from: length[c] - 1, through: 0, by: -1) { s[i] = suffix[k]; k = prefix[k] }
            return s
        }
        var sawFirstClear = false
        while true {
            guard bitPos + width <= data.count * 8 else { throw Failure.bad("no EOI") }
            var code = 0
            for i in 0..<width {
                let bit = (Int(data[(bitPos + i) >> 3]) >> ((bitPos + i) & 7)) & 1
                code |= bit << i
            }
            bitPos += width
            maxCodeWidth = max(maxCodeWidth, width)
            if code == clear {
                if sawFirstClear { clears += 1 }
                sawFirstClear = true
                width = minCode + 1; next = eoi + 1; prev = -1
                continue
            }
            if code == eoi { break }
            guard sawFirstClear else { throw Failure.bad("stream does not start with CLEAR") }
            if prev < 0 {
                guard code < clear else { throw Failure.bad("first code \(code) not a literal") }
                out.append(UInt8(code))
                prev = code
                continue
            }
            let entry: [UInt8]
            if code < next {
                entry = string(code)
            } else if code == next {
                let p = string(prev)
                entry = p + [p[0]]
            } else {
                throw Failure.bad("code \(code) beyond table \(next)")
            }
            out += entry
            if next < 4096 {
                prefix[next] = prev; suffix[next] = entry[0]; length[next] = length[prev] + 1
                next += 1
                if next == 1 << width && width < 12 { width += 1 }
            }
            prev = code
        }
        guard out.count == count else { throw Failure.bad("decoded \(out.count) pixels, expected \(count)") }
        return out
    }
}

final class GIFTests: XCTestCase {
    struct LCG {
        var s: UInt64
        mutating func next() -> UInt8 { s = s &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: s >> 33) }
    }

    func roundTrip(width: Int, height: Int, palette: [UInt8], frames: [[UInt8]], delays: [Int] = [5],
                   file: StaticString = #filePath, line: UInt = #line) throws -> DecodedGIF {
        let bytes = GIF.encode(width: width, height: height, palette: palette, frames: frames, delays: delays, loop: 0)
        let d = try DecodedGIF(bytes)
        XCTAssertEqual(d.width, width, file: file, line: line)
        XCTAssertEqual(d.height, height, file: file, line: line)
        XCTAssertEqual(d.frames.count, frames.count, file: file, line: line)
        for (a, b) in zip(d.frames, frames) { XCTAssertTrue(a.indices == b, "frame pixels differ", file: file, line: line) }
        XCTAssertEqual(d.loop, 0, file: file, line: line)
        XCTAssertLessThanOrEqual(d.maxCodeWidth, 12, file: file, line: line)
        XCTAssertLessThanOrEqual(d.maxSubBlock, 255, file: file, line: line)
        XCTAssertEqual(bytes.last, 0x3B, file: file, line: line)
        return d
    }

    func testMultiFrameGradients() throws {
        let (w, h) = (64, 48)
        let frames = (0..<5).map { f in (0..<(w * h)).map { UInt8(truncatingIfNeeded: ($0 % w) * 4 + ($0 / w) + f * 17) } }
        let d = try roundTrip(width: w, height: h, palette: GIF.grayPalette, frames: frames, delays: [7, 9])
        XCTAssertEqual(d.frames.map(\.delay), [7, 9, 9, 9, 9])
        XCTAssertEqual(d.palette, GIF.grayPalette)
    }

    func testRandomNoiseOverflowsTheTable() throws {
        var rng = LCG(s: 42)
        let frame = (0..<(256 * 256)).map { _ in rng.next() }
        let d = try roundTrip(width: 256, height: 256, palette: GIF.grayPalette, frames: [frame])
        XCTAssertEqual(d.maxCodeWidth, 12)
        XCTAssertGreaterThan(d.clears, 10, "noise must fill the 4096-entry table many times")
    }

    func testLongRuns() throws {
        var frame = [UInt8](repeating: 7, count: 300 * 200)
        for i in 30_000..<60_000 { frame[i] = 200 }
        let d = try roundTrip(width: 300, height: 200, palette: GIF.grayPalette, frames: [frame, [UInt8](repeating: 0, count: 60_000)])
        XCTAssertEqual(d.frames.count, 2)
    }

    func testTwoColourPaletteUsesMinimumCodeSize2() throws {
        var rng = LCG(s: 9)
        let frame = (0..<(33 * 17)).map { _ in rng.next() & 1 }
        let bytes = GIF.encode(width: 33, height: 17, palette: [0, 0, 0, 255, 255, 255], frames: [frame], delays: [10])
        XCTAssertEqual(bytes[10], 0x80)   // global table, 2 entries (bits - 1 = 0)
        // 13-byte screen + 6-byte palette + 19-byte loop ext + 8-byte GCE + 10-byte descriptor → min code size
        XCTAssertEqual(bytes[13 + 6 + 19 + 8 + 10], 2)
        _ = try roundTrip(width: 33, height: 17, palette: [0, 0, 0, 255, 255, 255], frames: [frame])
    }

    func testEveryTableSizeBoundary() throws {
        // Lengths that end the stream right at code-width changes and table resets.
        var rng = LCG(s: 5)
        let noise = (0..<20_000).map { _ in rng.next() }
        for n in [1, 2, 3, 254, 255, 256, 257, 258, 511, 512, 767, 1790, 1791, 1792, 3838, 3839, 3840, 3841, 7000, 20_000] {
            _ = try roundTrip(width: n, height: 1, palette: GIF.grayPalette, frames: [Array(noise[0..<n])])
        }
        for n in 1..<600 {
            let f = (0..<n).map { UInt8($0 % 4) }
            _ = try roundTrip(width: n, height: 1, palette: [0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255], frames: [f])
        }
    }

    func testImagesGrayAndRGB() throws {
        let gray = Image8(width: 3, height: 2, channels: 1, pixels: [0, 50, 100, 150, 200, 255])
        let d = try DecodedGIF(try GIF.encode(images: [gray, gray], delay: 8))
        XCTAssertEqual(d.frames[0].indices, gray.pixels)
        XCTAssertEqual(d.frames[1].delay, 8)
        let rgb = Image8(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 0, 0, 255])
        let r = try DecodedGIF(try GIF.encode(images: [rgb], delay: 8))
        for (k, px) in r.frames[0].indices.enumerated() {
            XCTAssertEqual(Array(r.palette[Int(px) * 3..<Int(px) * 3 + 3]), Array(rgb.pixels[k * 3..<k * 3 + 3]))
        }
        XCTAssertThrowsError(try GIF.encode(images: [gray, rgb], delay: 1))
    }
}

final class ImageOpsTests: XCTestCase {
    func testGridGeometry() {
        let layout = GridLayout(nrow: 8, padding: 2)
        XCTAssertEqual(layout.size(count: 64, height: 28, width: 28).width, 8 * 30 + 2)
        XCTAssertEqual(layout.size(count: 64, height: 28, width: 28).height, 8 * 30 + 2)
        XCTAssertEqual(layout.size(count: 10, height: 5, width: 7).width, 8 * 9 + 2)
        XCTAssertEqual(layout.size(count: 10, height: 5, width: 7).height, 2 * 7 + 2)
        XCTAssertEqual(layout.size(count: 3, height: 5, width: 7).width, 3 * 9 + 2)
        let data: [Float] = [0, 1, 0.5, -1]
        let img = data.withUnsafeBufferPointer {
            ImageGrid.make($0.baseAddress!, count: 4, channels: 1, height: 1, width: 1, range: 0...1, layout: GridLayout(nrow: 2, padding: 1, padValue: 9))
        }
        XCTAssertEqual(img.width, 5)
        XCTAssertEqual(img.height, 5)
        XCTAssertEqual(img.pixels[1 * 5 + 1], 0)
        XCTAssertEqual(img.pixels[1 * 5 + 3], 255)
        XCTAssertEqual(img.pixels[3 * 5 + 1], 128)
        XCTAssertEqual(img.pixels[3 * 5 + 3], 0)
        XCTAssertEqual(img.pixels[0], 9)
    }

    func testUpscaleAndEvenPadding() {
        let img = Image8(width: 3, height: 1, channels: 1, pixels: [1, 2, 3])
        let up = img.upscaled(by: 2)
        XCTAssertEqual(up.width, 6)
        XCTAssertEqual(up.height, 2)
        XCTAssertEqual(up.pixels, [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
        let even = img.paddedToEven(value: 0)
        XCTAssertEqual(even.width, 4)
        XCTAssertEqual(even.height, 2)
        XCTAssertEqual(even.pixels, [1, 2, 3, 0, 0, 0, 0, 0])
        XCTAssertEqual(up.paddedToEven(), up)
    }
}

/// Writes the interop cases for `Tools/interop/check_gif.py` (Pillow decodes them) into
/// `$GANNET_GIF_OUT` when set; otherwise the test is reported as skipped (XCTSkip).
final class GIFInteropExport: XCTestCase {
    func testWriteInteropCases() throws {
        guard let dir = ProcessInfo.processInfo.environment["GANNET_GIF_OUT"] else {
            throw XCTSkip("GANNET_GIF_OUT is not set (Tools/interop/run.sh sets it to export the Pillow cases)")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var rng = GIFTests.LCG(s: 11)
        let ramp = GIF.grayPalette
        let cases: [(String, Int, Int, [UInt8], [[UInt8]])] = [
            ("gradients", 64, 48, ramp, (0..<6).map { f in (0..<(64 * 48)).map { UInt8(truncatingIfNeeded: ($0 % 64) * 4 + ($0 / 64) + f * 23) } }),
            ("noise256", 256, 256, ramp, [(0..<(256 * 256)).map { _ in rng.next() }]),
            ("longruns", 300, 200, ramp, [[UInt8](repeating: 3, count: 30_000) + [UInt8](repeating: 250, count: 30_000), [UInt8](repeating: 0, count: 60_000)]),
            ("twocolour", 33, 17, [0, 0, 0, 255, 255, 255], [(0..<(33 * 17)).map { _ in rng.next() & 1 }]),
            ("cube", 42, 6, GIF.cubePalette, [(0..<252).map { UInt8($0) }]),
        ]
        for (name, w, h, palette, frames) in cases {
            let bytes = GIF.encode(width: w, height: h, palette: palette, frames: frames, delays: [4], loop: 0)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name).gif"))
            try Data(frames.flatMap { $0 }).write(to: URL(fileURLWithPath: "\(dir)/\(name).raw"))
            let meta: [String: Any] = ["width": w, "height": h, "frames": frames.count, "palette": palette.map(Int.init), "delay_cs": 4]
            try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: "\(dir)/\(name).json"))
        }
    }
}
