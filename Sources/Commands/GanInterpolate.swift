// GanInterpolate: `gan-interpolate MODEL --seeds A,B[,C…] [--steps N] [--mode slerp|lerp] [--loop]
// [--class K | --class-from K1 --class-to K2] [--out walk.gif|walk.mp4|strip.png]` — a latent walk.
//
// Contract: endpoint k is the latent of seed k (stream (seed, 0), as `gan-sample --seeds`).
// Segments join consecutive seeds (and the last to the first with --loop).
// - PNG (`strip.png`): one row per segment, --steps columns at t = j/(steps−1) (endpoints in the
//   first and last column), padding 2.
// - GIF / MP4: --steps frames per segment at t = j/steps, plus the final endpoint unless
//   --loop; images of at most 32 px are upscaled ×4 (≤ 64 px ×2) by nearest neighbour unless
//   --scale says otherwise; MP4 needs ffmpeg (even sizes, yuv420p).
// - slerp/lerp as in Latents.swift. --class-from/--class-to cut the class Embedding out of the
//   graph (GeneratorModel.cutClassEmbedding) and feed lerped embedding rows: per row for a
//   strip, over the whole walk for an animation (out and back with --loop).
// A sidecar `<out>.json` records seeds, endpoints' z, mode, per-frame segment/t/class.

import GAN
import Core
import ArgumentParser
import Foundation
import GraphIR
import Media

public struct GanInterpolate: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gan-interpolate",
        abstract: "Walk between the latents of seeds; write an animated GIF, an MP4 (ffmpeg) or a PNG strip.",
        discussion: """
        Examples:
          gan-interpolate generator.onnx --seeds 1,2,3 --steps 30 --loop --out walk.gif
          gan-interpolate generator.onnx --seeds 0-4 --steps 10 --out strip.png
          gan-interpolate generator.onnx --seeds 5,9 --mode lerp --out walk.mp4
          gan-interpolate cgan.onnx --seeds 3 --class-from 1 --class-to 7 --out morph.gif
          gan-interpolate cgan.onnx --seeds 3,4 --class 2 --out walk.gif

        The output kind follows the --out extension: .gif (Gannet's own encoder), .mp4 (needs ffmpeg on PATH), .png (rows = seed pairs, columns = steps, endpoints included).

        slerp (default) keeps the norm of Gaussian latents (lerp's midpoint shrinks it by about √2). Endpoint k is the latent of seed k, as in gan-sample --seeds. Class embeddings are interpolated linearly. --truncation ψ resamples coordinates with |z_i| > ψ.
        """,
        version: GannetVersion.string)

    @OptionGroup public var common: GeneratorOptions

    @Option(help: ArgumentHelp("Endpoint seeds: A,B[,C…] or a range A-B (one seed with --class-from/--class-to).", valueName: "seeds"))
    public var seeds: String

    @Option(parsing: .unconditional, help: "Steps per segment (default 10 for a PNG strip, 30 for GIF/MP4).")
    public var steps: Int?

    @Option(help: "Interpolation: slerp or lerp.")
    public var mode: String = "slerp"

    @Flag(help: "Walk back from the last seed to the first.")
    public var loop = false

    @Option(name: .customLong("class"), parsing: .unconditional, help: "Fixed class for a conditional model.")
    public var classLabel: Int?

    @Option(parsing: .unconditional, help: "Interpolate the class embedding from this class…")
    public var classFrom: Int?

    @Option(parsing: .unconditional, help: "…to this class.")
    public var classTo: Int?

    @Option(name: .shortAndLong, help: "Output: walk.gif, walk.mp4 or strip.png (sidecar: same name, .json).")
    public var out = "walk.gif"

    @Option(parsing: .unconditional, help: "Nearest-neighbour upscale factor (default: ×4 for images ≤ 32 px in GIF/MP4, ×2 ≤ 64 px, else 1; 1 for PNG).")
    public var scale: Int?

    @Option(parsing: .unconditional, help: "Frames per second for GIF/MP4.")
    public var fps = 12

    @Option(parsing: .unconditional, help: "Padding between PNG strip tiles.")
    public var padding = 2

    public init() {}

    enum Kind: String { case gif, mp4, png }

    var kind: Kind? { Kind(rawValue: (out as NSString).pathExtension.lowercased()) }

    /// The most images (frames or strip tiles) one walk renders.
    public static let maxFrames = 20_000

    public func validate() throws {
        try common.validateCommon()
        guard kind != nil else { throw ValidationError("--out must end in .gif, .mp4 or .png, got '\(out)'") }
        guard InterpolationMode(rawValue: mode) != nil else { throw ValidationError("--mode must be slerp or lerp, got '\(mode)'") }
        if let steps, !(1...10000).contains(steps) { throw ValidationError("--steps must be in 1...10000") }
        if kind == .png, let steps, steps < 2 { throw ValidationError("--steps must be at least 2 for a PNG strip (endpoints included)") }
        if let scale, !(1...64).contains(scale) { throw ValidationError("--scale must be in 1...64") }
        guard (1...100).contains(fps) else { throw ValidationError("--fps must be in 1...100") }
        guard (0...1024).contains(padding) else { throw ValidationError("--padding must be in 0...1024") }
        if (classFrom == nil) != (classTo == nil) { throw ValidationError("give both --class-from and --class-to") }
        if classFrom != nil && classLabel != nil { throw ValidationError("give --class or --class-from/--class-to, not both") }
    }

    /// One generated image.
    struct Frame {
        var segment: Int
        var t: Double
        var z: [Float]
        var classT: Double?   // progress from class-from to class-to
    }

    public func run() throws {
        var model = try common.loadModel()
        let kind = kind!
        if kind == .mp4, FFmpeg.locate() == nil {
            throw CommandError("\(out): writing MP4 needs ffmpeg, which is not on PATH (install it, e.g. 'apt-get install ffmpeg', or write .gif or .png instead)")
        }
        let mode = InterpolationMode(rawValue: mode)!
        let seedList = try Latents.parseSeeds(seeds)
        let interpolatingClass = classFrom != nil
        guard seedList.count >= 2 || (interpolatingClass && seedList.count == 1) else {
            throw CommandError("--seeds \(seeds): give at least two seeds to walk between (or one seed with --class-from/--class-to)")
        }
        let steps = self.steps ?? (kind == .png ? 10 : 30)
        let segmentCount = seedList.count == 1 ? 1 : seedList.count - (loop ? 0 : 1)
        guard segmentCount * steps <= Self.maxFrames else {
            throw CommandError("--seeds \(seeds) with --steps \(steps) makes \(segmentCount * steps) frames, more than \(Self.maxFrames)")
        }

        // Class handling.
        var cuts: [GeneratorModel.EmbeddingCut] = []
        var fixedClass: Int?
        if model.isConditional {
            if let a = classFrom, let b = classTo {
                try model.checkClass(a)
                try model.checkClass(b)
                cuts = try model.cutClassEmbedding()
                for c in cuts where max(a, b) >= c.weight.shape[0] {
                    throw CommandError("\(model.path): class \(max(a, b)) is out of range (embedding '\(c.inputName)' has \(c.weight.shape[0]) rows)")
                }
            } else {
                guard let k = classLabel else {
                    let n = model.numClasses.map { " (\($0) classes: 0…\($0 - 1))" } ?? ""
                    throw CommandError("\(model.path) is a conditional generator\(n), class input '\(model.classInput!)': pass --class K (or --class-from K1 --class-to K2)")
                }
                try model.checkClass(k)
                fixedClass = k
            }
        } else if classLabel != nil || interpolatingClass {
            if interpolatingClass { throw CommandError("\(model.path) is not a conditional generator: --class-from/--class-to need a class input") }
            common.warn("--class ignored: \(model.path) is not a conditional generator")
        }

        // Endpoints and segments.
        let ends = seedList.map { Latents.vector(seed: $0, index: 0, size: model.latentSize, truncation: common.truncation,
                                          distribution: model.latentDistribution) }
        var segments: [(Int, Int)] = seedList.count == 1 ? [(0, 0)] : (0..<(seedList.count - 1)).map { ($0, $0 + 1) }
        if loop && seedList.count >= 2 { segments.append((seedList.count - 1, 0)) }

        var frames: [Frame] = []
        if kind == .png {
            for (s, (a, b)) in segments.enumerated() {
                for j in 0..<steps {
                    let t = Double(j) / Double(steps - 1)
                    frames.append(Frame(segment: s, t: t, z: Interpolation.interpolate(mode, t, ends[a], ends[b]), classT: interpolatingClass ? t : nil))
                }
            }
        } else {
            for (s, (a, b)) in segments.enumerated() {
                for j in 0..<steps {
                    let t = Double(j) / Double(steps)
                    frames.append(Frame(segment: s, t: t, z: Interpolation.interpolate(mode, t, ends[a], ends[b]), classT: nil))
                }
            }
            if !loop, let last = segments.last {
                frames.append(Frame(segment: segments.count - 1, t: 1, z: ends[last.1], classT: nil))
            }
            if interpolatingClass {
                let f = frames.count
                for i in frames.indices {
                    let u = f > 1 ? Double(i) / Double(loop ? f : f - 1) : 0
                    frames[i].classT = loop ? 1 - abs(2 * u - 1) : u
                }
            }
        }

        // Run.
        var extra: GeneratorRunner.Extra = [:]
        if let a = classFrom, let b = classTo {
            for c in cuts {
                let d = c.rowSize
                let w = c.weight.floats
                let ra = Array(w[(a * d)..<((a + 1) * d)]), rb = Array(w[(b * d)..<((b + 1) * d)])
                extra[c.inputName] = frames.map { Interpolation.lerp($0.classT ?? 0, ra, rb) }
            }
        }
        let runner = try GeneratorRunner(model: model, batch: common.batch, threads: common.threadCount)
        let t0 = Date()
        let total = frames.count
        let classes = model.classInput != nil && cuts.isEmpty ? [Int](repeating: fixedClass ?? 0, count: frames.count) : nil
        var last = -1.0
        let images = try runner.generate(latents: frames.map(\.z), classes: classes, extra: extra) { done in
            let dt = Date().timeIntervalSince(t0)
            guard done == total || dt - last >= 0.5 else { return }
            last = dt
            common.info(String(format: "generated %d/%d frames [%.2fs]", done, total, dt))
        }
        let shape = runner.imageShape!

        // Write.
        let factor = scale ?? (kind == .png ? 1 : (max(shape.height, shape.width) <= 32 ? 4 : max(shape.height, shape.width) <= 64 ? 2 : 1))
        var geometry: [String: Any] = ["kind": kind.rawValue, "scale": factor, "tile_width": shape.width, "tile_height": shape.height]
        switch kind {
        case .png:
            let layout = GridLayout(nrow: steps, padding: padding)
            var grid = images.withUnsafeBufferPointer {
                ImageGrid.make($0.baseAddress!, count: frames.count, channels: shape.channels, height: shape.height,
                               width: shape.width, range: model.range, layout: layout)
            }
            grid = grid.upscaled(by: factor)
            try PNG.write(grid, to: out)
            geometry.merge(["rows": segments.count, "columns": steps, "padding": padding, "width": grid.width, "height": grid.height,
                            "rows_are": "segments (seed pairs)", "columns_are": "steps t = j/(steps-1)"]) { $1 }
            common.info("wrote \(out) (\(segments.count) rows x \(steps) steps, \(grid.width)x\(grid.height) px)")
        case .gif, .mp4:
            let pics: [Image8] = images.withUnsafeBufferPointer { buf in
                (0..<frames.count).map { i in
                    ImageGrid.make(buf.baseAddress! + i * shape.count, count: 1, channels: shape.channels, height: shape.height,
                                   width: shape.width, range: model.range, layout: GridLayout(nrow: 1, padding: 0)).upscaled(by: factor)
                }
            }
            if kind == .gif {
                try GIF.write(pics, delay: Int((100.0 / Double(fps)).rounded()), loop: 0, to: out)
            } else {
                try FFmpeg.writeMP4(pics, fps: fps, to: out)
            }
            geometry.merge(["frames": frames.count, "fps": fps, "width": pics[0].width, "height": pics[0].height]) { $1 }
            common.info("wrote \(out) (\(frames.count) frames, \(pics[0].width)x\(pics[0].height) px, \(fps) fps)")
        }

        var meta: [String: Any] = [
            "tool": "gan-interpolate", "version": GannetVersion.string, "model": common.model, "seeds": seedList,
            "mode": mode.rawValue, "steps": steps, "loop": loop, "output": geometry,
            "latent_rng": "philox4x32-10, stream (seed, 0) per endpoint",
            "truncation": common.truncation.map { ["psi": $0, "meaning": "resample |z_i| > psi"] as [String: Any] } ?? NSNull(),
            "endpoints": zip(seedList, ends).map { ["seed": $0.0, "z": $0.1.map(Sidecar.number)] as [String: Any] },
            "segments": segments.map { [seedList[$0.0], seedList[$0.1]] },
            "frames": frames.map { f -> [String: Any] in
                var r: [String: Any] = ["segment": f.segment, "t": f.t]
                if let c = f.classT { r["class_t"] = c }
                return r
            },
        ]
        if let k = fixedClass { meta["class"] = k }
        if let a = classFrom, let b = classTo { meta["class_from"] = a; meta["class_to"] = b; meta["class_interpolation"] = "lerp of embedding rows" }
        let side = Sidecar.path(for: out)
        try Sidecar.write(meta, to: side)
    }
}
