import Foundation
import GraphIR
import ONNX
import Passes
import Runtime
import XCTest

final class LegacyImportTests: XCTestCase {
    typealias B = ONNXBytes

    func testAddBroadcastAxisGetsUnsqueeze() throws {
        let bytes = B.model(opset: 6,
            nodes: [B.node("Add", ["x", "b"], ["y"], name: "add", attrs: [("broadcast", .i(1)), ("axis", .i(1))])],
            inputs: [B.valueInfo("x", dims: [2, 3, 4, 5]), B.valueInfo("b", dims: [3])],
            outputs: [B.valueInfo("y", dims: [2, 3, 4, 5])])
        let g = try ONNXImport.graph(fromModelBytes: bytes, file: "add6.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.unsqueeze, .add])
        XCTAssertEqual(g.constantValue(g.nodes[0].inputs[1]!)?.int64s, [1, 2])
        XCTAssertTrue(g.nodes[1].attributes.isEmpty)
        XCTAssertEqual(g.nodes[1].inputs[1], g.nodes[0].outputs[0])
    }

    func testAddBroadcastWithoutAxisIsNumpy() throws {
        let bytes = B.model(opset: 6,
            nodes: [B.node("Mul", ["x", "b"], ["y"], attrs: [("broadcast", .i(1)), ("consumed_inputs", .ints([0, 0]))])],
            inputs: [B.valueInfo("x", dims: [2, 3]), B.valueInfo("b", dims: [3])],
            outputs: [B.valueInfo("y", dims: [2, 3])])
        let g = try ONNXImport.graph(fromModelBytes: bytes, file: "mul6.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.mul])
        XCTAssertTrue(g.nodes[0].attributes.isEmpty)
    }

    func testBatchNormLegacyAttributesDropped() throws {
        let params = ["s", "b", "m", "v"].map { B.tensor($0, dims: [2], type: B.FLOAT, floats: [1, 1]) }
        let bytes = B.model(opset: 6,
            nodes: [B.node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name: "bn",
                           attrs: [("is_test", .i(1)), ("spatial", .i(1)), ("epsilon", .f(1e-3)), ("consumed_inputs", .ints([0, 0, 0, 1, 1]))])],
            inputs: [B.valueInfo("x", dims: [nil, 2, 3, 3])] + ["s", "b", "m", "v"].map { B.valueInfo($0, dims: [2]) },
            outputs: [B.valueInfo("y", dims: [nil, 2, 3, 3])], initializers: params, irVersion: 3)
        let g = try ONNXImport.graph(fromModelBytes: bytes, file: "bn6.onnx")
        XCTAssertEqual(g.nodes[0].attributes.sortedKeys, ["epsilon"])
        XCTAssertEqual(g.inputs.count, 1, "initializers listed in graph.input are constants")
        XCTAssertEqual(g.type(of: g.inputs[0])?.description, "f32[N,2,3,3]")
        XCTAssertEqual(g.initializers.count, 4)

        let training = B.model(opset: 6,
            nodes: [B.node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name: "bn", attrs: [("is_test", .i(0))])],
            inputs: [B.valueInfo("x", dims: [1, 2, 3, 3])], outputs: [B.valueInfo("y", dims: nil)], initializers: params)
        XCTAssertThrowsError(try ONNXImport.graph(fromModelBytes: training, file: "bn6t.onnx")) { e in
            XCTAssertTrue("\(e)".contains("bn6t.onnx") && "\(e)".contains("is_test=0") && "\(e)".contains("'bn'"), "\(e)")
        }
    }

    func testSoftmaxBeforeOpset13() throws {
        let rank2 = B.model(opset: 11, nodes: [B.node("Softmax", ["x"], ["y"])],
                            inputs: [B.valueInfo("x", dims: ["batch", 10])], outputs: [B.valueInfo("y", dims: nil)])
        let g2 = try ONNXImport.graph(fromModelBytes: rank2, file: "sm.onnx")
        XCTAssertEqual(g2.nodes.map(\.op), [.softmax])
        XCTAssertEqual(g2.nodes[0].attributes["axis"], .int(1))
        XCTAssertEqual(g2.type(of: g2.inputs[0])?.description, "f32[batch,10]")

        let rank4 = B.model(opset: 11, nodes: [B.node("LogSoftmax", ["x"], ["y"], name: "lsm")],
                            inputs: [B.valueInfo("x", dims: [nil, 3, 4, 5])], outputs: [B.valueInfo("y", dims: nil)])
        let g4 = try ONNXImport.graph(fromModelBytes: rank4, file: "lsm.onnx")
        XCTAssertEqual(g4.nodes.map(\.op), [.flatten, .logSoftmax, .constant, .reshape])
        XCTAssertEqual(g4.nodes[1].attributes["axis"], .int(1))
        XCTAssertEqual(try Graph.constantTensor(of: g4.nodes[2]).int64s, [0, 3, 4, 5])
        XCTAssertEqual(g4.name(of: g4.outputs[0]), "y")

        // The input's shape is found through shape-preserving ops (Neg) when undeclared.
        let through = B.model(opset: 6, nodes: [B.node("Neg", ["x"], ["n"]), B.node("Softmax", ["n"], ["y"])],
                              inputs: [B.valueInfo("x", dims: [2, 3, 4])], outputs: [B.valueInfo("y", dims: nil)])
        let gt = try ONNXImport.graph(fromModelBytes: through, file: "softmin.onnx")
        XCTAssertEqual(gt.nodes.map(\.op), [.neg, .flatten, .softmax, .constant, .reshape])

        let modern = B.model(opset: 13, nodes: [B.node("Softmax", ["x"], ["y"])],
                             inputs: [B.valueInfo("x", dims: [2, 3, 4])], outputs: [B.valueInfo("y", dims: nil)])
        XCTAssertNil(try ONNXImport.graph(fromModelBytes: modern, file: "sm13.onnx").nodes[0].attributes["axis"])
    }

    /// Legacy Softmax on an input whose shape the model does not declare (here behind a
    /// GlobalAveragePool, as in SqueezeNet): Flatten → Softmax → Reshape to Shape(x), resolved
    /// when a session binds the batch.
    func testSoftmaxBeforeOpset13OnUndeclaredShape() throws {
        let bytes = B.model(opset: 9, nodes: [B.node("GlobalAveragePool", ["x"], ["p"]), B.node("Softmax", ["p"], ["y"], name: "sm")],
                            inputs: [B.valueInfo("x", dims: [nil, 3, 2, 2])], outputs: [B.valueInfo("y", dims: nil)])
        let g = try ONNXImport.graph(fromModelBytes: bytes, file: "squeeze.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.globalAveragePool, .flatten, .softmax, .shape, .reshape])
        XCTAssertEqual(g.name(of: g.outputs[0]), "y")
        let x = Tensor(shape: [2, 3, 2, 2], floats: (0..<24).map { Float($0 % 7) * 0.25 })
        let y = try Session(graph: g).run([x])[0]
        XCTAssertEqual(y.shape, [2, 3, 1, 1])
        for n in 0..<2 {
            let means = (0..<3).map { c in (0..<4).reduce(Float(0)) { $0 + x.floats[(n * 3 + c) * 4 + $1] } / 4 }
            let e = means.map { Foundation.exp($0 - means.max()!) }
            for c in 0..<3 { XCTAssertEqual(y.floats[n * 3 + c], e[c] / e.reduce(0, +), accuracy: 1e-6) }
        }
    }

    func testConcatBeforeOpset4DefaultsToAxis1() throws {
        let bytes = B.model(opset: 3, nodes: [B.node("Concat", ["a", "b"], ["y"])],
                            inputs: [B.valueInfo("a", dims: [1, 2]), B.valueInfo("b", dims: [1, 3])], outputs: [B.valueInfo("y", dims: nil)])
        XCTAssertEqual(try ONNXImport.graph(fromModelBytes: bytes, file: "c.onnx").nodes[0].attributes["axis"], .int(1))
    }

    /// Slice (< 10), Reshape (< 5), Squeeze/Unsqueeze (< 13) and reduction (< 13/18) attributes
    /// become constant inputs: the IR holds one form.
    func testAttributeFormsBecomeConstantInputs() throws {
        let bytes = B.model(opset: 4,
            nodes: [B.node("Slice", ["x"], ["s"], name: "sl", attrs: [("starts", .ints([0])), ("ends", .ints([1])), ("axes", .ints([1]))]),
                    B.node("Unsqueeze", ["s"], ["u"], attrs: [("axes", .ints([0]))]),
                    B.node("Squeeze", ["u"], ["q"], attrs: [("axes", .ints([0]))]),
                    B.node("Reshape", ["q"], ["r"], attrs: [("shape", .ints([1, 2, 1]))]),
                    B.node("ReduceSum", ["r"], ["y"], attrs: [("axes", .ints([0])), ("keepdims", .i(0))])],
            inputs: [B.valueInfo("x", dims: [2, 3])], outputs: [B.valueInfo("y", dims: nil)])
        var g = try ONNXImport.graph(fromModelBytes: bytes, file: "forms.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.slice, .unsqueeze, .squeeze, .reshape, .reduceSum])
        for n in g.nodes { XCTAssertEqual(n.attributes.sortedKeys.filter { $0 != "keepdims" }, [], "\(n.op.rawValue)") }
        func constant(_ node: Int, _ input: Int) -> [Int64]? { g.constantValue(g.nodes[node].inputs[input]!)?.int64s }
        XCTAssertEqual([constant(0, 1), constant(0, 2), constant(0, 3)], [[0], [1], [1]])
        XCTAssertEqual(g.name(of: g.nodes[0].inputs[1]!), "sl_starts")
        XCTAssertEqual([constant(1, 1), constant(2, 1), constant(3, 1), constant(4, 1)], [[0], [0], [1, 2, 1], [0]])
        try InferShapes().run(&g)
        XCTAssertEqual(g.type(of: g.outputs[0])?.description, "f32[2,1]")
    }

    /// Clip before opset 11: the min/max attributes become float scalar inputs (an absent one an absent input).
    func testClipAttributesBecomeInputs() throws {
        let bytes = B.model(opset: 6,
            nodes: [B.node("Clip", ["x"], ["a"], name: "both", attrs: [("min", .f(-0.5)), ("max", .f(0.5))]),
                    B.node("Clip", ["a"], ["b"], name: "hi", attrs: [("max", .f(0.25))]),
                    B.node("Clip", ["b"], ["y"], name: "lo", attrs: [("min", .f(-0.125))])],
            inputs: [B.valueInfo("x", dims: [2, 3])], outputs: [B.valueInfo("y", dims: [2, 3])])
        var g = try ONNXImport.graph(fromModelBytes: bytes, file: "clip6.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.clip, .clip, .clip])
        for n in g.nodes { XCTAssertTrue(n.attributes.isEmpty) }
        func bound(_ node: Int, _ input: Int) -> [Float]? { g.nodes[node].input(input).flatMap { g.constantValue($0)?.floats } }
        XCTAssertEqual([bound(0, 1), bound(0, 2), bound(1, 1), bound(1, 2), bound(2, 1), bound(2, 2)],
                       [[-0.5], [0.5], nil, [0.25], [-0.125], nil])
        XCTAssertEqual(g.name(of: g.nodes[0].inputs[1]!), "both_min")
        try InferShapes().run(&g)
        try g.verify()
    }

    /// PRelu before opset 7: a per-channel slope (C) is aligned to axis 1 by an Unsqueeze to (C, 1, 1).
    func testPReluPerChannelSlopeBeforeOpset7() throws {
        let bytes = B.model(opset: 6, nodes: [B.node("PRelu", ["x", "s"], ["y"])],
                            inputs: [B.valueInfo("x", dims: [2, 3, 4, 5]), B.valueInfo("s", dims: [3])],
                            outputs: [B.valueInfo("y", dims: [2, 3, 4, 5])])
        var g = try ONNXImport.graph(fromModelBytes: bytes, file: "prelu6.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.unsqueeze, .prelu])
        XCTAssertEqual(g.constantValue(g.nodes[0].inputs[1]!)?.int64s, [1, 2])
        try InferShapes().run(&g)
        XCTAssertEqual(g.type(of: g.nodes[0].outputs[0])?.description, "f32[3,1,1]")
        // From opset 7 the slope broadcasts numpy-style: the same model is an error, not a silent misread.
        let seven = B.model(opset: 7, nodes: [B.node("PRelu", ["x", "s"], ["y"])],
                            inputs: [B.valueInfo("x", dims: [2, 3, 4, 5]), B.valueInfo("s", dims: [3])],
                            outputs: [B.valueInfo("y", dims: [2, 3, 4, 5])])
        var g7 = try ONNXImport.graph(fromModelBytes: seven, file: "prelu7.onnx")
        XCTAssertThrowsError(try InferShapes().run(&g7))
    }

    func testConstantsAndTypedAttributeTensors() throws {
        let shape = B.tensor("", dims: [2], type: B.INT64, ints64: [-1, 6])
        let bytes = B.model(opset: 17,
            nodes: [B.node("Constant", [], ["shape"], attrs: [("value", .t(shape))]),
                    B.node("Reshape", ["x", "shape"], ["y"])],
            inputs: [B.valueInfo("x", dims: [2, 3, 2])], outputs: [B.valueInfo("y", dims: [2, 6])])
        let g = try ONNXImport.graph(fromModelBytes: bytes, file: "const.onnx")
        XCTAssertEqual(g.constantValue(g.nodes[1].inputs[1]!)?.int64s, [-1, 6])
        XCTAssertEqual(g.type(of: g.outputs[0])?.description, "f32[2,6]")
    }
}
