// GAN training improvements (GitHub issue 6, item 6): feature matching, minibatch
// discrimination, one-sided label smoothing, LSGAN, DRAGAN, hinge, and the gan-train overrides
// of Adam β / learning rates / generator frequency. Each test runs the compiled training step
// (TrainStep) once on fixed inputs and compares the reported loss with the option's formula,
// computed here in Swift from the networks' outputs (the networks run through Session with the
// initial weights; the test specs have no BatchNorm, so inference and training passes agree).

import XCTest
import Foundation
import GAN
import GraphIR
import Kernels
import Runtime
import SpecFormat
import TestSupport
import Training

final class TricksTests: XCTestCase {
    /// A tiny no-BN GAN: G z(8) → 1×8×8, D conv → LeakyReLU ("features", N×4×4×4) → linear →
    /// tanh ("hidden", N×16) [→ extra layer] → linear → logit (N,).
    static func yaml(loss: String, extraDLayer: String = "") -> String {
        TinySpec.yaml(name: "tiny_tricks", datasetPath: "/nonexistent", loss: loss,
                      hidden: ["linear: 16", "{tanh: null, name: hidden}"] + (extraDLayer.isEmpty ? [] : [extraDLayer]))
    }

    func testUniformLatentDistribution() throws {
        let yaml = Self.yaml(loss: "gan_bce_logits").replacingOccurrences(of: "latent: {size: 8}", with: "latent: {size: 8, distribution: uniform}")
        let s = try GANSteps(spec: try Spec.parse(yaml: yaml, file: "tiny_uniform.yaml"), seed: 11, threads: 1)
        let z = try XCTUnwrap(s.gInputs(batch: 500, iteration: 3)["z"]).floats
        XCTAssertTrue(z.allSatisfy { $0 >= -1 && $0 < 1 })
        XCTAssertEqual(z.reduce(0, +) / Float(z.count), 0, accuracy: 0.03)
        XCTAssertEqual(z.map { $0 * $0 }.reduce(0, +) / Float(z.count), 1.0 / 3, accuracy: 0.02)
        let d = try XCTUnwrap(s.dInputs(real: realBatch(500), labels: nil, iteration: 3)["z"]).floats
        XCTAssertTrue(d.allSatisfy { $0 >= -1 && $0 < 1 })
    }

    func steps(loss: String, extraDLayer: String = "") throws -> GANSteps {
        try GANSteps(spec: try Spec.parse(yaml: Self.yaml(loss: loss, extraDLayer: extraDLayer), file: "tiny_tricks.yaml"),
                     seed: 11, threads: 1)
    }

    /// A fixed real batch of n 1×8×8 images in [0, 1].
    func realBatch(_ n: Int) -> Tensor {
        Tensor(shape: [n, 1, 8, 8], floats: (0..<(n * 64)).map { Float(($0 * 37 + 11) % 101) / 100 })
    }

    /// Runs `graph` (initial weights, inference) and returns the value named `output` (default
    /// its first output).
    func evaluate(_ graph: Graph, _ inputs: [String: Tensor], output: String? = nil) throws -> Tensor {
        var g = graph
        if let output {
            let v = try XCTUnwrap(g.value(named: output), "no value '\(output)'")
            g.outputs = [v]
        }
        let out = try Session(graph: g).run(inputs)
        return try XCTUnwrap(out[g.name(of: g.outputs[0])])
    }

    /// D's logits on x, and G(z).
    func d(_ s: GANSteps, _ x: Tensor) throws -> [Float] { try evaluate(s.discriminator, ["x": x]).floats }
    func g(_ s: GANSteps, _ z: Tensor) throws -> Tensor { try evaluate(s.generator, ["z": z]) }

    func softplus(_ x: Float) -> Float { max(x, 0) + log1p(exp(-abs(x))) }
    func mean(_ v: [Float]) -> Float { v.reduce(0, +) / Float(v.count) }
    /// BCE(σ(x), t) = softplus(x) − t·x, averaged.
    func bce(_ logits: [Float], _ t: Float) -> Float { mean(logits.map { softplus($0) - t * $0 }) }

    func loss(_ out: [String: Tensor], _ step: TrainStep, _ i: Int = 0) -> Float { out[step.outputNames[i]]!.floats[0] }

    func assertClose(_ a: Float, _ b: Float, rel: Float = 1e-4, _ msg: String = "", line: UInt = #line) {
        XCTAssertEqual(a, b, accuracy: rel * max(1, abs(b)), msg, line: line)
    }

    /// D step on a fixed real batch: (reported outputs, the step, D(real), D(G(z)), inputs).
    func dStep(_ s: GANSteps, n: Int = 6) throws -> (out: [String: Tensor], step: TrainStep, real: [Float], fake: [Float], inputs: [String: Tensor]) {
        let inputs = s.dInputs(real: realBatch(n), labels: nil, iteration: 4)
        let dReal = try d(s, inputs["real"]!)
        let dFake = try d(s, try g(s, inputs["z"]!))
        let step = try s.dStep(batch: n)
        return (try step.run(inputs), step, dReal, dFake, inputs)
    }

    /// G step: (reported loss, D(G(z))).
    func gStep(_ s: GANSteps, n: Int = 6) throws -> (loss: Float, fake: [Float]) {
        let inputs = s.gInputs(batch: n, iteration: 4)
        let dFake = try d(s, try g(s, inputs["z"]!))
        let step = try s.gStep(batch: n)
        return (loss(try step.run(inputs), step), dFake)
    }

    // MARK: one-sided label smoothing

    func testOneSidedLabelSmoothing() throws {
        let smoothed = try steps(loss: "{kind: gan_bce_logits, real_label: 0.9}")
        XCTAssertEqual(smoothed.spec.loss.realLabel, 0.9)
        XCTAssertEqual(smoothed.spec.loss.fakeLabel, 0)
        let r = try dStep(smoothed)
        // BCE(D(x), 0.9) + BCE(D(G(z)), 0): the real target is 0.9, the fake one stays 0.
        let expected = bce(r.real, 0.9) + bce(r.fake, 0)
        assertClose(loss(r.out, r.step), expected)

        // Against the unsmoothed loss on the same weights and inputs: exactly 0.1·mean(D(x)) more.
        let plain = try steps(loss: "gan_bce_logits")
        let p = try dStep(plain)
        XCTAssertEqual(p.real, r.real)
        assertClose(loss(p.out, p.step), bce(p.real, 1) + bce(p.fake, 0))
        assertClose(loss(r.out, r.step) - loss(p.out, p.step), 0.1 * mean(r.real), rel: 1e-3)
        XCTAssertNotEqual(loss(r.out, r.step), loss(p.out, p.step))

        // The G step is not smoothed: BCE(D(G(z)), 1).
        let gs = try gStep(try steps(loss: "{kind: gan_bce_logits, real_label: 0.9}"))
        assertClose(gs.loss, bce(gs.fake, 1))
    }

    // MARK: LSGAN

    func testLSGAN() throws {
        let s = try steps(loss: "lsgan")
        let r = try dStep(s)
        // mean((D(x) − 1)²) + mean(D(G(z))²)
        let expected = mean(r.real.map { ($0 - 1) * ($0 - 1) }) + mean(r.fake.map { $0 * $0 })
        assertClose(loss(r.out, r.step), expected)
        XCTAssertGreaterThan(abs(expected - (bce(r.real, 1) + bce(r.fake, 0))), 1e-3, "LSGAN should differ from BCE")
        // G: mean((D(G(z)) − 1)²)
        let gs = try gStep(try steps(loss: "lsgan"))
        assertClose(gs.loss, mean(gs.fake.map { ($0 - 1) * ($0 - 1) }))
    }

    // MARK: hinge

    func testHinge() throws {
        let s = try steps(loss: "hinge")
        let r = try dStep(s)
        // mean(relu(1 − D(x))) + mean(relu(1 + D(G(z))))
        let expected = mean(r.real.map { max(0, 1 - $0) }) + mean(r.fake.map { max(0, 1 + $0) })
        assertClose(loss(r.out, r.step), expected)
        XCTAssertGreaterThan(abs(expected - (bce(r.real, 1) + bce(r.fake, 0))), 1e-3, "hinge should differ from BCE")
        // G: −mean(D(G(z)))
        let gs = try gStep(try steps(loss: "hinge"))
        assertClose(gs.loss, -mean(gs.fake))
    }

    // MARK: DRAGAN

    func testDRAGANPenaltyMatchesFiniteDifferences() throws {
        let lambda: Float = 7
        let s = try steps(loss: "{kind: dragan, lambda: 7}")
        XCTAssertEqual(s.spec.loss.penaltyWeight, 7)
        let n = 4
        let r = try dStep(s, n: n)
        // Outputs: total, mean D(real), mean D(fake), bce, gp, grad norm.
        let total = loss(r.out, r.step, 0), bceOut = loss(r.out, r.step, 3), gp = loss(r.out, r.step, 4)
        assertClose(bceOut, bce(r.real, 1) + bce(r.fake, 0))
        assertClose(total, bceOut + gp)

        // The perturbed batch is x + 0.5·std(x)·u with u ∈ [0, 1).
        let x = r.inputs["real"]!.floats, xp = r.inputs["perturbed"]!.floats
        let m = mean(x)
        let squares: [Float] = x.map { ($0 - m) * ($0 - m) }
        let std: Float = (squares.reduce(0, +) / Float(x.count - 1)).squareRoot()
        for (a, b) in zip(x, xp) {
            XCTAssertGreaterThanOrEqual(b - a, -1e-6)
            XCTAssertLessThan(b - a, 0.5 * std + 1e-5)
        }
        XCTAssertGreaterThan(zip(x, xp).map { $1 - $0 }.reduce(0, +), 0)

        // ‖∇ₓD(x̂)‖ per sample by central differences (D is per-sample: no BatchNorm), one pixel
        // of every sample at a time.
        let h: Float = 1e-3
        var grads = [[Float]](repeating: [Float](repeating: 0, count: 64), count: n)
        for p in 0..<64 {
            var plus = xp, minus = xp
            for i in 0..<n { plus[i * 64 + p] += h; minus[i * 64 + p] -= h }
            let dp = try d(s, Tensor(shape: [n, 1, 8, 8], floats: plus))
            let dm = try d(s, Tensor(shape: [n, 1, 8, 8], floats: minus))
            for i in 0..<n { grads[i][p] = (dp[i] - dm[i]) / (2 * h) }
        }
        let norms = grads.map { $0.map { $0 * $0 }.reduce(0, +).squareRoot() }
        let expected = lambda * mean(norms.map { ($0 - 1) * ($0 - 1) })
        XCTAssertEqual(gp, expected, accuracy: 2e-3 * expected, "gp \(gp) vs finite differences \(expected) (norms \(norms))")
        XCTAssertGreaterThan(gp, 1e-4, "the penalty should be non-zero")

        // Without the penalty the D loss is plain BCE: the baseline's loss equals DRAGAN's bce term.
        let base = try dStep(try steps(loss: "gan_bce_logits"), n: n)
        assertClose(loss(base.out, base.step), bceOut)
        // DRAGAN's G loss is the non-saturating BCE.
        let gs = try gStep(try steps(loss: "{kind: dragan, lambda: 7}"))
        assertClose(gs.loss, bce(gs.fake, 1))
    }

    // MARK: feature matching

    func testFeatureMatchingGeneratorLoss() throws {
        let spec = try Spec.parse(yaml: Self.yaml(loss: "{kind: gan_bce_logits, feature_matching: features}"), file: "fm.yaml")
        XCTAssertEqual(spec.loss.featureMatching, "features")
        let s = try GANSteps(spec: spec, seed: 11, threads: 1)
        XCTAssertTrue(s.gStepNeedsRealBatch)
        // Real batch of 5, G batch of 6: the means are over each batch separately.
        let real = realBatch(5)
        let inputs = s.gInputs(batch: 6, iteration: 2, real: real)
        XCTAssertNotNil(inputs["real"])
        let fake = try g(s, inputs["z"]!)
        let fr = try evaluate(s.discriminator, ["x": real], output: "features")
        let ff = try evaluate(s.discriminator, ["x": fake], output: "features")
        XCTAssertEqual(fr.shape, [5, 4, 4, 4])
        XCTAssertEqual(ff.shape, [6, 4, 4, 4])
        let f = 64
        var expected: Float = 0
        for k in 0..<f {
            let mr = (0..<5).map { fr.floats[$0 * f + k] }.reduce(0, +) / 5
            let mf = (0..<6).map { ff.floats[$0 * f + k] }.reduce(0, +) / 6
            expected += (mr - mf) * (mr - mf)
        }
        let step = try s.gStep(batch: 6, realBatch: 5)
        XCTAssertTrue(step.outputNames.count >= 1)
        let got = loss(try step.run(inputs), step)
        assertClose(got, expected, rel: 1e-4)
        XCTAssertGreaterThan(expected, 0)
        // It replaces the non-saturating G loss.
        XCTAssertGreaterThan(abs(got - bce(try d(s, fake), 1)), 1e-3)
        // Only G's weights move: D's are as before.
        let initial = try GANSteps(spec: spec, seed: 11, threads: 1)
        for name in s.discriminatorParameters {
            XCTAssertEqual(s.store.tensor(name)!.floats, initial.store.tensor(name)!.floats, name)
        }
        XCTAssertNotEqual(s.store.tensor(s.generatorParameters[0])!.floats, initial.store.tensor(s.generatorParameters[0])!.floats)
        // The D step is unchanged by feature matching (still BCE).
        let dr = try dStep(try GANSteps(spec: spec, seed: 11, threads: 1))
        assertClose(loss(dr.out, dr.step), bce(dr.real, 1) + bce(dr.fake, 0))
    }

    func testFeatureMatchingNeedsANamedDiscriminatorLayer() throws {
        XCTAssertThrowsError(try Spec.parse(yaml: Self.yaml(loss: "{kind: gan_bce_logits, feature_matching: nope}"), file: "fm.yaml")) { e in
            XCTAssertTrue("\(e)".contains("feature_matching") && "\(e)".contains("nope"), "\(e)")
        }
    }

    func testFeatureMatchingTrainsThroughTheTrainer() throws {
        // BatchNorm in G and D; 40 images in batches of 16 (the last batch holds 8).
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/train/tiny_gan_tricks.yaml")
        let spec = try Spec.load(path: url.path)
        XCTAssertEqual(spec.loss.featureMatching, "features")
        let t = Trainer(steps: try GANSteps(spec: spec, seed: 2, threads: 1), data: SyntheticBatches(batchSize: 16),
                        epochs: 1, generatorFrequency: 0, fixedSamples: 4)
        var gLosses: [Float] = []
        while let r = try t.iterate() {
            if let g = r.gOutputs?["g_loss"] { gLosses.append(g) }
            XCTAssertTrue(r.dOutputs["d_loss"]!.isFinite)
        }
        XCTAssertEqual(gLosses.count, 4)
        XCTAssertTrue(gLosses.allSatisfy { $0.isFinite && $0 >= 0 }, "\(gLosses)")
    }

    // MARK: minibatch discrimination

    func testMinibatchDiscriminationLayer() throws {
        let layer = "{minibatch_discrimination: {kernels: 3, dims: 2}, name: mbd}"
        let spec = try Spec.parse(yaml: Self.yaml(loss: "gan_bce_logits", extraDLayer: layer), file: "mbd.yaml")
        let base = try Spec.parse(yaml: Self.yaml(loss: "gan_bce_logits"), file: "base.yaml")
        // T (16, 3·2) and a final linear of 16 + 3 inputs instead of 16.
        XCTAssertEqual(try spec.parameterCount(network: "discriminator"), try base.parameterCount(network: "discriminator") + 16 * 6 + 3)
        let s = try GANSteps(spec: spec, seed: 11, threads: 1)
        let dg = s.discriminator
        let tv = try XCTUnwrap(dg.value(named: "mbd.weight"))
        XCTAssertEqual(dg.type(of: try XCTUnwrap(dg.value(named: "mbd")))?.shape.count, 2)
        let tw = try XCTUnwrap(dg.initializers[tv])
        XCTAssertEqual(tw.shape, [16, 6])
        XCTAssertTrue(s.discriminatorParameters.contains("discriminator/mbd.weight"))

        let n = 5
        let x = realBatch(n)
        let hidden = try evaluate(dg, ["x": x], output: "hidden").floats
        let out = try evaluate(dg, ["x": x], output: "mbd")
        XCTAssertEqual(out.shape, [n, 19])
        // M = h·T; o_b(i) = Σ_j exp(−Σ_c |M[i,b,c] − M[j,b,c]|).
        let t = tw.floats
        var mm = [Float](repeating: 0, count: n * 6)
        for i in 0..<n { for k in 0..<6 { for f in 0..<16 { mm[i * 6 + k] += hidden[i * 16 + f] * t[f * 6 + k] } } }
        for i in 0..<n {
            for f in 0..<16 { XCTAssertEqual(out.floats[i * 19 + f], hidden[i * 16 + f], accuracy: 1e-6) }
            for b in 0..<3 {
                var o: Float = 0
                for j in 0..<n {
                    var l1: Float = 0
                    for c in 0..<2 { l1 += abs(mm[i * 6 + b * 2 + c] - mm[j * 6 + b * 2 + c]) }
                    o += exp(-l1)
                }
                XCTAssertEqual(out.floats[i * 19 + 16 + b], o, accuracy: 1e-4 * o, "o[\(i),\(b)]")
                XCTAssertGreaterThan(o, 1)      // the j = i term is exp(0) = 1, the others add to it
                XCTAssertLessThanOrEqual(o, Float(n) + 1e-4)
            }
        }
        // Training: the D step's loss is the BCE of this D, and T gets a gradient and moves.
        let r = try dStep(s, n: n)
        assertClose(loss(r.out, r.step), bce(r.real, 1) + bce(r.fake, 0))
        XCTAssertNotNil(r.step.gradientNames["discriminator/mbd.weight"])
        XCTAssertNotEqual(s.store.tensor("discriminator/mbd.weight")!.floats, t)
    }

    func testMinibatchDiscriminationShapeErrors() throws {
        // On a 4-D value: a shape error at parse time.
        let bad = Self.yaml(loss: "gan_bce_logits", extraDLayer: "{minibatch_discrimination: {kernels: 3, dims: 2}, input: features}")
        XCTAssertThrowsError(try Spec.parse(yaml: bad, file: "bad.yaml")) { e in
            XCTAssertTrue("\(e)".contains("minibatch_discrimination") && "\(e)".contains("2-D"), "\(e)")
        }
        let missing = Self.yaml(loss: "gan_bce_logits", extraDLayer: "{minibatch_discrimination: {kernels: 3}}")
        XCTAssertThrowsError(try Spec.parse(yaml: missing, file: "bad.yaml")) { e in
            XCTAssertTrue("\(e)".contains("dims"), "\(e)")
        }
    }

    // MARK: command-line overrides

    func testTrainingOverridesReachTheCompiledSteps() throws {
        var spec = try Spec.parse(yaml: Self.yaml(loss: "gan_bce_logits"), file: "o.yaml")
        try spec.applyTrainingOverrides(generatorFrequency: 3, dLR: 2e-4, gLR: 5e-4, betas: (0.5, 0.9))
        let s = try GANSteps(spec: spec, seed: 11, threads: 1)
        let dPlan = try s.dPlan(batch: 6), gPlan = try s.gPlan(batch: 6)
        XCTAssertEqual(dPlan.optimizer, .adam(AdamConfig(lr: 2e-4, beta1: 0.5, beta2: 0.9, eps: 1e-8)))
        XCTAssertEqual(gPlan.optimizer, .adam(AdamConfig(lr: 5e-4, beta1: 0.5, beta2: 0.9, eps: 1e-8)))
        XCTAssertEqual(s.optimizer("discriminator"), dPlan.optimizer)

        // Adam's first step moves each weight by lr·g/(|g| + eps) ≈ ±lr: the compiled steps use
        // the overridden rates.
        let initial = try GANSteps(spec: spec, seed: 11, threads: 1)
        func maxChange(_ names: [String]) -> Float {
            names.flatMap { n in zip(s.store.tensor(n)!.floats, initial.store.tensor(n)!.floats).map { abs($0 - $1) } }.max() ?? 0
        }
        _ = try s.dStep(batch: 6).run(s.dInputs(real: realBatch(6), labels: nil, iteration: 0))
        XCTAssertEqual(maxChange(s.discriminatorParameters), 2e-4, accuracy: 2e-6)
        XCTAssertEqual(maxChange(s.generatorParameters), 0)
        _ = try s.gStep(batch: 6).run(s.gInputs(batch: 6, iteration: 0))
        XCTAssertEqual(maxChange(s.generatorParameters), 5e-4, accuracy: 5e-6)

        // The generator frequency reaches the schedule: G every 4th D iteration.
        let t = Trainer(steps: s, data: SyntheticBatches(batchSize: 6), epochs: 1, fixedSamples: 4)
        XCTAssertEqual(t.generatorFrequency, 3)
        var n = 0, g = 0
        while let r = try t.iterate() { n += 1; if r.gOutputs != nil { g += 1 } }
        XCTAssertEqual(n, 7 + 1)
        XCTAssertEqual(g, n / 4)

        // A critic gets the D rate too; no override leaves the spec as it was.
        var plain = try Spec.parse(yaml: Self.yaml(loss: "gan_bce_logits"), file: "o.yaml")
        let before = plain.optimizers
        try plain.applyTrainingOverrides()
        XCTAssertEqual(plain.optimizers, before)
    }
}
