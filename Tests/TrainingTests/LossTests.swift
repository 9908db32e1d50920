// Losses: BCE on probabilities behind a Sigmoid uses the logits (also through shape-only ops, as
// the seed DCGAN's `sigmoid` then `reshape [-1]`), so saturated discriminators stay finite.

import GraphIR
import Passes
import Runtime
import Training
import XCTest

final class LossTests: XCTestCase {
    func testBCEOnSigmoidBehindReshapeIsStable() throws {
        for throughReshape in [false, true] {
            var c = GraphComposer(name: "bce")
            let x = c.input("x", TensorType(.float32, fixed: [4, 1, 1, 1]))
            var p = c.apply(.sigmoid, [x], name: "sigmoid")
            if throughReshape {
                p = c.apply(.reshape, [p, c.addConstant(Tensor(shape: [1], int64s: [-1]), name: "flat")], name: "probability")
            }
            let loss = c.bce(p, target: 1)
            c.output([loss])
            var g = c.graph
            try InferShapes().run(&g)
            XCTAssertFalse(g.nodes.contains { $0.op == .log }, "the stable form has no Log (through reshape: \(throughReshape))")
            let grad = try XCTUnwrap(Autodiff.gradients(of: loss, wrt: [x], in: &g)[0])
            g.outputs = [loss, grad]
            // Logits of ±200: σ is exactly 0 or 1 in float32.
            let logits: [Float] = [-200, -3, 0.5, 200]
            let out = try Session(graph: g, passes: [InferShapes()]).run([Tensor(shape: [4, 1, 1, 1], floats: logits)])
            let want = logits.map { Double(max(0, -$0)) + log1p(exp(-Double(abs($0)))) }.reduce(0, +) / 4
            XCTAssertEqual(Double(out[0].floats[0]), want, accuracy: 1e-4 * want)
            for (gi, xi) in zip(out[1].floats, logits) {
                XCTAssertTrue(gi.isFinite)
                XCTAssertEqual(Double(gi), (1 / (1 + exp(-Double(xi))) - 1) / 4, accuracy: 1e-6)
            }
        }
    }
}
