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
        var g = Graph(name: "train_generator_small")
        var params: [ValueID] = []
        func p(_ name: String, _ shape: [Int]) -> ValueID {
            let v = g.addInput(name, TensorType(.float32, shape.map { .fixed($0) }))
            params.append(v)
            return v
        }
        let x = p("x", [2, 4, 3, 3])
        let w1 = p("deconv1.weight", [4, 3, 4, 4]), b1 = p("deconv1.bias", [3])
        let w2 = p("deconv2.weight", [3, 2, 3, 3])
        let wc = p("conv.weight", [1, 2, 3, 3])
        var running: [ValueID] = []
        func bn(_ x: ValueID, _ i: Int, _ c: Int) -> ValueID {
            let s = p("bn\(i).weight", [c]), b = p("bn\(i).bias", [c])
            let rm = g.addInput("bn\(i).running_mean", TensorType(.float32, [.fixed(c)]))
            let rv = g.addInput("bn\(i).running_var", TensorType(.float32, [.fixed(c)]))
            let outs = g.addNode(.batchNormalization, [x, s, b, rm, rv], outputs: ["bn\(i)", "bn\(i).running_mean.new", "bn\(i).running_var.new"],
                                 attributes: ["training_mode": .int(1), "epsilon": .float(1e-5), "momentum": .float(0.9)], name: "bn\(i)")
            running += outs[1...]
            return outs[0]
        }
        var h = g.addNode(.convTranspose, [x, w1, b1], outputs: ["deconv1"],
                          attributes: ["kernel_shape": .ints([4, 4]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], name: "deconv1")[0]
        h = g.addNode(.leakyRelu, [bn(h, 1, 3)], outputs: ["lrelu1"], attributes: ["alpha": .float(0.01)], name: "lrelu1")[0]
        h = g.addNode(.convTranspose, [h, w2], outputs: ["deconv2"], attributes: ["pads": .ints([1, 1, 1, 1])], name: "deconv2")[0]
        h = g.addNode(.relu, [bn(h, 2, 2)], outputs: ["relu2"], name: "relu2")[0]
        h = g.addNode(.conv, [h, wc], outputs: ["conv"], attributes: ["pads": .ints([1, 1, 1, 1])], name: "conv")[0]
        g.outputs = [g.add(.tanh, h, output: "image")] + running
        return (g, params)
    }

    func feeds(_ g: Graph, seed: UInt64) -> [Tensor] {
        var s = seed
        return g.inputs.map { v in
            let shape = g.type(of: v)!.fixedShape!
            let name = g.name(of: v)
            return Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in
                s = s &* 6364136223846793005 &+ 1442695040888963407
                let u = Float(Int64(bitPattern: s >> 11) % 2000) / 1000
                return name.hasSuffix("running_var") || (name.hasPrefix("bn") && name.hasSuffix("weight")) ? 0.5 + u / 2 : u - 1
            })
        }
    }

    func assertClose(_ a: [Tensor], _ b: [Tensor], rtol: Float = 1e-5, what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (k, (x, y)) in zip(a, b).enumerated() {
            XCTAssertEqual(x.shape, y.shape, file: file, line: line)
            let scale = max(1e-3, y.floats.map(abs).max() ?? 0)
            let worst = zip(x.floats, y.floats).map { abs($0 - $1) / max(abs($1), scale) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, rtol, "\(what) #\(k): max relative error \(worst)", file: file, line: line)
        }
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
        let inputs = feeds(g, seed: 11)
        let a = try Session(graph: g, threads: 2, passes: Self.fused).run(inputs)
        let b = try Session(graph: g, threads: 2, passes: Self.unfused).run(inputs)
        assertClose(a, b, what: "forward (image, running statistics)")
    }

    /// Gradients of sum(image·R) w.r.t. every parameter, and the double backward of a
    /// gradient penalty ‖∂L/∂x‖² w.r.t. the weights, through the compiled runtime.
    func gradients(_ passes: [Pass], doubleBackward: Bool) throws -> [Tensor] {
        var (g, params) = Self.smallTrainingGenerator()
        try Pipelines.run(passes, on: &g)
        let image = g.outputs[0]
        let shape = g.type(of: image)!.fixedShape!
        let r = g.addInitializer("R", Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float(($0 * 37) % 23) / 11 - 1 }))
        let loss = g.add(.reduceSum, g.add(.mul, image, r, output: "weighted"), output: "loss", attributes: ["keepdims": .int(0)])
        try InferShapes().run(&g)
        var grads = try Autodiff.gradients(of: loss, wrt: params, in: &g).map { $0! }
        if doubleBackward {
            let gx = grads[0]
            let penalty = g.add(.reduceSum, g.add(.mul, gx, gx, output: "gx2"), output: "penalty", attributes: ["keepdims": .int(0)])
            try InferShapes().run(&g)
            grads = try Autodiff.gradients(of: penalty, wrt: Array(params.dropFirst()), in: &g).map { $0! }
        }
        g.outputs = grads
        try InferShapes().run(&g)
        try g.verify()
        return try Session(graph: g, threads: 2, passes: [InferShapes()]).run(feeds(Self.smallTrainingGenerator().0, seed: 11))
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
        assertClose(a2, b2, rtol: rtol, what: what)
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
