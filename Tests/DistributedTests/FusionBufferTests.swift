// FusionBufferTests: Program.reduceBeforeUpdate without MPI — the collective sees every
// gradient and assigned statistic where the program computed them, one flat region in
// instruction order (each at its 16-float slot, zero padding), before the optimizer reads
// them; an identity collective leaves the step bit-identical; folded scalar outputs in the
// region's tail, the share scale and the reduced gradient's norm (data-parallel's one
// collective).

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
        let n = try step.program.reduceBeforeUpdate { buffer in
            seen = Array(buffer)
            for i in buffer.indices { buffer[i] *= 2 }  // as if a second rank had the same batch
        }
        XCTAssertEqual(n, 32)  // w's slot of 16, s's slot of 16
        _ = try step.run(["x": x])
        XCTAssertEqual(seen, [5, 7, 9] + Array(repeating: 0, count: 13) + [21] + Array(repeating: 0, count: 15))
        let expected: [Float] = [1 - 5, 2 - 7, 3 - 9]  // w − 0.5·(2·grad)
        XCTAssertEqual(store.tensor("w")!.floats, expected)
        XCTAssertEqual(store.tensor("s")!.floats, [42])
    }

    /// loss = Σ x·w over a [2, width] x; SGD (lr 0.5) on w; state `s` = Σ x. Outputs: loss, grad_norm.
    func makeWideStep(_ store: ParameterStore, width: Int) throws -> TrainStep {
        var c = GraphComposer(name: "wide_step")
        let x = c.input("x", TensorType(.float32, fixed: [2, width]))
        let w = c.input("w", TensorType(.float32, fixed: [width]))
        var g = c.graph
        let loss = g.add(.reduceSum, g.add(.mul, x, w, output: "y"), output: "loss", attributes: ["keepdims": .int(0)])
        let total = g.add(.reduceSum, x, output: "total", attributes: ["keepdims": .int(0)])
        g.outputs = [loss]
        try store.set("w", Tensor(shape: [width], floats: (0..<width).map { Float($0 % 5) - 1 }))
        try store.set("s", Tensor(shape: [], floats: [0]))
        let plan = StepPlan(graph: g, loss: loss, trainable: ["w"], optimizer: .sgd(SGDConfig(lr: 0.5)),
                            assignments: [(name: "s", value: total)])
        return try TrainStep(plan: plan, store: store, inputShapes: [:], pool: ThreadPool(threads: 1))
    }

    /// Data-parallel's collective: gradients and statistics × the share in place, then in the
    /// tail the folded loss × the share and one trailing float; after the collective the loss
    /// output holds the reduced value and grad_norm the norm of the reduced gradient (37 floats:
    /// SIMD body + tail, in a slot of 48).
    func testFoldedScalarsShareScaleAndReducedGradientNorm() throws {
        let width = 37
        let store = ParameterStore()
        let step = try makeWideStep(store, width: width)
        let lossIndex = try XCTUnwrap(step.outputNames.firstIndex(of: "loss"))
        let normIndex = try XCTUnwrap(step.outputNames.firstIndex(of: "grad_norm"))
        XCTAssertTrue(step.program.canFold(output: lossIndex))
        XCTAssertFalse(step.program.canFold(output: step.outputNames.count))
        let xs = (0..<(2 * width)).map { Float(($0 * 7) % 11) - 4 }
        let w0 = store.tensor("w")!.floats
        let grad = (0..<width).map { xs[$0] + xs[width + $0] }
        let loss = zip(xs, w0 + w0).map(*).reduce(0, +)
        var seen: [Float] = []
        let n = try step.program.reduceBeforeUpdate(folding: FusionExtras(scalarOutputs: [lossIndex], gradientNormOutput: normIndex, trailing: 1),
                                                    scale: { 0.5 }) { buffer in
            seen = Array(buffer)
            for i in buffer.indices { buffer[i] *= 2 }  // a second rank with the same batch and share
            buffer[buffer.count - 1] = 7
        }
        XCTAssertEqual(n, 48 + 16 + 1 + 1)
        let out = try step.run(["x": Tensor(shape: [2, width], floats: xs)])
        XCTAssertEqual(Array(seen[0..<width]), grad.map { $0 * 0.5 })
        XCTAssertEqual(Array(seen[width..<48]), Array(repeating: 0, count: 48 - width), "slot padding")
        XCTAssertEqual(seen[48], xs.reduce(0, +) * 0.5)
        XCTAssertEqual(seen[64], loss * 0.5)
        XCTAssertEqual(seen[65], 0)
        XCTAssertEqual(store.tensor("w")!.floats, zip(w0, grad).map { $0 - 0.5 * $1 })
        XCTAssertEqual(store.tensor("s")!.floats, [xs.reduce(0, +)])
        XCTAssertEqual(out["loss"]!.floats, [loss])
        let norm = grad.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        XCTAssertEqual(Double(out["grad_norm"]!.floats[0]), norm, accuracy: 1e-6 * norm)
    }

    func testIdentityCollectiveIsBitIdentical() throws {
        let plainStore = ParameterStore(), hookedStore = ParameterStore()
        let plain = try makeStep(plainStore), hooked = try makeStep(hookedStore)
        try hooked.program.reduceBeforeUpdate { _ in }
        for _ in 0..<3 {
            _ = try plain.run(["x": x])
            _ = try hooked.run(["x": x])
        }
        for name in ["w", "s"] {
            XCTAssertEqual(plainStore.tensor(name)!.floats.map(\.bitPattern), hookedStore.tensor(name)!.floats.map(\.bitPattern), name)
        }
        XCTAssertEqual(plain.program.text, hooked.program.text)
    }

    /// `sync_batchnorm`'s compiled form: ExpandTrainingBatchNorm(synchronized: true) puts the
    /// batch statistics through AllReduce instructions that call the program's collective —
    /// means (mode mean, 2 per BatchNorm) and the element count (mode sum) — and without a hook
    /// the step is bit-identical to the unsynchronised pipeline's.
    func testSynchronizedBatchNormCallsTheCollective() throws {
        func make(_ store: ParameterStore, synchronized: Bool) throws -> TrainStep {
            var c = GraphComposer(name: "bn_step")
            let xin = c.input("x", TensorType(.float32, fixed: [4, 2])), w = c.input("w", TensorType(.float32, fixed: [2]))
            let scale = c.input("scale", TensorType(.float32, fixed: [2])), bias = c.input("bias", TensorType(.float32, fixed: [2]))
            let rm = c.input("rm", TensorType(.float32, fixed: [2])), rv = c.input("rv", TensorType(.float32, fixed: [2]))
            var g = c.graph
            let x = g.add(.mul, xin, w, output: "xw")   // trained through the statistics: the backward reduces too
            let y = g.addValue("y"), newMean = g.addValue("new_mean"), newVar = g.addValue("new_var")
            g.nodes.append(Node(.batchNormalization, name: "bn", inputs: [x, scale, bias, rm, rv], outputs: [y, newMean, newVar],
                                attributes: Attributes(["training_mode": .int(1)])))
            let sq = g.add(.mul, y, y, output: "sq")
            let loss = g.add(.reduceSum, g.add(.mul, sq, x, output: "weighted"), output: "loss", attributes: ["keepdims": .int(0)])
            g.outputs = [loss]
            try store.set("w", Tensor(shape: [2], floats: [0.8, 1.2]))
            try store.set("scale", Tensor(shape: [2], floats: [1.5, 0.5]))
            try store.set("bias", Tensor(shape: [2], floats: [0.1, -0.2]))
            try store.set("rm", Tensor(shape: [2], floats: [0, 0]))
            try store.set("rv", Tensor(shape: [2], floats: [1, 1]))
            let plan = StepPlan(graph: g, loss: loss, trainable: ["w", "scale", "bias"], optimizer: .sgd(SGDConfig(lr: 0.1)),
                                assignments: [(name: "rm", value: newMean), (name: "rv", value: newVar)])
            return try TrainStep(plan: plan, store: store, inputShapes: [:], pool: ThreadPool(threads: 1),
                                 passes: synchronized ? TrainStep.pipelineSynchronized : TrainStep.pipelineUnfused)
        }
        let xs = Tensor(shape: [4, 2], floats: [1, -2, 0.5, 3, -1.5, 0.25, 2, 1])
        let plainStore = ParameterStore(), syncStore = ParameterStore(), hookedStore = ParameterStore()
        let plain = try make(plainStore, synchronized: false)
        let sync = try make(syncStore, synchronized: true)
        let hooked = try make(hookedStore, synchronized: true)
        XCTAssertFalse(plain.program.hasAllReduce)
        XCTAssertTrue(sync.program.hasAllReduce)
        var calls: [(count: Int, sum: Bool)] = []
        hooked.program.setCollective { buffer, sum in calls.append((buffer.count, sum)) }   // one rank: the identity
        for _ in 0..<2 {
            _ = try plain.run(["x": xs])
            _ = try sync.run(["x": xs])
            _ = try hooked.run(["x": xs])
        }
        for name in ["w", "scale", "bias", "rm", "rv"] {
            XCTAssertEqual(plainStore.tensor(name)!.floats, syncStore.tensor(name)!.floats, name)
            XCTAssertEqual(syncStore.tensor(name)!.floats.map(\.bitPattern), hookedStore.tensor(name)!.floats.map(\.bitPattern), name)
        }
        // Per step: the forward's mean and variance (2 floats each), the count (1 float, sum), and
        // the backward's two gradient reductions (their pullbacks).
        let perStep = calls.count / 2
        XCTAssertEqual(calls.count % 2, 0)
        XCTAssertEqual(calls.filter { $0.sum }.map { $0.count }, [1, 1])
        XCTAssertEqual(calls.filter { !$0.sum }.map { $0.count }, Array(repeating: 2, count: 2 * (perStep - 1)))
        XCTAssertEqual(perStep, 5)
    }
}
