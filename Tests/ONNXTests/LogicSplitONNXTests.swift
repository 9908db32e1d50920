// LogicSplitONNXTests: the comparisons, connectives, Where, Split, Tile and ArgMax/ArgMin through
// ONNX export and import (each opset's form), the legacy Split attribute, and Equal/Where on
// graph inputs running end to end from a model file.

import Foundation
import GraphIR
import ONNX
import Passes
import Runtime
import XCTest

final class LogicSplitONNXTests: XCTestCase {
    typealias B = ONNXBytes

    static func graph() throws -> Graph {
        var g = Graph(name: "logic")
        let x = g.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(6)]))
        let k = g.addInput("k", TensorType(.int64, [.fixed(6)]))
        let zero = g.addInitializer("zero", Tensor(shape: [], floats: [0]))
        let three = g.addInitializer("three", Tensor(shape: [], int64s: [3]))
        let cmps = [Op.equal, .less, .lessOrEqual, .greater, .greaterOrEqual].map { g.add($0, x, zero, output: "c.\($0.rawValue)") }
        let ki = g.add(.greater, k, three, output: "k.gt")
        let a = g.add(.and, cmps[3], ki, output: "and")
        let o = g.add(.or, cmps[1], a, output: "or")
        let xo = g.add(.xor, o, cmps[0], output: "xor")
        let n = g.add(.not, xo, output: "not")
        let w = g.add(.where, n, x, zero, output: "where")
        let parts = g.addNode(.split, [w], outputs: ["s0", "s1", "s2"], attributes: ["axis": .int(1), "num_outputs": .int(3)], name: "split")
        let reps = g.addInitializer("reps", Tensor(shape: [2], int64s: [1, 2]))
        let t = g.add(.tile, parts[1], reps, output: "tile")
        let am = g.add(.argMax, t, output: "am", attributes: ["axis": .int(1), "keepdims": .int(0), "select_last_index": .int(1)])
        let an = g.add(.argMin, parts[2], output: "an", attributes: ["axis": .int(-1)])
        g.outputs = [w, parts[0], t, am, an, cmps[2], cmps[4]]
        try InferShapes().run(&g)
        return g
    }

    func testRoundTripAtEachOpset() throws {
        let g = try Self.graph()
        let back = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(g, opset: 18), file: "logic18.onnx")
        XCTAssertEqual(back.text, g.text)
        // Before opset 18 num_outputs becomes the `split` input (sizes 2, 2, 2), read back as such.
        let back13 = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(g, opset: 13), file: "logic13.onnx")
        let split = try XCTUnwrap(back13.nodes.first { $0.op == .split })
        XCTAssertNil(split.attributes["num_outputs"])
        XCTAssertEqual(back13.constantValue(try XCTUnwrap(split.input(1)))?.int64s, [2, 2, 2])
        // Both run and agree with the original.
        let xs = Tensor(shape: [2, 6], floats: [0.5, -1, 0, 2, -0.25, 3, 1, 1, -2, 0, 0.75, -3])
        let ks = Tensor(shape: [6], int64s: [5, 1, 4, 3, 9, 0])
        let want = try Session(graph: g).run([xs, ks])
        for h in [back, back13] { XCTAssertEqual(try Session(graph: h).run([xs, ks]), want) }
        // Opset 18 writes num_outputs for an equal split given neither form.
        var eq = Graph(name: "eq")
        let v = eq.addInput("v", TensorType(.float32, fixed: [4]))
        eq.outputs = eq.addNode(.split, [v], outputs: ["a", "b"])
        try InferShapes().run(&eq)
        let eq18 = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(eq, opset: 18), file: "eq18.onnx")
        XCTAssertEqual(try eq18.nodes[0].attributes.int("num_outputs"), 2)
    }

    func testLegacySplitAttributeBecomesInput() throws {
        let bytes = B.model(opset: 11,
            nodes: [B.node("Split", ["x"], ["a", "b"], name: "sp", attrs: [("axis", .i(1)), ("split", .ints([1, 3]))])],
            inputs: [B.valueInfo("x", dims: [2, 4])],
            outputs: [B.valueInfo("a", dims: [2, 1]), B.valueInfo("b", dims: [2, 3])])
        let g = try ONNXImport.graph(fromModelBytes: bytes, file: "split11.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.split])
        XCTAssertEqual(g.nodes[0].attributes.sortedKeys, ["axis"])
        XCTAssertEqual(g.constantValue(try XCTUnwrap(g.nodes[0].input(1)))?.int64s, [1, 3])
        let out = try Session(graph: g).run([Tensor(shape: [2, 4], floats: [0, 1, 2, 3, 4, 5, 6, 7])])
        XCTAssertEqual(out.map(\.floats), [[0, 4], [1, 2, 3, 5, 6, 7]])
    }

    /// Equal and Where on graph inputs are runtime ops; on integer constants they import 1:1 too,
    /// InferShapes reads an Expand shape computed by them and FoldConstants folds them.
    func testEqualAndWhereOnInputsRun() throws {
        let bytes = B.model(opset: 17,
            nodes: [B.node("Equal", ["x", "y"], ["e"]), B.node("Where", ["e", "x", "y"], ["w"])],
            inputs: [B.valueInfo("x", dims: [3]), B.valueInfo("y", dims: [1])],
            outputs: [B.valueInfo("e", type: B.BOOL, dims: [3]), B.valueInfo("w", dims: [3])])
        let g = try ONNXImport.graph(fromModelBytes: bytes, file: "eqwhere.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.equal, .where])
        let out = try Session(graph: g).run([Tensor(shape: [3], floats: [1, 2, 3]), Tensor(shape: [1], floats: [2])])
        XCTAssertEqual(out[0], Tensor(shape: [3], int64s: [0, 1, 0], dtype: .bool))
        XCTAssertEqual(out[1].floats, [2, 2, 2])
        let folded = B.model(opset: 17,
            nodes: [B.node("Equal", ["a", "b"], ["e"]), B.node("Where", ["e", "a", "b"], ["w"]), B.node("Expand", ["x", "w"], ["y"])],
            inputs: [B.valueInfo("x", dims: [1, 3])], outputs: [B.valueInfo("y", dims: nil)],
            initializers: [B.tensor("a", dims: [2], type: B.INT64, ints64: [2, -1]), B.tensor("b", dims: [2], type: B.INT64, ints64: [2, 3])])
        let h = try ONNXImport.graph(fromModelBytes: folded, file: "fold.onnx")
        XCTAssertEqual(h.nodes.map(\.op), [.equal, .where, .expand])   // imported 1:1
        var typed = h
        try InferShapes().run(&typed)
        XCTAssertEqual(typed.type(of: typed.outputs[0])?.description, "f32[2,3]")
        try FoldConstants().run(&typed)
        XCTAssertEqual(typed.nodes.map(\.op), [.expand])
    }
}
