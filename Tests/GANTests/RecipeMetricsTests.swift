// RecipeMetricsTests: GAN recipes report their metrics by name end to end (GANRecipe →
// StepPlan.metrics → TrainStep.metrics → Trainer), so reordering a step's outputs cannot pair
// a metric with another metric's value; each recipe names the metrics the loop logs, and the
// named values satisfy the recipe's formulas (d_loss = wdist + gp, wdist = d_fake − d_real, …).

import XCTest
import GAN
import GraphIR
import Runtime
import SpecFormat
import Training

final class RecipeMetricsTests: XCTestCase {
    func steps(_ loss: String) throws -> GANSteps {
        try GANSteps(spec: try Spec.parse(yaml: TricksTests.yaml(loss: loss), file: "tiny_recipe.yaml"), seed: 11, threads: 1)
    }

    func realBatch(_ n: Int) -> Tensor {
        Tensor(shape: [n, 1, 8, 8], floats: (0..<(n * 64)).map { Float(($0 * 37 + 11) % 101) / 100 })
    }

    /// One D step of `loss` from the initial weights, its outputs optionally reordered by `order`.
    func dMetrics(_ loss: String, reorder: (([ValueID]) -> [ValueID])? = nil) throws -> (metrics: [String: Float], step: TrainStep) {
        let s = try steps(loss)
        var plan = try s.dPlan(batch: 6)
        if let reorder { plan.graph.outputs = reorder(plan.graph.outputs) }
        let step = try TrainStep(plan: plan, store: s.store, inputShapes: [:], pool: s.pool)
        let out = try step.run(s.dInputs(real: realBatch(6), labels: nil, iteration: 2))
        return (step.metricValues(out), step)
    }

    func testRecipesNameTheirMetrics() throws {
        let expected: [String: [String]] = [
            "gan_bce_logits": ["d_loss", "d_real", "d_fake", "d_grad_norm"],
            "bce_sigmoid": ["d_loss", "d_real", "d_fake", "d_grad_norm"],
            "lsgan": ["d_loss", "d_real", "d_fake", "d_grad_norm"],
            "hinge": ["d_loss", "d_real", "d_fake", "d_grad_norm"],
            "wgan_gp": ["d_loss", "d_real", "d_fake", "wdist", "gp", "d_grad_norm"],
            "dragan": ["d_loss", "d_real", "d_fake", "bce", "gp", "d_grad_norm"],
        ]
        for (loss, names) in expected {
            let s = try steps(loss)
            XCTAssertEqual(s.recipe.kind.rawValue, loss)
            XCTAssertEqual(try s.dStep(batch: 6).metrics.map(\.name), names, loss)
            XCTAssertEqual(try s.gStep(batch: 6).metrics.map(\.name), ["g_loss", "g_grad_norm"], loss)
        }
    }

    func testNamedValuesFollowTheRecipeFormulas() throws {
        let w = try dMetrics("wgan_gp").metrics
        XCTAssertEqual(w["wdist"]!, w["d_fake"]! - w["d_real"]!, accuracy: 1e-5)
        XCTAssertEqual(w["d_loss"]!, w["wdist"]! + w["gp"]!, accuracy: 1e-5)
        XCTAssertGreaterThan(w["gp"]!, 0)
        XCTAssertGreaterThan(w["d_grad_norm"]!, 0)
        let d = try dMetrics("dragan").metrics
        XCTAssertEqual(d["d_loss"]!, d["bce"]! + d["gp"]!, accuracy: 1e-5)
        // With labels 1/0 the BCE term is a sum of softplus terms: positive.
        XCTAssertGreaterThan(d["bce"]!, 0)
    }

    /// Reversing or rotating the D step's outputs changes which output holds which value, but
    /// every metric still reads its own value.
    func testReorderedOutputsCannotMisPair() throws {
        let base = try dMetrics("wgan_gp")
        for reorder: ([ValueID]) -> [ValueID] in [{ $0.reversed() }, { Array($0.dropFirst(2) + $0.prefix(2)) }] {
            let moved = try dMetrics("wgan_gp", reorder: reorder)
            XCTAssertNotEqual(moved.step.outputNames, base.step.outputNames)
            XCTAssertEqual(Set(moved.step.outputNames), Set(base.step.outputNames))
            XCTAssertEqual(moved.metrics, base.metrics)
            XCTAssertEqual(moved.step.metrics.map(\.name), base.step.metrics.map(\.name))
        }
    }

    func testAMetricMustBeAnOutput() throws {
        let s = try steps("gan_bce_logits")
        var plan = try s.dPlan(batch: 6)
        plan.graph.outputs.removeLast()
        XCTAssertThrowsError(try TrainStep(plan: plan, store: s.store, inputShapes: [:], pool: s.pool)) { e in
            XCTAssertEqual((e as? RuntimeError)?.message, "metric 'd_fake' is not an output of the step graph")
        }
    }
}
