// Dropout's shape rule, constant evaluation and lowering (inference: the identity).

import GraphIR
import Passes
import Runtime
import XCTest

final class DropoutShapeTests: XCTestCase {
    func testInferShapesAndLowering() throws {
        var g = Graph(name: "d")
        let x = g.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(3), .fixed(2)]))
        let r = g.addInitializer("ratio", Tensor(shape: [], floats: [0.5]))
        let t = g.addInitializer("training_mode", Tensor(shape: [], int64s: [0], dtype: .bool))
        let outs = g.addNode(.dropout, [x, r, t], outputs: ["y", "mask"], name: "drop")
        g.outputs = outs
        try InferShapes().run(&g)
        XCTAssertEqual(g.type(of: outs[0]), TensorType(.float32, [.symbol("N"), .fixed(3), .fixed(2)]))
        XCTAssertEqual(g.type(of: outs[1]), TensorType(.bool, [.symbol("N"), .fixed(3), .fixed(2)]))
        let xs = Tensor(shape: [2, 3, 2], floats: (0..<12).map { Float($0) * 0.5 })
        let got = try Session(graph: g).run(["x": xs])
        XCTAssertEqual(got["y"], xs)
        XCTAssertEqual(got["mask"]?.int64s, [Int64](repeating: 1, count: 12))
        let ev = try ConstantEvaluator.evaluate(g.nodes[0], [xs, nil, nil], [xs.type, TensorType(.bool, fixed: [2, 3, 2])], graph: g)
        XCTAssertEqual(ev[0], xs)

        var bad = g
        bad.nodes[0].inputs[1] = bad.addInitializer("r64", Tensor(shape: [1], int64s: [1]))
        XCTAssertThrowsError(try InferShapes().run(&bad))
    }
}
