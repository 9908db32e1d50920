// Dropout through ONNX: export then import keeps the node (inputs, ratio, seed) and its
// inference meaning (the identity).

import GraphIR
import ONNX
import Passes
import Runtime
import XCTest

final class DropoutONNXTests: XCTestCase {
    func testDropoutRoundTrip() throws {
        var g = Graph(name: "drop")
        let x = g.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(5)]))
        let r = g.addInitializer("ratio", Tensor(shape: [], floats: [0.2]))
        let y = g.addNode(.dropout, [x, r], outputs: ["y"], attributes: ["seed": .int(3)], name: "drop")[0]
        g.outputs = [y]
        try InferShapes().run(&g)
        try g.verify()
        let back = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(g), file: "drop.onnx")
        let node = try XCTUnwrap(back.nodes.first { $0.op == .dropout })
        XCTAssertEqual(node.name, "drop")
        XCTAssertEqual(try node.attributes.int("seed"), 3)
        XCTAssertEqual(node.inputs.count, 2)
        XCTAssertEqual(back.constantValue(node.inputs[1]!)?.floats, [0.2])
        XCTAssertEqual(try ExpandDropout.ratio(node, graph: back), 0.2, accuracy: 0)
        let xs = Tensor(shape: [2, 5], floats: (0..<10).map { Float($0) - 4.5 })
        XCTAssertEqual(try Session(graph: back).run(["x": xs])["y"], xs)

        // The IR has one form: a ratio attribute is not part of it.
        var legacy = Graph(name: "legacy")
        let lx = legacy.addInput("x", TensorType(.float32, fixed: [2, 5]))
        legacy.outputs = [legacy.addNode(.dropout, [lx], outputs: ["y"], attributes: ["ratio": .float(0.4)], name: "d")[0]]
        XCTAssertThrowsError(try legacy.verify())
    }

    /// Dropout before opset 12 (ratio attribute; is_test before 7) imports as the one IR form:
    /// the ratio as constant input 1, no attributes.
    func testLegacyDropoutImport() throws {
        typealias B = ONNXBytes
        let bytes = B.model(opset: 6,
            nodes: [B.node("Dropout", ["x"], ["y"], name: "d", attrs: [("ratio", .f(0.4)), ("is_test", .i(1))])],
            inputs: [B.valueInfo("x", dims: [2, 5])], outputs: [B.valueInfo("y", dims: [2, 5])])
        let g = try ONNXImport.graph(fromModelBytes: bytes, file: "drop6.onnx")
        let n = try XCTUnwrap(g.nodes.first { $0.op == .dropout })
        XCTAssertTrue(n.attributes.isEmpty, "\(n.attributes)")
        XCTAssertEqual(try ExpandDropout.ratio(n, graph: g), 0.4)
        let xs = Tensor(shape: [2, 5], floats: (0..<10).map { Float($0) - 4.5 })
        XCTAssertEqual(try Session(graph: g).run(["x": xs])["y"], xs)
    }
}
