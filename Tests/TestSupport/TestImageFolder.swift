// TestImageFolder: a scratch directory holding a folder of small deterministic grayscale PNGs,
// the image-folder dataset the gan-train tests (CommandsTests, DistributedTests) train on.

import Foundation
import Media

public enum TestImageFolder {
    /// Creates `<tmp>/gannet-<prefix>-<pid>-<random>/images` with `count` 8×8 one-channel PNGs
    /// named 00.png, 01.png, … (pixel (p) of image i is (29·p + 53·i) mod 256) and returns the
    /// scratch root; the caller removes it.
    public static func make(prefix: String, count: Int) throws -> String {
        let root = NSTemporaryDirectory() + "gannet-\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))"
        let images = root + "/images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for i in 0..<count {
            let pixels = (0..<64).map { UInt8(($0 * 29 + i * 53) % 256) }
            try PNG.write(Image8(width: 8, height: 8, channels: 1, pixels: pixels), to: images + String(format: "/%02d.png", i))
        }
        return root
    }
}
