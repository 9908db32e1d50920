// GanTrain: `gan-train SPEC [--out DIR] [--epochs E] [--max-steps N] [--seed S] [--threads T]
// [--resume DIR]` — trains a spec's GAN with the seed's semantics and writes a run directory:
// spec.yaml, metrics.jsonl (one JSON object per logged step), TensorBoard events, frames/
// (fixed-latent grids), checkpoint.gck (every epoch and on SIGINT/SIGTERM, atomic), and at the
// end generator.pb / discriminator.pb (ONNX with sampler metadata) and an animation of the
// frames (MP4 through ffmpeg when installed, else GIF). The spec's `output` section switches
// frame files, the animation (its fps and x264 CRF), TensorBoard and per-epoch checkpoints;
// with `checkpoint: never` one is still written at the end and on SIGINT/SIGTERM. The spec's
// `health` section drives the live training-health monitor (GanTrain+Health.swift).

import ArgumentParser
import Data
import Foundation
import GAN
import GraphIR
import Media
import ONNX
import Passes
import Runtime
import SpecFormat

/// Set by the signal handlers; the loop checkpoints and stops.
nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

public struct GanTrain: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gan-train",
        abstract: "Train a GAN from a spec (Specs/*.yaml).",
        discussion: """
        Examples:
          gan-train Specs/mnist_gan.yaml --out runs/mnist_gan
          gan-train Specs/mnist_wgangp.yaml --epochs 5 --threads 2
          gan-train Specs/mnist_gan.yaml --max-steps 200 --out runs/short
          gan-train --resume runs/mnist_gan          (continues from runs/mnist_gan/checkpoint.gck)
        MNIST-like specs train on Fashion-MNIST (Debian: apt-get install dataset-fashion-mnist);
        --dataset mnist:DIR, cifar10:DIR or folder:DIR name other data.
        """,
        version: GannetVersion.string)

    @Argument(help: "Spec file (.yaml). Optional with --resume.") var spec: String?
    @Option(name: .shortAndLong, help: "Run directory (default: the spec's output.directory).") var out: String?
    @Option(help: "Epochs (default: the spec's).") var epochs: Int?
    @Option(help: "Stop when the run's D-iteration count reaches N (resumes included).") var maxSteps: Int?
    @Option(help: "Seed for initialisation, latents, data order (default: the spec's).") var seed: UInt64?
    @Option(help: "Worker threads (default 2; --resume keeps the checkpoint's count unless this is given).") var threads: Int?
    @Option(help: "Resume from the checkpoint in DIR; everything else comes from it.") var resume: String?
    @Option(help: "Dataset: fashion-mnist, mnist:DIR, cifar10:DIR, folder:DIR.") var dataset: String?
    @Option(help: "Generator frequency override (G trains once every N+1 D steps).") var generatorFrequency: Int?
    @Option(help: "Learning rate of D (critic).") var dLr: Double?
    @Option(help: "Learning rate of G.") var gLr: Double?
    @Option(help: "Adam betas for both networks, as b1,b2.") var betas: String?
    @Option(help: "Log scalars every N iterations.") var logEvery = 10
    @Flag(name: .shortAndLong, help: "No progress line.") var quiet = false

    public init() {}

    public func validate() throws {
        if spec == nil && resume == nil { throw ValidationError("give a SPEC or --resume DIR") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be in 1...256") }
        if let e = epochs, e < 1 { throw ValidationError("--epochs must be at least 1") }
        if let m = maxSteps, m < 1 { throw ValidationError("--max-steps must be at least 1") }
        guard logEvery >= 1 else { throw ValidationError("--log-every must be at least 1") }
    }

    func loadSpec(_ path: String) throws -> Spec {
        var s: Spec
        do { s = try Spec.load(path: path) } catch let e as SpecError { throw CommandError("\(e)") }
        var b: (Double, Double)? = nil
        if let betas {
            let parts = betas.split(separator: ",").compactMap { Double($0) }
            guard parts.count == 2 else { throw CommandError("--betas must be b1,b2, got '\(betas)'") }
            b = (parts[0], parts[1])
        }
        s.applyTrainingOverrides(generatorFrequency: generatorFrequency, dLR: dLr, gLR: gLr, betas: b)
        return s
    }

    public func run() throws {
        var checkpoint: Checkpoint.Contents? = nil
        var specPath = spec
        var runDir = out
        if let resume {
            let file = (resume as NSString).appendingPathComponent("checkpoint.gck")
            do { checkpoint = try Checkpoint.read(FileManager.default.fileExists(atPath: file) ? file : resume) }
            catch let e as CheckpointError { throw CommandError(e.message) }
            specPath = specPath ?? (resume as NSString).appendingPathComponent("spec.yaml")
            runDir = runDir ?? resume
        }
        let s = try loadSpec(specPath!)
        let dir = runDir ?? s.output.directory
        let runSeed = checkpoint?.seed ?? seed ?? s.seed
        let runThreads = threads ?? checkpoint?.threads ?? 2
        // Kernels split work without changing reduction orders, so results do not depend on it.
        if let c = checkpoint, c.threads != runThreads, !quiet {
            FileHandle.standardError.write("note: resuming with \(runThreads) threads (the checkpoint was written with \(c.threads))\n".data(using: .utf8)!)
        }
        let fm = FileManager.default
        try fm.createDirectory(atPath: (dir as NSString).appendingPathComponent("frames"), withIntermediateDirectories: true)
        let specCopy = (dir as NSString).appendingPathComponent("spec.yaml")
        if checkpoint == nil || !fm.fileExists(atPath: specCopy) {
            if fm.fileExists(atPath: specCopy) { try fm.removeItem(atPath: specCopy) }
            try fm.copyItem(atPath: specPath!, toPath: specCopy)
        }

        let data = try DatasetBatches.load(s, override: dataset) { message in
            if !quiet { FileHandle.standardError.write("note: \(message)\n".data(using: .utf8)!) }
        }
        let source = DatasetBatches(data: data, batchSize: s.schedule.batchSize, shuffle: s.dataset.shuffle,
                                    dropLast: s.dataset.dropLast, seed: runSeed, withLabels: s.conditional != nil)
        let steps: GANSteps
        do { steps = try GANSteps(spec: s, seed: runSeed, threads: runThreads) }
        catch let e as GraphError { throw CommandError("\(specPath!): \(e.message)") }
        let trainer = Trainer(steps: steps, data: source, epochs: epochs, maxSteps: maxSteps,
                              generatorFrequency: generatorFrequency, fixedSamples: s.output.fixedSamples)
        if let checkpoint {
            // Compile first so optimizer state exists, then overwrite it.
            _ = try steps.dStep(batch: s.schedule.batchSize)
            _ = try steps.gStep(batch: s.schedule.batchSize)
            try trainer.restore(checkpoint, file: resume!)
        }
        let log = try RunLog(directory: dir, resumedAt: checkpoint.map { $0.counters.iteration }, tensorboard: s.output.tensorboard)
        let checkpointPath = (dir as NSString).appendingPathComponent("checkpoint.gck")
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }

        let progress = Progress(total: trainer.plannedIterations, startCount: trainer.counters.iteration, quiet: quiet)
        var lastG: Float = .nan
        let t0 = Date()
        var itersSinceLog = 0
        var logClock = Date()
        var lastReport: IterationReport? = nil
        let health = HealthHook(spec: s)
        while let r = try trainer.iterate() {
            lastReport = r
            if let (warnings, report) = health?.observe(r) {
                try logHealth(warnings, report, log: log)
            }
            itersSinceLog += 1
            if let g = r.gOutputs?["g_loss"] { lastG = g }
            let it = r.counters.iteration
            if let frame = r.frame {
                let path = (dir as NSString).appendingPathComponent(String(format: "frames/frame_%05d.png", r.counters.framesWritten))
                let image = try frameImage(frame, spec: s)
                if s.output.frames { try PNG.write(image, to: path) }
                try log.image(tag: "samples/fixed", image: image, step: it)
            }
            if (it - 1) % logEvery == 0 || r.epochEnded {
                let now = Date()
                let rate = Double(itersSinceLog) / max(now.timeIntervalSince(logClock), 1e-9)
                itersSinceLog = 0
                logClock = now
                var scalars = r.dOutputs
                if let g = r.gOutputs { scalars.merge(g) { a, _ in a } }
                scalars["it_s"] = Float(rate)
                scalars["images_s"] = Float(rate * Double(s.schedule.batchSize))
                scalars["lr_d"] = Float(s.optimizers[steps.discriminator.name]?.lr ?? 0)
                scalars["lr_g"] = Float(s.optimizers["generator"]?.lr ?? 0)
                try log.scalars(scalars, step: it, epoch: r.counters.epoch, time: now.timeIntervalSince(t0))
            }
            if let every = s.schedule.logImageFrequency, (it - 1) % every == 0 {
                let (images, _) = try source.batch(epoch: r.counters.epoch, index: max(0, r.counters.cursor - 1))
                try log.image(tag: "real/batch", image: try frameImage(images, spec: s), step: it)
            }
            let dl = r.dOutputs["d_loss"] ?? .nan
            progress.update(it, epoch: r.counters.epoch, epochs: trainer.epochs,
                            postfix: String(format: "d_loss=%.4f g_loss=%.4f", dl, lastG))
            if r.epochEnded && s.output.checkpoint == "epoch" {
                try trainer.saveCheckpoint(to: checkpointPath, specPath: specCopy)
            }
            if stopRequested != 0 {
                try trainer.saveCheckpoint(to: checkpointPath, specPath: specCopy)
                progress.finish()
                try log.close()
                FileHandle.standardError.write("interrupted at iteration \(it); checkpoint written to \(checkpointPath) (resume with --resume \(dir))\n".data(using: .utf8)!)
                throw ExitCode(130)
            }
        }
        progress.update(trainer.counters.iteration, epoch: trainer.counters.epoch, epochs: trainer.epochs, postfix: "done", force: true)
        progress.finish()
        try trainer.saveCheckpoint(to: checkpointPath, specPath: specCopy)
        try log.close()
        try exportModels(steps: steps, trainer: trainer, dir: dir)
        if s.output.frames, let fps = s.output.videoFPS {
            try makeAnimation(dir: dir, frames: trainer.counters.framesWritten, fps: fps, crf: s.output.videoCRF,
                              format: s.output.videoFormat)
        }
        _ = lastReport
        if !quiet {
            FileHandle.standardError.write("trained \(trainer.counters.iteration) D iterations, \(trainer.counters.generatorSteps) G steps in \(Progress.clock(Date().timeIntervalSince(t0))); run directory \(dir)\n".data(using: .utf8)!)
        }
    }

    /// Health warnings: a line on stderr each (also with --quiet) and TensorBoard text; the
    /// check's quantities as `health/…` scalars.
    func logHealth(_ warnings: [HealthWarning], _ report: HealthReport?, log: RunLog) throws {
        for w in warnings {
            FileHandle.standardError.write("\nwarning: \(w)\n".data(using: .utf8)!)
            try log.text(tag: "health/\(w.kind.rawValue)", text: "iteration \(w.iteration): \(w.evidence)", step: w.iteration)
        }
        if let report, !report.scalars.isEmpty { try log.events?.scalars(report.scalars, step: report.iteration) }
    }

    func frameImage(_ t: Tensor, spec: Spec) throws -> Image8 {
        let n = t.shape[0]
        let nrow = spec.output.gridRows ?? Int(Double(n).squareRoot().rounded(.down))
        let range = Float(spec.dataset.range.low)...Float(spec.dataset.range.high)
        return t.floats.withUnsafeBufferPointer {
            ImageGrid.make($0.baseAddress!, count: n, channels: t.shape[1], height: t.shape[2], width: t.shape[3],
                           range: range, layout: GridLayout(nrow: max(1, nrow), padding: 2))
        }
    }

    func exportModels(steps: GANSteps, trainer: Trainer, dir: String) throws {
        var g = trainer.sampler.exportGraph()
        var d = steps.discriminator
        for v in d.initializers.keys {
            if let t = steps.store.tensor("\(d.name)/\(d.name(of: v))") { d.initializers[v] = t }
        }
        g.metadata["gannet.trained_iterations"] = String(trainer.counters.iteration)
        for (graph, file) in [(g, "generator.pb"), (d, "\(d.name).pb")] {
            var typed = graph
            try InferShapes().run(&typed)
            try saveGraph(typed, path: (dir as NSString).appendingPathComponent(file))
        }
    }

    /// training.mp4 at `fps` (x264 `crf`) when the format allows it and ffmpeg is installed, else
    /// training.gif (an `mp4` request without ffmpeg says so and writes the GIF).
    func makeAnimation(dir: String, frames: Int, fps: Int, crf: Int, format: String) throws {
        guard frames > 1 else { return }
        let paths = (1...frames).map { (dir as NSString).appendingPathComponent(String(format: "frames/frame_%05d.png", $0)) }
        let images = try paths.map { try PNG.read($0) }
        let haveFFmpeg = FFmpeg.locate() != nil
        if format == "mp4" && !haveFFmpeg && !quiet {
            FileHandle.standardError.write("note: ffmpeg is not installed; writing training.gif instead of training.mp4\n".data(using: .utf8)!)
        }
        if format != "gif" && haveFFmpeg {
            try FFmpeg.writeMP4(images, fps: fps, crf: crf, to: (dir as NSString).appendingPathComponent("training.mp4"))
        } else {
            // GIF delays are in centiseconds; viewers play delays under 2 as 10.
            let delay = max(2, Int((100.0 / Double(fps)).rounded()))
            try GIF.write(images, delay: delay, loop: 0, to: (dir as NSString).appendingPathComponent("training.gif"))
        }
    }
}
