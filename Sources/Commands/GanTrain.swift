// GanTrain: `gan-train SPEC [--out DIR] [--epochs E] [--max-steps N] [--seed S] [--threads T]
// [--resume DIR] [--overwrite] [--allow-spec-change] [--on-nonfinite stop|rollback]` — trains a
// spec's GAN with the seed's semantics and writes a run directory:
// spec.yaml, metrics.jsonl (one JSON object per logged step), TensorBoard events, frames/
// (fixed-latent grids), checkpoint.gck (every epoch and on SIGINT/SIGTERM, atomic), and at the
// end generator.pb / discriminator.pb (ONNX with sampler metadata; with the spec's `ema`,
// generator.pb is the weight average and generator_raw.pb the trained G) and an animation of the
// frames (MP4 through ffmpeg when installed, else GIF). The spec's `output` section switches
// frame files, the animation (its fps and x264 CRF), TensorBoard and per-epoch checkpoints;
// with `checkpoint: never` one is still written at the end and on SIGINT/SIGTERM. The spec's
// `health` section drives the live training-health monitor (GanTrain+Health.swift).
// Reliability (RELIABILITY.md): the run directory is locked for the run and never reused by a
// fresh run without --overwrite (RunDirectory); the spec and overrides are saved in each
// checkpoint and enforced on --resume (GanTrain+RunConfig); a NaN or infinity stops the run in
// the step it appears without writing a checkpoint, or with --on-nonfinite rollback restores
// the last checkpoint with halved learning rates (at most `maxRollbacks` times).

import Core
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
          mpirun -np 2 gan-train Specs/mnist_gan.yaml --threads 1   (data-parallel over 2 ranks; batch_size is the global batch)
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
    @Option(help: "Resume from the checkpoint in DIR; the spec and overrides come from it.") var resume: String?
    @Option(help: "Dataset: fashion-mnist, mnist:DIR, cifar10:DIR, folder:DIR.") var dataset: String?
    @Option(parsing: .unconditional, help: "Generator frequency override (G trains once every N+1 D steps).") var generatorFrequency: Int?
    @Option(parsing: .unconditional, help: "Learning rate of D (critic), in (0, 10].") var dLr: Double?
    @Option(parsing: .unconditional, help: "Learning rate of G, in (0, 10].") var gLr: Double?
    @Option(help: "Adam betas for both networks, as b1,b2 (each in [0, 1)).") var betas: String?
    @Option(help: "Log scalars every N iterations.") var logEvery = 10
    @Option(help: "On a NaN or infinity: stop (keep the last checkpoint, exit 1) or rollback (restore the last checkpoint, halve both learning rates; at most \(GanTrain.maxRollbacks) times).")
    var onNonfinite: NonFinitePolicy = .stop
    @Flag(help: "Allow a fresh run into a directory that holds a run (its files are replaced).") var overwrite = false
    @Flag(help: "Allow --resume with another spec or other overrides than the run was started with.") var allowSpecChange = false
    @Flag(name: .shortAndLong, help: "No progress line.") var quiet = false
    @Flag(help: "At the end, print where the loop's time went per phase (data, random inputs, D and G steps, collectives, frames; under mpirun per rank).") var timing = false
    @Flag(help: "Under mpirun: after every iteration, check that all ranks hold identical weights (a hash); a mismatch stops the run.") var checkReplicas = false

    public init() {}

    /// What a NaN or infinity in training does.
    public enum NonFinitePolicy: String, ExpressibleByArgument, CaseIterable, Sendable {
        case stop, rollback
    }

    /// Rollbacks allowed in one invocation before the run stops.
    public static let maxRollbacks = 3

    public func validate() throws {
        if spec == nil && resume == nil { throw ValidationError("give a SPEC or --resume DIR") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be in 1...256") }
        if let e = epochs, e < 1 { throw ValidationError("--epochs must be at least 1") }
        if let m = maxSteps, m < 1 { throw ValidationError("--max-steps must be at least 1") }
        guard logEvery >= 1 else { throw ValidationError("--log-every must be at least 1") }
    }

    /// The run (GanTrain+Distributed.swift's `run()` calls it with the MPI job's helper, or nil).
    func runTraining(_ parallel: DataParallel?) throws {
        var checkpoint: Checkpoint.Contents? = nil
        if let resume {
            let file = (resume as NSString).appendingPathComponent("checkpoint.gck")
            checkpoint = try Checkpoint.read(FileManager.default.fileExists(atPath: file) ? file : resume)
        }
        let resumeDir = resume.map { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("checkpoint.gck")) ? $0 : ($0 as NSString).deletingLastPathComponent }
        var resolved = try resolveRun(checkpoint: checkpoint, resumeDir: resumeDir)
        let dir = out ?? resumeDir ?? resolved.spec.output.directory
        // Resuming in place continues the run; anything else starts a run in `dir`.
        let inPlace = resumeDir.map { Self.samePath($0, dir) } ?? false
        // Rank 0 alone writes (and locks) the run directory; the other ranks (`follower`) write
        // nothing at all, so a job that any rank aborts leaves no scratch files behind.
        let follower = parallel.flatMap { $0.rank == 0 ? nil : $0 }
        let runDir = follower == nil ? try RunDirectory(dir, fresh: !inPlace, overwrite: overwrite) : nil
        let runSeed = checkpoint?.seed ?? seed ?? resolved.spec.seed
        let runThreads = threads ?? checkpoint?.threads ?? 2
        // Kernels split work without changing reduction orders, so results do not depend on it.
        if let c = checkpoint, c.threads != runThreads, !quiet {
            FileHandle.standardError.write("note: resuming with \(runThreads) threads (the checkpoint was written with \(c.threads))\n".data(using: .utf8)!)
        }
        let specCopy = (dir as NSString).appendingPathComponent("spec.yaml")
        if runDir != nil {
            do { try AtomicFile.write(Array(resolved.config.spec.utf8), to: specCopy) } catch { throw IOFailure.error(error, path: specCopy, doing: "write") }
        }

        let data = try DatasetBatches.load(resolved.spec, override: resolved.config.dataset) { message in
            if !quiet { FileHandle.standardError.write("note: \(message)\n".data(using: .utf8)!) }
        }
        let checkpointPath = (dir as NSString).appendingPathComponent("checkpoint.gck")
        func makeTrainer(_ from: Checkpoint.Contents?) throws -> Trainer {
            let s = resolved.spec
            let source = DatasetBatches(data: data, batchSize: s.schedule.batchSize, shuffle: s.dataset.shuffle,
                                        dropLast: s.dataset.dropLast, seed: runSeed, withLabels: s.conditional != nil)
            let steps = try at(resolved.specFile) { try GANSteps(spec: s, seed: runSeed, threads: runThreads) }
            let trainer = Trainer(steps: steps, data: source, epochs: epochs, maxSteps: maxSteps,
                                  generatorFrequency: resolved.config.generatorFrequency, fixedSamples: s.output.fixedSamples)
            trainer.run = resolved.config
            trainer.parallel = parallel
            if let from {
                // Compile first so optimizer state exists, then overwrite it.
                _ = try steps.dStep(batch: s.schedule.batchSize)
                _ = try steps.gStep(batch: s.schedule.batchSize)
                try trainer.restore(from, file: resume.map { inPlace ? checkpointPath : $0 } ?? checkpointPath)
            }
            try trainer.broadcastInitialState()
            return trainer
        }
        var trainer = try makeTrainer(checkpoint)
        if let c = checkpoint, inPlace { try runDir?.truncateMetrics(after: c.counters.iteration) }
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
        parallel?.stopSignal = { stopRequested != 0 }
        if let follower { return try followRank0(trainer, follower) }

        var rollbacks = 0
        let t0 = Date()
        while true {
            do {
                try train(trainer, spec: resolved.spec, dir: dir, checkpointPath: checkpointPath, specCopy: specCopy,
                          resumedAt: trainer.counters.iteration > 0 ? trainer.counters.iteration : checkpoint.map { $0.counters.iteration })
                break
            } catch let e as NonFiniteError {
                // Recovery, not a rethrow (so not Core's `rethrowing`): the loop goes on from the
                // last good checkpoint. Every checkpoint written was checked finite, so the one on
                // disk is good.
                let kept = FileManager.default.fileExists(atPath: checkpointPath)
                    ? try Checkpoint.read(checkpointPath) : (inPlace ? nil : checkpoint)
                let keptText = kept.map { "the last good checkpoint (after step \($0.counters.iteration)) is kept in \(checkpointPath)" }
                    ?? "no checkpoint had been written"
                guard onNonfinite == .rollback, rollbacks < Self.maxRollbacks else {
                    let why = onNonfinite == .rollback ? " after \(rollbacks) rollbacks" : ""
                    throw CommandError("\(dir): \(e)\(why); training stopped, \(keptText)")
                }
                rollbacks += 1
                let d = resolved.spec.optimizers[trainer.steps.discriminator.name]?.lr, g = resolved.spec.optimizers["generator"]?.lr
                resolved.config.dLR = d.map { $0 / 2 }
                resolved.config.gLR = g.map { $0 / 2 }
                resolved.spec = try Self.effectiveSpec(resolved.config.spec, file: resolved.specFile, resolved.config)
                trainer = try makeTrainer(kept)
                try runDir?.truncateMetrics(after: kept?.counters.iteration ?? 0)
                if !quiet {
                    let from = kept.map { "the checkpoint after step \($0.counters.iteration)" } ?? "the start"
                    FileHandle.standardError.write("\(e)\nrollback \(rollbacks)/\(Self.maxRollbacks): restarting from \(from) with learning rates d \(d.map { "\($0 / 2)" } ?? "-"), g \(g.map { "\($0 / 2)" } ?? "-")\n".data(using: .utf8)!)
                }
            }
        }
        try finishRanks(trainer, started: t0)
        try exportModels(steps: trainer.steps, trainer: trainer, dir: dir)
        let s = resolved.spec
        if s.output.frames, let fps = s.output.videoFPS {
            try makeAnimation(dir: dir, frames: trainer.counters.framesWritten, fps: fps, crf: s.output.videoCRF,
                              format: s.output.videoFormat)
        }
        if !quiet {
            FileHandle.standardError.write("trained \(trainer.counters.iteration) D iterations, \(trainer.counters.generatorSteps) G steps in \(Progress.clock(Date().timeIntervalSince(t0))); run directory \(dir)\n".data(using: .utf8)!)
        }
        withExtendedLifetime(runDir) {}
    }

    /// Whether two paths name the same directory.
    static func samePath(_ a: String, _ b: String) -> Bool {
        func canonical(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        return canonical(a) == canonical(b)
    }

    /// Trains until `trainer` is finished, logging and checkpointing into `dir`; writes the
    /// final checkpoint. Throws NonFiniteError from the step that produced a NaN or infinity
    /// (no checkpoint is written after it) and ExitCode(130) after a signal.
    func train(_ trainer: Trainer, spec s: Spec, dir: String, checkpointPath: String, specCopy: String, resumedAt: Int?) throws {
        let steps = trainer.steps
        let source = trainer.data
        let log = try RunLog(directory: dir, resumedAt: resumedAt, tensorboard: s.output.tensorboard)
        defer { try? log.close() }
        let progress = Progress(total: trainer.plannedIterations, startCount: trainer.counters.iteration, quiet: quiet)
        defer { progress.finish() }
        var lastG: Float = .nan
        let t0 = Date()
        var itersSinceLog = 0
        var logClock = Date()
        let health = HealthHook(spec: s)
        while let r = try trainer.iterate() {
            if checkReplicas { try trainer.parallel?.checkReplicas(steps.store, iteration: r.counters.iteration) }
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
                try saveCheckpoint(trainer, checkpointPath, specCopy)
            }
            if trainer.parallel.map({ _ in r.stopRequested }) ?? (stopRequested != 0) {
                try saveCheckpoint(trainer, checkpointPath, specCopy)
                try log.close()
                try trainer.parallel?.communicator.barrier()  // the other ranks stop once it is written
                FileHandle.standardError.write("interrupted at iteration \(it); checkpoint written to \(checkpointPath) (resume with --resume \(dir))\n".data(using: .utf8)!)
                throw ExitCode(130)
            }
        }
        progress.update(trainer.counters.iteration, epoch: trainer.counters.epoch, epochs: trainer.epochs, postfix: "done", force: true)
        try saveCheckpoint(trainer, checkpointPath, specCopy)
    }

    func saveCheckpoint(_ trainer: Trainer, _ path: String, _ specCopy: String) throws {
        try trainer.saveCheckpoint(to: path, specPath: specCopy)
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

    /// generator.pb (the weight average when the spec has `ema`; the trained weights are then
    /// generator_raw.pb) and discriminator.pb / critic.pb.
    func exportModels(steps: GANSteps, trainer: Trainer, dir: String) throws {
        var g = trainer.sampler.exportGraph(prefix: steps.ema == nil ? nil : GeneratorEMA.prefix)
        var d = steps.discriminator
        for v in d.initializers.keys {
            if let t = steps.store.tensor("\(d.name)/\(d.name(of: v))") { d.initializers[v] = t }
        }
        g.gannet.trainedIterations = trainer.counters.iteration
        var models = [(g, "generator.pb"), (d, "\(d.name).pb")]
        if steps.ema != nil {
            var raw = trainer.sampler.exportGraph()
            raw.gannet.trainedIterations = trainer.counters.iteration
            models.append((raw, "generator_raw.pb"))
        }
        for (graph, file) in models {
            var typed = graph
            try InferShapes().run(&typed)
            try saveGraph(typed, path: (dir as NSString).appendingPathComponent(file))
        }
    }

    /// training.mp4 at `fps` (x264 `crf`) when the format allows it and ffmpeg is installed, else
    /// training.gif (an `mp4` request without ffmpeg says so and writes the GIF), of the frames
    /// this directory holds (a run resumed into another directory has only the later ones).
    func makeAnimation(dir: String, frames: Int, fps: Int, crf: Int, format: String) throws {
        guard frames > 1 else { return }
        let paths = (1...frames).map { (dir as NSString).appendingPathComponent(String(format: "frames/frame_%05d.png", $0)) }
            .filter { FileManager.default.fileExists(atPath: $0) }
        guard paths.count > 1 else { return }
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
