// PenaltyPipelineTests: a gradient penalty differentiates the graph after the step's own
// training pipeline (GANSteps.passes), so the generator's BatchNorms in a WGAN-GP D step stay
// fused (BatchNormTraining) instead of being expanded into primitive ops, and the step's values
// equal those of the unfused pipeline (TrainStep.pipelineUnfused, everything expanded).

import XCTest
import GAN
import GraphIR
import Runtime
import SpecFormat
import TestSupport
import Training

final class PenaltyPipelineTests: XCTestCase {
    func steps(_ loss: String) throws -> GANSteps {
        let layers = TinySpec.Layers(generator: TinySpec.Layers.generator(norm: ["batchnorm1d"]),
                                     discriminator: TinySpec.Layers.discriminator())
        let yaml = TinySpec.yaml(name: "tiny_gp_bn", datasetPath: "/nonexistent", loss: loss, layers: layers)
        return try GANSteps(spec: try Spec.parse(yaml: yaml, file: "tiny_gp_bn.yaml"), seed: 11, threads: 1)
    }

    func realBatch(_ n: Int) -> Tensor {
        Tensor(shape: [n, 1, 8, 8], floats: (0..<(n * 64)).map { Float(($0 * 37 + 11) % 101) / 100 })
    }

    func testPenaltyKeepsTheGeneratorBatchNormFused() throws {
        for loss in ["wgan_gp", "dragan"] {
            let fused = try steps(loss)
            let step = try TrainStep(plan: try fused.dPlan(batch: 6), store: fused.store, inputShapes: [:], pool: fused.pool,
                                     passes: fused.passes)
            XCTAssertEqual(step.graph.nodes.filter { $0.op == .batchNormTraining }.count, 1, loss)
            XCTAssertFalse(step.graph.nodes.contains { $0.op == .reduceMean && $0.name.hasPrefix("generator/") },
                           "\(loss): the generator's BatchNorm was expanded")

            let plain = try steps(loss)
            plain.passes = TrainStep.pipelineUnfused
            let reference = try TrainStep(plan: try plain.dPlan(batch: 6), store: plain.store, inputShapes: [:], pool: plain.pool,
                                          passes: plain.passes)
            XCTAssertEqual(reference.graph.nodes.filter { $0.op == .batchNormTraining }.count, 0)
            for iteration in 1...3 {
                let a = step.metricValues(try step.run(fused.dInputs(real: realBatch(6), labels: nil, iteration: iteration)))
                let b = reference.metricValues(try reference.run(plain.dInputs(real: realBatch(6), labels: nil, iteration: iteration)))
                for key in ["d_loss", "gp", "d_grad_norm"] {
                    let (x, y) = (try XCTUnwrap(a[key], key), try XCTUnwrap(b[key], key))
                    XCTAssertEqual(x, y, accuracy: 2e-5 * max(1, abs(y)), "\(loss) \(key), iteration \(iteration)")
                }
            }
        }
    }
}
