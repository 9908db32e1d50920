import Core
import XCTest
import Foundation
import GAN
import GraphIR
import Runtime
import SpecFormat

/// A deterministic synthetic dataset: 40 images of 1×8×8 with labels.
final class SyntheticBatches: BatchSource {
    let count = 40, batchSize: Int
    init(batchSize: Int) { self.batchSize = batchSize }
    var batchesPerEpoch: Int { (count + batchSize - 1) / batchSize }
    func batch(epoch: Int, index: Int) throws -> (images: Tensor, labels: Tensor?) {
        let lo = index * batchSize, hi = min(count, lo + batchSize)
        // Epoch-dependent order so data order matters for the resume test.
        let ids = (lo..<hi).map { ($0 * 7 + epoch * 3) % count }
        let pixels = ids.flatMap { i in (0..<64).map { p in Float((i * 31 + p * 17) % 97) / 96 } }
        return (Tensor(shape: [ids.count, 1, 8, 8], floats: pixels), Tensor(shape: [ids.count], int64s: ids.map { Int64($0 % 3) }))
    }
}

final class ResumeTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/train")

    func spec(_ name: String) throws -> Spec {
        try Spec.load(path: Self.fixtures.appendingPathComponent("\(name).yaml").path)
    }

    func snapshot(_ store: ParameterStore) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: store.entries.map { ($0.name, store.tensor($0.name)!.floats) })
    }

    func testIterationCountFollowsTheSeed() throws {
        // epochs × batches + 1 D iterations; G every (frequency + 1) iterations.
        let s = try spec("tiny_gan")
        let steps = try GANSteps(spec: s, seed: 1, threads: 1)
        let t = Trainer(steps: steps, data: SyntheticBatches(batchSize: 16), epochs: 2, generatorFrequency: 2, fixedSamples: 4)
        var n = 0
        var gSteps = 0
        while let r = try t.iterate() { n += 1; if r.gOutputs != nil { gSteps += 1 } }
        XCTAssertEqual(n, 2 * 3 + 1)
        XCTAssertEqual(gSteps, n / 3)
        XCTAssertEqual(t.plannedIterations, 7)
    }

    func testFixedFrameLatentsAreTheSamplersLatents() throws {
        // Tile i of the training frames uses latent i of the run's seed, exactly as
        // `gan-sample --seed <seed>` draws tile i (Core's Latents.vector).
        let steps = try GANSteps(spec: try spec("tiny_gan"), seed: 5, threads: 1)
        let t = Trainer(steps: steps, data: SyntheticBatches(batchSize: 16), epochs: 1, fixedSamples: 6)
        XCTAssertEqual(t.fixedLatents.shape, [6, steps.latentSize])
        for i in 0..<6 {
            let row = Array(t.fixedLatents.floats[(i * steps.latentSize)..<((i + 1) * steps.latentSize)])
            XCTAssertEqual(row, Latents.vector(seed: 5, index: UInt64(i), size: steps.latentSize, distribution: steps.latentDistribution))
        }
    }

    func testEpochLoopFollowsTheNotebook() throws {
        // schedule.loop: epochs — epochs × batches iterations, a G step after each D step on
        // the real batch's size (16, 16, 8 here), one frame after each epoch's last iteration.
        var s = try spec("tiny_gan")
        s.schedule.loop = .epochs
        s.schedule.imageEvery = "epoch"
        s.schedule.imageFrequency = nil
        let steps = try GANSteps(spec: s, seed: 1, threads: 1)
        let t = Trainer(steps: steps, data: SyntheticBatches(batchSize: 16), epochs: 2, generatorFrequency: 0, fixedSamples: 4)
        XCTAssertEqual(t.plannedIterations, 2 * 3)
        var frames: [Int] = []
        var n = 0, gSteps = 0
        while let r = try t.iterate() {
            n += 1
            if r.gOutputs != nil { gSteps += 1 }
            if r.frame != nil { frames.append(r.counters.iteration) }
        }
        XCTAssertEqual(n, 6)
        XCTAssertEqual(gSteps, 6)
        XCTAssertEqual(frames, [3, 6])
        XCTAssertEqual(t.counters.framesWritten, 2)
        // The short last batch compiled a G step of its own size.
        XCTAssertEqual(steps.compiledGeneratorBatches, [16, 8])
        // Resuming a finished run with more epochs continues into the next epoch.
        t.epochs = 3
        XCTAssertFalse(t.isFinished)
        while try t.iterate() != nil { n += 1 }
        XCTAssertEqual(n, 9)
    }

    func testResumedRunIsBitIdentical() throws {
        try checkResume(threads: 2, resumedThreads: 2)
    }

    func testResumeWithAnotherThreadCountIsBitIdentical() throws {
        // Kernels split work without changing any reduction order, so the thread count of a
        // resumed run does not change its results.
        try checkResume(threads: 1, resumedThreads: 2)
    }

    func checkResume(threads: Int, resumedThreads: Int) throws {
        for name in ["tiny_gan", "tiny_wgangp", "tiny_began", "tiny_gan+ema"] {
            var s = try spec(String(name.prefix { $0 != "+" }))
            // The generator's weight average is checkpointed state too.
            if name.hasSuffix("+ema") { s.ema = EMASpec(decay: 0.5, start: 1) }
            func trainer(_ threads: Int) throws -> Trainer {
                let steps = try GANSteps(spec: s, seed: 5, threads: threads)
                return Trainer(steps: steps, data: SyntheticBatches(batchSize: 16), epochs: 3, generatorFrequency: 1, fixedSamples: 4)
            }
            let straight = try trainer(threads)
            while try straight.iterate() != nil {}

            let first = try trainer(threads)
            for _ in 0..<4 { _ = try first.iterate() }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("gannet-resume-\(getpid()).gck").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            // Written twice: the second write replaces the first atomically.
            try first.saveCheckpoint(to: path, specPath: name)
            try first.saveCheckpoint(to: path, specPath: name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
            let resumed = try trainer(resumedThreads)
            _ = try resumed.steps.dStep(batch: 16)
            _ = try resumed.steps.gStep(batch: 16)
            try resumed.restore(try Checkpoint.read(path), file: path)
            while try resumed.iterate() != nil {}

            XCTAssertEqual(resumed.counters, straight.counters, name)
            let a = snapshot(straight.steps.store), b = snapshot(resumed.steps.store)
            XCTAssertEqual(Set(a.keys), Set(b.keys), name)
            for (k, v) in a { XCTAssertEqual(v, b[k], "\(name): state '\(k)' differs after resume") }
            // Weights did change during training.
            let initial = try GANSteps(spec: s, seed: 5, threads: 1)
            let w = initial.generatorParameters[0]
            XCTAssertNotEqual(initial.store.tensor(w)!.floats, a[w])
            if s.loss.kind == .began {
                // k_t is part of the checkpointed state and moved during training.
                let k = try XCTUnwrap(a[BEGANControl.stateName], name)
                XCTAssertNotEqual(k, [0], name)
                XCTAssertEqual(resumed.steps.beganK, straight.steps.beganK, name)
            }
        }
    }

    func testCorruptCheckpointIsAClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gannet-bad-\(getpid()).gck").path
        try Data("GANNETCK\u{5}\0\0\0{bad}".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try Checkpoint.read(path)) { e in XCTAssertTrue("\(e)".hasPrefix(path), "\(e)") }
        try Data("hello".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.read(path)) { e in XCTAssertTrue("\(e)".contains("not a Gannet checkpoint"), "\(e)") }
    }
}
