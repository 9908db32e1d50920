// HostileImageTests (issue 15, limits before allocation): PNG and JPEG headers that claim huge
// dimensions are rejected from the header alone, before the pixels are allocated, with an
// error naming the file — by the one-tensor limit (GANNET_MAX_TENSOR_BYTES, 8 GiB in tests)
// and, for PNG, because a file of a few bytes cannot hold that many pixels. The crafted files
// are written inline, byte by byte.

import Data
import Foundation
import GraphIR
import Media
import XCTest

final class HostileImageTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// PNG's CRC-32 (ISO 3309, reflected 0xEDB88320) of `bytes`.
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    func be32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 255)] }

    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(crc32(body)))
    }

    /// A PNG signature, an IHDR claiming width × height (8-bit, `colorType` 0 gray / 2 RGB),
    /// an IDAT holding a 5-byte zlib stream and IEND: 62 bytes, valid up to the pixel data.
    func craftedPNG(width: Int, height: Int, colorType: UInt8) -> [UInt8] {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let ihdr: [UInt8] = be32(width) + be32(height) + [8, colorType, 0, 0, 0]
        return signature + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9C, 0x63, 0x00, 0x00]) + chunk("IEND", [])
    }

    /// SOI, a frame header (SOF0 baseline or SOF2 progressive) claiming width × height with
    /// `components` components sampled 1×1, a scan header and EOI; no tables, no data.
    func craftedJPEG(width: Int, height: Int, components: Int, progressive: Bool) -> [UInt8] {
        var frame: [UInt8] = [0xFF, progressive ? 0xC2 : 0xC0]
        frame += be16(8 + 3 * components)
        frame += [8]
        frame += be16(height)
        frame += be16(width)
        frame.append(UInt8(components))
        var scan: [UInt8] = [0xFF, 0xDA]
        scan += be16(6 + 2 * components)
        scan.append(UInt8(components))
        for c in 1...components {
            frame += [UInt8(c), 0x11, 0]
            scan += [UInt8(c), c == 1 ? 0x00 : 0x11]
        }
        scan += [0, progressive ? 0 : 63, 0]
        let soi: [UInt8] = [0xFF, 0xD8], eoi: [UInt8] = [0xFF, 0xD9]
        return soi + frame + scan + eoi
    }

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = "\(dir)/\(name)"
        try Foundation.Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func assertError(_ body: @autoclosure () throws -> Any, startsWith prefix: String, contains parts: [String],
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            let msg = "\(e)"
            XCTAssertTrue(msg.hasPrefix(prefix), "\(msg) does not start with \(prefix)", file: file, line: line)
            for p in parts { XCTAssertTrue(msg.contains(p), "\(msg) lacks \(p)", file: file, line: line) }
        }
    }

    func testPNGHeaderOverTheTensorLimit() throws {
        XCTAssertEqual(Limits.maxTensorBytes, Limits.defaultMaxTensorBytes, "tests run without \(Limits.tensorBytesVariable)")
        // 60000 × 60000 RGB is 10.8 GB of pixels: over the 8 GiB limit, from the header alone.
        let path = try write(craftedPNG(width: 60000, height: 60000, colorType: 2), "huge.png")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, 62)
        assertError(try PNG.read(path), startsWith: "\(path): ",
                    contains: ["a 60000×60000 PNG image needs 10.1 GiB to decode", "8 GiB limit", "GANNET_MAX_TENSOR_BYTES"])
        // The path a stranger's file takes into a dataset names it the same way, or skips it.
        assertError(try Dataset.loadImageFolder(dir), startsWith: "\(path): ", contains: ["GANNET_MAX_TENSOR_BYTES"])
        let load = try? Dataset.loadImageFolder(dir, skipBadImages: true)
        XCTAssertNil(load, "one unreadable image and nothing else is an error")
    }

    func testPNGHeaderClaimingMorePixelsThanTheFileHolds() throws {
        // 60000 × 60000 gray is 3.4 GiB (under the limit), but its pixel data compresses to no
        // less than 436,105 bytes (425.9 KiB): a 62-byte file cannot hold it, so nothing is allocated.
        let path = try write(craftedPNG(width: 60000, height: 60000, colorType: 0), "gray.png")
        assertError(try PNG.read(path), startsWith: "\(path): ",
                    contains: ["60000×60000 pixels", "62 bytes", "425.9 KiB", "truncated or corrupt"])
        // The bound is deflate's 1032 : 1 over height × (1 + ⌈width / 8⌉) bytes.
        XCTAssertEqual(ImageSize.maxDeflateRatio, 1032)
        XCTAssertNil(ImageSize.pngDataProblem(width: 8, height: 1032, fileBytes: 2))       // 2064 raw bytes need 2
        XCTAssertNotNil(ImageSize.pngDataProblem(width: 8, height: 1033, fileBytes: 2))    // 2066 need 3
        XCTAssertNil(ImageSize.pngDataProblem(width: 60000, height: 60000, fileBytes: 436_105))     // ⌈450,060,000 / 1032⌉
        XCTAssertNotNil(ImageSize.pngDataProblem(width: 60000, height: 60000, fileBytes: 436_104))
    }

    func testLegalHighlyCompressedPNGStillReads() throws {
        // 2048 × 2048 zeros compress about 1000 : 1; the bound must let such files through.
        let black = Image8(width: 2048, height: 2048, channels: 1, pixels: [UInt8](repeating: 0, count: 2048 * 2048))
        let path = "\(dir)/black.png"
        try PNG.write(black, to: path)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        XCTAssertLessThan(size, 10_000, "the test needs a highly compressed file")
        XCTAssertEqual(try PNG.read(path), black)
    }

    func testJPEGHeaderOverTheTensorLimit() throws {
        // Baseline 60000 × 60000 RGB: 10.1 GiB of output pixels.
        let rgb = craftedJPEG(width: 60000, height: 60000, components: 3, progressive: false)
        let path = try write(rgb, "huge.jpg")
        assertError(try JPEG.read(path), startsWith: "\(path): ",
                    contains: ["a 60000×60000 JPEG image needs 10.1 GiB to decode", "8 GiB limit", "GANNET_MAX_TENSOR_BYTES"])
        assertError(try Dataset.loadImageFolder(dir), startsWith: "\(path): ", contains: ["GANNET_MAX_TENSOR_BYTES"])
        // Progressive 40000 × 35000 RGB: 3.9 GiB of pixels fits, but libjpeg also zero-fills a
        // coefficient buffer of 2 bytes per sample (7.8 GiB): 11.7 GiB in all.
        let progressive = craftedJPEG(width: 40000, height: 35000, components: 3, progressive: true)
        XCTAssertTrue(JPEG.frame(progressive)! == (true, 3))
        XCTAssertTrue(JPEG.frame(rgb)! == (false, 3))
        assertError(try JPEG.decode(progressive, file: "p.jpg"), startsWith: "p.jpg: ",
                    contains: ["a 40000×35000 progressive JPEG image needs 11.7 GiB to decode", "GANNET_MAX_TENSOR_BYTES"])
        // The committed fixtures: one progressive, one baseline.
        let fixtures = JPEGTests.fixtures
        XCTAssertTrue(JPEG.frame([UInt8](try Foundation.Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/progressive.jpg"))))! == (true, 3))
        XCTAssertTrue(JPEG.frame([UInt8](try Foundation.Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/gray_20x16.jpg"))))! == (false, 1))
    }

    func testJPEGHeaderUnderTheLimitFailsOnItsMissingData() throws {
        // 20000 × 20000 gray (381 MiB, baseline) passes the size check; the file has no tables
        // and no data, so libjpeg stops with its reason, and the untouched output pages cost nothing.
        let path = try write(craftedJPEG(width: 20000, height: 20000, components: 1, progressive: false), "gray.jpg")
        assertError(try JPEG.read(path), startsWith: "\(path): corrupt or truncated JPEG", contains: [])
    }

    func testZeroAndOverflowingSizes() {
        XCTAssertEqual(ImageSize.problem(width: 0, height: 5, bytesPerPixel: 3, format: "PNG"), "PNG size 0×5 is out of range")
        XCTAssertTrue(ImageSize.problem(width: Int(Int32.max), height: Int(Int32.max), bytesPerPixel: 1 << 40, format: "JPEG")!
            .contains("more than 64 bits of bytes"))
        XCTAssertNil(ImageSize.problem(width: 4096, height: 4096, bytesPerPixel: 9, format: "JPEG"))
    }
}
