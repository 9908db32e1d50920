import XCTest
import GraphIR
import Passes
import Runtime
import SeedModels

/// Each fold and fusion: a golden IR test, a structural test (the fused-away ops are gone) and a
/// numeric test (the optimised graph computes what the plain one does, within 1e-5 relative).
final class FusionTests: XCTestCase {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var s = seed
        return Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        })
    }

    func run(_ g: Graph, _ passes: [Pass], _ inputs: [Tensor]) throws -> [Tensor] {
        try Session(graph: g, threads: 2, passes: passes).run(inputs)
    }

    func assertClose(_ a: [Tensor], _ b: [Tensor], rtol: Float = 1e-5, atol: Float = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.shape, y.shape, file: file, line: line)
            let worst = zip(x.floats, y.floats).map { abs($0 - $1) - rtol * abs($1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, atol, "max excess error \(worst)", file: file, line: line)
        }
    }

    func ops(_ g: Graph) -> [String] { g.nodes.map(\.op.rawValue) }

    func testGoldenPassesOnSmallGenerator() throws {
        var g = GoldenTests.smallGenerator()
        var step = 0
        try Pipelines.run(Pipelines.inference, on: &g) { name, result in
            step += 1
            assertGolden(result.text, "mnist_generator_small.after.\(step).\(name)")
        }
        try g.verify()
    }

    func testFoldBatchNormRemovesEveryBatchNorm() throws {
        for g0 in [GoldenTests.smallGenerator(), SeedGraphs.mnistGenerator(), SeedGraphs.mnistDiscriminator()] {
            var g = g0
            try Pipelines.run([InferShapes(), FoldBatchNorm(), EliminateDeadValues()], on: &g)
            try g.verify()
            XCTAssertFalse(ops(g).contains("BatchNormalization"), "\(ops(g))")
            XCTAssertEqual(g.outputs.map { g.name(of: $0) }, g0.outputs.map { g0.name(of: $0) })
        }
    }

    func testFoldBatchNormNumerics() throws {
        let folded: [Pass] = [InferShapes(), FoldBatchNorm(), EliminateDeadValues()]
        let gen = SeedGraphs.mnistGenerator()
        let z = random([5, 100], seed: 3)
        assertClose(try run(gen, folded, [z]), try run(gen, Pipelines.inferenceUnfused, [z]))
        let d = SeedGraphs.mnistDiscriminator()
        let x = random([3, 1, 28, 28], seed: 4)
        assertClose(try run(d, folded, [x]), try run(d, Pipelines.inferenceUnfused, [x]))
    }

    func testFuseConvBiasActivationStructure() throws {
        var g = SeedGraphs.mnistGenerator()
        try Pipelines.run(Pipelines.inference, on: &g)
        XCTAssertEqual(ops(g), ["FusedGemm", "FusedGemm", "Reshape", "FusedConvTranspose", "FusedConvTranspose", "FusedConv"])
        for n in g.nodes where n.op.isInternal {
            XCTAssertNotNil(n.attributes["activation"])
        }
        var d = SeedGraphs.mnistDiscriminator(batchNorm: false)
        try Pipelines.run(Pipelines.inference, on: &d)
        XCTAssertFalse(ops(d).contains("LeakyRelu"), "\(ops(d))")
    }

    func testFusedGraphsMatchUnfused() throws {
        let gen = SeedGraphs.mnistGenerator()
        for batch in [1, 4] {
            let z = random([batch, 100], seed: UInt64(batch))
            assertClose(try run(gen, Pipelines.inference, [z]), try run(gen, Pipelines.inferenceUnfused, [z]))
        }
        for bn in [true, false] {
            let d = SeedGraphs.mnistDiscriminator(batchNorm: bn)
            let x = random([3, 1, 28, 28], seed: 8)
            assertClose(try run(d, Pipelines.inference, [x]), try run(d, Pipelines.inferenceUnfused, [x]))
        }
    }

    func testBiasAddAndActivationFuseIntoConv() throws {
        let g = try Graph.parse("""
        graph "addbias" {
          input %x: f32[N,2,5,5]
          init %w: f32[3,2,1,1] = [0.5, -1.0, 0.25, 2.0, -0.5, 1.5]
          init %b: f32[1,3,1,1] = [0.1, -0.2, 0.3]
          %c = Conv(%x, %w)
          %a = Add(%c, %b)
          %y = Tanh(%a)
          output %y
        }
        """)
        var f = g
        try Pipelines.run(Pipelines.inference, on: &f)
        XCTAssertEqual(ops(f), ["FusedConv"])
        XCTAssertEqual(f.nodes[0].attributes["activation"], .string("Tanh"))
        let x = random([2, 2, 5, 5], seed: 1)
        assertClose(try run(g, Pipelines.inference, [x]), try run(g, Pipelines.inferenceUnfused, [x]))
    }

    /// A Gemm without C may carry any beta (it scales C only): the bias Add fused into it is not
    /// scaled by that beta (hostile-input regression: beta 0.5, 0 and -2 gave A·B + beta·bias).
    func testBiasAddFusesIntoGemmWithoutCWhateverItsBeta() throws {
        let w: [Float] = [0.5, -1.0, 0.25, 2.0, -0.5, 1.5, 0.75, -0.25, 1.0, 0.1, -0.3, 0.6]
        let bias: [Float] = [0.1, -0.2, 0.3, 1.5]
        func literal(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
        for beta in ["0.5", "0.0", "-2.0", "1.0"] {
            let g = try Graph.parse("""
            graph "gemmbeta" {
              input %x: f32[N,3]
              init %w: f32[3,4] = \(literal(w))
              init %b: f32[4] = \(literal(bias))
              %g = Gemm(%x, %w) {beta=\(beta)}
              %y = Add(%g, %b)
              output %y
            }
            """)
            var f = g
            try Pipelines.run(Pipelines.inference, on: &f)
            XCTAssertEqual(ops(f), ["Gemm"], "beta \(beta)")
            XCTAssertEqual(f.nodes[0].inputs.count, 3, "the bias joins as C: beta \(beta)")
            let x = random([2, 3], seed: 5)
            var want = [Float](repeating: 0, count: 8)
            for n in 0..<2 {
                for j in 0..<4 {
                    var acc = bias[j]
                    for t in 0..<3 { acc += x.floats[n * 3 + t] * w[t * 4 + j] }
                    want[n * 4 + j] = acc
                }
            }
            assertClose(try run(g, Pipelines.inference, [x]), [Tensor(shape: [2, 4], floats: want)])
            assertClose(try run(g, Pipelines.inference, [x]), try run(g, Pipelines.inferenceUnfused, [x]))
        }
    }

    /// DenseNet's pre-activation: a BatchNormalization after a Concat (nothing to fold it into)
    /// takes the Relu that follows it, and a second one the LeakyRelu; a BatchNorm whose output is
    /// also a graph output keeps its Relu standalone. Same values as the unfused graph.
    func testActivationFusesIntoBatchNorm() throws {
        let g = try Graph.parse("""
        graph "preact" {
          input %x: f32[N,2,4,3]
          input %z: f32[N,1,4,3]
          init %s: f32[3] = [1.5, -0.5, 2.0]
          init %b: f32[3] = [0.1, -0.2, 0.3]
          init %m: f32[3] = [0.05, 0.1, -0.1]
          init %v: f32[3] = [0.9, 1.1, 0.5]
          %c = Concat(%x, %z) {axis=1}
          %n = BatchNormalization(%c, %s, %b, %m, %v) {epsilon=0.001}
          %y = Relu(%n)
          %n2 = BatchNormalization(%y, %s, %b, %m, %v)
          %y2 = LeakyRelu(%n2) {alpha=0.1}
          %n3 = BatchNormalization(%y2, %s, %b, %m, %v)
          %y3 = Relu(%n3)
          output %y3
          output %n3
        }
        """)
        var f = g
        try Pipelines.run(Pipelines.inference, on: &f)
        XCTAssertEqual(ops(f), ["Concat", "FusedBatchNormalization", "FusedBatchNormalization", "BatchNormalization", "Relu"])
        XCTAssertEqual(f.nodes[1].attributes["activation"], .string("Relu"))
        XCTAssertEqual(f.nodes[2].attributes["activation"], .string("LeakyRelu"))
        XCTAssertEqual(f.nodes[2].attributes["activation_alpha"], .float(0.1))
        let x = random([2, 2, 4, 3], seed: 3), z = random([2, 1, 4, 3], seed: 4)
        assertClose(try run(g, Pipelines.inference, [x, z]), try run(g, Pipelines.inferenceUnfused, [x, z]))
    }

    /// ReLU6 (Clip with constant bounds) and SiLU (x·Sigmoid(x)) fuse into the convolution they
    /// follow, and the fused graph computes the same bits as the plain one.
    func testClipAndSwishFuseIntoConv() throws {
        let g = try Graph.parse("""
        graph "clipswish" {
          input %x: f32[N,2,5,5]
          init %w: f32[3,2,1,1] = [0.5, -1.0, 0.25, 2.0, -0.5, 1.5]
          init %w2: f32[2,3,3,3] = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8, 0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, -1.5, 1.6, 1.7, -1.8, 0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8]
          init %lo: f32[] = [0.0]
          init %hi: f32[] = [1.5]
          %c = Conv(%x, %w)
          %r = Clip(%c, %lo, %hi)
          %d = Conv(%r, %w2) {pads=[1, 1, 1, 1]}
          %s = Sigmoid(%d)
          %y = Mul(%s, %d)
          output %y
        }
        """)
        var f = g
        try Pipelines.run(Pipelines.inference, on: &f)
        try f.verify()
        XCTAssertEqual(ops(f), ["FusedConv", "FusedConv"])
        XCTAssertEqual(f.nodes[0].attributes["activation"], .string("Clip"))
        XCTAssertEqual(f.nodes[0].attributes["activation_alpha"], .float(0))
        XCTAssertEqual(f.nodes[0].attributes["activation_beta"], .float(1.5))
        XCTAssertEqual(f.nodes[1].attributes["activation"], .string("Swish"))
        XCTAssertEqual(f.outputs.map { f.name(of: $0) }, ["y"])
        for batch in [1, 3] {
            let x = random([batch, 2, 5, 5], seed: UInt64(7 + batch))
            let fused = try run(g, Pipelines.inference, [x]), plain = try run(g, Pipelines.inferenceUnfused, [x])
            XCTAssertEqual(fused.map(\.floats), plain.map(\.floats))
        }
    }

    /// HardSwish and HardSigmoid (MobileNetV3) fuse into Conv and Gemm; the fused kernels give the
    /// standalone ops' bits, saturated lanes and NaN included.
    func testHardSwishAndHardSigmoidFuse() throws {
        let g = try Graph.parse("""
        graph "hard" {
          input %x: f32[N,2,5,5]
          init %w: f32[3,2,1,1] = [2.5, -3.0, 1.25, 4.0, -2.5, 3.5]
          init %w2: f32[2,3,3,3] = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8, 0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 1.0, 1.1, -1.2, 1.3, 1.4, -1.5, 1.6, 1.7, -1.8, 0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.9, 1.0, -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, -1.7, 1.8]
          init %shape: i64[2] = [-1, 50]
          init %wg: f32[4,50] = [\((0..<200).map { String(Double(($0 * 37) % 23 - 11) / 10) }.joined(separator: ", "))]
          init %bg: f32[4] = [0.5, -0.25, 1.0, -2.0]
          %c = Conv(%x, %w)
          %h = HardSwish(%c)
          %d = Conv(%h, %w2) {pads=[1, 1, 1, 1]}
          %s = HardSigmoid(%d) {alpha=0.3, beta=0.4}
          %f = Reshape(%s, %shape)
          %e = Gemm(%f, %wg, %bg) {transB=1}
          %y = HardSigmoid(%e)
          output %y
          output %s
        }
        """)
        var f = g
        try Pipelines.run(Pipelines.inference, on: &f)
        try f.verify()
        XCTAssertFalse(ops(f).contains("HardSwish"))
        XCTAssertFalse(ops(f).contains("HardSigmoid"))
        let fused = f.nodes.filter { $0.op.rawValue.hasPrefix("Fused") }
        XCTAssertEqual(fused.map { $0.attributes["activation"] }, [.string("HardSwish"), .string("HardSigmoid"), .string("HardSigmoid")])
        XCTAssertEqual(fused[1].attributes["activation_alpha"], .float(0.3))
        XCTAssertEqual(fused[1].attributes["activation_beta"], .float(0.4))
        XCTAssertEqual(fused[2].attributes["activation_alpha"], .float(0.2))
        for batch in [1, 3] {
            var x = random([batch, 2, 5, 5], seed: UInt64(11 + batch))
            var xs = x.floats.map { $0 * 3 }
            xs[0] = .nan; xs[1] = .infinity; xs[2] = -.infinity; xs[3] = -0.0
            x = Tensor(shape: x.shape, floats: xs)
            let fusedOut = try run(g, Pipelines.inference, [x]), plain = try run(g, Pipelines.inferenceUnfused, [x])
            for (a, b) in zip(fusedOut, plain) {
                XCTAssertEqual(a.shape, b.shape)
                for (u, v) in zip(a.floats, b.floats) { XCTAssertTrue(u.bitPattern == v.bitPattern || (u.isNaN && v.isNaN), "\(u) vs \(v)") }
            }
        }
    }

    /// An absent Clip bound is ONNX's lowest / greatest finite float, standalone and fused, so ∓∞
    /// become ∓Float.greatestFiniteMagnitude as in ONNX Runtime (hostile-input regression).
    func testClipAbsentBoundsAreTheFiniteExtremes() throws {
        let g = try Graph.parse("""
        graph "clipdefault" {
          input %x: f32[N,1,1,5]
          init %w: f32[1,1,1,1] = [1.0]
          init %hi: f32[] = [0.5]
          init %lo: f32[] = [-0.5]
          %c = Conv(%x, %w)
          %y = Clip(%c, _, %hi)
          %z = Clip(%x, %lo)
          output %y
          output %z
        }
        """)
        let x = Tensor(shape: [1, 1, 1, 5], floats: [-.infinity, -1, 2, .infinity, 0.25])
        let big = Float.greatestFiniteMagnitude
        for passes in [Pipelines.inference, Pipelines.inferenceUnfused] {
            let out = try run(g, passes, [x])
            XCTAssertEqual(out[0].floats, [-big, -1, 0.5, 0.5, 0.25])
            XCTAssertEqual(out[1].floats, [-0.5, -0.5, 2, big, 0.25])
        }
    }

    /// A Sigmoid read elsewhere, a Mul of something else, or Clip bounds that are graph inputs
    /// leave the nodes standalone.
    func testSwishAndClipNeedTheirExactPattern() throws {
        var g = try Graph.parse("""
        graph "nofuse" {
          input %x: f32[N,1,3,3]
          input %hi: f32[]
          init %w: f32[1,1,1,1] = [2.0]
          %c = Conv(%x, %w)
          %s = Sigmoid(%c)
          %y = Mul(%c, %s)
          %e = Conv(%x, %w)
          %t = Sigmoid(%e)
          %z = Mul(%t, %t)
          %q = Add(%z, %e)
          %k = Conv(%x, %w)
          %r = Clip(%k, %hi, %hi)
          output %y
          output %s
          output %q
          output %r
        }
        """)
        try Pipelines.run(Pipelines.inference, on: &g)
        XCTAssertEqual(ops(g).filter { $0.hasPrefix("Fused") }, [], "\(ops(g))")
    }

    func testSharedValuesAreNotFused() throws {
        // The conv output is also a graph output, so neither the Add nor the Relu may be fused.
        var g = try Graph.parse("""
        graph "shared" {
          input %x: f32[N,1,3,3]
          init %w: f32[1,1,1,1] = [2.0]
          %c = Conv(%x, %w)
          %y = Relu(%c)
          output %y
          output %c
        }
        """)
        try Pipelines.run(Pipelines.inference, on: &g)
        XCTAssertEqual(ops(g), ["Conv", "Relu"])
    }

    func testFoldConstantsAndDeadValues() throws {
        let g = try Graph.parse("""
        graph "consts" {
          input %x: f32[N,4]
          init %a: f32[2,2] = [1.0, 2.0, 3.0, 4.0]
          init %shape: i64[2] = [1, 4]
          init %unused: f32[1] = [9.0]
          %t = Transpose(%a)
          %r = Reshape(%t, %shape)
          %c = Constant() {value=tensor f32[1,4] [1.0, 1.0, 1.0, 1.0]}
          %s = Add(%r, %c)
          %dead = Exp(%x)
          %y = Mul(%x, %s)
          output %y
        }
        """)
        var f = g
        try Pipelines.run(Pipelines.inferenceUnfused, on: &f)
        XCTAssertEqual(ops(f), ["Mul"])
        XCTAssertEqual(f.initializers.count, 1)
        XCTAssertEqual(f.initializers.values.first?.floats, [2, 4, 3, 5])
        let x = random([3, 4], seed: 2)
        assertClose(try run(g, Pipelines.inferenceUnfused, [x]), try run(g, [InferShapes()], [x]))
    }
}
