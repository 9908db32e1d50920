// GraphGradientTests: double backward (WGAN-GP), gradients only for what is asked, training BN.
// Tolerances as in Support.swift; the WGAN-GP check uses h = 1e-3 and asserts that no
// LeakyRelu pre-activation lies within 1e-2 of its kink, so the central differences never
// straddle it.

import XCTest
import GraphIR
import Passes
import Runtime

final class GraphGradientTests: XCTestCase {
    struct Critic {
        var c: GradCase
        var xhat: ValueID, w1: ValueID, b1: ValueID, w2: ValueID, b2: ValueID
        var pre: ValueID, logits: ValueID
    }

    /// Conv k4 s2 p1 → LeakyRelu(0.2) → Reshape → Gemm, on x̂ [2, 2, 7, 7].
    func critic(seed: UInt64) -> Critic {
        var c = GradCase(seed: seed)
        let xhat = c.input("xhat", [2, 2, 7, 7]), w1 = c.input("w1", [3, 2, 4, 4], -0.5...0.5), b1 = c.input("b1", [3], -0.2...0.2)
        let w2 = c.input("w2", [1, 27], -0.5...0.5), b2 = c.input("b2", [1])
        let pre = c.node(.conv, [xhat, w1, b1], ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "kernel_shape": .ints([4, 4])], name: "conv")
        let act = c.node(.leakyRelu, [pre], ["alpha": .float(0.2)], name: "act")
        let shape = c.ints("flat_shape", [0, -1])
        let flat = c.node(.reshape, [act, shape], name: "flat")
        let logits = c.node(.gemm, [flat, w2, b2], ["transB": .int(1)], name: "fc")
        return Critic(c: c, xhat: xhat, w1: w1, b1: b1, w2: w2, b2: b2, pre: pre, logits: logits)
    }

    /// λ·mean((‖∇ₓ̂ D(x̂)‖₂ − 1)²), the norm over C,H,W per sample; returns the penalty value.
    func buildPenalty(_ g: inout Graph, _ k: Critic, lambda: Float = 10) throws -> ValueID {
        let sum = g.addNode(.reduceSum, [k.logits], outputs: ["logit_sum"], attributes: ["keepdims": .int(0)], name: "logit_sum")[0]
        try InferShapes().run(&g)
        let gx = try XCTUnwrap(Autodiff.gradients(of: sum, wrt: [k.xhat], in: &g)[0])
        XCTAssertEqual(g.type(of: gx), g.type(of: k.xhat))
        let axes = g.addInitializer("gp_axes", Tensor(shape: [3], int64s: [1, 2, 3]))
        let one = g.addInitializer("gp_one", Tensor(shape: [], floats: [1]))
        let lam = g.addInitializer("gp_lambda", Tensor(shape: [], floats: [lambda]))
        let sq = g.add(.mul, gx, gx, output: "gp_sq")
        let ss = g.add(.reduceSum, sq, axes, output: "gp_ss", attributes: ["keepdims": .int(0)])
        let norm = g.add(.sqrt, ss, output: "gp_norm")
        let d = g.add(.sub, norm, one, output: "gp_d")
        let d2 = g.add(.mul, d, d, output: "gp_d2")
        let m = g.add(.reduceMean, d2, output: "gp_mean", attributes: ["keepdims": .int(0)])
        let pen = g.add(.mul, m, lam, output: "gp")
        g.outputs = [pen]
        try InferShapes().run(&g)
        try g.verify()
        return pen
    }

    func testWGANGPDoubleBackward() throws {
        var k = critic(seed: 2)
        var g = k.c.graph
        let pen = try buildPenalty(&g, k)
        // Keep finite differences off the LeakyRelu kink.
        let pre = try Ref.evaluate(g, k.c.feeds, [k.pre])[0].floats
        XCTAssertGreaterThan(pre.map(abs).min()!, 1e-2, "choose another seed: a pre-activation sits on the kink")
        let wrt = [k.w1, k.b1, k.w2, k.b2]
        let before = g.nodes.count
        let grads = try Autodiff.gradients(of: pen, wrt: wrt, in: &g)
        try g.verify()
        XCTAssertGreaterThan(g.nodes.count, before)
        // The penalty reaches the critic's weights; b2 does not enter ∇ₓ̂D, b1 only through the mask.
        let gw1 = try XCTUnwrap(grads[0]), gw2 = try XCTUnwrap(grads[2])
        XCTAssertNil(grads[3], "b2 cannot affect the input gradient")
        let vals = try Ref.evaluate(g, k.c.feeds, [gw1, gw2])
        XCTAssertGreaterThan(vals[0].floats.map(abs).max()!, 1e-3)
        XCTAssertGreaterThan(vals[1].floats.map(abs).max()!, 1e-3)
        try FD.checkAgainstFD(g, k.c.feeds, loss: pen, wrt: wrt, grads: grads, h: 1e-3, tol: 2e-2, maxChecks: 40,
                              runtime: true, what: "WGAN-GP", rng: &k.c.rng)
        // The same penalty also runs through the compiled runtime as a graph output.
        var rg = g
        rg.outputs = [pen] + grads.compactMap { $0 }
        let outs = try Session(graph: rg, threads: 2, passes: [InferShapes()]).run(rg.inputs.map { k.c.feeds[$0]! })
        let want = try Ref.scalar(g, k.c.feeds, pen)
        XCTAssertEqual(outs[0].floats[0], want, accuracy: 1e-4 * max(1, abs(want)))
    }

    /// Gradients only for what is asked: nodes for the unrequested branch are never added.
    func testOnlyAskedGradientsAreBuilt() throws {
        var c = GradCase(seed: 2)
        let x = c.input("x", [3, 4]), w = c.input("w", [4, 5]), v = c.input("v", [4, 5])
        let u = c.input("u", [3, 5])   // used, but off every path from the asked values
        let h = c.node(.matMul, [x, w], name: "xw")
        let side = c.node(.matMul, [x, v], name: "xv")
        let y = c.node(.add, [c.node(.tanh, [h], name: "t"), c.node(.sigmoid, [side], name: "s")], name: "sum")
        let z = c.node(.mul, [y, u], name: "z")
        let loss = c.node(.reduceSum, [z], ["keepdims": .int(0)], name: "loss")
        var g = c.graph
        g.outputs = [loss]
        try InferShapes().run(&g)
        let n0 = g.nodes.count
        let gw = try Autodiff.gradients(of: loss, wrt: [w], in: &g)
        try g.verify()
        XCTAssertNotNil(gw[0])
        let added = g.nodes[n0...]
        // d/dw: seed → ReduceSum rule (Unsqueeze, Expand) → Mul rule (by u) → Tanh rule (Mul, Sub, Mul)
        // → MatMul rule (Transpose, MatMul), plus constants.
        // Nothing reads the sigmoid branch, x's or u's gradients.
        let read = Set(added.flatMap { $0.inputs.compactMap { $0 } })
        XCTAssertFalse(read.contains(side), "the sigmoid branch must not be differentiated")
        XCTAssertFalse(added.contains { $0.op == .sigmoid || $0.op == .leakyReluGrad })
        XCTAssertEqual(added.filter { $0.op == .matMul }.count, 1, "only dW = xᵀ·dY")
        XCTAssertEqual(added.filter { $0.op != .constant }.count, 8, added.map { "\($0.op.rawValue) \($0.name)" }.joined(separator: "\n"))
        XCTAssertEqual(g.name(of: gw[0]!), "grad/w")
        // Asking for both doubles the MatMul rules, nothing else changes on the tanh side.
        var g2 = c.graph
        g2.outputs = [loss]
        try InferShapes().run(&g2)
        let both = try Autodiff.gradients(of: loss, wrt: [w, v, u], in: &g2)
        XCTAssertTrue(both.allSatisfy { $0 != nil })
        XCTAssertEqual(g2.nodes[n0...].filter { $0.op == .matMul }.count, 2)
    }

    func testNoGradientForIndependentValues() throws {
        var c = GradCase(seed: 3)
        let x = c.input("x", [3]), y = c.input("y", [3])
        let e = c.node(.exp, [x], name: "e")
        let loss = c.node(.reduceSum, [e], ["keepdims": .int(0)], name: "loss")
        let other = c.node(.neg, [y], name: "other")
        var g = c.graph
        g.outputs = [loss, other]
        try InferShapes().run(&g)
        let n0 = g.nodes.count
        let r = try Autodiff.gradients(of: loss, wrt: [y], in: &g)
        XCTAssertNil(r[0])
        XCTAssertEqual(g.nodes.count - n0, 1, "only the seed constant")   // nothing on any path
        // A non-scalar loss needs a seed.
        XCTAssertThrowsError(try Autodiff.gradients(of: e, wrt: [x], in: &g))
        let seed = g.addInput("seed", TensorType(.float32, fixed: [3]))
        let gs = try Autodiff.gradients(of: e, wrt: [x], in: &g, seed: seed)
        try g.verify()
        let val = try Ref.evaluate(g, c.feeds.merging([seed: Tensor(shape: [3], floats: [1, 2, 3])]) { a, _ in a }, [gs[0]!])[0]
        let xs = c.feeds[x]!.floats
        for i in 0..<3 { XCTAssertEqual(val.floats[i], Float(i + 1) * Foundation.exp(xs[i]), accuracy: 1e-5) }
    }

    /// ELU's pullback is one EluGrad node, and its values are those of the point-wise definition
    /// (x > 0: dY; else dY·(y + alpha)) bit for bit, on a seed with both signs and zero.
    func testEluPullbackIsOneFusedNode() throws {
        var c = GradCase(seed: 6)
        let xs: [Float] = [-3, -0.5, 0, -0.0, 0.25, 2, -1e-3, 7, -20, 1e-3, 0.9, -1.5]
        let x = c.input("x", Tensor(shape: [12], floats: xs))
        let y = c.node(.elu, [x], ["alpha": .float(0.7)], name: "y")
        var g = c.graph
        g.outputs = [y]
        let seed = g.addInput("seed", TensorType(.float32, fixed: [12]))
        try InferShapes().run(&g)
        let n0 = g.nodes.count
        let dx = try XCTUnwrap(Autodiff.gradients(of: y, wrt: [x], in: &g, seed: seed)[0])
        try g.verify()
        let added = g.nodes[n0...].filter { $0.op != .constant }
        XCTAssertEqual(added.map(\.op), [.eluGrad], added.map(\.op.rawValue).joined(separator: " "))
        let dys: [Float] = (0..<12).map { Float($0) * 0.37 - 2 }
        let feeds = c.feeds.merging([seed: Tensor(shape: [12], floats: dys)]) { a, _ in a }
        let got = try Ref.evaluate(g, feeds, [dx, y])
        for i in 0..<12 {
            let yi = got[1].floats[i]
            let want = xs[i] > 0 ? dys[i] : dys[i] * (yi + 0.7)
            XCTAssertEqual(got[0].floats[i].bitPattern, want.bitPattern, "x = \(xs[i])")
        }
    }

    func testSecondDerivativeOfScalarFunction() throws {
        // f(x) = sum(x³) → f'' = 6x, via two gradient calls.
        var c = GradCase(seed: 4)
        let x = c.input("x", [5])
        let three = c.graph.addInitializer("three", Tensor(shape: [], floats: [3]))
        let p = c.node(.pow, [x, three], name: "p")
        let f = c.node(.reduceSum, [p], ["keepdims": .int(0)], name: "f")
        var g = c.graph
        g.outputs = [f]
        try InferShapes().run(&g)
        let d1 = try XCTUnwrap(Autodiff.gradients(of: f, wrt: [x], in: &g)[0])
        let s = g.add(.reduceSum, d1, output: "s", attributes: ["keepdims": .int(0)])
        try InferShapes().run(&g)
        let d2 = try XCTUnwrap(Autodiff.gradients(of: s, wrt: [x], in: &g)[0])
        try g.verify()
        let v = try Ref.evaluate(g, c.feeds, [d2])[0].floats
        for (a, xv) in zip(v, c.feeds[x]!.floats) { XCTAssertEqual(a, 6 * xv, accuracy: 1e-4) }
    }

    func testTrainingBatchNorm() throws {
        var c = GradCase(seed: 5)
        let x = c.input("x", [3, 2, 3, 5], -2...2), scale = c.input("scale", [2], 0.5...1.5), bias = c.input("bias", [2])
        let rm = c.input("rmean", [2]), rv = c.input("rvar", [2], 0.5...1.5)
        let outs = c.graph.addNode(.batchNormalization, [x, scale, bias, rm, rv], outputs: ["y", "rmean_out", "rvar_out"],
                                   attributes: ["training_mode": .int(1), "epsilon": .float(1e-3), "momentum": .float(0.9)], name: "bn")
        c.graph.outputs = outs
        try InferShapes().run(&c.graph)
        try ExpandTrainingBatchNorm().run(&c.graph)
        try c.graph.verify()
        XCTAssertFalse(c.graph.nodes.contains { $0.op == .batchNormalization })
        // Statistics with PyTorch semantics.
        let vals = try Ref.evaluate(c.graph, c.feeds, outs)
        let xf = c.feeds[x]!.floats, n = 3 * 15
        for ch in 0..<2 {
            var items: [Double] = []
            for b in 0..<3 { for s in 0..<15 { items.append(Double(xf[(b * 2 + ch) * 15 + s])) } }
            let mean = items.reduce(0, +) / Double(n)
            let varB = items.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            XCTAssertEqual(Double(vals[1].floats[ch]), 0.9 * Double(c.feeds[rm]!.floats[ch]) + 0.1 * mean, accuracy: 1e-5)
            XCTAssertEqual(Double(vals[2].floats[ch]), 0.9 * Double(c.feeds[rv]!.floats[ch]) + 0.1 * varB * Double(n) / Double(n - 1), accuracy: 1e-5)
            let y0 = (Double(xf[ch * 15]) - mean) / (varB + 1e-3).squareRoot() * Double(c.feeds[scale]!.floats[ch]) + Double(c.feeds[bias]!.floats[ch])
            XCTAssertEqual(Double(vals[0].floats[ch * 15]), y0, accuracy: 1e-4)
        }
        // Gradients through the batch statistics.
        try FD.check(c, output: outs[0], wrt: [x, scale, bias], what: "training BatchNormalization")
    }
}
