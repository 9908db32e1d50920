// gan-train on a JPEG folder (issue 18 item 3): the spec's crop/resize reach the loader (CelebA-
// sized 178×218 JPEGs become the tiny spec's 1×8×8), a truncated file is an error naming it, and
// `skip_bad_images: true` trains on the rest.

import Commands
import Foundation
import GAN
import XCTest

extension GanTrainTests {
    func testJPEGFolderWithCropResizeAndBadFiles() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/jpeg").path
        let faces = root + "/faces"
        try FileManager.default.createDirectory(atPath: faces, withIntermediateDirectories: true)
        for i in 0..<7 { try FileManager.default.copyItem(atPath: fixtures + "/rgb_218x178.jpg", toPath: faces + "/\(i).jpg") }
        try FileManager.default.copyItem(atPath: fixtures + "/truncated.jpg", toPath: faces + "/cut.jpg")
        let spec = try writeSpec()
        let original = try String(contentsOfFile: spec, encoding: .utf8)
        func dataset(_ extra: String) throws {
            let text = original.replacingOccurrences(
                of: "dataset: {name: folder, path: \(root)/images, range: [0, 1], shape: [1, 8, 8], labels: false}",
                with: "dataset: {name: folder, path: \(faces), range: [0, 1], shape: [1, 218, 178], crop: 178, resize: 8, labels: false\(extra)}")
            try text.write(toFile: spec, atomically: true, encoding: .utf8)
        }
        try dataset("")
        let message = errorMessage { try self.train([spec, "--out", self.root + "/bad", "--max-steps", "2"]) }
        XCTAssertTrue(message.contains("\(faces)/cut.jpg: corrupt or truncated JPEG"), message)

        try dataset(", skip_bad_images: true")
        let dir = root + "/faces_run"
        try train([spec, "--out", dir, "--max-steps", "3"])
        let c = try Checkpoint.read(dir + "/checkpoint.gck")
        XCTAssertEqual(c.counters.iteration, 3)
        // 7 good images in batches of 6: 2 batches per epoch, so iteration 3 is in epoch 1.
        XCTAssertEqual(c.counters.epoch, 1)
    }
}
