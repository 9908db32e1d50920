// LoweringPassesTests: PretransposeGemmB, FoldTransposeIntoMatMul, FuseAttention and CoerceIntegerOperands, the graph rewrites that
// `Lowering.lower` runs first (Pipelines.lowering): golden IR of each rewrite, the rewritten
// graph computing the same values as the original (scalar reference evaluator), and the error
// for a computed integer operand.

import XCTest
import GraphIR
import Kernels
import Passes
import Runtime

final class LoweringPassesTests: XCTestCase {
    /// y = relu(Gemm(x, W, b, transB)) with W read transposed by a second Gemm too, and
    /// z = y ^ 2 (an int64 exponent) + y · 3 (a Constant node int64); x is [rows, 3].
    static func graph(rows: Int = 4) -> Graph {
        var g = Graph(name: "lowering_rewrites")
        let x = g.addInput("x", TensorType(.float32, fixed: [rows, 3]))
        let w = g.addInitializer("W", Tensor(shape: [4, 3], floats: (0..<12).map { Float($0 % 5) / 4 - 0.5 }))
        let b = g.addInitializer("b", Tensor(shape: [4], floats: [0.1, -0.2, 0.3, -0.4]))
        let y = g.addNode(.gemm, [x, w, b], outputs: ["y"], attributes: ["transB": .int(1)], name: "fc")[0]
        let y2 = g.addNode(.gemm, [x, w], outputs: ["y2"], attributes: ["transB": .int(1), "alpha": .float(0.5)], name: "fc2")[0]
        let two = g.addInitializer("two", Tensor(shape: [], int64s: [2]))
        let three = g.addNode(.constant, [], outputs: ["three"], attributes: ["value": .tensor(Tensor(shape: [1], int64s: [3]))], name: "three")[0]
        let p = g.addNode(.pow, [y, two], outputs: ["p"], name: "square")[0]
        let m = g.addNode(.mul, [y2, three], outputs: ["m"], name: "triple")[0]
        g.outputs = [g.addNode(.add, [p, m], outputs: ["z"], name: "sum")[0]]
        return g
    }

    func evaluate(_ g: Graph, _ x: Tensor) throws -> [Float] { try evaluateAll(g, [x])[0] }

    /// Every output of `g` on `inputs`, by the reference evaluator.
    func evaluateAll(_ g: Graph, _ inputs: [Tensor]) throws -> [[Float]] {
        var g = g
        try InferShapes().run(&g)
        var env: [ValueID: Tensor] = g.initializers
        for (i, x) in zip(g.inputs, inputs) { env[i] = x }
        for node in g.nodes {
            let out = try ConstantEvaluator.evaluate(node, node.inputs.map { $0.flatMap { env[$0] } }, node.outputs.map { g.type(of: $0)! }, graph: g)
            for (v, t) in zip(node.outputs, out) { env[v] = t }
        }
        return g.outputs.map { env[$0]!.floats }
    }

    /// `graph` typed, then rewritten by `pass`, verified and compared with the golden IR
    /// "<graph name>.after.<pass name>": (the typed graph, the rewritten one).
    func rewrite(_ graph: Graph, by pass: Pass, file: StaticString = #filePath, line: UInt = #line) throws -> (before: Graph, after: Graph) {
        var g = graph
        try InferShapes().run(&g)
        let before = g
        try pass.run(&g)
        try g.verify()
        assertGolden(g.text(elidingAbove: nil), "\(graph.name).after.\(pass.name)", file: file, line: line)
        return (before, g)
    }

    func testPretransposeGemmB() throws {
        let (before, g) = try rewrite(Self.graph(), by: PretransposeGemmB())
        // Both Gemms read one new [3, 4] initializer holding Wᵀ and lost transB.
        let gemms = g.nodes.filter { $0.op == .gemm }
        XCTAssertEqual(gemms.count, 2)
        XCTAssertEqual(gemms[0].inputs[1], gemms[1].inputs[1])
        XCTAssertEqual(g.initializers[gemms[0].inputs[1]!]?.shape, [3, 4])
        XCTAssertTrue(gemms.allSatisfy { $0.attributes["transB"] == nil })
        let x = Tensor(shape: [4, 3], floats: [0.5, -1, 2, 0.25, 1.5, -0.75, 3, 0, -2, 1, 1, -1])
        XCTAssertEqual(try evaluate(g, x), try evaluate(before, x))
    }

    func testPretransposeGemmBKeepsSmallBatchesTransposed() throws {
        // Fewer than Gemm.smallM rows of A (batch-1 inference): the Gemms keep transB (the
        // kernel's dot-product path streams W in storage order) and no initializer is added.
        for rows in 1..<Gemm.smallM {
            var g = Self.graph(rows: rows)
            try InferShapes().run(&g)
            let before = g
            try PretransposeGemmB().run(&g)
            XCTAssertEqual(g.text(elidingAbove: nil), before.text(elidingAbove: nil), "rows \(rows)")
        }
    }

    /// Self-attention as the exporters write it: s = softmax(Q · Transpose(K, [0, 2, 1])),
    /// o = s · V, then Transpose(o, [0, 2, 1]) · W and W2 · Transpose(o) again (the second
    /// transpose has two readers, one of them a graph output; a rank-2 Transpose without perm
    /// reverses, i.e. swaps); a Transpose that is not a swap of the last two axes stays.
    static func attentionGraph() -> Graph {
        var g = Graph(name: "attention")
        let q = g.addInput("q", TensorType(.float32, fixed: [2, 3, 4]))
        let k = g.addInput("k", TensorType(.float32, fixed: [2, 5, 4]))
        let v = g.addInput("v", TensorType(.float32, fixed: [2, 5, 3]))
        let kt = g.addNode(.transpose, [k], outputs: ["kt"], attributes: ["perm": .ints([0, 2, 1])], name: "kT")[0]
        let sc = g.addNode(.matMul, [q, kt], outputs: ["scores"], name: "qk")[0]
        let sm = g.addNode(.softmax, [sc], outputs: ["attn"], attributes: ["axis": .int(-1)], name: "softmax")[0]
        let o = g.addNode(.matMul, [sm, v], outputs: ["o"], name: "av")[0]
        let ot = g.addNode(.transpose, [o], outputs: ["ot"], attributes: ["perm": .ints([0, 2, 1])], name: "oT")[0]
        let w = g.addInitializer("W", Tensor(shape: [3, 2], floats: [0.5, -1, 0.25, 2, -0.75, 1]))
        let y = g.addNode(.matMul, [ot, w], outputs: ["y"], name: "proj")[0]
        let w2 = g.addInitializer("W2", Tensor(shape: [2, 3, 3], floats: (0..<18).map { Float($0 % 7) / 3 - 1 }))
        let w2t = g.addNode(.transpose, [w2], outputs: ["w2t"], attributes: ["perm": .ints([0, 2, 1])], name: "w2T")[0]
        let z = g.addNode(.matMul, [w2t, ot], outputs: ["z"], name: "mix")[0]
        let m = g.addInitializer("M", Tensor(shape: [5, 3], floats: (0..<15).map { Float($0 % 5) / 2 - 1 }))
        let mt = g.addNode(.transpose, [m], outputs: ["mt"], name: "mT")[0]
        let zm = g.addNode(.matMul, [z, mt], outputs: ["zm"], name: "zm")[0]
        let r = g.addNode(.transpose, [zm], outputs: ["r"], attributes: ["perm": .ints([2, 1, 0])], name: "notASwap")[0]
        g.outputs = [y, r, ot]
        return g
    }

    func testFoldTransposeIntoMatMul() throws {
        let (before, g) = try rewrite(Self.attentionGraph(), by: FoldTransposeIntoMatMul())
        // kT, w2T and mT are gone; oT stays (a graph output), notASwap stays.
        XCTAssertEqual(g.nodes.filter { $0.op == .transpose }.map(\.name), ["oT", "notASwap"])
        let mm = Dictionary(uniqueKeysWithValues: g.nodes.filter { $0.op == .matMul }.map { ($0.name, $0) })
        XCTAssertEqual(mm["qk"]!.attributes["transB"], .int(1))
        XCTAssertEqual(mm["proj"]!.attributes["transA"], .int(1))
        XCTAssertEqual(mm["mix"]!.attributes["transA"], .int(1))
        XCTAssertEqual(mm["mix"]!.attributes["transB"], .int(1))
        XCTAssertEqual(mm["zm"]!.attributes["transB"], .int(1))
        XCTAssertNil(mm["av"]!.attributes["transA"])
        // Same values (the reference evaluator honours transA / transB), output by output.
        let inputs = [Tensor(shape: [2, 3, 4], floats: (0..<24).map { Float($0 % 5) / 4 - 0.5 }),
                      Tensor(shape: [2, 5, 4], floats: (0..<40).map { Float($0 % 7) / 5 - 0.6 }),
                      Tensor(shape: [2, 5, 3], floats: (0..<30).map { Float($0 % 3) - 1 })]
        let want = try evaluateAll(before, inputs), got = try evaluateAll(g, inputs)
        for (a, b) in zip(got, want) { XCTAssertEqual(a, b) }
    }

    /// The attention graph after FoldTransposeIntoMatMul: qk → softmax → av becomes one
    /// FusedAttention (P·V form, B read transposed), the same values by the reference evaluator
    /// and, lowered, by the kernel; the projections stay MatMuls.
    func testFuseAttention() throws {
        var folded = Self.attentionGraph()
        try InferShapes().run(&folded)
        let before = folded
        try FoldTransposeIntoMatMul().run(&folded)
        folded.name = "attention_folded"
        let (_, g) = try rewrite(folded, by: FuseAttention())
        XCTAssertEqual(g.nodes.filter { $0.op == .fusedAttention }.map(\.name), ["av"])
        XCTAssertFalse(g.nodes.contains { $0.op == .softmax || $0.name == "qk" })
        let fused = g.nodes.first { $0.op == .fusedAttention }!
        XCTAssertEqual(fused.attributes["transB"], .int(1))
        XCTAssertEqual(fused.attributes["value_first"], .int(0))
        let inputs = [Tensor(shape: [2, 3, 4], floats: (0..<24).map { Float($0 % 5) / 4 - 0.5 }),
                      Tensor(shape: [2, 5, 4], floats: (0..<40).map { Float($0 % 7) / 5 - 0.6 }),
                      Tensor(shape: [2, 5, 3], floats: (0..<30).map { Float($0 % 3) - 1 })]
        let want = try evaluateAll(before, inputs)
        for (a, b) in zip(try evaluateAll(g, inputs), want) { XCTAssertEqual(a, b) }
        let lowered = try Session(graph: before, threads: 2).run(inputs)
        for (a, b) in zip(lowered, want) { KNear(a.floats, b) }
    }

    /// SAGAN's form: O = V · Transpose(Softmax(Transpose(Q) · K)) fuses with value_first; a
    /// Softmax not over the last axis, one with a second reader, scores with a second reader and
    /// a broadcast batch do not fuse. Lowered values match the reference evaluator.
    func testFuseAttentionValueFirstAndWhatItLeaves() throws {
        func sagan(axis: Int = -1, readP: Bool = false, readS: Bool = false, vBatch: Int = 2) -> Graph {
            var g = Graph(name: "sagan_attention")
            let q = g.addInput("q", TensorType(.float32, fixed: [2, 2, 6]))
            let k = g.addInput("k", TensorType(.float32, fixed: [2, 2, 6]))
            let v = g.addInput("v", TensorType(.float32, fixed: [vBatch, 4, 6]))
            let qt = g.addNode(.transpose, [q], outputs: ["qt"], attributes: ["perm": .ints([0, 2, 1])], name: "qT")[0]
            let s = g.addNode(.matMul, [qt, k], outputs: ["s"], name: "energy")[0]
            let p = g.addNode(.softmax, [s], outputs: ["p"], attributes: ["axis": .int(axis)], name: "softmax")[0]
            let pt = g.addNode(.transpose, [p], outputs: ["pt"], attributes: ["perm": .ints([0, 2, 1])], name: "pT")[0]
            g.outputs = g.addNode(.matMul, [v, pt], outputs: ["o"], name: "out")
            if readP { g.outputs.append(g.addNode(.relu, [p], outputs: ["rp"], name: "readP")[0]) }
            if readS { g.outputs.append(s) }
            return g
        }
        let inputs = { (vBatch: Int) in [Tensor(shape: [2, 2, 6], floats: (0..<24).map { Float($0 % 7) / 3 - 1 }),
                                           Tensor(shape: [2, 2, 6], floats: (0..<24).map { Float($0 % 5) / 2 - 1 }),
                                           Tensor(shape: [vBatch, 4, 6], floats: (0..<(vBatch * 24)).map { Float($0 % 9) / 4 - 1 })] }
        for (graph, fuses, vBatch) in [(sagan(), true, 2), (sagan(axis: 1), false, 2), (sagan(readP: true), false, 2),
                                       (sagan(readS: true), false, 2), (sagan(vBatch: 1), false, 1)] {
            var g = graph
            try InferShapes().run(&g)
            let before = g
            try FoldTransposeIntoMatMul().run(&g)
            try FuseAttention().run(&g)
            try g.verify()
            let fused = g.nodes.filter { $0.op == .fusedAttention }
            XCTAssertEqual(fused.count, fuses ? 1 : 0, "\(g.nodes.map(\.op.rawValue))")
            if fuses {
                XCTAssertEqual(fused[0].attributes["value_first"], .int(1))
                XCTAssertEqual(fused[0].attributes["transA"], .int(1))
            }
            let want = try evaluateAll(before, inputs(vBatch))
            for (a, b) in zip(try Session(graph: before, threads: 2).run(inputs(vBatch)), want) { KNear(a.floats, b) }
        }
    }

    func testCoerceIntegerOperands() throws {
        let (before, g) = try rewrite(Self.graph(), by: CoerceIntegerOperands())
        for n in g.nodes where [.pow, .mul].contains(n.op) {
            let t = try XCTUnwrap(g.initializers[n.inputs[1]!], "\(n.name) reads a float initializer")
            XCTAssertEqual(t.dtype, .float32)
        }
        let x = Tensor(shape: [4, 3], floats: [0.5, -1, 2, 0.25, 1.5, -0.75, 3, 0, -2, 1, 1, -1])
        XCTAssertEqual(try evaluate(g, x), try evaluate(before, x))
    }

    func testComputedIntegerOperandIsCastToFloat() throws {
        var g = Graph(name: "computed_exponent")
        let x = g.addInput("x", TensorType(.float32, fixed: [2]))
        let e = g.addInput("e", TensorType(.int64, fixed: [2]))
        let y = g.addNode(.pow, [x, e], outputs: ["y"], name: "p")[0]
        g.outputs = [g.addNode(.mul, [y, e], outputs: ["z"], name: "m")[0]]
        try InferShapes().run(&g)
        try CoerceIntegerOperands().run(&g)
        try g.verify()
        XCTAssertEqual(g.nodes.map(\.op), [.cast, .pow, .mul], "one Cast, placed before its first reader")
        let cast = g.nodes[0]
        XCTAssertEqual(cast.inputs, [e])
        XCTAssertEqual(cast.attributes["to"], .int(1))
        XCTAssertEqual(g.type(of: cast.outputs[0]), TensorType(.float32, fixed: [2]))
        XCTAssertEqual(g.nodes[1].inputs[1], cast.outputs[0])
        XCTAssertEqual(g.nodes[2].inputs[1], cast.outputs[0])
        var env: [ValueID: Tensor] = [x: Tensor(shape: [2], floats: [1.5, -2]), e: Tensor(shape: [2], int64s: [2, 3])]
        for node in g.nodes {
            let out = try ConstantEvaluator.evaluate(node, node.inputs.map { $0.flatMap { env[$0] } }, node.outputs.map { g.type(of: $0)! }, graph: g)
            for (v, t) in zip(node.outputs, out) { env[v] = t }
        }
        XCTAssertEqual(env[g.outputs[0]]?.floats, [2.25 * 2, -8 * 3])
    }
}

/// |a − b| ≤ 1e-6 + 1e-5·|b| elementwise.
func KNear(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) where !(abs(x - y) <= 1e-6 + 1e-5 * abs(y)) {
        XCTFail("\(x) against \(y)", file: file, line: line)
        return
    }
}
