// Demo: `gannet demo` — the pre-training main job: a forward pass of the seed MNIST generator
// with random weights, written as a PNG grid.

import Core
import ArgumentParser
import Foundation
import GraphIR
import Media
import Runtime
import Training
import SeedModels

public struct Demo: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the seed MNIST generator (random weights) and write a PNG grid.")

    @Option(help: "Number of images.") var n = 64
    @Option(help: "Grid columns.") var nrow = 8
    @Option(help: "Worker threads.") var threads = 2
    @Option(help: "Latent seed.") var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "Output PNG.") var out = "demo.png"

    public init() {}

    public func validate() throws {
        guard n > 0 && n <= 4096 else { throw ValidationError("--n must be in 1...4096") }
    }

    public func run() throws {
        let graph = SeedGraphs.mnistGenerator()
        let session = try Session(graph: graph, threads: threads)
        var rng = RandomStream(seed: seed, step: 0, purpose: .sampling)
        let z = Tensor(shape: [n, 100], floats: (0..<(n * 100)).map { _ in rng.normal() })
        let t0 = Date()
        let y = try session.run([z])[0]
        let ms = Date().timeIntervalSince(t0) * 1000
        let image = y.floats.withUnsafeBufferPointer {
            ImageGrid.make($0.baseAddress!, count: n, channels: y.shape[1], height: y.shape[2], width: y.shape[3],
                           range: 0...1, layout: GridLayout(nrow: nrow))
        }
        try PNG.write(image, to: out)
        FileHandle.standardError.write("generator forward, batch \(n), \(threads) threads: \(String(format: "%.1f", ms)) ms (first run, includes compile)\nwrote \(out) (\(image.width)x\(image.height))\n".data(using: .utf8)!)
    }
}
