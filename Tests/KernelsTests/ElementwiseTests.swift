import XCTest
import TestSupport
import Kernels

/// Comparison helpers for the non-GEMM kernel tests.
enum KCheck {
    static let pool2 = ThreadPool(threads: 2)
    static let pools = [ThreadPool.serial, pool2]

    static func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    /// Bitwise equality (any NaN equals any NaN).
    static func bitwise(_ got: [Float], _ want: [Float], _ what: @autoclosure () -> String,
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what(), file: file, line: line)
        for i in 0..<min(got.count, want.count) where !same(got[i], want[i]) {
            XCTFail("\(what()): [\(i)] got \(got[i]) want \(want[i])", file: file, line: line); return
        }
    }

    /// |got − want| <= abs + rel·|want| (NaN and infinities must match exactly).
    static func near(_ got: [Float], _ want: [Float], rel: Float = 2e-6, abs: Float = 1e-6, _ what: @autoclosure () -> String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what(), file: file, line: line)
        for i in 0..<min(got.count, want.count) {
            let (g, w) = (got[i], want[i])
            if same(g, w) { continue }
            if !w.isFinite || !g.isFinite || Swift.abs(g - w) > abs + rel * Swift.abs(w) {
                XCTFail("\(what()): [\(i)] got \(g) want \(w)", file: file, line: line); return
            }
        }
    }

    static func shape(_ g: inout SeededRandom, maxRank: Int = 5, maxDim: Int = 6) -> [Int] {
        (0..<g.int(0, maxRank)).map { _ in g.int(0, 3) == 0 ? 1 : g.int(1, maxDim) }
    }
}

final class ElementwiseTests: XCTestCase {
    let ops: [UnaryOp] = [.relu, .leakyRelu(0.2), .sigmoid, .tanh, .softplus, .exp, .log, .sqrt, .neg, .abs, .identity, .reciprocal,
                          .elu(1), .elu(0.3), .selu(alpha: 1.6732632, gamma: 1.050701), .erf, .hardSigmoid(alpha: 0.2, beta: 0.5),
                          .hardSigmoid(alpha: 0.7, beta: -0.1), .hardSwish, .gelu, .geluTanh, .clip(min: -1.5, max: 2.25),
                          .clip(min: 1, max: -1), .clip(min: -.infinity, max: 0.5)]

    func range(_ op: UnaryOp) -> ClosedRange<Float> {
        switch op {
        case .log, .sqrt: return 1e-3...50
        case .exp: return -80...80
        case .softplus, .sigmoid, .tanh, .elu, .selu, .gelu, .geluTanh: return -30...30
        case .erf: return -6...6
        default: return -10...10
        }
    }

    func unary(_ op: UnaryOp, _ x: [Float], pool: ThreadPool, inPlace: Bool = false) -> [Float] {
        if inPlace {
            var y = x
            y.withUnsafeMutableBufferPointer { Unary.run(op, UnsafePointer($0.baseAddress!), $0.baseAddress!, count: x.count, pool: pool) }
            return y
        }
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Unary.run(op, xp.baseAddress!, $0.baseAddress!, count: x.count, pool: pool) } }
        return y
    }

    func testUnaryMatchesReference() {
        for (k, op) in ops.enumerated() {
            for n in [0, 1, 5, 15, 16, 17, 31, 33, 100, 1001, 40_003] {
                var x = randomFloats(n, seed: UInt64(k * 1000 + n), range: range(op))
                if n > 20 { x[3] = 0; x[4] = -0.0; x[5] = .infinity; x[6] = -.infinity; x[7] = .nan }
                var want = [Float](repeating: 0, count: n)
                x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer { Unary.reference(op, xp.baseAddress!, $0.baseAddress!, count: n) } }
                let y1 = unary(op, x, pool: .serial)
                let y2 = unary(op, x, pool: KCheck.pool2)
                let y3 = unary(op, x, pool: KCheck.pool2, inPlace: true)
                KCheck.bitwise(y2, y1, "\(op) n=\(n) threads")
                KCheck.bitwise(y3, y1, "\(op) n=\(n) in place")
                switch op {
                case .relu, .leakyRelu, .sqrt, .neg, .abs, .identity, .reciprocal, .clip: KCheck.bitwise(y1, want, "\(op) n=\(n)")
                default: KCheck.near(y1, want, rel: 4e-6, abs: 1e-6, "\(op) n=\(n)")
                }
            }
        }
    }

    func testUnaryKnownValues() {
        func one(_ op: UnaryOp, _ v: Float) -> Float { unary(op, [v, v, v], pool: .serial)[1] }
        XCTAssertEqual(one(.softplus, 0), Float(M_LN2), accuracy: 1e-7)
        XCTAssertEqual(one(.softplus, 100), 100)
        XCTAssertEqual(one(.softplus, -20), 2.0611537e-9, accuracy: 2e-15)
        XCTAssertEqual(one(.sigmoid, 0), 0.5)
        XCTAssertEqual(one(.tanh, 1), 0.7615942, accuracy: 1e-7)
        XCTAssertEqual(one(.relu, -3), 0)
        XCTAssertEqual(one(.leakyRelu(0.2), -2), -0.4, accuracy: 1e-7)
        XCTAssertEqual(one(.exp, 1), Float(M_E), accuracy: 1e-6)
        XCTAssertEqual(one(.log, 1), 0)
        XCTAssertEqual(one(.reciprocal, 4), 0.25)
        XCTAssertEqual(one(.abs, -2.5), 2.5)
        XCTAssertEqual(one(.sqrt, 9), 3)
        XCTAssertTrue(one(.log, -1).isNaN)
        // Values from scipy.special / torch.nn.functional (float64, rounded).
        XCTAssertEqual(one(.erf, 0.5), 0.5204998778, accuracy: 1e-7)
        XCTAssertEqual(one(.erf, -2), -0.9953222650, accuracy: 1e-7)
        XCTAssertEqual(one(.erf, 1e-6), 1.1283791671e-6, accuracy: 3e-13)
        XCTAssertEqual(one(.gelu, 1), 0.8413447461, accuracy: 1e-7)
        XCTAssertEqual(one(.gelu, -3), -0.0040496940, accuracy: 1e-8)
        XCTAssertEqual(one(.geluTanh, 1), 0.8411919906, accuracy: 1e-7)
        XCTAssertEqual(one(.elu(1), -1), -0.6321205588, accuracy: 1e-7)
        XCTAssertEqual(one(.elu(1), -1e-5), -9.99995e-6, accuracy: 1e-12)
        XCTAssertEqual(one(.selu(alpha: 1.6732632, gamma: 1.050701), -1), -1.1113307, accuracy: 1e-6)
        XCTAssertEqual(one(.hardSwish, 1), 0.6666667, accuracy: 1e-7)
        XCTAssertEqual(one(.hardSwish, -4), 0)
        XCTAssertEqual(one(.hardSigmoid(alpha: 0.2, beta: 0.5), 4), 1)
        XCTAssertEqual(one(.clip(min: 1, max: -1), 0), -1)
        XCTAssertTrue(one(.clip(min: 0, max: 1), .nan).isNaN)
    }

    // MARK: Binary

    func randomBroadcast(_ g: inout SeededRandom) -> (out: [Int], a: [Int], b: [Int]) {
        let out = KCheck.shape(&g)
        func input() -> [Int] {
            var s = Array(out.dropFirst(g.int(0, out.count)))
            for i in s.indices where g.int(0, 2) == 0 { s[i] = 1 }
            return s
        }
        var a = input(), b = input()
        // Keep the broadcast exact: every output dim must come from a or b.
        for d in 0..<out.count where out[d] != 1 {
            let ka = d - (out.count - a.count), kb = d - (out.count - b.count)
            if !(ka >= 0 && a[ka] == out[d]) && !(kb >= 0 && b[kb] == out[d]) {
                if ka >= 0 { a[ka] = out[d] } else if kb >= 0 { b[kb] = out[d] } else { a = Array(out[d...]) }
            }
        }
        return (out, a, b)
    }

    func binary(_ op: BinaryOp, _ out: [Int], _ aS: [Int], _ bS: [Int], _ a: [Float], _ b: [Float], pool: ThreadPool) throws -> [Float] {
        let plan = try BroadcastPlan(outShape: out, aShape: aS, bShape: bS)
        var y = [Float](repeating: .nan, count: plan.count)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer {
            Binary.run(op, plan, ap.baseAddress!, bp.baseAddress!, $0.baseAddress!, pool: pool) } } }
        return y
    }

    func checkBinary(_ op: BinaryOp, _ out: [Int], _ aS: [Int], _ bS: [Int], seed: UInt64) throws {
        let aRange: ClosedRange<Float> = op == .pow ? 0.1...3 : -5...5
        let a = randomFloats(max(1, aS.reduce(1, *)), seed: seed, range: aRange)
        let b = randomFloats(max(1, bS.reduce(1, *)), seed: seed + 1, range: op == .pow ? -3...3 : -5...5)
        let broadcast = try BroadcastPlan.broadcastShape(aS, bS)
        XCTAssertEqual(broadcast, out, "\(aS) \(bS)")
        var want = [Float](repeating: 0, count: out.reduce(1, *))
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in want.withUnsafeMutableBufferPointer {
            Binary.reference(op, outShape: out, aShape: aS, bShape: bS, ap.baseAddress!, bp.baseAddress!, $0.baseAddress!) } } }
        let y1 = try binary(op, out, aS, bS, a, b, pool: .serial)
        let y2 = try binary(op, out, aS, bS, a, b, pool: KCheck.pool2)
        KCheck.bitwise(y2, y1, "\(op) \(aS) \(bS) threads")
        if op == .pow { KCheck.near(y1, want, rel: 1e-6, abs: 0, "\(op) \(aS) \(bS)") } else { KCheck.bitwise(y1, want, "\(op) \(aS) \(bS)") }
    }

    func testBinaryRandomBroadcasts() throws {
        var g = SeededRandom(seed: 7)
        var tested = 0
        for t in 0..<400 {
            let (out, a, b) = randomBroadcast(&g)
            guard (try? BroadcastPlan.broadcastShape(a, b)) == out else { continue }
            for op in [BinaryOp.add, .sub, .mul, .div, .pow, .max, .min, .prelu] { try checkBinary(op, out, a, b, seed: UInt64(t)) }
            tested += 1
        }
        XCTAssertGreaterThan(tested, 300)
    }

    /// Max and Min propagate NaN from either side; ties and signed zeros keep the first operand;
    /// PRelu scales only negatives. Over every fast path (vector/vector, vector/scalar, scalar/vector).
    func testMaxMinPReluSpecialValues() throws {
        let a: [Float] = [1, .nan, 3, -0.0, -2, .infinity, -5, 0, 7, -1, 2, .nan, -4, 4, 0.5, -0.5, 9, -9]
        let b: [Float] = [.nan, 2, 3, 0, -3, 1, -.infinity, -0.0, -7, 1, 2, 5, 0.25, -4, 0.5, 0.5, .nan, 9]
        for op in [BinaryOp.max, .min, .prelu] {
            let n = a.count
            let want = zip(a, b).map { Binary.scalar(op, $0, $1) }
            KCheck.bitwise(try binary(op, [n], [n], [n], a, b, pool: .serial), want, "\(op) vector")
            for k in [0, 1, 4] {
                KCheck.bitwise(try binary(op, [n], [n], [1], a, [b[k]], pool: .serial), a.map { Binary.scalar(op, $0, b[k]) }, "\(op) scalar b")
                KCheck.bitwise(try binary(op, [n], [1], [n], [a[k]], b, pool: .serial), b.map { Binary.scalar(op, a[k], $0) }, "\(op) scalar a")
            }
        }
        XCTAssertTrue(Binary.scalar(.max, 1, .nan).isNaN)
        XCTAssertTrue(Binary.scalar(.min, .nan, 1).isNaN)
        XCTAssertEqual(Binary.scalar(.max, -2, 3), 3)
        XCTAssertEqual(Binary.scalar(.min, -2, 3), -2)
        XCTAssertEqual(Binary.scalar(.prelu, -2, 0.25), -0.5)
        XCTAssertEqual(Binary.scalar(.prelu, 2, 0.25), 2)
    }

    func testBinaryFastPathsLarge() throws {
        let cases: [([Int], [Int], [Int])] = [
            ([4, 16, 33, 31], [4, 16, 33, 31], [4, 16, 33, 31]),   // same shape
            ([4, 16, 33, 31], [4, 16, 33, 31], []),                // b scalar
            ([70_001], [1], [70_001]),                             // a scalar
            ([8, 16, 20, 20], [8, 16, 20, 20], [1, 16, 1, 1]),     // per-channel bias
            ([301, 203], [301, 203], [203]),                       // row vector
            ([301, 203], [301, 1], [1, 203]),                      // outer product
            ([2, 50_000], [2, 1], [1, 50_000]),                    // few long rows
            ([3, 1, 5, 1, 7], [3, 1, 5, 1, 7], [1, 1, 5, 1, 1]),
        ]
        for (k, (a, b, _)) in cases.enumerated() {
            let out = try BroadcastPlan.broadcastShape(a, b)
            for op in [BinaryOp.add, .mul, .div, .pow] {
                try checkBinary(op, out, a, b, seed: UInt64(100 + k))
                try checkBinary(op, out, b, a, seed: UInt64(200 + k))
            }
        }
    }

    /// Short runs against one value per run (`Binary.shortRunBlocks`): modulated convolution
    /// weights (N, O, I, k, k) = (O, I, k, k) ∘ (N, 1, I, 1, 1), either operand order, odd sizes,
    /// blocks that repeat across O (the expansion is reused) and that change every block, and a
    /// run of 1; bit-identical to the reference on 1 and 2 threads (`checkBinary`).
    func testBinaryShortRunBlocks() throws {
        let cases: [([Int], [Int])] = [
            ([7, 13, 3, 3], [5, 1, 13, 1, 1]),
            ([33, 17, 3, 5], [2, 1, 17, 1, 1]),
            ([4, 9, 2, 1], [3, 4, 9, 1, 1]),
            ([6, 11, 1, 1], [2, 1, 11, 1, 1]),
            ([3, 40, 15], [40, 1]),
        ]
        for (k, (a, b)) in cases.enumerated() {
            let out = try BroadcastPlan.broadcastShape(a, b)
            let plan = try BroadcastPlan(outShape: out, aShape: a, bShape: b)
            XCTAssertLessThan(plan.inner, 16, "\(plan)")
            for op in [BinaryOp.add, .sub, .mul, .div, .max, .prelu] {
                try checkBinary(op, out, a, b, seed: UInt64(300 + k))
                try checkBinary(op, out, b, a, seed: UInt64(400 + k))
            }
        }
    }

    func testBinaryKnownValuesAndErrors() throws {
        let y = try binary(.add, [2, 3], [2, 3], [3], [1, 2, 3, 4, 5, 6], [10, 20, 30], pool: .serial)
        XCTAssertEqual(y, [11, 22, 33, 14, 25, 36])
        let p = try binary(.pow, [4], [4], [4], [-2, -2, 0, 3], [3, 0.5, 0, 2], pool: .serial)
        XCTAssertEqual(p[0], -8); XCTAssertTrue(p[1].isNaN); XCTAssertEqual(p[2], 1); XCTAssertEqual(p[3], 9)
        XCTAssertThrowsError(try BroadcastPlan(outShape: [2, 3], aShape: [2, 3], bShape: [4, 3]))
        XCTAssertThrowsError(try BroadcastPlan.broadcastShape([2, 3], [2]))
        XCTAssertEqual(try BroadcastPlan.broadcastShape([5, 1, 3], [4, 1]), [5, 4, 3])
        let plan = try BroadcastPlan(outShape: [8, 16, 20, 20], aShape: [8, 16, 20, 20], bShape: [1, 16, 1, 1])
        XCTAssertEqual(plan.inner, 400); XCTAssertEqual(plan.bInner, 0); XCTAssertEqual(plan.rows, 128)
        let row = try BroadcastPlan(outShape: [30, 20], aShape: [30, 20], bShape: [20])
        XCTAssertEqual(row.inner, 20); XCTAssertEqual(row.bInner, 1)
    }

    func testBinaryInPlace() throws {
        let a = randomFloats(6 * 35, seed: 3), b = randomFloats(35, seed: 4)
        let want = try binary(.sub, [6, 35], [6, 35], [35], a, b, pool: .serial)
        var y = a
        let plan = try BroadcastPlan(outShape: [6, 35], aShape: [6, 35], bShape: [35])
        b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer {
            Binary.run(.sub, plan, UnsafePointer($0.baseAddress!), bp.baseAddress!, $0.baseAddress!, pool: KCheck.pool2) } }
        KCheck.bitwise(y, want, "in place")
    }
}
