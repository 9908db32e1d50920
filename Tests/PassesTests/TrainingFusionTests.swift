import XCTest
import GraphIR
import Passes
import Runtime

/// FuseConvTransposeBatchNorm (training mode): golden IR, structure (the ConvTranspose,
/// BatchNormalization and activation nodes are gone) and numerics — forward outputs, running
/// statistics, first-order gradients and a WGAN-GP-style double backward equal those of the
/// unfused expansion (ExpandTrainingBatchNorm) within 1e-5 relative.
final class TrainingFusionTests: XCTestCase {
    static let fused: [Pass] = [InferShapes(), FuseConvTransposeBatchNorm(), ExpandTrainingBatchNorm(), InferShapes()]
    static let unfused: [Pass] = [InferShapes(), ExpandTrainingBatchNorm(), InferShapes()]

    /// A training-mode generator tail: x (2,4,3,3) → ConvT(4→3, k4 s2 p1, bias) → BN → LeakyRelu
    /// → ConvT(3→2, k3 s1 p1, no bias) → BN → Relu → Conv 3×3 → Tanh, with running statistics as
    /// extra outputs. Every parameter is a graph input, as in a training step.
    static func smallTrainingGenerator() -> (Graph, [ValueID]) {
        var t = TrainingGraph(name: "train_generator_small")
        let x = t.param("x", [2, 4, 3, 3])
        let w1 = t.param("deconv1.weight", [4, 3, 4, 4]), b1 = t.param("deconv1.bias", [3])
        let w2 = t.param("deconv2.weight", [3, 2, 3, 3])
        let wc = t.param("conv.weight", [1, 2, 3, 3])
        var h = t.g.addNode(.convTranspose, [x, w1, b1], outputs: ["deconv1"],
                            attributes: ["kernel_shape": .ints([4, 4]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], name: "deconv1")[0]
        h = t.batchNorm(h, 1, 3)
        h = t.g.addNode(.leakyRelu, [h], outputs: ["lrelu1"], attributes: ["alpha": .float(0.01)], name: "lrelu1")[0]
        h = t.g.addNode(.convTranspose, [h, w2], outputs: ["deconv2"], attributes: ["pads": .ints([1, 1, 1, 1])], name: "deconv2")[0]
        h = t.batchNorm(h, 2, 2)
        h = t.g.addNode(.relu, [h], outputs: ["relu2"], name: "relu2")[0]
        h = t.g.addNode(.conv, [h, wc], outputs: ["conv"], attributes: ["pads": .ints([1, 1, 1, 1])], name: "conv")[0]
        t.g.outputs = [t.g.add(.tanh, h, output: "image")] + t.running
        return (t.g, t.params)
    }

    func testGoldenAndStructure() throws {
        var g = Self.smallTrainingGenerator().0
        try Pipelines.run([InferShapes(), FuseConvTransposeBatchNorm()], on: &g)
        try g.verify()
        assertGolden(g.text, "train_generator_small.after.FuseConvTransposeBatchNorm")
        let ops = g.nodes.map(\.op)
        XCTAssertEqual(ops.filter { $0 == .fusedConvTransposeBatchNorm }.count, 2)
        for gone in [Op.convTranspose, .batchNormalization, .leakyRelu, .relu] { XCTAssertFalse(ops.contains(gone), "\(gone) left") }
        XCTAssertTrue(ops.contains(.tanh), "the activation after Conv is not ConvTranspose's")
        let attrs = g.nodes.filter { $0.op == .fusedConvTransposeBatchNorm }.map { try? $0.attributes.string("activation") }
        XCTAssertEqual(attrs, ["LeakyRelu", "Relu"])
    }

    func testLeavesUnfusablePatternsAlone() throws {
        // BN in inference mode, and a ConvTranspose output read twice, are not fused.
        var (g, _) = Self.smallTrainingGenerator()
        g.nodes[g.nodes.firstIndex { $0.name == "bn1" }!].attributes["training_mode"] = .int(0)
        g.nodes[g.nodes.firstIndex { $0.name == "bn1" }!].outputs.removeLast(2)
        g.outputs = [g.outputs[0], g.value(named: "deconv2")!]
        try Pipelines.run([InferShapes(), FuseConvTransposeBatchNorm()], on: &g)
        try g.verify()
        XCTAssertFalse(g.nodes.contains { $0.op == .fusedConvTransposeBatchNorm }, "\(g.nodes.map(\.op.rawValue))")
    }

    func testForwardMatchesUnfused() throws {
        let (g, _) = Self.smallTrainingGenerator()
        let inputs = trainingFeeds(g, seed: 11)
        let a = try Session(graph: g, threads: 2, passes: Self.fused).run(inputs)
        let b = try Session(graph: g, threads: 2, passes: Self.unfused).run(inputs)
        assertTensorsClose(a, b, what: "forward (image, running statistics)")
    }

    /// Gradients of sum(image·R) w.r.t. every parameter, and the double backward of a
    /// gradient penalty ‖∂L/∂x‖² w.r.t. the weights, through the compiled runtime.
    func gradients(_ passes: [Pass], doubleBackward: Bool) throws -> [Tensor] {
        try trainingGradients(Self.smallTrainingGenerator, passes: passes, doubleBackward: doubleBackward, seed: 11)
    }

    /// The bias of a ConvTranspose read by a training BatchNorm cancels in the mean: its gradient
    /// is rounding noise unfused and exactly 0 fused. Every other gradient is compared relatively.
    func compare(_ a: [Tensor], _ b: [Tensor], biasIndex: Int, rtol: Float, what: String) {
        let scale = b.flatMap(\.floats).map(abs).max() ?? 1
        XCTAssertLessThanOrEqual(b[biasIndex].floats.map(abs).max() ?? 0, 1e-5 * scale, "\(what): the cancelled bias gradient is not ~0")
        XCTAssertEqual(a[biasIndex].floats, [Float](repeating: 0, count: a[biasIndex].count), "\(what): fused: exactly 0")
        var a2 = a, b2 = b
        a2.remove(at: biasIndex)
        b2.remove(at: biasIndex)
        assertTensorsClose(a2, b2, rtol: rtol, what: what)
    }

    func testBackwardMatchesUnfused() throws {
        compare(try gradients(Self.fused, doubleBackward: false), try gradients(Self.unfused, doubleBackward: false),
                biasIndex: 2, rtol: 1e-5, what: "first-order gradients")
    }

    func testDoubleBackwardMatchesUnfused() throws {
        compare(try gradients(Self.fused, doubleBackward: true), try gradients(Self.unfused, doubleBackward: true),
                biasIndex: 1, rtol: 1e-5, what: "second-order gradients")
    }
}
