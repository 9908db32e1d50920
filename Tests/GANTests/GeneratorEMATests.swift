// The generator's weight average (spec `ema`, GeneratorEMA.swift): a copy of the weights for the
// first `start` G steps, then avg ← β·avg + (1−β)·w after each G step, for every float buffer of
// G (weights and BatchNorm running statistics); exported in place of the weights; carried by
// checkpoints (ResumeTests' bit-identical resume covers a spec with `ema`).

import Core
import XCTest
import GAN
import GraphIR
import Runtime
import SpecFormat

final class GeneratorEMATests: XCTestCase {
    func emaSpec(decay: Double, start: Int) throws -> Spec {
        var s = try Spec.load(path: ResumeTests.fixtures.appendingPathComponent("tiny_gan.yaml").path)
        s.ema = EMASpec(decay: decay, start: start)
        return s
    }

    func testAverageFollowsTheFormulaAfterEachGStep() throws {
        let steps = try GANSteps(spec: try emaSpec(decay: 0.75, start: 2), seed: 3, threads: 1)
        let ema = try XCTUnwrap(steps.ema)
        // Every float buffer of G, BatchNorm running statistics included.
        let live = ema.pairs.map(\.live)
        XCTAssertEqual(Set(live), Set(steps.generator.initializers.filter { $0.value.dtype == .float32 }.keys.map { "generator/\(steps.generator.name(of: $0))" }))
        XCTAssertTrue(live.contains { !steps.generatorParameters.contains($0) }, "running statistics too: \(live)")
        for p in ema.pairs { XCTAssertEqual(steps.store.tensor(p.average)!.floats, steps.store.tensor(p.live)!.floats, "starts as a copy") }

        let t = Trainer(steps: steps, data: SyntheticBatches(batchSize: 16), epochs: 3, generatorFrequency: 1, fixedSamples: 4)
        var expected = Dictionary(uniqueKeysWithValues: ema.pairs.map { ($0.average, steps.store.tensor($0.live)!.floats) })
        var gSteps = 0
        while let r = try t.iterate() {
            guard r.gOutputs != nil else {
                // No G step: the average does not move.
                for p in ema.pairs { XCTAssertEqual(steps.store.tensor(p.average)!.floats, expected[p.average]) }
                continue
            }
            gSteps += 1
            for p in ema.pairs {
                let w = steps.store.tensor(p.live)!.floats
                if gSteps <= 2 {
                    expected[p.average] = w
                } else {
                    expected[p.average] = zip(expected[p.average]!, w).map { Float(0.75) * $0 + Float(0.25) * $1 }
                }
                XCTAssertEqual(steps.store.tensor(p.average)!.floats, expected[p.average], "\(p.average) after G step \(gSteps)")
            }
        }
        XCTAssertGreaterThan(gSteps, 2)
        // The average lags the weights, and the export reads it.
        let w = steps.generatorParameters[0]
        let avg = GeneratorEMA.prefix + "/" + w.dropFirst("generator/".count)
        XCTAssertNotEqual(steps.store.tensor(avg)!.floats, steps.store.tensor(w)!.floats)
        let exported = t.sampler.exportGraph(prefix: GeneratorEMA.prefix)
        let v = try XCTUnwrap(exported.initializers.keys.first { exported.name(of: $0) == String(w.dropFirst("generator/".count)) })
        XCTAssertEqual(exported.initializers[v]!.floats, steps.store.tensor(avg)!.floats)
        XCTAssertEqual(t.sampler.exportGraph().initializers[v]!.floats, steps.store.tensor(w)!.floats)
    }

    func testCheckpointWithoutAverageStartsItFromItsWeights() throws {
        // A run started without `ema` and resumed with it (--allow-spec-change): the average
        // starts as a copy of the checkpoint's weights; the other way round it is left behind.
        let plainSpec = try Spec.load(path: ResumeTests.fixtures.appendingPathComponent("tiny_gan.yaml").path)
        let plain = Trainer(steps: try GANSteps(spec: plainSpec, seed: 3, threads: 1), data: SyntheticBatches(batchSize: 16), epochs: 1, fixedSamples: 4)
        while try plain.iterate() != nil {}
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gannet-ema-\(getpid()).gck").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try plain.saveCheckpoint(to: path, specPath: "tiny_gan")

        let steps = try GANSteps(spec: try emaSpec(decay: 0.9, start: 0), seed: 4, threads: 1)
        let resumed = Trainer(steps: steps, data: SyntheticBatches(batchSize: 16), epochs: 2, fixedSamples: 4)
        _ = try steps.dStep(batch: 16)
        _ = try steps.gStep(batch: 16)
        try resumed.restore(try Checkpoint.read(path), file: path)
        for p in try XCTUnwrap(steps.ema).pairs {
            XCTAssertEqual(steps.store.tensor(p.average)!.floats, plain.steps.store.tensor(p.live)!.floats, p.average)
        }
        _ = try resumed.iterate()
        try resumed.saveCheckpoint(to: path, specPath: "tiny_gan")

        let back = Trainer(steps: try GANSteps(spec: plainSpec, seed: 3, threads: 1), data: SyntheticBatches(batchSize: 16), epochs: 2, fixedSamples: 4)
        _ = try back.steps.dStep(batch: 16)
        _ = try back.steps.gStep(batch: 16)
        XCTAssertNoThrow(try back.restore(try Checkpoint.read(path), file: path))
        XCTAssertFalse(back.steps.store.contains(GeneratorEMA.prefix + "/" + back.steps.generatorParameters[0].dropFirst("generator/".count)))
    }
}
