// ZooImportTests: the import/runtime gaps that PyTorch exports of real architectures hit
// (Tools/interop/zoo.sh, issue 14 item 3), each as a small hand-made ONNX model run in a Session
// and compared with values computed here:
// - Reciprocal (the dynamo exporter writes rsqrt as Reciprocal(Sqrt(x)): StyleGAN's PixelNorm
//   and weight demodulation);
// - shape operands computed from constants by data-movement ops: TorchScript's ReflectionPad2d
//   builds its pads with ConstantOfShape → Concat → Reshape → Slice → Transpose → Reshape → Cast
//   (CycleGAN's ResNet generator);
// - TorchScript's `x.view(x.size(0), -1)`: Shape → Gather → Unsqueeze → Concat → Reshape on a
//   dynamic batch, which folds to a constant Reshape shape once a Session binds the batch
//   (SAGAN, ShuffleNet, StyleGAN);
// - ConstantOfShape and the Equal/Where around it on shape values computed from the batch
//   (TorchScript's `expand`/`repeat` of StyleGAN's learned constant): IR ops that InferShapes
//   evaluates and FoldConstants folds once a Session binds the batch.

import Foundation
import GraphIR
import ONNX
import Passes
import Runtime
import XCTest

final class ZooImportTests: XCTestCase {
    typealias B = ONNXBytes

    static func ints(_ name: String, _ v: [Int64]) -> PB { B.tensor(name, dims: [Int64(v.count)], type: B.INT64, ints64: v) }

    func testReciprocalOfSqrt() throws {
        let bytes = B.model(opset: 18, nodes: [B.node("Sqrt", ["x"], ["s"]), B.node("Reciprocal", ["s"], ["y"], name: "rsqrt")],
                            inputs: [B.valueInfo("x", dims: ["N", 3])], outputs: [B.valueInfo("y", dims: ["N", 3])])
        let g = try ONNXImport.graph(fromModelBytes: bytes, file: "rsqrt.onnx")
        XCTAssertEqual(g.nodes.map(\.op), [.sqrt, .reciprocal])
        let x: [Float] = [0.25, 1, 4, 9, 16, 0.01]
        let y = try Session(graph: g).run(["x": Tensor(shape: [2, 3], floats: x)])["y"]!
        XCTAssertEqual(y.shape, [2, 3])
        for (a, b) in zip(y.floats, x) { XCTAssertEqual(a, 1 / b.squareRoot(), accuracy: 1e-6 * (1 / b.squareRoot())) }
    }

    func testReflectPadWithPadsComputedFromConstants() throws {
        // pads [1, 2] for the last two dims (torch order: W left/right = 1, H top/bottom = 2) →
        // ONNX [0, 0, 2, 1, 0, 0, 2, 1], computed as the TorchScript exporter does.
        let bytes = B.model(opset: 17, nodes: [
            B.node("ConstantOfShape", ["four"], ["zeros"], attrs: [("value", .t(B.tensor("", dims: [1], type: B.INT64, ints64: [0])))]),
            B.node("Concat", ["torch_pads", "zeros"], ["p8"], attrs: [("axis", .i(0))]),
            B.node("Reshape", ["p8", "shape_4x2"], ["p42"]),
            B.node("Slice", ["p42", "start", "end", "axes0", "step"], ["rev"]),
            B.node("Transpose", ["rev"], ["tr"], attrs: [("perm", .ints([1, 0]))]),
            B.node("Reshape", ["tr", "shape_8"], ["p"]),
            B.node("Cast", ["p"], ["pads"], attrs: [("to", .i(B.INT64))]),
            B.node("Pad", ["x", "pads"], ["y"], name: "reflect", attrs: [("mode", .s("reflect"))])],
            inputs: [B.valueInfo("x", dims: ["N", 1, 3, 3])], outputs: [B.valueInfo("y", dims: ["N", 1, 7, 5])],
            initializers: [Self.ints("four", [4]), Self.ints("torch_pads", [1, 1, 2, 2]), Self.ints("shape_4x2", [-1, 2]),
                           Self.ints("start", [-1]), Self.ints("end", [-9_223_372_036_854_775_807]), Self.ints("axes0", [0]),
                           Self.ints("step", [-1]), Self.ints("shape_8", [-1])])
        let session = try Session(graph: try ONNXImport.graph(fromModelBytes: bytes, file: "reflect.onnx"))
        let x: [Float] = (0..<18).map { Float($0) }
        let y = try session.run(["x": Tensor(shape: [2, 1, 3, 3], floats: x)])["y"]!
        XCTAssertEqual(y.shape, [2, 1, 7, 5])
        // Reflection: index -k → k, 2+k → 2-k.
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        var want: [Float] = []
        for b in 0..<2 {
            for h in -2..<5 { for w in -1..<4 { want.append(x[b * 9 + reflect(h, 3) * 3 + reflect(w, 3)]) } }
        }
        XCTAssertEqual(y.floats, want)
    }

    func testViewOnTheBatchFromShapeArithmetic() throws {
        // y = x.view(x.size(0), -1) @ w, with x [N, 3, 2, 2] and w [12, 2], as TorchScript writes it.
        let w: [Float] = (0..<24).map { Float($0 % 7) * 0.25 - 0.5 }
        let bytes = B.model(opset: 17, nodes: [
            B.node("Shape", ["x"], ["shape"]),
            B.node("Gather", ["shape", "zero"], ["n"], attrs: [("axis", .i(0))]),
            B.node("Unsqueeze", ["n", "axes0"], ["n1"]),
            B.node("Concat", ["n1", "minus1"], ["view"], attrs: [("axis", .i(0))]),
            B.node("Reshape", ["x", "view"], ["flat"], name: "view"),
            B.node("MatMul", ["flat", "w"], ["y"])],
            inputs: [B.valueInfo("x", dims: ["N", 3, 2, 2])], outputs: [B.valueInfo("y", dims: ["N", 2])],
            initializers: [B.tensor("zero", dims: [], type: B.INT64, ints64: [0]), Self.ints("axes0", [0]),
                           Self.ints("minus1", [-1]), B.tensor("w", dims: [12, 2], type: B.FLOAT, floats: w)])
        let session = try Session(graph: try ONNXImport.graph(fromModelBytes: bytes, file: "view.onnx"))
        for n in [2, 5] {
            let x: [Float] = (0..<(n * 12)).map { Float(($0 * 5) % 11) * 0.125 - 0.5 }
            let y = try session.run(["x": Tensor(shape: [n, 3, 2, 2], floats: x)])["y"]!
            XCTAssertEqual(y.shape, [n, 2])
            for r in 0..<n {
                for c in 0..<2 {
                    let want = (0..<12).reduce(Float(0)) { $0 + x[r * 12 + $1] * w[$1 * 2 + c] }
                    XCTAssertEqual(y.floats[r * 2 + c], want, accuracy: 1e-5, "batch \(n) row \(r) col \(c)")
                }
            }
        }
        XCTAssertEqual(session.compiledCount, 2)
    }

    func testConstantOfShapeOnTheBatch() throws {
        // y = x · ConstantOfShape([N, 2, 1], 0.5) + c.expand(N, -1, -1), with x [N, 2, 3] and
        // c [1, 2, 3]; the expand's shape as TorchScript writes it: ones = ConstantOfShape([3], 1),
        // Where(Equal(shape, ones · -1), ones, shape).
        let c: [Float] = [0.25, -1, 2, 0.5, 3, -0.75]
        let bytes = B.model(opset: 17, nodes: [
            B.node("Shape", ["x"], ["shape"]),
            B.node("Gather", ["shape", "zero"], ["n"], attrs: [("axis", .i(0))]),
            B.node("Unsqueeze", ["n", "axes0"], ["n1"]),
            B.node("Concat", ["n1", "two_one"], ["fill_shape"], attrs: [("axis", .i(0))]),
            B.node("ConstantOfShape", ["fill_shape"], ["half"], name: "fill",
                   attrs: [("value", .t(B.tensor("", dims: [1], type: B.FLOAT, floats: [0.5])))]),
            B.node("Concat", ["n1", "minus1x2"], ["view"], attrs: [("axis", .i(0))]),
            B.node("ConstantOfShape", ["three"], ["ones"], name: "ones",
                   attrs: [("value", .t(B.tensor("", dims: [1], type: B.INT64, ints64: [1])))]),
            B.node("Mul", ["ones", "minus1"], ["neg"]),
            B.node("Equal", ["view", "neg"], ["is_neg"]),
            B.node("Where", ["is_neg", "ones", "view"], ["target"]),
            B.node("Expand", ["c", "target"], ["e"], name: "expand"),
            B.node("Mul", ["x", "half"], ["xh"]),
            B.node("Add", ["xh", "e"], ["y"])],
            inputs: [B.valueInfo("x", dims: ["N", 2, 3])], outputs: [B.valueInfo("y", dims: ["N", 2, 3])],
            initializers: [B.tensor("zero", dims: [], type: B.INT64, ints64: [0]), Self.ints("axes0", [0]),
                           Self.ints("two_one", [2, 1]), Self.ints("minus1x2", [-1, -1]), Self.ints("three", [3]),
                           B.tensor("minus1", dims: [], type: B.INT64, ints64: [-1]),
                           B.tensor("c", dims: [1, 2, 3], type: B.FLOAT, floats: c)])
        let graph = try ONNXImport.graph(fromModelBytes: bytes, file: "fill.onnx")
        XCTAssertEqual(graph.nodes.filter { $0.op == .constantOfShape }.map(\.name), ["fill", "ones"])
        // Once the batch is bound, the shape arithmetic folds away: only the float math is left.
        var bound = try Session.bind(graph, [[4, 2, 3]])
        try Pipelines.run(Pipelines.inferenceUnfused, on: &bound)
        XCTAssertEqual(bound.nodes.map(\.op), [.mul, .add])
        let session = try Session(graph: graph)
        for n in [2, 5] {
            let x: [Float] = (0..<(n * 6)).map { Float(($0 * 7) % 13) * 0.25 - 1.5 }
            let y = try session.run(["x": Tensor(shape: [n, 2, 3], floats: x)])["y"]!
            XCTAssertEqual(y.shape, [n, 2, 3])
            XCTAssertEqual(y.floats, x.indices.map { x[$0] * 0.5 + c[$0 % 6] }, "batch \(n)")
        }
        XCTAssertEqual(session.compiledCount, 2)
    }

    /// A ConstantOfShape left in the graph (no FoldConstants) lowers to its constant.
    func testConstantOfShapeLowersToAConstant() throws {
        let bytes = B.model(opset: 17, nodes: [
            B.node("ConstantOfShape", ["shape"], ["k"], attrs: [("value", .t(B.tensor("", dims: [1], type: B.FLOAT, floats: [-2])))]),
            B.node("Add", ["x", "k"], ["y"])],
            inputs: [B.valueInfo("x", dims: ["N", 3])], outputs: [B.valueInfo("y", dims: ["N", 3])],
            initializers: [Self.ints("shape", [1, 3])])
        let session = try Session(graph: try ONNXImport.graph(fromModelBytes: bytes, file: "k.onnx"), passes: [InferShapes()])
        let y = try session.run(["x": Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])])["y"]!
        XCTAssertEqual(y, Tensor(shape: [2, 3], floats: [-1, 0, 1, 2, 3, 4]))
    }
}
