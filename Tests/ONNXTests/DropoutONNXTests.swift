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

        // Legacy ratio attribute → input 1 on export.
        var legacy = Graph(name: "legacy")
        let lx = legacy.addInput("x", TensorType(.float32, fixed: [2, 5]))
        legacy.outputs = [legacy.addNode(.dropout, [lx], outputs: ["y"], attributes: ["ratio": .float(0.4)], name: "d")[0]]
        try InferShapes().run(&legacy)
        let lb = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(legacy), file: "legacy.onnx")
        let ln = try XCTUnwrap(lb.nodes.first { $0.op == .dropout })
        XCTAssertNil(ln.attributes["ratio"])
        XCTAssertEqual(try ExpandDropout.ratio(ln, graph: lb), 0.4)
    }
}
