import XCTest
import GraphIR
import Passes
import Runtime

/// CombineSharedOperandGemms on a discriminator applied to several batches, as in a GAN's D
/// step: golden IR, structure (one GEMM per shared weight forward and backward, one weight-
/// gradient GEMM instead of GEMMs plus Adds, no Concat left unread), the cost rule (a small
/// weight stays separate), dependent GEMMs left alone, and numerics — forward outputs and input
/// gradients bit-identical to the separate GEMMs, weight gradients within 1e-5 relative.
final class CombineSharedOperandGemmsTests: XCTestCase {
    /// x_i (rows_i × 40) → Gemm(w1 48×40, b1, transB) → LeakyRelu(0.2) → Gemm(w2 3×48, transB)
    /// for each batch, the scores concatenated. w2 is too small to pay for the copies.
    static func discriminator(batches rows: [Int]) -> (Graph, [ValueID]) {
        var t = TrainingGraph(name: "shared_weight_discriminator")
        let xs = rows.enumerated().map { t.param("x\($0.offset)", [$0.element, 40]) }
        let w1 = t.param("fc1.weight", [48, 40]), b1 = t.param("fc1.bias", [48]), w2 = t.param("fc2.weight", [3, 48])
        var scores: [ValueID] = []
        for (i, x) in xs.enumerated() {
            var h = t.g.addNode(.gemm, [x, w1, b1], outputs: ["fc1_\(i)"], attributes: ["transB": .int(1)], name: "fc1_\(i)")[0]
            h = t.g.add(.leakyRelu, h, output: "lrelu_\(i)", attributes: ["alpha": .float(0.2)])
            scores.append(t.g.addNode(.gemm, [h, w2], outputs: ["fc2_\(i)"], attributes: ["transB": .int(1)], name: "fc2_\(i)")[0])
        }
        t.g.outputs = [t.g.addNode(.concat, scores, outputs: ["scores"], attributes: ["axis": .int(0)])[0]]
        return (t.g, t.params)
    }

    func gemms(_ g: Graph, reading name: String) -> [Node] {
        g.nodes.filter { n in n.op == .gemm && n.inputs.contains { $0.map { g.name(of: $0) } == name } }
    }

    func testGoldenAndStructure() throws {
        var graph: Graph?
        _ = try trainingGradients({ Self.discriminator(batches: [6, 5]) }, passes: [InferShapes()], createGraph: false,
                                  doubleBackward: false, afterAutodiff: [CombineSharedOperandGemms()], seed: 3) { graph = $0 }
        let g = try XCTUnwrap(graph)
        try g.verify()
        assertGolden(g.text, "shared_weight_discriminator.after.CombineSharedOperandGemms")
        // w1: one forward GEMM (11 rows) and one input-gradient GEMM; w2 stays two and two.
        XCTAssertEqual(gemms(g, reading: "fc1.weight").count, 2)
        XCTAssertEqual(gemms(g, reading: "fc2.weight").count, 4)
        // w1's gradient: one GEMM over both batches' 11 rows, no Add of two GEMMs.
        let producer = g.producers()
        for n in g.nodes where n.op == .add {
            let both = n.inputs.compactMap { $0 }.allSatisfy { v in producer[v].map { g.nodes[$0].op == .gemm } ?? false }
            if both { XCTAssertNotEqual(g.type(of: n.outputs[0])?.fixedShape, [48, 40], "w1's gradient is still an Add of GEMMs") }
        }
        let combined = g.nodes.filter { $0.op == .gemm && (try? $0.attributes.int("transA", default: 0)) == 1 && g.type(of: $0.outputs[0])?.fixedShape == [48, 40] }
        XCTAssertEqual(combined.count, 1)
        XCTAssertEqual(combined.first.map { g.type(of: $0.inputs[0]!)?.fixedShape }, [11, 48])
        // Every Concat the pass made is read, and the activations' Concat serves forward and weight gradient.
        let concats = g.nodes.filter { $0.op == .concat && $0.name.contains("/concat") }
        XCTAssertEqual(concats.count, 2, "x0|x1 and dY0|dY1, each made once")
        for c in concats { XCTAssertFalse(GraphBuilder(g).readers(of: c.outputs[0]).isEmpty) }
    }

    func testGradientsMatchSeparateGemms() throws {
        for rows in [[6, 5], [4, 7, 5], [4, 7, 3]] {
            let make = { Self.discriminator(batches: rows) }
            let combined = try trainingGradients(make, passes: [InferShapes()], createGraph: false, doubleBackward: false,
                                                 afterAutodiff: [CombineSharedOperandGemms()], seed: 5)
            let separate = try trainingGradients(make, passes: [InferShapes()], createGraph: false, doubleBackward: false, seed: 5)
            // Inputs' gradients (rows of the combined input-gradient GEMM): the same bits.
            for i in rows.indices { XCTAssertEqual(combined[i].floats, separate[i].floats, "dx\(i), batches \(rows)") }
            assertTensorsClose(combined, separate, what: "gradients, batches \(rows)")
        }
    }

    func testThreeBatchesMakeOneWeightGradient() throws {
        var graph: Graph?
        _ = try trainingGradients({ Self.discriminator(batches: [4, 7, 5]) }, passes: [InferShapes()], createGraph: false,
                                  doubleBackward: false, afterAutodiff: [CombineSharedOperandGemms()], seed: 3) { graph = $0 }
        let g = try XCTUnwrap(graph)
        try g.verify()
        XCTAssertEqual(gemms(g, reading: "fc1.weight").count, 2)
        let wgrad = g.nodes.filter { $0.op == .gemm && g.type(of: $0.outputs[0])?.fixedShape == [48, 40] }
        XCTAssertEqual(wgrad.count, 1)
        XCTAssertEqual(wgrad.first.map { g.type(of: $0.inputs[1]!)?.fixedShape }, [16, 40])
        let reader = GraphBuilder(g)
        for c in g.nodes where c.op == .concat { XCTAssertFalse(reader.readers(of: c.outputs[0]).isEmpty && !g.outputs.contains(c.outputs[0]), "unread \(c.name)") }
    }

    /// Gemms sharing W (`transB` as given, W 600×300 or 300×600) on batches of `rows`, each
    /// output a graph output; the graph before and after the pass, and both run on 2 threads.
    func sharedWeight(rows: [Int], transB: Bool, c: [Int]? = nil) throws -> (before: Graph, after: Graph, a: [Tensor], b: [Tensor]) {
        var g = Graph(name: "shared")
        let xs = rows.enumerated().map { g.addInput("x\($0.offset)", TensorType(.float32, [.fixed($0.element), .fixed(600)])) }
        let w = g.addInput("w", TensorType(.float32, (transB ? [300, 600] : [600, 300]).map { .fixed($0) }))
        let cv = c.map { g.addInput("c", TensorType(.float32, $0.map { .fixed($0) })) }
        g.outputs = xs.enumerated().map { i, x in
            g.addNode(.gemm, [x, w] + (cv.map { [$0] } ?? []), outputs: ["y\(i)"], attributes: ["transB": .int(transB ? 1 : 0)], name: "g\(i)")[0]
        }
        try InferShapes().run(&g)
        var h = g
        try CombineSharedOperandGemms().run(&h)
        try h.verify()
        let feeds = trainingFeeds(g, seed: 9)
        let a = try Session(graph: g, threads: 2, passes: [InferShapes()]).run(feeds)
        let b = try Session(graph: h, threads: 2, passes: [InferShapes()]).run(feeds)
        return (g, h, a, b)
    }

    /// Combined rows keep their bits, also where the GEMM blocks k (600 > 256) with B stored
    /// untransposed; batches below Gemm.smallM rows (the GEMM's row-by-row path) stay separate.
    func testCombinedRowsKeepTheirBits() throws {
        for transB in [true, false] {
            for rows in [[4, 5], [6, 7, 9]] {
                let r = try sharedWeight(rows: rows, transB: transB)
                XCTAssertEqual(r.after.nodes.filter { $0.op == .gemm }.count, 1, "\(rows) transB \(transB)")
                XCTAssertEqual(r.a.map { $0.floats.map(\.bitPattern) }, r.b.map { $0.floats.map(\.bitPattern) }, "\(rows) transB \(transB)")
            }
            let small = try sharedWeight(rows: [2, 3], transB: transB)
            XCTAssertEqual(small.after.text, small.before.text, "rows below Gemm.smallM were combined")
        }
    }

    /// A C with a row dimension ([M, N] or [M, 1]) cannot serve the stacked rows: left separate
    /// (the pass used to throw on it); one without ([N], [1, N]) is shared.
    func testCWithRowsStaysSeparate() throws {
        for shape in [[8, 300], [8, 1]] {
            let r = try sharedWeight(rows: [8, 8], transB: true, c: shape)
            XCTAssertEqual(r.after.text, r.before.text, "C \(shape)")
        }
        for shape in [[300], [1, 300]] {
            let r = try sharedWeight(rows: [8, 8], transB: true, c: shape)
            XCTAssertEqual(r.after.nodes.filter { $0.op == .gemm }.count, 1, "C \(shape)")
            XCTAssertEqual(r.a.map { $0.floats.map(\.bitPattern) }, r.b.map { $0.floats.map(\.bitPattern) }, "C \(shape)")
        }
    }

    /// Two GEMMs with one weight where the second reads the first's result cannot be one GEMM.
    func testDependentGemmsStaySeparate() throws {
        var g = Graph(name: "chain")
        let x = g.addInput("x", TensorType(.float32, [.fixed(8), .fixed(64)]))
        let w = g.addInput("w", TensorType(.float32, [.fixed(64), .fixed(64)]))
        let h = g.addNode(.gemm, [x, w], outputs: ["h"], attributes: ["transB": .int(1)], name: "g1")[0]
        let r = g.add(.relu, h, output: "r")
        g.outputs = [g.addNode(.gemm, [r, w], outputs: ["y"], attributes: ["transB": .int(1)], name: "g2")[0]]
        try InferShapes().run(&g)
        let before = g.text
        try CombineSharedOperandGemms().run(&g)
        XCTAssertEqual(g.text, before)
    }
}
