import XCTest
import GraphIR
import Passes
import Runtime

/// FuseTrainingBatchNorm: golden IR, structure (the BatchNormalization nodes and the activations
/// that only they read are gone) and numerics — forward outputs and running statistics,
/// first-order gradients by both backward forms (ordinary ops, and one BatchNormTrainingGrad node
/// per BatchNorm without `createGraph`), and a WGAN-GP-style double backward equal those of
/// the unfused expansion (ExpandTrainingBatchNorm) within 1e-5 relative.
final class TrainingBatchNormFusionTests: XCTestCase {
    static let fused: [Pass] = [InferShapes(), FuseConvTransposeBatchNorm(), FuseTrainingBatchNorm(), ExpandTrainingBatchNorm(), InferShapes()]
    static let unfused: [Pass] = [InferShapes(), ExpandTrainingBatchNorm(), InferShapes()]

    /// A training-mode discriminator: x (3,2,6,6) → Conv(2→4, k3 s2 p1) → BN → LeakyRelu(0.2)
    /// → Conv(4→3, k3 p1) → BN, whose output is read twice (by Relu and by the residual Add) →
    /// Flatten → Gemm(27→5) → BN1d → Sigmoid, with running statistics as extra outputs. Every
    /// parameter is a graph input, as in a training step.
    static func smallDiscriminator() -> (Graph, [ValueID]) {
        var t = TrainingGraph(name: "train_discriminator_small")
        let x = t.param("x", [3, 2, 6, 6])
        let w1 = t.param("conv1.weight", [4, 2, 3, 3])
        let w2 = t.param("conv2.weight", [3, 4, 3, 3])
        let wf = t.param("fc.weight", [5, 27])
        var h = t.g.addNode(.conv, [x, w1], outputs: ["conv1"],
                            attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], name: "conv1")[0]
        h = t.batchNorm(h, 1, 4)
        h = t.g.addNode(.leakyRelu, [h], outputs: ["lrelu1"], attributes: ["alpha": .float(0.2)], name: "lrelu1")[0]
        h = t.g.addNode(.conv, [h, w2], outputs: ["conv2"], attributes: ["pads": .ints([1, 1, 1, 1])], name: "conv2")[0]
        let n2 = t.batchNorm(h, 2, 3)
        h = t.g.add(.add, t.g.add(.relu, n2, output: "relu2"), n2, output: "residual")
        h = t.g.add(.flatten, h, output: "flat", attributes: ["axis": .int(1)])
        h = t.g.addNode(.gemm, [h, wf], outputs: ["fc"], attributes: ["transB": .int(1)], name: "fc")[0]
        h = t.batchNorm(h, 3, 5)
        t.g.outputs = [t.g.add(.sigmoid, h, output: "score")] + t.running
        return (t.g, t.params)
    }

    func testGoldenAndStructure() throws {
        var g = Self.smallDiscriminator().0
        try Pipelines.run([InferShapes(), FuseConvTransposeBatchNorm(), FuseTrainingBatchNorm()], on: &g)
        try g.verify()
        assertGolden(g.text, "train_discriminator_small.after.FuseTrainingBatchNorm")
        let ops = g.nodes.map(\.op)
        XCTAssertEqual(ops.filter { $0 == .batchNormTraining }.count, 3)
        for gone in [Op.batchNormalization, .leakyRelu, .sigmoid] { XCTAssertFalse(ops.contains(gone), "\(gone) left") }
        XCTAssertTrue(ops.contains(.relu), "bn2's output has two readers: its Relu stays")
        let attrs = g.nodes.filter { $0.op == .batchNormTraining }.map { try? $0.attributes.string("activation") }
        XCTAssertEqual(attrs, ["LeakyRelu", nil, "Sigmoid"])
    }

    func testLeavesInferenceBatchNormAlone() throws {
        var (g, _) = Self.smallDiscriminator()
        g.nodes[g.nodes.firstIndex { $0.name == "bn1" }!].attributes["training_mode"] = .int(0)
        g.nodes[g.nodes.firstIndex { $0.name == "bn1" }!].outputs.removeLast(2)
        g.outputs = [g.outputs[0]] + g.outputs.dropFirst(3)
        try Pipelines.run([InferShapes(), FuseTrainingBatchNorm()], on: &g)
        try g.verify()
        XCTAssertEqual(g.nodes.filter { $0.op == .batchNormTraining }.count, 2)
        XCTAssertEqual(g.nodes.filter { $0.op == .batchNormalization }.count, 1)
    }

    /// A LeakyRelu with a negative slope stays a node of its own (its derivative is not read
    /// from its output's sign), and the gradients still match the expansion.
    func testNegativeSlopeLeakyReluIsNotAbsorbed() throws {
        func make() -> (Graph, [ValueID]) {
            var (g, params) = Self.smallDiscriminator()
            g.nodes[g.nodes.firstIndex { $0.name == "lrelu1" }!].attributes["alpha"] = .float(-0.5)
            return (g, params)
        }
        var g = make().0
        try Pipelines.run([InferShapes(), FuseTrainingBatchNorm()], on: &g)
        XCTAssertTrue(g.nodes.contains { $0.op == .leakyRelu }, "the negative-slope LeakyRelu was absorbed")
        XCTAssertEqual(g.nodes.filter { $0.op == .batchNormTraining }.count, 3)
        assertTensorsClose(try trainingGradients(make, passes: Self.fused, createGraph: false, doubleBackward: false, seed: 12),
                           try trainingGradients(make, passes: Self.unfused, doubleBackward: false, seed: 12), rtol: 5e-5,
                           what: "negative slope, first-order gradients")
    }

    func testForwardMatchesUnfused() throws {
        let (g, _) = Self.smallDiscriminator()
        let inputs = trainingFeeds(g, seed: 12)
        for threads in [1, 2] {
            let a = try Session(graph: g, threads: threads, passes: Self.fused).run(inputs)
            let b = try Session(graph: g, threads: threads, passes: Self.unfused).run(inputs)
            assertTensorsClose(a, b, what: "forward (score, running statistics), \(threads) threads")
        }
    }

    /// Gradients of sum(score·R) w.r.t. every parameter (`createGraph` for the first order), and
    /// the double backward of a gradient penalty ‖∂L/∂x‖² w.r.t. the weights.
    func gradients(_ passes: [Pass], createGraph: Bool, doubleBackward: Bool) throws -> [Tensor] {
        try trainingGradients(Self.smallDiscriminator, passes: passes, createGraph: createGraph, doubleBackward: doubleBackward, seed: 12) { g in
            let fusedBackward = g.nodes.filter { $0.op == .batchNormTrainingGrad }.count
            XCTAssertEqual(fusedBackward, passes.count == Self.fused.count && !createGraph ? 3 : 0, "BatchNormTrainingGrad nodes")
        }
    }

    func testBackwardMatchesUnfused() throws {
        let want = try gradients(Self.unfused, createGraph: false, doubleBackward: false)
        for createGraph in [false, true] {
            assertTensorsClose(try gradients(Self.fused, createGraph: createGraph, doubleBackward: false), want, rtol: 2e-5,
                        what: "first-order gradients, createGraph \(createGraph)")
        }
    }

    func testDoubleBackwardMatchesUnfused() throws {
        assertTensorsClose(try gradients(Self.fused, createGraph: true, doubleBackward: true),
                    try gradients(Self.unfused, createGraph: true, doubleBackward: true), rtol: 2e-5, what: "second-order gradients")
    }
}
