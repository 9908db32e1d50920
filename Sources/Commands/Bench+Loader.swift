// Bench+Loader: `gannet bench loader DIR [--crop C] [--resize R] [--channels K] --threads T` —
// the image-folder loader alone (PNG/JPEG decode, center crop, resize to bytes, on T workers):
// {"images": n, "seconds": s, "images_per_s": n/s}, to set against a training step's need
// (batch / step time, `gannet bench step`).

import ArgumentParser
import Data
import Foundation

extension Bench {
    struct LoaderBench: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "loader",
            abstract: "Images per second of the image-folder loader (decode, crop, resize) alone.")
        @Argument(help: "Image folder (PNG/JPEG).") var directory: String
        @Option(help: "Center crop (square) before resizing.") var crop: Int?
        @Option(help: "Square size to resize to.") var resize: Int?
        @Option(help: "Channels (1 or 3).") var channels = 3
        @Flag(help: "Skip unreadable files.") var skipBadImages = false
        @OptionGroup var common: Common
        func run() throws {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let load: ImageFolderLoad
            load = try Dataset.loadImageFolder(directory, channels: channels, size: resize.map { ($0, $0) }, crop: crop,
                                               skipBadImages: skipBadImages, threads: common.threads)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            let n = Double(load.dataset.count)
            Bench.emit([("images", n), ("skipped", Double(load.skipped.count)), ("seconds", seconds), ("images_per_s", n / seconds)],
                       json: common.json)
        }
    }
}
