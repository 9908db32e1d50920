import XCTest
import GraphIR
import Passes
import Runtime

/// SumBeforeTranspose on a convolutional critic applied to several batches, as in a D step:
/// golden IR, structure (one Transpose per weight gradient instead of one per use), the same
/// bits as the unrewritten graph (also with a gradient penalty's second-order terms), and the
/// cases it must leave alone.
final class SumBeforeTransposeTests: XCTestCase {
    /// x_i (rows_i × 3 × 8 × 8) → Conv(w1 8×3×4×4, b1, stride 2, pad 1) → LeakyRelu(0.2) →
    /// Conv(w2 4×8×4×4, stride 2, pad 1) for each batch, the outputs concatenated. `scaled`: one
    /// input x0 (rows[0] rows), batch i being x0·(i + 1), and Tanh for LeakyRelu, so that a penalty on
    /// x0's gradient reaches every weight (b1 too) through every batch.
    static func critic(batches rows: [Int], scaled: Bool = false) -> (Graph, [ValueID]) {
        var t = TrainingGraph(name: "shared_weight_critic")
        var xs = scaled ? [t.param("x0", [rows[0], 3, 8, 8])] : rows.enumerated().map { t.param("x\($0.offset)", [$0.element, 3, 8, 8]) }
        if scaled {
            for i in 1..<rows.count {
                let c = t.g.addInitializer("c\(i)", Tensor(shape: [], floats: [Float(i + 1)]))
                xs.append(t.g.add(.mul, xs[0], c, output: "x0_times_\(i + 1)"))
            }
        }
        let w1 = t.param("conv1.weight", [8, 3, 4, 4]), b1 = t.param("conv1.bias", [8]), w2 = t.param("conv2.weight", [4, 8, 4, 4])
        let attrs: [String: Attribute] = ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]
        var outs: [ValueID] = []
        for (i, x) in xs.enumerated() {
            var h = t.g.addNode(.conv, [x, w1, b1], outputs: ["conv1_\(i)"], attributes: attrs, name: "conv1_\(i)")[0]
            h = scaled ? t.g.add(.tanh, h, output: "tanh_\(i)") : t.g.add(.leakyRelu, h, output: "lrelu_\(i)", attributes: ["alpha": .float(0.2)])
            outs.append(t.g.addNode(.conv, [h, w2], outputs: ["conv2_\(i)"], attributes: attrs, name: "conv2_\(i)")[0])
        }
        t.g.outputs = [t.g.addNode(.concat, outs, outputs: ["scores"], attributes: ["axis": .int(0)])[0]]
        return (t.g, t.params)
    }

    /// Transposes whose output has `shape` (the batches are sized so that only a weight
    /// gradient's parts have a weight's shape).
    func transposes(_ g: Graph, shape: [Int]) -> Int {
        g.nodes.filter { $0.op == .transpose && g.type(of: $0.outputs[0])?.fixedShape == shape }.count
    }

    /// SumBeforeTranspose, counting the Adds of two Transposes before and after it runs.
    final class Counted: Pass {
        let name = "SumBeforeTranspose (counted)"
        var before = 0, after = 0
        func run(_ graph: inout Graph) throws {
            before = SumBeforeTransposeTests.addsOfTransposes(graph)
            try SumBeforeTranspose().run(&graph)
            after = SumBeforeTransposeTests.addsOfTransposes(graph)
        }
    }

    static func addsOfTransposes(_ g: Graph) -> Int {
        let producer = g.producers()
        return g.nodes.filter { n in
            n.op == .add && n.inputs.count == 2
                && n.inputs.allSatisfy { v in v.flatMap { producer[$0] }.map { g.nodes[$0].op == .transpose } ?? false }
        }.count
    }

    func testGoldenAndStructure() throws {
        var before: Graph?, after: Graph?
        _ = try trainingGradients({ Self.critic(batches: [2, 5]) }, passes: [InferShapes()], createGraph: false,
                                  doubleBackward: false, seed: 3) { before = $0 }
        _ = try trainingGradients({ Self.critic(batches: [2, 5]) }, passes: [InferShapes()], createGraph: false,
                                  doubleBackward: false, afterAutodiff: [SumBeforeTranspose()], seed: 3) { after = $0 }
        let g = try XCTUnwrap(after), g0 = try XCTUnwrap(before)
        try g.verify()
        assertGolden(g.text, "shared_weight_critic.after.SumBeforeTranspose")
        // Each weight gradient: two transposed parts before, one Transpose of their sum after.
        XCTAssertEqual(transposes(g0, shape: [8, 3, 4, 4]), 2)
        XCTAssertEqual(transposes(g0, shape: [4, 8, 4, 4]), 2)
        XCTAssertEqual(transposes(g, shape: [8, 3, 4, 4]), 1)
        XCTAssertEqual(transposes(g, shape: [4, 8, 4, 4]), 1)
        XCTAssertEqual(Self.addsOfTransposes(g0), 2)
        XCTAssertEqual(Self.addsOfTransposes(g), 0, "an Add of two Transposes is left")
    }

    /// The same bits as without the pass: first-order gradients for two and three batches, and a
    /// gradient penalty's gradients (the pass run on the graph holding them, whose weight
    /// gradients sum transposed parts through every batch).
    func testSameBits() throws {
        for (rows, double) in [([2, 3], false), ([2, 3, 1], false), ([3, 3, 3], true)] {
            let make = { Self.critic(batches: rows, scaled: double) }
            let counted = Counted()
            let summed = try trainingGradients(make, passes: [InferShapes()], createGraph: double, doubleBackward: double,
                                               afterAutodiff: double ? [] : [counted], afterPenalty: double ? [counted] : [], seed: 5)
            XCTAssertGreaterThan(counted.before, 0, "nothing to rewrite: batches \(rows), penalty \(double)")
            XCTAssertEqual(counted.after, 0, "batches \(rows), penalty \(double)")
            let separate = try trainingGradients(make, passes: [InferShapes()], createGraph: double, doubleBackward: double, seed: 5)
            XCTAssertEqual(summed.count, separate.count)
            for (k, (a, b)) in zip(summed, separate).enumerated() {
                XCTAssertEqual(a.shape, b.shape)
                XCTAssertEqual(a.floats.map(\.bitPattern), b.floats.map(\.bitPattern), "gradient \(k), batches \(rows), penalty \(double)")
            }
        }
    }

    /// Left alone: different perms, a transposed part read twice, a graph output, and an Add
    /// that broadcasts.
    func testLeftAlone() throws {
        func graph(permB: [Int], shapeB: [Int], extraRead: Bool, bIsOutput: Bool) throws -> Graph {
            var g = Graph(name: "adds")
            let a = g.addInput("a", TensorType(.float32, [2, 3, 4].map { .fixed($0) }))
            let b = g.addInput("b", TensorType(.float32, shapeB.map { .fixed($0) }))
            let ta = g.add(.transpose, a, output: "ta", attributes: ["perm": .ints([1, 0, 2])])
            let tb = g.add(.transpose, b, output: "tb", attributes: ["perm": .ints(permB)])
            let s = g.add(.add, ta, tb, output: "s")
            g.outputs = [s] + (extraRead ? [g.add(.relu, tb, output: "r")] : []) + (bIsOutput ? [tb] : [])
            try InferShapes().run(&g)
            return g
        }
        var g = try graph(permB: [1, 0, 2], shapeB: [2, 3, 4], extraRead: false, bIsOutput: false)
        try SumBeforeTranspose().run(&g)
        XCTAssertEqual(g.nodes.map(\.op), [.add, .transpose], "the plain case is rewritten")
        for (perm, shape, extra, out) in [([0, 1, 2], [3, 2, 4], false, false), ([1, 0, 2], [2, 3, 4], true, false),
                                          ([1, 0, 2], [2, 3, 4], false, true), ([1, 0, 2], [2, 1, 4], false, false)] {
            var h = try graph(permB: perm, shapeB: shape, extraRead: extra, bIsOutput: out)
            let text = h.text
            try SumBeforeTranspose().run(&h)
            XCTAssertEqual(h.text, text, "perm \(perm) shape \(shape) extra read \(extra) output \(out)")
        }
    }
}
