// FusionBufferTests: Program.reduceBeforeUpdate without MPI — the collective sees every
// gradient and assigned statistic in one flat buffer, in instruction order, before the
// optimizer reads them; an identity collective leaves the step bit-identical.

import GraphIR
import Kernels
import Runtime
import Training
import XCTest

final class FusionBufferTests: XCTestCase {
    /// loss = Σ x·w (w broadcast over rows) → ∂loss/∂w = column sums of x; SGD (lr 0.5) on w;
    /// state `s` is assigned Σ x.
    func makeStep(_ store: ParameterStore) throws -> TrainStep {
        var c = GraphComposer(name: "tiny_step")
        let x = c.input("x", TensorType(.float32, fixed: [2, 3]))
        let w = c.input("w", TensorType(.float32, fixed: [3]))
        var g = c.graph
        let y = g.add(.mul, x, w, output: "y")
        let loss = g.add(.reduceSum, y, output: "loss", attributes: ["keepdims": .int(0)])
        let total = g.add(.reduceSum, x, output: "total", attributes: ["keepdims": .int(0)])
        g.outputs = [loss]
        try store.set("w", Tensor(shape: [3], floats: [1, 2, 3]))
        try store.set("s", Tensor(shape: [], floats: [0]))
        let plan = StepPlan(graph: g, loss: loss, trainable: ["w"], optimizer: .sgd(SGDConfig(lr: 0.5)),
                            assignments: [(name: "s", value: total)])
        return try TrainStep(plan: plan, store: store, inputShapes: [:], pool: ThreadPool(threads: 1))
    }

    let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])

    func testCollectiveSeesGradientsThenStatisticsAndItsResultIsApplied() throws {
        let store = ParameterStore()
        let step = try makeStep(store)
        XCTAssertEqual(step.program.reducedBuffers.map(\.count), [3, 1])
        XCTAssertEqual(step.program.reducedBuffers.map(\.label), ["sgd w", "assign s"])
        var seen: [Float] = []
        let n = step.program.reduceBeforeUpdate { buffer in
            seen = Array(buffer)
            for i in buffer.indices { buffer[i] *= 2 }  // as if a second rank had the same batch
        }
        XCTAssertEqual(n, 4)
        _ = try step.run(["x": x])
        XCTAssertEqual(seen, [5, 7, 9, 21])
        let expected: [Float] = [1 - 5, 2 - 7, 3 - 9]  // w − 0.5·(2·grad)
        XCTAssertEqual(store.tensor("w")!.floats, expected)
        XCTAssertEqual(store.tensor("s")!.floats, [42])
    }

    func testIdentityCollectiveIsBitIdentical() throws {
        let plainStore = ParameterStore(), hookedStore = ParameterStore()
        let plain = try makeStep(plainStore), hooked = try makeStep(hookedStore)
        hooked.program.reduceBeforeUpdate { _ in }
        for _ in 0..<3 {
            _ = try plain.run(["x": x])
            _ = try hooked.run(["x": x])
        }
        for name in ["w", "s"] {
            XCTAssertEqual(plainStore.tensor(name)!.floats.map(\.bitPattern), hookedStore.tensor(name)!.floats.map(\.bitPattern), name)
        }
        XCTAssertEqual(plain.program.text, hooked.program.text)
    }
}
