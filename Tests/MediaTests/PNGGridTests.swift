import XCTest
import Foundation
import Media

final class PNGGridTests: XCTestCase {
    func testGridGeometryMatchesTorchvision() {
        // make_grid(nrow=8, padding=2): 64 tiles of 28×28 → 8×8 grid of 242×242.
        let layout = GridLayout(nrow: 8, padding: 2)
        XCTAssertTrue(layout.size(count: 64, height: 28, width: 28) == (242, 242))
        XCTAssertTrue(layout.size(count: 10, height: 28, width: 28) == (242, 62))
        XCTAssertTrue(GridLayout(nrow: 10, padding: 0).size(count: 100, height: 2, width: 3) == (30, 20))
    }

    func testGridPlacesTilesRowMajorAndMapsRange() {
        // 3 images of 1×2×2 with values 0, 0.5, 1 in a 2-column grid, padding 1.
        let data: [Float] = [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1]
        let img = data.withUnsafeBufferPointer {
            ImageGrid.make($0.baseAddress!, count: 3, channels: 1, height: 2, width: 2, range: 0...1,
                           layout: GridLayout(nrow: 2, padding: 1, padValue: 7))
        }
        XCTAssertEqual(img.width, 7)
        XCTAssertEqual(img.height, 7)
        func px(_ x: Int, _ y: Int) -> UInt8 { img.pixels[y * img.width + x] }
        XCTAssertEqual(px(0, 0), 7)
        XCTAssertEqual(px(1, 1), 0)       // tile 0
        XCTAssertEqual(px(4, 1), 128)     // tile 1: 0.5 → 127.5 rounds to 128
        XCTAssertEqual(px(1, 4), 255)     // tile 2, second row
        XCTAssertEqual(px(4, 4), 7)       // empty cell keeps the pad value
    }

    func testPNGRoundTripGrayAndRGB() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gannet-png-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for channels in [1, 3] {
            let w = 5, h = 3
            let pixels = (0..<(w * h * channels)).map { UInt8(($0 * 37) % 256) }
            let image = Image8(width: w, height: h, channels: channels, pixels: pixels)
            let path = dir.appendingPathComponent("t\(channels).png").path
            try PNG.write(image, to: path)
            XCTAssertEqual(try PNG.read(path), image)
        }
    }

    func testReadingGarbageIsAnErrorNamingTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gannet-bad-\(getpid()).png").path
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try PNG.read(path)) { e in XCTAssertTrue("\(e)".hasPrefix(path), "\(e)") }
    }
}
