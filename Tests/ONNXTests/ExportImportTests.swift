import Foundation
import GraphIR
import ONNX
import Passes
import XCTest

final class ExportImportTests: XCTestCase {
    /// A small typed conv discriminator: Conv → LeakyRelu → BN → Flatten → Gemm → Sigmoid.
    static func convGraph() -> Graph {
        var g = Graph(name: "disc")
        g.docString = "a test discriminator"
        g.metadata = ["gannet.spec": "mnist_gan", "epoch": "3"]
        let x = g.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(1), .fixed(4), .fixed(4)]))
        let w = g.addInitializer("w", Tensor(shape: [2, 1, 3, 3], floats: (0..<18).map { Float($0) / 10 }))
        let b = g.addInitializer("b", Tensor(shape: [2], floats: [0.5, -0.5]))
        let scale = g.addInitializer("bn.scale", Tensor(shape: [2], floats: [1, 2]))
        let bias = g.addInitializer("bn.bias", Tensor(shape: [2], floats: [0, 1]))
        let mean = g.addInitializer("bn.mean", Tensor(shape: [2], floats: [0.1, 0.2]))
        let variance = g.addInitializer("bn.var", Tensor(shape: [2], floats: [1, 0.5]))
        let fw = g.addInitializer("fc.w", Tensor(shape: [1, 8], floats: (0..<8).map { Float($0) - 4 }))
        let c = g.add(.conv, x, w, b, output: "c", attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])])
        let l = g.add(.leakyRelu, c, output: "l", attributes: ["alpha": .float(0.2)])
        let n = g.add(.batchNormalization, l, scale, bias, mean, variance, output: "n", attributes: ["epsilon": .float(1e-5)])
        let f = g.add(.flatten, n, output: "f", attributes: ["axis": .int(1)])
        let y = g.add(.gemm, f, fw, output: "y", attributes: ["transB": .int(1)])
        let p = g.add(.sigmoid, y, output: "p")
        g.nodes[0].name = "conv1"
        for (v, shape) in [(c, [2, 2, 2]), (l, [2, 2, 2]), (n, [2, 2, 2])] {
            g[v].type = TensorType(.float32, [.symbol("N")] + shape.map { .fixed($0) })
        }
        g[f].type = TensorType(.float32, [.symbol("N"), .fixed(8)])
        g[y].type = TensorType(.float32, [.symbol("N"), .fixed(1)])
        g[p].type = TensorType(.float32, [.symbol("N"), .fixed(1)])
        g.outputs = [p]
        return g
    }

    func testConvGraphRoundTrip() throws {
        let g = Self.convGraph()
        try g.verify()
        let bytes = try ONNXExport.modelBytes(g)
        let back = try ONNXImport.graph(fromModelBytes: bytes, file: "disc.onnx")
        XCTAssertEqual(back.text, g.text)
        XCTAssertEqual(ONNXImport.opset(fromModelBytes: bytes), 17)
    }

    func testFileRoundTripAndAttributeForms() throws {
        var g = Graph(name: "shapes")
        let x = g.addInput("x", TensorType(.float32, [.symbol("batch"), .fixed(6)]))
        func ints(_ name: String, _ v: [Int64]) -> ValueID { g.addInitializer(name, Tensor(shape: [v.count], int64s: v)) }
        let u = g.addNode(.unsqueeze, [x, ints("u_axes", [1])], outputs: ["u"])[0]
        let r = g.addNode(.reduceMean, [u, ints("r_axes", [2])], outputs: ["r"], attributes: ["keepdims": .int(0)])[0]
        let s = g.addNode(.slice, [r, ints("s_starts", [0]), ints("s_ends", [1]), ints("s_axes", [0])], outputs: ["s"])[0]
        let k = g.add(.leakyRelu, s, output: "k", attributes: ["alpha": .int(1)])
        g[k].type = TensorType(.float32, [.fixed(1), .fixed(1)])
        g.outputs = [k]
        let path = NSTemporaryDirectory() + "gannet-export-\(getpid()).onnx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for opset in [13, 17, 18] {
            try ONNXExport.write(g, to: path, opset: opset)
            let back = try ONNXImport.graph(path: path)
            XCTAssertEqual(back.nodes.map(\.op), [.unsqueeze, .reduceMean, .slice, .leakyRelu])
            XCTAssertNil(back.nodes[0].attributes["axes"], "opset \(opset): Unsqueeze axes become an input")
            XCTAssertEqual(back.constantValue(back.nodes[0].inputs[1]!)?.int64s, [1])
            XCTAssertEqual(back.nodes[2].inputs.count, 4)
            XCTAssertEqual(back.nodes[3].attributes["alpha"], .float(1))
            // Written as the attribute before opset 18 and as an input from 18; read back as the input either way.
            XCTAssertNil(back.nodes[1].attributes["axes"])
            XCTAssertEqual(back.constantValue(back.nodes[1].inputs[1]!)?.int64s, [2])
        }
        XCTAssertThrowsError(try ONNXExport.modelBytes(g, opset: 9))
    }

    /// The element-wise activations of issue 14 are written as the standard ops with their
    /// attributes and read back unchanged; Gelu needs opset 20.
    func testActivationsRoundTrip() throws {
        var g = Graph(name: "acts")
        var v = g.addInput("x", TensorType(.float32, [.symbol("batch"), .fixed(4)]))
        let ops: [(Op, [String: Attribute])] = [
            (.elu, ["alpha": .float(0.5)]), (.selu, ["alpha": .float(1.5), "gamma": .float(1.1)]), (.erf, [:]),
            (.hardSigmoid, ["alpha": .float(0.3), "beta": .float(0.4)]), (.hardSwish, [:]), (.gelu, ["approximate": .string("tanh")]),
        ]
        for (k, (op, attrs)) in ops.enumerated() { v = g.add(op, v, output: "a\(k)", attributes: attrs) }
        let lo = g.addInitializer("lo", Tensor(shape: [], floats: [-1]))
        v = g.addNode(.clip, [v, lo], outputs: ["clipped"])[0]
        g.outputs = [v]
        try InferShapes().run(&g)
        let back = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(g, opset: 20), file: "acts.onnx")
        XCTAssertEqual(back.text, g.text)
        XCTAssertThrowsError(try ONNXExport.modelBytes(g, opset: 19)) { e in
            XCTAssertTrue("\(e)".contains("opset 20"), "\(e)")
        }
    }

    /// Every point-wise function (default attributes) is written as its standard op and read back
    /// unchanged at the newest opset, and refused below its `onnxSince` when that is ≥ 13.
    func testEveryPointwiseFunctionRoundTrips() throws {
        var g = Graph(name: "pointwise")
        var v = g.addInput("x", TensorType(.float32, [.symbol("batch"), .fixed(4)]))
        let c = g.addInitializer("c", Tensor(shape: [4], floats: [0.5, 1, 1.5, 2]))
        for f in UnaryFunction.allCases { v = g.add(.unary(f), v, output: "u.\(f.rawValue)") }
        for f in BinaryFunction.allCases { v = g.add(.binary(f), v, c, output: "b.\(f.rawValue)") }
        g.outputs = [v]
        try InferShapes().run(&g)
        let back = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(g, opset: ONNXExport.supportedOpsets.upperBound), file: "pw.onnx")
        XCTAssertEqual(back.text, g.text)
        for op in UnaryFunction.allCases.filter({ $0.onnxSince > 13 }) {
            var h = Graph(name: op.rawValue)
            let x = h.addInput("x", TensorType(.float32, [.fixed(4)]))
            h.outputs = [h.add(.unary(op), x, output: "y")]
            try InferShapes().run(&h)
            XCTAssertThrowsError(try ONNXExport.modelBytes(h, opset: op.onnxSince - 1), op.rawValue) { e in
                XCTAssertTrue("\(e)".contains("opset \(op.onnxSince)"), "\(e)")
            }
            XCTAssertNoThrow(try ONNXExport.modelBytes(h, opset: op.onnxSince), op.rawValue)
        }
    }

    /// Sum, Max, Min, Mean (one to three inputs) and PRelu are written as the standard ops.
    func testVariadicAndPReluRoundTrip() throws {
        var g = Graph(name: "variadic")
        let x = g.addInput("x", TensorType(.float32, [.symbol("batch"), .fixed(4)]))
        let r = g.addInput("r", TensorType(.float32, [.fixed(4)]))
        let s = g.addNode(.sum, [x, r, x], outputs: ["s"])[0]
        let m = g.addNode(.max, [s], outputs: ["m"])[0]
        let n = g.addNode(.min, [m, r], outputs: ["n"])[0]
        let a = g.addNode(.mean, [n, x, r], outputs: ["a"])[0]
        g.outputs = g.addNode(.prelu, [a, r], outputs: ["p"])
        try InferShapes().run(&g)
        let back = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(g), file: "variadic.onnx")
        XCTAssertEqual(back.text, g.text)
        XCTAssertEqual(back.nodes.map { $0.inputs.count }, [3, 1, 2, 3, 2])
    }

    /// Shape/Size/ConstantOfShape/Cast, the Reduce* ops, LRN and GlobalMaxPool (issue 14) round-trip at opset
    /// 18 (axes as inputs) and 17 (axes attributes, read back as inputs); Shape's start/end
    /// needs opset 15.
    func testModelOpsRoundTrip() throws {
        var g = Graph(name: "model ops")
        let x = g.addInput("x", TensorType(.float32, [.symbol("batch"), .fixed(3), .fixed(4), .fixed(5)]))
        let l = g.add(.lrn, x, output: "l", attributes: ["size": .int(3), "alpha": .float(1e-4), "beta": .float(0.75), "bias": .float(1)])
        let c = g.add(.cast, l, output: "c", attributes: ["to": .int(10)])
        let p = g.add(.globalMaxPool, c, output: "p")
        let axes = g.addInitializer("axes", Tensor(shape: [2], int64s: [1, -1]))
        let reds = [Op.reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd].map {
            g.add($0, c, axes, output: "r.\($0.rawValue)", attributes: ["keepdims": .int(0)])
        }
        let sh = g.add(.shape, p, output: "sh", attributes: ["start": .int(1)])
        let sz = g.add(.size, x, output: "sz")
        let fillShape = g.addInitializer("fill_shape", Tensor(shape: [2], int64s: [2, 3]))
        let fill = g.add(.constantOfShape, fillShape, output: "fill", attributes: ["value": .tensor(Tensor(shape: [1], int64s: [5]))])
        g.outputs = reds + [sh, sz, fill]
        try InferShapes().run(&g)
        let back = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(g, opset: 18), file: "ops.onnx")
        XCTAssertEqual(back.text, g.text)
        let back17 = try ONNXImport.graph(fromModelBytes: try ONNXExport.modelBytes(g, opset: 17), file: "ops17.onnx")
        var again = back17
        try InferShapes().run(&again)
        XCTAssertEqual(reds.indices.map { again.type(of: again.outputs[$0])?.description },
                       reds.map { g.type(of: $0)?.description })
        XCTAssertThrowsError(try ONNXExport.modelBytes(g, opset: 14)) { e in
            XCTAssertTrue("\(e)".contains("opset 15"), "\(e)")
        }
    }

    func testExportNeedsOutputTypes() {
        var g = Graph(name: "untyped")
        let x = g.addInput("x", TensorType(.float32, fixed: [2]))
        g.outputs = [g.add(.relu, x, output: "y")]
        XCTAssertThrowsError(try ONNXExport.modelBytes(g)) { e in
            XCTAssertTrue("\(e)".contains("'y' has no type"), "\(e)")
        }
    }
}
