import XCTest
import Foundation
import TestSupport
import Kernels

final class ReduceTests: XCTestCase {
    func reduce(_ kind: ReduceKind, _ shape: [Int], _ axes: [Int], _ x: [Float], pool: ThreadPool) throws -> [Float] {
        let plan = try ReducePlan(shape: shape, axes: axes)
        var y = [Float](repeating: .nan, count: plan.outputCount)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Reduce.run(kind, plan, xp.baseAddress!, $0.baseAddress!, pool: pool) } }
        return y
    }

    func check(_ shape: [Int], _ axes: [Int], seed: UInt64) throws {
        let n = shape.reduce(1, *)
        let x = randomFloats(n, seed: seed)
        let plan = try ReducePlan(shape: shape, axes: axes)
        for kind in ReduceKind.allCases {
            var want = [Float](repeating: 0, count: plan.outputCount)
            x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer {
                Reduce.reference(kind, shape: shape, axes: axes, xp.baseAddress!, $0.baseAddress!) } }
            let y1 = try reduce(kind, shape, axes, x, pool: .serial)
            let y2 = try reduce(kind, shape, axes, x, pool: KCheck.pool2)
            KCheck.bitwise(y2, y1, "\(kind) \(shape) \(axes) threads")
            let m = Float(plan.reduceCount)
            let tol = 2e-7 * m * m.squareRoot() + 1e-6
            switch kind {
            case .sum, .sumSquare: KCheck.near(y1, want, rel: 0, abs: tol, "\(kind) \(shape) \(axes)")
            case .mean: KCheck.near(y1, want, rel: 0, abs: tol / max(m, 1), "\(kind) \(shape) \(axes)")
            case .max, .min: KCheck.bitwise(y1, want, "\(kind) \(shape) \(axes)")   // order-independent
            case .l2, .prod: KCheck.near(y1, want, rel: 1e-5 * max(m, 1), abs: 1e-6, "\(kind) \(shape) \(axes)")
            }
        }
    }

    func testRandomShapesAndAxes() throws {
        var g = SeededRandom(seed: 21)
        for t in 0..<300 {
            let shape = KCheck.shape(&g, maxRank: 5, maxDim: 9)
            let axes = shape.indices.filter { _ in g.bool() }.map { g.bool() ? $0 - shape.count : $0 }
            try check(shape, axes, seed: UInt64(t))
        }
    }

    func testLargeAndCommonPatterns() throws {
        try check([64, 3000], [0], seed: 1)           // over the batch (kept inner)
        try check([64, 3000], [1], seed: 2)           // per row (reduced inner)
        try check([16, 32, 17, 17], [0, 2, 3], seed: 3)   // BatchNorm statistics pattern
        try check([16, 32, 17, 17], [2, 3], seed: 4)
        try check([100_003], [0], seed: 5)
        try check([3, 70, 5, 130], [1, 3], seed: 6)
        try check([7, 5, 3], [], seed: 7)
    }

    /// Full reductions of long runs take the segmented path (pieces of 64 Ki merged in order):
    /// one to three outputs, runs of exactly two pieces, of two and a ragged tail, and of many.
    func testLongRunsReduceBySegments() throws {
        try check([131_072], [0], seed: 11)
        try check([131_072 + 37], [0], seed: 12)
        try check([3, 140_001], [1], seed: 13)
        try check([2, 1, 700_000], [1, 2], seed: 14)
        // A constant run: every piece's sum is exact, so the total is too.
        let ones = [Float](repeating: 1, count: 300_001)
        XCTAssertEqual(try reduce(.sum, [300_001], [0], ones, pool: KCheck.pool2), [300_001])
        XCTAssertEqual(try reduce(.sumSquare, [300_001], [0], ones.map { $0 * 2 }, pool: .serial), [1_200_004])
    }

    func testKnownValuesAndErrors() throws {
        let x: [Float] = [1, 2, 3, 4, 5, 6]
        XCTAssertEqual(try reduce(.sum, [2, 3], [1], x, pool: .serial), [6, 15])
        XCTAssertEqual(try reduce(.sum, [2, 3], [0], x, pool: .serial), [5, 7, 9])
        XCTAssertEqual(try reduce(.mean, [2, 3], [0, 1], x, pool: .serial), [3.5])
        XCTAssertEqual(try reduce(.mean, [2, 3], [-1], x, pool: .serial), [2, 5])
        XCTAssertEqual(try reduce(.sumSquare, [2, 3], [1], x, pool: .serial), [14, 77])
        XCTAssertEqual(try reduce(.l2, [2, 3], [0], x, pool: .serial), [17, 29, 45].map { Float($0).squareRoot() })
        XCTAssertEqual(try reduce(.max, [2, 3], [1], [1, -2, 3, -4, -5, -6], pool: .serial), [3, -4])
        XCTAssertEqual(try reduce(.min, [2, 3], [0], [1, -2, 3, -4, -5, -6], pool: .serial), [-4, -5, -6])
        XCTAssertEqual(try reduce(.prod, [2, 3], [0, 1], x, pool: .serial), [720])
        // Empty reductions give each kind's identity; NaN propagates through max/min.
        XCTAssertEqual(try reduce(.max, [2, 0], [1], [], pool: .serial), [-.infinity, -.infinity])
        XCTAssertEqual(try reduce(.min, [0, 3], [0], [], pool: .serial), [.infinity, .infinity, .infinity])
        XCTAssertEqual(try reduce(.prod, [2, 0], [1], [], pool: .serial), [1, 1])
        XCTAssertEqual(try reduce(.sumSquare, [2, 0], [1], [], pool: .serial), [0, 0])
        XCTAssertTrue(try reduce(.max, [1, 19], [1], [1, .nan] + [Float](repeating: 2, count: 17), pool: .serial)[0].isNaN)
        XCTAssertTrue(try reduce(.min, [19, 1], [0], [Float](repeating: 2, count: 18) + [.nan], pool: .serial)[0].isNaN)
        XCTAssertThrowsError(try ReducePlan(shape: [2, 3], axes: [2]))
        XCTAssertThrowsError(try ReducePlan(shape: [2, 3], axes: [1, -1]))
    }

    // MARK: Softmax

    func softmax(_ x: [Float], _ o: Int, _ a: Int, _ i: Int, log: Bool, pool: ThreadPool, inPlace: Bool = false) -> [Float] {
        var y = inPlace ? x : [Float](repeating: .nan, count: x.count)
        if inPlace {
            y.withUnsafeMutableBufferPointer { Softmax.run(UnsafePointer($0.baseAddress!), $0.baseAddress!, outer: o, axis: a, inner: i, log: log, pool: pool) }
        } else {
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                Softmax.run(xp.baseAddress!, $0.baseAddress!, outer: o, axis: a, inner: i, log: log, pool: pool) } }
        }
        return y
    }

    func testSoftmaxMatchesReference() {
        var g = SeededRandom(seed: 31)
        var cases = (0..<150).map { _ in (g.int(1, 5), g.int(1, 40), g.bool() ? 1 : g.int(1, 40)) }
        cases += [(1, 1, 1), (2000, 10, 1), (64, 1000, 1), (8, 33, 300), (1, 100_000, 1)]
        for (k, (o, a, i)) in cases.enumerated() {
            let x = randomFloats(o * a * i, seed: UInt64(k), range: -20...20)
            for log in [false, true] {
                var want = [Float](repeating: 0, count: x.count)
                x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer {
                    Softmax.reference(xp.baseAddress!, $0.baseAddress!, outer: o, axis: a, inner: i, log: log) } }
                let y1 = softmax(x, o, a, i, log: log, pool: .serial)
                KCheck.bitwise(softmax(x, o, a, i, log: log, pool: KCheck.pool2), y1, "softmax \(o) \(a) \(i) threads")
                KCheck.bitwise(softmax(x, o, a, i, log: log, pool: KCheck.pool2, inPlace: true), y1, "softmax \(o) \(a) \(i) in place")
                KCheck.near(y1, want, rel: 2e-5, abs: log ? 1e-5 : 1e-6, "softmax(log: \(log)) \(o) \(a) \(i)")
            }
        }
    }

    /// LogSoftmax next to a huge tied maximum keeps −log(count): (x − max) − log Σ, not
    /// x − (max + log Σ), which rounds log Σ away (the hostile check: 0 where −log 2 was due).
    func testLogSoftmaxKeepsLogSumNextToHugeMaxima() {
        let x: [Float] = [1e30, 0, 1e30, -1e30]
        for (o, a, i) in [(1, 4, 1), (1, 4, 16)] {
            let xs = i == 1 ? x : x.flatMap { [Float](repeating: $0, count: i) }
            let y = softmax(xs, o, a, i, log: true, pool: .serial)
            XCTAssertEqual(y[0], -Float(Foundation.log(2.0)), accuracy: 1e-6, "inner \(i)")
            XCTAssertEqual(y[2 * i], -Float(Foundation.log(2.0)), accuracy: 1e-6, "inner \(i)")
        }
    }

    /// A long axis down columns (an attention block's 4096 keys, 16 queries a vector) sums in
    /// blocks: within 8e-7 relative of a Double softmax (3.9e-7 measured; one running sum per
    /// lane gave 1.4e-6 here).
    func testColumnSoftmaxOfALongAxisStaysAccurate() {
        let (a, i) = (4096, 16)
        let x = randomFloats(a * i, seed: 77, range: -4...4)
        let y = softmax(x, 1, a, i, log: false, pool: .serial)
        var worst = 0.0
        for c in 0..<i {
            let col = (0..<a).map { Double(x[$0 * i + c]) }
            let mx = col.max()!
            let e = col.map { Foundation.exp($0 - mx) }
            let s = e.reduce(0, +)
            for k in 0..<a { worst = max(worst, abs(Double(y[k * i + c]) - e[k] / s) / (e[k] / s)) }
        }
        XCTAssertLessThan(worst, 8e-7)
    }

    func testSoftmaxKnownValues() {
        let y = softmax([1, 2, 3], 1, 3, 1, log: false, pool: .serial)
        KCheck.near(y, [0.09003057, 0.24472847, 0.66524096], rel: 1e-6, abs: 1e-7, "softmax [1,2,3]")
        let l = softmax([1, 2, 3], 1, 3, 1, log: true, pool: .serial)
        KCheck.near(l, [-2.4076059, -1.4076059, -0.4076059], rel: 1e-6, abs: 1e-6, "logsoftmax [1,2,3]")
        // Stability: huge inputs do not overflow.
        let big = softmax([1000, 1000], 1, 2, 1, log: false, pool: .serial)
        XCTAssertEqual(big, [0.5, 0.5])
        // Along a strided axis: [[1, 1], [2, 3]] over axis 0.
        let s = softmax([1, 1, 2, 3], 1, 2, 2, log: false, pool: .serial)
        KCheck.near(s, [0.26894142, 0.11920292, 0.7310586, 0.8807971], rel: 1e-6, abs: 1e-7, "axis 0")
    }
}
