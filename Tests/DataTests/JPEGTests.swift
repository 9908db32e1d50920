// JPEGTests (issue 18 item 3): libjpeg-turbo decoding against Pillow's decodes of the same
// files (Tests/Fixtures/jpeg, made by Tools/fixtures/make_jpeg_fixtures.py), torchvision's
// CenterCrop offsets, the CelebA recipe (crop 178, resize 64) against Pillow, and corrupt or
// truncated files: an error naming the file, or skipped and counted.

import Data
import Foundation
import Media
import XCTest

final class JPEGTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/jpeg").path
    var dir = ""
    override func setUp() { dir = makeTempDir() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func fixture(_ name: String) -> String { "\(Self.fixtures)/\(name)" }

    /// max |a − b| over the bytes of two equally shaped images.
    func maxDiff(_ a: Image8, _ b: Image8, file: StaticString = #filePath, line: UInt = #line) -> Int {
        XCTAssertEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels], file: file, line: line)
        guard a.pixels.count == b.pixels.count else { return .max }
        return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    func testDecodeMatchesPillow() throws {
        // Both sides run libjpeg-turbo's accurate integer IDCT with fancy upsampling.
        for (jpg, png, channels) in [("rgb_218x178.jpg", "rgb_218x178.png", 3), ("progressive.jpg", "progressive.png", 3),
                                     ("gray_20x16.jpg", "gray_20x16.png", 1)] {
            let ours = try JPEG.read(fixture(jpg))
            let pillow = try PNG.read(fixture(png))
            XCTAssertEqual(ours.channels, channels, jpg)
            let d = maxDiff(ours, pillow)
            FileHandle.standardError.write("\(jpg): \(ours.width)×\(ours.height)×\(ours.channels), max |Δ| vs Pillow \(d)\n".data(using: .utf8)!)
            XCTAssertLessThanOrEqual(d, 1, jpg)
        }
    }

    func testCenterCropOffsetsFollowTorchvision() throws {
        // 4 wide × 5 high, crop 2: top = round(1.5) = 2 (half to even), left = round(1.0) = 1.
        let img = Image8(width: 4, height: 5, channels: 1, pixels: (0..<20).map(UInt8.init))
        let c = try Dataset.centerCrop(img, 2, file: "x.png")
        XCTAssertEqual(c.pixels, [9, 10, 13, 14])
        // 7 high, crop 2: top = round(2.5) = 2.
        let tall = Image8(width: 2, height: 7, channels: 1, pixels: (0..<14).map(UInt8.init))
        XCTAssertEqual(try Dataset.centerCrop(tall, 2, file: "y.png").pixels, [4, 5, 6, 7])
        XCTAssertThrowsError(try Dataset.centerCrop(img, 6, file: "small.png")) { e in
            XCTAssertTrue("\(e)".contains("small.png: image is 4×5, smaller than the crop 6×6"), "\(e)")
        }
    }

    func testCelebARecipeCropAndResizeMatchPillow() throws {
        let folder = "\(dir)/faces"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<5 { try FileManager.default.copyItem(atPath: fixture("rgb_218x178.jpg"), toPath: "\(folder)/\(i).jpg") }
        try PNG.write(try PNG.read(fixture("rgb_218x178.png")), to: "\(folder)/5.png")
        let one = try Dataset.loadImageFolder(folder, channels: 3, size: (64, 64), crop: 178, threads: 1)
        XCTAssertEqual(one.dataset.count, 6)
        XCTAssertEqual(one.dataset.imageShape, [3, 64, 64])
        XCTAssertTrue(one.skipped.isEmpty)
        let ref = try PNG.read(fixture("celeba_crop178_resize64.png"))
        for i in 0..<6 {
            let b = Array(one.dataset.bytes(at: i))
            var hwc = [UInt8](repeating: 0, count: 64 * 64 * 3)
            for j in 0..<hwc.count { hwc[j] = b[(j % 3) * 4096 + j / 3] }
            let d = maxDiff(Image8(width: 64, height: 64, channels: 3, pixels: hwc), ref)
            XCTAssertLessThanOrEqual(d, 1, "image \(i)")
        }
        // The worker count does not change the result.
        let three = try Dataset.loadImageFolder(folder, channels: 3, size: (64, 64), crop: 178, threads: 3)
        XCTAssertEqual(three.dataset.pixels, one.dataset.pixels)
        // Gray conversion of a JPEG folder.
        let gray = try Dataset.loadImageFolder(folder, channels: 1, size: (32, 32), crop: 178)
        XCTAssertEqual(gray.dataset.imageShape, [1, 32, 32])
    }

    func testTruncatedAndCorruptFiles() throws {
        XCTAssertThrowsError(try JPEG.read(fixture("truncated.jpg"))) { e in
            XCTAssertTrue("\(e)".hasPrefix(fixture("truncated.jpg") + ": corrupt or truncated JPEG"), "\(e)")
        }
        let folder = "\(dir)/mixed"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<4 { try FileManager.default.copyItem(atPath: fixture("rgb_218x178.jpg"), toPath: "\(folder)/good\(i).jpg") }
        try FileManager.default.copyItem(atPath: fixture("truncated.jpg"), toPath: "\(folder)/cut.jpg")
        try Foundation.Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(folder)/text.jpeg"))
        try Foundation.Data([0x89, 0x50, 0x4E, 0x47]).write(to: URL(fileURLWithPath: "\(folder)/stub.png"))
        // Without skipping: the first bad file in sorted order (cut.jpg) is named.
        XCTAssertThrowsError(try Dataset.loadImageFolder(folder, channels: 3, size: (64, 64), crop: 178)) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(folder)/cut.jpg: corrupt or truncated JPEG"), "\(e)")
        }
        let load = try Dataset.loadImageFolder(folder, channels: 3, size: (64, 64), crop: 178, skipBadImages: true)
        XCTAssertEqual(load.dataset.count, 4)
        XCTAssertEqual(load.skipped.map { ($0.file as NSString).lastPathComponent }, ["cut.jpg", "stub.png", "text.jpeg"])
        XCTAssertTrue(load.skipped[2].reason.contains("not a JPEG file"), load.skipped[2].reason)
        // A bad first file is skipped too; all bad is an error.
        let bad = "\(dir)/allbad"
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("truncated.jpg"), toPath: "\(bad)/a.jpg")
        XCTAssertThrowsError(try Dataset.loadImageFolder(bad, skipBadImages: true)) { e in
            XCTAssertTrue("\(e)".contains("none of its 1 images could be read"), "\(e)")
        }
    }
}
