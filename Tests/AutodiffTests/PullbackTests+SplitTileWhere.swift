// PullbackTests+SplitTileWhere: finite-difference checks of the Split, Tile and Where pullbacks
// (tolerance: see Support.swift; each also runs the compiled runtime against the reference
// evaluator).

import XCTest
import GraphIR
import Passes

final class SplitTileWherePullbackTests: XCTestCase {
    /// Split into three parts, one unused (its cotangent is zeros), the others reordered by Concat.
    func testSplit() throws {
        for (k, attrs) in [["axis": Attribute.int(1)], ["axis": .int(-2), "num_outputs": .int(3)]].enumerated() {
            var c = GradCase(seed: 1500 + UInt64(k))
            let x = c.input("x", [2, 7, 3], -2...2)
            let sizes: ValueID? = k == 0 ? c.ints("sizes", [2, 4, 1]) : nil
            let parts = c.graph.addNode(.split, [x, sizes], outputs: ["p0", "p1", "p2"], attributes: attrs, name: "split")
            let t = c.node(.tanh, [parts[2]])
            let y = c.node(.concat, [t, parts[0]], ["axis": .int(1)])
            try FD.check(c, output: y, wrt: [x], what: "Split \(attrs)")
        }
    }

    func testTile() throws {
        var c = GradCase(seed: 1510)
        let x = c.input("x", [2, 3, 1], -2...2)
        let y = c.node(.tile, [x, c.ints("repeats", [3, 1, 4])])
        let out = c.node(.tanh, [y])
        try FD.check(c, output: out, wrt: [x], what: "Tile")
        var c2 = GradCase(seed: 1511)
        let x2 = c2.input("x", [5], -2...2)
        let out2 = c2.node(.tile, [x2, c2.ints("repeats", [1])])
        try FD.check(c2, output: out2, wrt: [x2], what: "Tile by 1")
    }

    /// Where(m > 0, x, y) with broadcast branches: dY goes to x where the condition holds, else to y.
    func testWhere() throws {
        var c = GradCase(seed: 1520)
        let m = c.input("m", [4, 1], -1...1), x = c.input("x", [3, 1, 5], -2...2), y = c.input("y", [4, 5], -2...2)
        let cond = c.node(.greater, [m, c.graph.addInitializer("zero", Tensor(shape: [], floats: [0]))])
        let w = c.node(.where, [cond, x, y])
        let out = c.node(.tanh, [w])
        try FD.check(c, output: out, wrt: [x, y], what: "Where")
    }
}
