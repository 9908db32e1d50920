// NormResampleONNXTests: InstanceNormalization, LayerNormalization, GroupNormalization, Resize
// and Pad through export and import, the opset gates of export, and the legacy forms the
// importer normalises (Upsample, opset-10 Resize, Pad before 11, per-group GroupNormalization).

import GraphIR
import ONNX
import Passes
import XCTest

final class NormResampleONNXTests: XCTestCase {
    typealias B = ONNXBytes

    func testRoundTripAndOpsetGates() throws {
        var g = Graph(name: "normresample")
        let x = g.addInput("x", TensorType(.float32, [.symbol("batch"), .fixed(4), .fixed(6), .fixed(6)]))
        let c4 = g.addInitializer("c4", Tensor(shape: [4], floats: [1, 2, 3, 4]))
        let w = g.addInitializer("w", Tensor(shape: [12], repeating: 1))
        let scales = g.addInitializer("scales", Tensor(shape: [4], floats: [1, 1, 2, 2]))
        let pads = g.addInitializer("pads", Tensor(shape: [8], int64s: [0, 0, 1, 1, 0, 0, 1, 1]))
        var v = g.add(.instanceNormalization, x, c4, c4, output: "in", attributes: ["epsilon": .float(1e-3)])
        v = g.addNode(.resize, [v, nil, scales], outputs: ["up"], attributes: ["mode": .string("linear"),
                      "coordinate_transformation_mode": .string("pytorch_half_pixel")])[0]
        v = g.addNode(.pad, [v, pads], outputs: ["pad"], attributes: ["mode": .string("reflect")])[0]
        let flat = g.addInitializer("flat", Tensor(shape: [3], int64s: [0, 4, 196]))
        v = g.add(.reshape, v, flat, output: "flat3")
        _ = w
        g.outputs = [v]
        try InferShapes().run(&g)
        XCTAssertEqual(g.type(of: v)?.description, "f32[batch,4,196]")
        let back = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(g, opset: 13), file: "nr.onnx")
        XCTAssertEqual(back.text, g.text)

        var h = Graph(name: "newer")
        let y = h.addInput("y", TensorType(.float32, [.fixed(2), .fixed(4), .fixed(3)]))
        let s3 = h.addInitializer("s3", Tensor(shape: [3], floats: [1, 1, 1]))
        let s4 = h.addInitializer("s4", Tensor(shape: [4], floats: [1, 1, 1, 1]))
        let ln = h.add(.layerNormalization, y, s3, output: "ln", attributes: ["axis": .int(-1)])
        h.outputs = [h.add(.groupNormalization, ln, s4, s4, output: "gn", attributes: ["num_groups": .int(2)])]
        try InferShapes().run(&h)
        let back2 = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(h, opset: 21), file: "newer.onnx")
        XCTAssertEqual(back2.text, h.text)
        XCTAssertThrowsError(try ONNXExport.modelBytes(h, opset: 18)) { XCTAssertTrue("\($0)".contains("opset 21"), "\($0)") }
        h.nodes.removeLast()
        h.outputs = [ln]
        XCTAssertThrowsError(try ONNXExport.modelBytes(h, opset: 16)) { XCTAssertTrue("\($0)".contains("opset 17"), "\($0)") }
    }

    /// Upsample (opset 9, scales input) and opset-7 Upsample (scales attribute, bilinear):
    /// Resize with asymmetric coordinates and floor rounding.
    func testUpsampleBecomesResize() throws {
        let scales = B.tensor("scales", dims: [4], type: B.FLOAT, floats: [1, 1, 2, 3])
        let bytes = B.model(opset: 9, nodes: [B.node("Upsample", ["x", "scales"], ["y"], name: "up", attrs: [("mode", .s("nearest"))])],
                            inputs: [B.valueInfo("x", dims: [1, 1, 2, 2])], outputs: [B.valueInfo("y", dims: [1, 1, 4, 6])],
                            initializers: [scales])
        var g = try ONNXImport.graph(fromModelBytes: bytes, file: "up9.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.resize])
        XCTAssertNil(g.nodes[0].inputs[1])
        XCTAssertEqual(try g.nodes[0].attributes.string("coordinate_transformation_mode"), "asymmetric")
        XCTAssertEqual(try g.nodes[0].attributes.string("nearest_mode"), "floor")
        try InferShapes().run(&g)
        XCTAssertEqual(g.type(of: g.outputs[0])?.description, "f32[1,1,4,6]")

        let old = B.model(opset: 7, nodes: [B.node("Upsample", ["x"], ["y"], name: "up7",
                                                   attrs: [("mode", .s("bilinear")), ("scales", .floats([1, 1, 2, 2]))])],
                          inputs: [B.valueInfo("x", dims: [1, 1, 2, 2])], outputs: [B.valueInfo("y", dims: [1, 1, 4, 4])])
        var g7 = try ONNXImport.graph(fromModelBytes: old, file: "up7.onnx")
        XCTAssertEqual(try g7.nodes[0].attributes.string("mode"), "linear")
        XCTAssertEqual(g7.constantValue(g7.nodes[0].inputs[2]!)?.floats, [1, 1, 2, 2])
        try InferShapes().run(&g7)
        // Asymmetric linear upsampling of [[0, 2], [4, 6]] by 2: row 0 is 0 1 2 2.
        let out = try ReferenceEval.run(g7, [Tensor(shape: [1, 1, 2, 2], floats: [0, 2, 4, 6])])
        XCTAssertEqual(Array(out.floats.prefix(8)), [0, 1, 2, 2, 2, 3, 4, 4])

        let bad = B.model(opset: 9, nodes: [B.node("Upsample", ["x", "scales"], ["y"], attrs: [("mode", .s("cubic"))])],
                          inputs: [B.valueInfo("x", dims: [1, 1, 2, 2])], outputs: [B.valueInfo("y", dims: [1, 1, 4, 6])],
                          initializers: [scales])
        XCTAssertThrowsError(try ONNXImport.graph(fromModelBytes: bad, file: "bad.onnx")) {
            XCTAssertTrue("\($0)".contains("bad.onnx") && "\($0)".contains("unknown Upsample mode 'cubic'"), "\($0)")
        }
    }

    /// Pad before opset 11: pads and value attributes become inputs.
    func testLegacyPadAttributesBecomeInputs() throws {
        let bytes = B.model(opset: 2, nodes: [B.node("Pad", ["x"], ["y"], name: "p",
                                                     attrs: [("pads", .ints([0, 1, 0, 2])), ("value", .f(1.5)), ("mode", .s("constant"))])],
                            inputs: [B.valueInfo("x", dims: [2, 3])], outputs: [B.valueInfo("y", dims: [2, 6])])
        var g = try ONNXImport.graph(fromModelBytes: bytes, file: "pad2.onnx")
        XCTAssertEqual(g.constantValue(g.nodes[0].inputs[1]!)?.int64s, [0, 1, 0, 2])
        XCTAssertEqual(g.constantValue(g.nodes[0].inputs[2]!)?.floats, [1.5])
        XCTAssertEqual(g.nodes[0].attributes.sortedKeys, ["mode"])
        try InferShapes().run(&g)
        let out = try ReferenceEval.run(g, [Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])])
        XCTAssertEqual(out.floats, [1.5, 1, 2, 3, 1.5, 1.5, 1.5, 4, 5, 6, 1.5, 1.5])
    }

    /// GroupNormalization before opset 21: per-group scale/bias expanded to per channel.
    func testPerGroupScaleExpandedToChannels() throws {
        let s = B.tensor("s", dims: [2], type: B.FLOAT, floats: [2, 3]), b = B.tensor("b", dims: [2], type: B.FLOAT, floats: [0, 1])
        let bytes = B.model(opset: 18, nodes: [B.node("GroupNormalization", ["x", "s", "b"], ["y"], name: "gn", attrs: [("num_groups", .i(2))])],
                            inputs: [B.valueInfo("x", dims: [1, 4, 1])], outputs: [B.valueInfo("y", dims: [1, 4, 1])],
                            initializers: [s, b])
        var g = try ONNXImport.graph(fromModelBytes: bytes, file: "gn18.onnx")
        try InferShapes().run(&g)
        let out = try ReferenceEval.run(g, [Tensor(shape: [1, 4, 1], floats: [1, 3, 0, 4])])
        // Group 0: x̂ = (−1, 1)·(1/√(1 + 1e-5)), scale 2, bias 0; group 1: (−1, 1), scale 3, bias 1.
        // Group 0 holds (1, 3): mean 2, variance 1; group 1 holds (0, 4): mean 2, variance 4.
        let k0 = 1 / (1 + 1e-5).squareRoot(), k1 = 2 / (4 + 1e-5).squareRoot()
        for (got, want) in zip(out.floats, [-2 * k0, 2 * k0, 1 - 3 * k1, 1 + 3 * k1]) { XCTAssertEqual(Double(got), want, accuracy: 1e-5) }
        let unknown = B.model(opset: 18, nodes: [B.node("GroupNormalization", ["x", "s", "b"], ["y"], attrs: [("num_groups", .i(2))])],
                              inputs: [B.valueInfo("x", dims: ["N", "C", 1])], outputs: [B.valueInfo("y", dims: ["N", "C", 1])], initializers: [s, b])
        XCTAssertThrowsError(try ONNXImport.graph(fromModelBytes: unknown, file: "gn.onnx")) {
            XCTAssertTrue("\($0)".contains("channel count"), "\($0)")
        }
    }
}

/// Runs a one-output graph with the scalar reference kernels (ConstantEvaluator, node by node).
enum ReferenceEval {
    static func run(_ g: Graph, _ inputs: [Tensor]) throws -> Tensor {
        var values: [ValueID: Tensor] = g.initializers
        for (v, t) in zip(g.inputs, inputs) { values[v] = t }
        for n in g.nodes {
            let outs = try ConstantEvaluator.evaluate(n, n.inputs.map { $0.flatMap { values[$0] } }, n.outputs.map { g.type(of: $0)! }, graph: g)
            for (v, t) in zip(n.outputs, outs) { values[v] = t }
        }
        return values[g.outputs[0]]!
    }
}
