// BEGAN against PyTorch (issue 18 item 1): Tests/Fixtures/train/tiny_began.json from
// Tools/fixtures/make_began_fixture.py (torch 2.13 CPU, float32) on tiny_began.yaml (an
// autoencoder discriminator, γ 0.7, λ_k 0.5).
// - step 0: one D step with k = 0.3 (L_D, L(x), L(G(z)), every D gradient) and one G step (L_G,
//   every G gradient) from the initial state; tolerances as FixtureTests' step 0;
// - 6 iterations of (D step, k_t update, G step) through GANSteps' compiled steps and its k_t
//   control, Adam on both sides: every loss and term, the k_t each D step used, M_global, the
//   final k_t (|Δ| ≤ 1e-5), and each weight's sum and sum of squares (as FixtureTests).

import Foundation
import GAN
import GraphIR
import Runtime
import SpecFormat
import Training
import XCTest

extension FixtureTests {
    func testTinyBEGAN() throws {
        let f = try load("tiny_began")
        let n = f.batch
        report("== tiny_began ==")
        XCTAssertEqual(f.spec.loss.kind, .began)
        XCTAssertEqual(f.spec.loss.gamma, try XCTUnwrap(f.json["gamma"] as? Double))
        XCTAssertEqual(f.spec.loss.lambdaK, try XCTUnwrap(f.json["lambda_k"] as? Double))
        func inputs(_ i: Int) throws -> (real: Tensor, z: Tensor, gz: Tensor) {
            let it = f.inputs[i]
            return (try Self.tensor(it["real"]), try Self.tensor(it["z"]), try Self.tensor(it["gz"]))
        }
        let s0 = f.step0
        do {
            let gs = try GANSteps(spec: f.spec, seed: 1, threads: 1)
            let step = try TrainStep(plan: try gs.dPlan(batch: n), store: gs.store, inputShapes: [:], pool: gs.pool, exposeGradients: true)
            let (real, z, _) = try inputs(0)
            let k = Float((try XCTUnwrap(s0["k"] as? NSNumber)).doubleValue)
            let out = try step.run(["real": real, "z": z, "k": Tensor(shape: [1], floats: [k])])
            report(" step 0, D step (k = \(k))")
            for (i, key) in ["d_loss", "l_real", "l_fake"].enumerated() {
                checkScalar(key, scalar(out[step.outputNames[i]]), (try XCTUnwrap(s0[key] as? NSNumber)).doubleValue, rel: 1e-5, abs: 1e-6)
            }
            try checkGradients(s0["d_grads"], parameters: gs.discriminatorParameters, step: step, out: out, "D")
        }
        do {
            let gs = try GANSteps(spec: f.spec, seed: 1, threads: 1)
            let step = try TrainStep(plan: try gs.gPlan(batch: n), store: gs.store, inputShapes: [:], pool: gs.pool, exposeGradients: true)
            let out = try step.run(["z": inputs(0).gz])
            report(" step 0, G step")
            checkScalar("g_loss", scalar(out[step.outputNames[0]]), (try XCTUnwrap(s0["g_loss"] as? NSNumber)).doubleValue, rel: 1e-5, abs: 1e-6)
            try checkGradients(s0["g_grads"], parameters: gs.generatorParameters, step: step, out: out, "G")
        }

        // Iterations through GANSteps: dInputs supplies k_t from the store, advanceBEGAN moves it.
        let gs = try GANSteps(spec: f.spec, seed: 1, threads: 1)
        XCTAssertEqual(gs.beganK, 0)
        let dStep = try gs.dStep(batch: n), gStep = try gs.gStep(batch: n)
        let rows = try XCTUnwrap(f.train["steps"] as? [[String: NSNumber]])
        for i in 0..<f.iterations {
            let (real, z, gz) = try inputs(i)
            var din = gs.dInputs(real: real, labels: nil, iteration: i)
            XCTAssertEqual(din["k"]?.floats, [gs.beganK!])
            din["z"] = z
            let d = try dStep.run(din)
            var terms: [String: Float] = [:]
            for (j, key) in ["d_loss", "l_real", "l_fake"].enumerated() { terms[key] = d[dStep.outputNames[j]]!.floats[0] }
            terms.merge(try gs.advanceBEGAN(terms)) { a, _ in a }
            for key in ["d_loss", "l_real", "l_fake", "m_global"] {
                checkScalar("iter \(i) \(key)", Double(terms[key]!), rows[i][key]!.doubleValue, rel: 1e-3, abs: 1e-5)
            }
            checkScalar("iter \(i) k_t", Double(terms["k_t"]!), rows[i]["k_t"]!.doubleValue, rel: 0, abs: 1e-5)
            let g = try gStep.run(["z": gz])
            checkScalar("iter \(i) g_loss", scalar(g[gStep.outputNames[0]]), rows[i]["g_loss"]!.doubleValue, rel: 1e-3, abs: 1e-5)
        }
        checkScalar("final k_t", Double(gs.beganK!), (try XCTUnwrap(f.train["final_k"] as? NSNumber)).doubleValue, rel: 0, abs: 1e-5)
        XCTAssertGreaterThan(gs.beganK!, 0.3, "k_t moved")
        for (name, any) in (try XCTUnwrap(f.train["checksums"] as? [String: [String: NSNumber]])).sorted(by: { $0.key < $1.key }) {
            guard let t = gs.store.tensor(name) else { XCTFail("\(name): not in the store"); continue }
            let v = t.floats.map(Double.init)
            let sum = v.reduce(0, +), sumsq = v.reduce(0) { $0 + $1 * $1 }
            let rs = any["sum"]!.doubleValue, rq = any["sumsq"]!.doubleValue, count = Double(any["count"]!.intValue)
            report(String(format: "  %-34@ sum %.7g (torch %.7g)  sumsq %.7g (torch %.7g)", name as NSString, sum, rs, sumsq, rq))
            XCTAssertLessThanOrEqual(Swift.abs(sumsq - rq), 1e-3 * rq + 1e-7, "\(name): sum of squares \(sumsq), torch \(rq)")
            XCTAssertLessThanOrEqual(Swift.abs(sum - rs), 1e-3 * (count * rq).squareRoot() + 1e-6, "\(name): sum \(sum), torch \(rs)")
        }
    }
}
