// PullbackTests+Extrema: finite-difference checks of the ReduceMax, ReduceMin, ReduceProd,
// GlobalMaxPool and LRN pullbacks (tolerance: see Support.swift; each also runs the compiled
// runtime against the reference evaluator), and their exact values where finite differences
// cannot look: ties (shared equally, as PyTorch's amax/amin) and zeros of ReduceProd.

import XCTest
import GraphIR
import Passes
import TestSupport

final class ExtremaPullbackTests: XCTestCase {
    /// Distinct values 0.05 apart in a random order, so no two are within 2h of each other.
    func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        var v = (0..<shape.reduce(1, *)).map { Float($0) * 0.05 - 1 }
        for i in v.indices.reversed() where i > 0 { v.swapAt(i, rng.int(0, i)) }
        return Tensor(shape: shape, floats: v)
    }

    func testReduceMaxMin() throws {
        for (k, (op, axes, keep)) in [(Op.reduceMax, [1], 1), (.reduceMin, [0, 2], 0), (.reduceMax, [2], 0), (.reduceMin, [0, 1, 2], 1)].enumerated() {
            var c = GradCase(seed: 1600 + UInt64(k))
            let x = c.input("x", distinct([3, 4, 5], seed: UInt64(k)))
            let y = c.node(op, [x, c.ints("axes", axes)], ["keepdims": .int(keep)])
            try FD.check(c, output: y, wrt: [x], what: "\(op.rawValue) axes \(axes) keepdims \(keep)")
        }
        var c = GradCase(seed: 1605)
        let x = c.input("x", distinct([2, 3, 4, 3], seed: 9))
        let out = c.node(.tanh, [c.node(.globalMaxPool, [x])])
        try FD.check(c, output: out, wrt: [x], what: "GlobalMaxPool")
    }

    /// Ties share dY equally: d max([1, 3, 3, 2]) = [0, ½, ½, 0].
    func testReduceMaxTiesShareTheGradient() throws {
        var g = Graph(name: "ties")
        let x = g.addInput("x", TensorType(.float32, fixed: [2, 4]))
        let y = g.addNode(.reduceMax, [x, g.addInitializer("axes", Tensor(shape: [1], int64s: [1]))], outputs: ["y"],
                          attributes: ["keepdims": .int(0)])[0]
        let s = g.addNode(.reduceSum, [y], outputs: ["s"], attributes: ["keepdims": .int(0)])[0]
        try InferShapes().run(&g)
        let dx = try XCTUnwrap(try Autodiff.gradients(of: s, wrt: [x], in: &g)[0])
        let got = try ReferenceEvaluator.evaluate(g, [x: Tensor(shape: [2, 4], floats: [1, 3, 3, 2, 5, 5, 5, -1])], [dx])[0]
        XCTAssertEqual(got.floats, [0, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0])
    }

    func testReduceProd() throws {
        for (k, (axes, keep)) in [([1], 1), ([0, 2], 0), ([0, 1, 2], 1)].enumerated() {
            var c = GradCase(seed: 1610 + UInt64(k))
            let x = c.input("x", [2, 3, 4], 0.5...1.5)
            let y = c.node(.reduceProd, [x, c.ints("axes", axes)], ["keepdims": .int(keep)])
            try FD.check(c, output: y, wrt: [x], what: "ReduceProd axes \(axes)")
        }
    }

    /// At zeros: one zero in a group gets the product of the others; two zeros give 0 everywhere.
    func testReduceProdAtZeros() throws {
        var g = Graph(name: "zeros")
        let x = g.addInput("x", TensorType(.float32, fixed: [3, 3]))
        let y = g.addNode(.reduceProd, [x, g.addInitializer("axes", Tensor(shape: [1], int64s: [1]))], outputs: ["y"],
                          attributes: ["keepdims": .int(0)])[0]
        let s = g.addNode(.reduceSum, [y], outputs: ["s"], attributes: ["keepdims": .int(0)])[0]
        try InferShapes().run(&g)
        let dx = try XCTUnwrap(try Autodiff.gradients(of: s, wrt: [x], in: &g)[0])
        let got = try ReferenceEvaluator.evaluate(g, [x: Tensor(shape: [3, 3], floats: [2, 3, 4, 2, 0, 5, 0, 7, 0])], [dx])[0]
        XCTAssertEqual(got.floats, [12, 8, 6, 0, 10, 0, 0, 0, 0])
    }

    func testLRN() throws {
        for (k, size) in [3, 4, 1].enumerated() {
            var c = GradCase(seed: 1620 + UInt64(k))
            let x = c.input("x", [2, 5, 3, 2], -2...2)
            let y = c.node(.lrn, [x], ["size": .int(size), "alpha": .float(0.3), "beta": .float(0.75), "bias": .float(1.5)])
            try FD.check(c, output: y, wrt: [x], what: "LRN size \(size)")
        }
        // Rank 3 and the default attributes (AlexNet's alpha 1e-4 makes the cross term tiny).
        var c = GradCase(seed: 1625)
        let x = c.input("x", [1, 4, 7], -2...2)
        let out = c.node(.lrn, [x], ["size": .int(5)])
        try FD.check(c, output: out, wrt: [x], what: "LRN defaults")
    }
}
