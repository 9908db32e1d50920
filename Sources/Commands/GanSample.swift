// GanSample: `gan-sample MODEL [--n 64] [--seed S | --seeds A-B] [--class K|all] [--truncation PSI]
// [--nrow R] [--padding P] [--out grid.png | --individual DIR] [--batch B]` — a PNG grid (or
// single PNGs) of generator samples with a JSON sidecar that regenerates every tile.
//
// Contract: tile i of `--seed S` uses latent stream (S, first-index + i); `--seeds` gives one
// seed per tile, stream (seed, 0) (so `--seeds K` equals tile 0 of `--seed K`). Latents are
// Philox4x32-10 normals (Latents.swift); the batch size never changes an image. `--class all`
// makes one row per class, columns sharing their latents. The sidecar (`<out>.json`, or
// DIR/samples.json) records the model, seeds, truncation, grid geometry and per tile its
// seed, stream index, class, z and a command that regenerates it alone. Info goes to stderr;
// failures are one `Error:` line and a non-zero exit.

import GAN
import Core
import ArgumentParser
import Foundation
import GraphIR
import Media

/// Options shared by gan-sample and gan-interpolate.
public struct GeneratorOptions: ParsableArguments {
    @Argument(help: "Generator: ONNX (.pb/.onnx, Gannet's or PyTorch's export), IR text (.ir) or seed:mnist-generator.")
    public var model: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Truncation ψ > 0: every latent coordinate with |z_i| > ψ is resampled from its own stream (BigGAN-style truncated normal; not a scaling of z). Default: none.", valueName: "psi"))
    public var truncation: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Output value range a,b when the model does not record it and has no final Tanh/Sigmoid (e.g. -1,1).", valueName: "a,b"))
    public var range: String?

    @Option(parsing: .unconditional, help: "Class count, when neither metadata nor an Embedding tells it.")
    public var numClasses: Int?

    @Option(help: "Name of the latent input, when it cannot be found (a float input [N,Z] or [N,Z,1,1]).")
    public var latentInput: String?

    @Option(help: "Name of the integer class input, when it cannot be found.")
    public var classInput: String?

    @Option(parsing: .unconditional, help: "Images per forward pass (memory control; does not change any image).")
    public var batch = 64

    @Option(parsing: .unconditional, help: "Worker threads (default: all cores).")
    public var threads: Int?

    @Flag(name: .shortAndLong, help: "No info lines on stderr.")
    public var quiet = false

    public init() {}

    func validateCommon() throws {
        if let t = truncation, !(t >= Latents.minTruncation && t.isFinite) {
            throw ValidationError("--truncation must be a number ≥ \(Latents.minTruncation) (coordinates with |z| > ψ are resampled; a smaller ψ would take ~1/ψ draws each)")
        }
        guard (1...Latents.maxSeeds).contains(batch) else { throw ValidationError("--batch must be in 1...\(Latents.maxSeeds)") }
        if let t = threads, t < 1 || t > 256 { throw ValidationError("--threads must be in 1...256") }
        if let n = numClasses, n < 1 { throw ValidationError("--num-classes must be at least 1") }
    }

    func hints() throws -> GeneratorHints {
        GeneratorHints(latentInput: latentInput, classInput: classInput, numClasses: numClasses,
                       range: try range.map(GeneratorHints.parseRange))
    }

    func loadModel() throws -> GeneratorModel {
        let m = try GeneratorModel.load(model, hints: hints())
        info(m.summary)
        return m
    }

    var threadCount: Int { threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount) }

    func info(_ line: String) {
        if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    func warn(_ line: String) {
        FileHandle.standardError.write(Data(("warning: " + line + "\n").utf8))
    }
}

/// Sidecar helpers.
enum Sidecar {
    /// `dir/name.png` → `dir/name.json`.
    static func path(for out: String) -> String {
        ((out as NSString).deletingPathExtension) + ".json"
    }

    /// A float as its shortest decimal (keeps JSON small and exact for Float).
    static func number(_ f: Float) -> Any { Double(String(f)) ?? 0 }

    static func write(_ object: Any, to path: String) throws {
        do {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write([UInt8](data + Data("\n".utf8)), to: path)
        } catch {
            throw IOFailure.error(error, path: path, doing: "write the JSON sidecar")
        }
    }

    /// A shell-safe argument.
    static func quote(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=,".contains($0) }) ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

public struct GanSample: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gan-sample",
        abstract: "Sample a trained generator into a PNG grid (or single PNGs) with a JSON sidecar.",
        discussion: """
        Examples:
          gan-sample generator.onnx --n 64 --seed 1 --out samples.png
          gan-sample generator.onnx --seeds 0-63 --nrow 8
          gan-sample generator.onnx --seeds 17 --out tile17.png   # one tile again
          gan-sample cgan.onnx --class all --seed 3               # a row per class
          gan-sample cgan.onnx --class 7 --n 16 --truncation 1.5
          gan-sample torch_export.onnx --range=-1,1 --individual out/

        Latents: image i of --seed S uses a Philox4x32-10 stream keyed by (S, i); each seed of --seeds uses stream (seed, 0), so one tile can be regenerated alone (the sidecar JSON records a command per tile). The same seed gives the same image at any --batch.

        --truncation ψ RESAMPLES every latent coordinate with |z_i| > ψ (truncated normal); it does not scale z.

        The latent input, class input, class count and output range come from the model's metadata (gannet.latent_input, gannet.label_input, gannet.num_classes, gannet.output_range) or are inferred (float [N,Z] or [N,Z,1,1] input; integer input; Embedding size; final Tanh → [-1,1], Sigmoid → [0,1]); otherwise the error names the flag to pass.
        """,
        version: GannetVersion.string)

    @OptionGroup public var common: GeneratorOptions

    @Option(parsing: .unconditional, help: "Number of images (default 64; with --class all: images per class row, default --nrow).")
    public var n: Int?

    @Option(parsing: .unconditional, help: "Base seed: image i uses latent stream (S, i). Default: random, printed.")
    public var seed: UInt64?

    @Option(help: ArgumentHelp("One seed per image: a range 0-63, a list 1,5,9, or both (0-3,10).", valueName: "seeds"))
    public var seeds: String?

    @Option(parsing: .unconditional, help: "With --seed: the stream index of the first image (regenerates tile i alone with --n 1).")
    public var firstIndex: UInt64 = 0

    @Option(name: .customLong("class"), help: ArgumentHelp("Class for a conditional model: K, or 'all' for one row per class.", valueName: "K|all"))
    public var classLabel: String?

    @Option(parsing: .unconditional, help: "Grid columns.")
    public var nrow = 8

    @Option(parsing: .unconditional, help: "Pixels between and around tiles.")
    public var padding = 2

    @Option(parsing: .unconditional, help: "Gray level (0-255) of the padding.")
    public var padValue = 0

    @Option(name: .shortAndLong, help: "Output PNG grid (sidecar: same name, .json).")
    public var out = "samples.png"

    @Option(help: "Write one PNG per image into this directory instead of a grid (sidecar DIR/samples.json).")
    public var individual: String?

    public init() {}

    public func validate() throws {
        try common.validateCommon()
        if let n, !(1...Latents.maxSeeds).contains(n) { throw ValidationError("--n must be in 1...\(Latents.maxSeeds), got \(n)") }
        if seed != nil && seeds != nil { throw ValidationError("give --seed or --seeds, not both") }
        guard (1...Latents.maxSeeds).contains(nrow) else { throw ValidationError("--nrow must be in 1...\(Latents.maxSeeds)") }
        guard (0...1024).contains(padding) else { throw ValidationError("--padding must be in 0...1024") }
        guard (0...255).contains(padValue) else { throw ValidationError("--pad-value must be in 0...255") }
        if let c = classLabel, c != "all", Int(c) == nil { throw ValidationError("--class must be a class number or 'all', got '\(c)'") }
        if individual == nil, !out.lowercased().hasSuffix(".png") { throw ValidationError("--out must name a .png file") }
    }

    /// One image of the output.
    struct Tile {
        var seed: UInt64
        var index: UInt64
        var label: Int?
    }

    public func run() throws {
        let model = try common.loadModel()

        // Latents (columns for --class all).
        var latentTiles: [(seed: UInt64, index: UInt64)]
        var baseSeed: UInt64?
        if let seeds {
            let list = try Latents.parseSeeds(seeds)
            if let n, n != list.count { common.warn("--n \(n) ignored: --seeds gives \(list.count) seeds") }
            latentTiles = list.map { ($0, 0) }
        } else {
            let s = seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
            if seed == nil { FileHandle.standardError.write(Data("seed: \(s) (random; pass --seed \(s) to repeat)\n".utf8)) }
            baseSeed = s
            let count = n ?? (classLabel == "all" ? nrow : 64)
            latentTiles = (0..<UInt64(count)).map { (s, firstIndex &+ $0) }
        }
        guard !latentTiles.isEmpty else { throw CommandError("no images to sample") }

        // Classes.
        var tiles: [Tile] = []
        var columns = nrow
        var classRows = false
        if model.isConditional {
            guard let classLabel else {
                let n = model.numClasses.map { " (\($0) classes: 0…\($0 - 1))" } ?? ""
                throw CommandError("\(model.path) is a conditional generator\(n), class input '\(model.classInput!)': pass --class K or --class all")
            }
            if classLabel == "all" {
                let k = try model.requireNumClasses()
                classRows = true
                columns = latentTiles.count
                for c in 0..<k { for t in latentTiles { tiles.append(Tile(seed: t.seed, index: t.index, label: c)) } }
            } else {
                let k = Int(classLabel)!
                try model.checkClass(k)
                tiles = latentTiles.map { Tile(seed: $0.seed, index: $0.index, label: k) }
            }
        } else {
            if let classLabel { common.warn("--class \(classLabel) ignored: \(model.path) is not a conditional generator") }
            tiles = latentTiles.map { Tile(seed: $0.seed, index: $0.index, label: nil) }
        }

        // Latent vectors: one per distinct (seed, index).
        var zCache: [String: [Float]] = [:]
        let latents: [[Float]] = tiles.map { t in
            let key = "\(t.seed):\(t.index)"
            if let z = zCache[key] { return z }
            let z = Latents.vector(seed: t.seed, index: t.index, size: model.latentSize, truncation: common.truncation,
                                          distribution: model.latentDistribution)
            zCache[key] = z
            return z
        }

        let runner = try GeneratorRunner(model: model, batch: common.batch, threads: common.threadCount)
        let t0 = Date()
        let total = tiles.count
        var last = -1.0
        let images = try runner.generate(latents: latents, classes: model.isConditional ? tiles.map { $0.label! } : nil) { done in
            let dt = Date().timeIntervalSince(t0)
            guard done == total || dt - last >= 0.5 else { return }
            last = dt
            common.info(String(format: "sampled %d/%d [%.2fs, %.1f img/s]", done, total, dt, Double(done) / max(dt, 1e-9)))
        }
        let shape = runner.imageShape!

        // Sidecar records.
        func regen(_ t: Tile) -> String {
            var cmd = "gan-sample \(Sidecar.quote(common.model))"
            if baseSeed != nil { cmd += " --seed \(t.seed) --first-index \(t.index) --n 1" } else { cmd += " --seeds \(t.seed)" }
            if let l = t.label { cmd += " --class \(l)" }
            if let p = common.truncation { cmd += " --truncation \(p)" }
            if let r = common.range { cmd += " --range=\(r)" }
            return cmd
        }
        var tileRecords: [[String: Any]] = []
        for (i, t) in tiles.enumerated() {
            var r: [String: Any] = ["tile": i, "seed": t.seed, "index": t.index,
                                    "z": latents[i].map(Sidecar.number), "regenerate": regen(t)]
            if individual == nil { r["row"] = i / columns; r["col"] = i % columns }
            if let l = t.label { r["class"] = l }
            tileRecords.append(r)
        }
        var meta: [String: Any] = [
            "tool": "gan-sample", "version": GannetVersion.string, "model": common.model,
            "latent_input": model.latentInput, "latent_shape": model.latentShape,
            "latent_rng": "philox4x32-10 keyed by seed, stream index in counter words 2-3, "
                + (model.latentDistribution == "uniform" ? "uniforms 2u-1 in (-1, 1)" : "Box-Muller normals"),
            "latent_distribution": model.latentDistribution,
            "truncation": common.truncation.map { ["psi": $0, "meaning": "resample |z_i| > psi"] as [String: Any] } ?? NSNull(),
            "output_range": [model.range.lowerBound, model.range.upperBound].map(Sidecar.number),
            "image": ["channels": shape.channels, "height": shape.height, "width": shape.width],
            "count": tiles.count, "tiles": tileRecords,
        ]
        if let b = baseSeed { meta["seed"] = b; meta["first_index"] = firstIndex } else { meta["seeds"] = latentTiles.map(\.seed) }
        if let c = model.classInput { meta["class_input"] = c; meta["num_classes"] = model.numClasses ?? NSNull() }

        if let dir = individual {
            try IOFailure.createDirectory(dir)
            var files: [String] = []
            try images.withUnsafeBufferPointer { buf in
                for (i, t) in tiles.enumerated() {
                    let name = baseSeed != nil ? String(format: "sample%04d", i) : "seed\(t.seed)"
                    let file = name + (t.label.map { "_class\($0)" } ?? "") + ".png"
                    let img = ImageGrid.make(buf.baseAddress! + i * shape.count, count: 1, channels: shape.channels,
                                             height: shape.height, width: shape.width, range: model.range,
                                             layout: GridLayout(nrow: 1, padding: 0))
                    try PNG.write(img, to: (dir as NSString).appendingPathComponent(file))
                    files.append(file)
                    tileRecords[i]["file"] = file
                }
            }
            meta["tiles"] = tileRecords
            let side = (dir as NSString).appendingPathComponent("samples.json")
            try Sidecar.write(meta, to: side)
            common.info("wrote \(files.count) PNGs (\(shape.width)x\(shape.height)) to \(dir) and \(side)")
        } else {
            let layout = GridLayout(nrow: columns, padding: padding, padValue: UInt8(padValue))
            let grid = images.withUnsafeBufferPointer {
                ImageGrid.make($0.baseAddress!, count: tiles.count, channels: shape.channels, height: shape.height,
                               width: shape.width, range: model.range, layout: layout)
            }
            try PNG.write(grid, to: out)
            let rows = (tiles.count + columns - 1) / columns
            meta["grid"] = ["file": (out as NSString).lastPathComponent, "rows": rows, "columns": columns, "padding": padding,
                            "pad_value": padValue, "width": grid.width, "height": grid.height,
                            "tile_width": shape.width, "tile_height": shape.height,
                            "rows_are": classRows ? "classes" : "images in order"] as [String: Any]
            let side = Sidecar.path(for: out)
            try Sidecar.write(meta, to: side)
            common.info("wrote \(out) (\(rows)x\(columns) grid of \(shape.width)x\(shape.height), \(grid.width)x\(grid.height) px) and \(side)")
        }
    }
}
