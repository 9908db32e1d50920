// ChannelsLastIslandsTests: the NHWC island rewrite (Passes/ChannelsLastIslands.swift) on a
// MobileNet-like block — 1×1 expansion, depthwise 3×3 (a FusedConv with Clip), 1×1 projection,
// residual Add, a squeeze-excitation scale (GlobalAveragePool → 1×1 → Mul per channel) and a
// mid-island graph output: golden IR, the convolutions channels-last, layout changes only at the
// island's border, and the same values as the original graph (reference evaluator). Islands the
// rule rejects (no depthwise convolution, planes over 14×14, narrow projections) stay as they are.

import XCTest
import GraphIR
import Kernels
import Passes

final class ChannelsLastIslandsTests: XCTestCase {
    static func tensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        return Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        })
    }

    /// x [2, 16, h, h] → 1×1 (16 → 64) → Relu → depthwise 3×3 (FusedConv, Clip 0…6) → 1×1 (64 →
    /// out) → + 1×1(x) (residual) → SE scale: Mul(·, Sigmoid(1×1(GlobalAveragePool(·)))) → y;
    /// the depthwise output is a graph output too.
    static func block(plane h: Int = 7, out: Int = 64, depthwise: Bool = true) -> Graph {
        var g = Graph(name: "mobile_block")
        let x = g.addInput("x", TensorType(.float32, fixed: [2, 16, h, h]))
        let w1 = g.addInitializer("w1", tensor([64, 16, 1, 1], seed: 1, scale: 0.5))
        let b1 = g.addInitializer("b1", tensor([64], seed: 2))
        let e = g.addNode(.conv, [x, w1, b1], outputs: ["e"], name: "expand")[0]
        let r = g.addNode(.relu, [e], outputs: ["r"], name: "relu")[0]
        let wd = g.addInitializer("wd", tensor(depthwise ? [64, 1, 3, 3] : [64, 64, 1, 1], seed: 3, scale: 0.5))
        let bd = g.addInitializer("bd", tensor([64], seed: 4))
        let d = g.addNode(.fusedConv, [r, wd, bd], outputs: ["d"],
                          attributes: depthwise ? ["group": .int(64), "pads": .ints([1, 1, 1, 1]), "activation": .string("Clip"),
                                                   "activation_alpha": .float(0), "activation_beta": .float(6)]
                                                : ["activation": .string("Clip"), "activation_alpha": .float(0), "activation_beta": .float(6)],
                          name: "dw")[0]
        let w2 = g.addInitializer("w2", tensor([out, 64, 1, 1], seed: 5, scale: 0.2))
        let p = g.addNode(.conv, [d, w2], outputs: ["p"], name: "project")[0]
        let ws = g.addInitializer("ws", tensor([out, 16, 1, 1], seed: 6, scale: 0.5))
        let skip = g.addNode(.conv, [x, ws], outputs: ["skip"], name: "shortcut")[0]
        let sum = g.addNode(.add, [p, skip], outputs: ["sum"], name: "residual")[0]
        let pooled = g.addNode(.globalAveragePool, [sum], outputs: ["pooled"], name: "squeeze")[0]
        let wse = g.addInitializer("wse", tensor([out, out, 1, 1], seed: 7, scale: 0.3))
        let gate = g.addNode(.sigmoid, [g.addNode(.conv, [pooled, wse], outputs: ["se"], name: "excite")[0]], outputs: ["gate"], name: "gate")[0]
        g.outputs = [g.addNode(.mul, [sum, gate], outputs: ["y"], name: "scale")[0], d]
        return g
    }

    /// Every output of typed graph `g` on input `x`, by the reference evaluator.
    func evaluate(_ g: Graph, _ x: Tensor) throws -> [[Float]] {
        var env: [ValueID: Tensor] = g.initializers
        env[g.inputs[0]] = x
        for node in g.nodes {
            let out = try ConstantEvaluator.evaluate(node, node.inputs.map { $0.flatMap { env[$0] } }, node.outputs.map { g.type(of: $0)! }, graph: g)
            for (v, t) in zip(node.outputs, out) { env[v] = t }
        }
        return g.outputs.map { env[$0]!.floats }
    }

    func rewritten(_ graph: Graph) throws -> (before: Graph, after: Graph) {
        var g = graph
        try InferShapes().run(&g)
        let before = g
        try ChannelsLastIslands().run(&g)
        try g.verify()
        return (before, g)
    }

    func testMobileBlock() throws {
        let (before, g) = try rewritten(Self.block())
        assertGolden(g.text(elidingAbove: 8), "mobile_block.after.ChannelsLastIslands")
        // Every convolution is channels-last.
        let convs = g.nodes.filter { [.conv, .fusedConv].contains($0.op) }
        XCTAssertEqual(convs.count, 5)
        for n in convs { XCTAssertTrue(try ConvOps.isChannelsLast(n), n.name) }
        // Layout changes: x in (one Transpose shared by the expansion and the shortcut), the
        // depthwise output and y out (Transposes), the pooled value in and out of the 1×1-plane
        // SE convolution (Reshapes, which share bytes).
        let transposes = g.nodes.filter { $0.op == .transpose }
        XCTAssertEqual(transposes.count, 3)
        XCTAssertEqual(transposes.filter { $0.inputs == [before.inputs[0]] }.count, 1)
        XCTAssertTrue(g.nodes.contains { $0.op == .reduceMean })
        XCTAssertFalse(g.nodes.contains { $0.op == .globalAveragePool })
        // The original values keep their ids and types.
        XCTAssertEqual(g.outputs, before.outputs)
        for v in before.outputs { XCTAssertEqual(g.type(of: v), before.type(of: v)) }
        // The same values.
        let x = Self.tensor([2, 16, 7, 7], seed: 9)
        let want = try evaluate(before, x), got = try evaluate(g, x)
        for (a, b) in zip(got, want) {
            XCTAssertEqual(a.count, b.count)
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v))) }
        }
    }

    func testRejectedIslandsStay() throws {
        // No depthwise convolution; a 16×16 plane.
        for graph in [Self.block(depthwise: false), Self.block(plane: 16)] {
            let (before, g) = try rewritten(graph)
            XCTAssertEqual(g.text(elidingAbove: nil), before.text(elidingAbove: nil))
        }
        // Projections to 32 channels stay NCHW (too narrow), and so do the shortcut, the sum and
        // the SE scale; the expansion and the depthwise convolution (two convolutions, two
        // border crossings) are still rewritten.
        let (_, g) = try rewritten(Self.block(out: 32))
        let last = try g.nodes.filter { try [.conv, .fusedConv].contains($0.op) && ConvOps.isChannelsLast($0) }.map(\.name)
        XCTAssertEqual(last, ["expand", "dw"])
        XCTAssertEqual(g.nodes.filter { $0.op == .transpose }.count, 2)
    }

    func testChannelsLastConvShape() throws {
        // A channels_last Conv types its (N, H, W, C) data as the same convolution permuted.
        var g = Graph(name: "nhwc")
        let x = g.addInput("x", TensorType(.float32, fixed: [1, 5, 5, 4]))
        let w = g.addInitializer("w", Self.tensor([4, 4, 3, 3], seed: 1))
        g.outputs = [g.addNode(.conv, [x, w], outputs: ["y"], attributes: ["channels_last": .int(1)], name: "c")[0]]
        try InferShapes().run(&g)
        XCTAssertEqual(g.type(of: g.outputs[0]), TensorType(.float32, fixed: [1, 3, 3, 4]))
    }
}
