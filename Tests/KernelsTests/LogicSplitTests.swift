// LogicSplitTests: the Compare, Where, Split and ArgExtremum kernels against their scalar
// references on random odd and broadcast shapes (one and two threads), plus hand-checked cases.

import XCTest
import TestSupport
import Kernels

final class LogicSplitTests: XCTestCase {
    /// A random output shape and a shape that broadcasts to it (leading dims dropped, others set to 1).
    func broadcastShapes(_ g: inout SeededRandom) -> (out: [Int], a: [Int], b: [Int], c: [Int]) {
        let out = KCheck.shape(&g, maxRank: 5, maxDim: 7)
        func operand() -> [Int] {
            let drop = g.int(0, out.count)
            return out.dropFirst(drop).map { g.int(0, 2) == 0 ? 1 : $0 }
        }
        var a = operand(), b = operand(), c = operand()
        // The output must be the broadcast of the operands: the first operand keeps every dim.
        if g.int(0, 1) == 0 { a = out } else { b = out }
        if out.isEmpty { c = [] }
        return (out, a, b, c)
    }

    /// Quarter-step values (ties) with NaN and signed zeros.
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var v = randomFloats(n, seed: seed, range: -2...2).map { ($0 * 4).rounded() / 4 }
        if n > 3 { v[1] = .nan; v[2] = -0.0 }
        return v
    }

    func testCompareMatchesReference() throws {
        var g = SeededRandom(seed: 51)
        var cases = (0..<150).map { _ in broadcastShapes(&g) }
        cases.append(([3, 257, 129], [3, 257, 129], [257, 1], []))
        for (t, s) in cases.enumerated() {
            let plan = try BroadcastPlan(outShape: s.out, aShape: s.a, bShape: s.b)
            let a = values(s.a.reduce(1, *), seed: UInt64(2 * t)), b = values(s.b.reduce(1, *), seed: UInt64(2 * t + 1))
            let ai = a.map { $0.isNaN ? -99 : Int64($0 * 4) }, bi = b.map { $0.isNaN ? -99 : Int64($0 * 4) }
            for op in CompareOp.allCases {
                let want = Compare.reference(op, outShape: s.out, aShape: s.a, bShape: s.b, a, b)
                let wantI = Compare.reference(op, outShape: s.out, aShape: s.a, bShape: s.b, ai, bi)
                for pool in KCheck.pools {
                    var y = [Int64](repeating: -1, count: plan.count), yi = y
                    Compare.run(op, plan, a, b, &y, pool: pool)
                    Compare.run(op, plan, ai, bi, &yi, pool: pool)
                    XCTAssertEqual(y, want, "\(op) \(s) t\(pool.threads)")
                    XCTAssertEqual(yi, wantI, "\(op) int64 \(s) t\(pool.threads)")
                }
            }
        }
        // The definitions, by hand: NaN compares false, −0 equals +0, truth values are nonzero.
        let a: [Float] = [.nan, -0.0, 1, 2], b: [Float] = [.nan, 0, 2, 1]
        let expect: [CompareOp: [Int64]] = [.equal: [0, 1, 0, 0], .less: [0, 0, 1, 0], .lessOrEqual: [0, 1, 1, 0],
                                            .greater: [0, 0, 0, 1], .greaterOrEqual: [0, 1, 0, 1]]
        for (op, e) in expect { XCTAssertEqual(Compare.reference(op, outShape: [4], aShape: [4], bShape: [4], a, b), e, "\(op)") }
        let p: [Int64] = [0, 0, 1, 5], q: [Int64] = [0, 3, 0, 1]
        XCTAssertEqual(Compare.reference(.and, outShape: [4], aShape: [4], bShape: [4], p, q), [0, 0, 0, 1])
        XCTAssertEqual(Compare.reference(.or, outShape: [4], aShape: [4], bShape: [4], p, q), [0, 1, 1, 1])
        XCTAssertEqual(Compare.reference(.xor, outShape: [4], aShape: [4], bShape: [4], p, q), [0, 1, 1, 0])
        for count in [0, 1, 17, 40_001] {
            let x = (0..<count).map { Int64($0 % 3) }
            for pool in KCheck.pools {
                var y = [Int64](repeating: -1, count: count)
                Compare.not(x, &y, count: count, pool: pool)
                XCTAssertEqual(y, x.map { $0 == 0 ? 1 : 0 })
            }
        }
    }

    func testWhereMatchesReference() throws {
        var g = SeededRandom(seed: 52)
        var cases = (0..<150).map { _ in broadcastShapes(&g) }
        cases.append(([5, 301, 67], [301, 67], [5, 1, 67], [5, 301, 1]))
        for (t, s) in cases.enumerated() {
            let plan = try WherePlan(outShape: s.out, condShape: s.c, xShape: s.a, yShape: s.b)
            let c = randomFloats(s.c.reduce(1, *), seed: UInt64(3 * t)).map { $0 > 0 ? Int64(1) : 0 }
            let x = values(s.a.reduce(1, *), seed: UInt64(3 * t + 1)), y = values(s.b.reduce(1, *), seed: UInt64(3 * t + 2))
            let xi = x.map { $0.isNaN ? Int64.max : Int64($0 * 4) }, yi = y.map { $0.isNaN ? Int64.min : Int64($0 * 4) }
            let want = Where.reference(outShape: s.out, condShape: s.c, xShape: s.a, yShape: s.b, c, x, y)
            let wantI = Where.reference(outShape: s.out, condShape: s.c, xShape: s.a, yShape: s.b, c, xi, yi)
            for pool in KCheck.pools {
                var out = [Float](repeating: 9, count: plan.count), outI = [Int64](repeating: 9, count: plan.count)
                Where.run(plan, c, x, y, &out, pool: pool)
                Where.run(plan, c, xi, yi, &outI, pool: pool)
                KCheck.bitwise(out, want, "where \(s) t\(pool.threads)")
                XCTAssertEqual(outI, wantI, "where int64 \(s) t\(pool.threads)")
            }
        }
        // By hand: the condition broadcasts over rows, −0 is copied as −0.
        let plan = try WherePlan(outShape: [2, 3], condShape: [2, 1], xShape: [3], yShape: [])
        var out = [Float](repeating: 9, count: 6)
        Where.run(plan, [1, 0], [1, -0.0, 3], [7], &out)
        XCTAssertEqual(out.map(\.bitPattern), [1, -0.0, 3, 7, 7, 7].map { Float($0).bitPattern })
        XCTAssertThrowsError(try WherePlan(outShape: [2, 3], condShape: [2], xShape: [3], yShape: []))
    }

    func testSplitMatchesReference() {
        var g = SeededRandom(seed: 53)
        for t in 0..<120 {
            let k = g.int(1, 5)
            let outer = t == 0 ? 300 : g.int(1, 6), inner = t == 1 ? 5000 : g.int(1, 20)
            let sizes = (0..<k).map { _ in g.int(0, 6) }
            let total = sizes.reduce(0, +)
            let x = randomFloats(outer * total * inner, seed: UInt64(t))
            let want = AxisSplit.reference(x, sizes: sizes, outer: outer, inner: inner)
            let xi = x.map { Int64($0 * 1e6) }
            let wantI = AxisSplit.reference(xi, sizes: sizes, outer: outer, inner: inner)
            for pool in KCheck.pools {
                let parts = sizes.map { UnsafeMutablePointer<Float>.allocate(capacity: max(1, outer * $0 * inner)) }
                let partsI = sizes.map { UnsafeMutablePointer<Int64>.allocate(capacity: max(1, outer * $0 * inner)) }
                defer { parts.forEach { $0.deallocate() }; partsI.forEach { $0.deallocate() } }
                x.withUnsafeBytes { AxisSplit.run($0.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!, parts.map { UnsafeMutableRawPointer($0) }, sizes: sizes, outer: outer, inner: inner, elementBytes: 4, pool: pool) }
                xi.withUnsafeBytes { AxisSplit.run($0.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!, partsI.map { UnsafeMutableRawPointer($0) }, sizes: sizes, outer: outer, inner: inner, elementBytes: 8, pool: pool) }
                for (i, s) in sizes.enumerated() {
                    let n = outer * s * inner
                    KCheck.bitwise(Array(UnsafeBufferPointer(start: parts[i], count: n)), want[i], "split \(sizes) part \(i) t\(pool.threads)")
                    XCTAssertEqual(Array(UnsafeBufferPointer(start: partsI[i], count: n)), wantI[i])
                }
            }
        }
        // By hand: a 2 × 5 matrix split along columns into 2 and 3.
        XCTAssertEqual(AxisSplit.reference(Array(0..<10), sizes: [2, 3], outer: 2, inner: 1), [[0, 1, 5, 6], [2, 3, 4, 7, 8, 9]])
    }

    func testArgExtremumMatchesReference() {
        var g = SeededRandom(seed: 54)
        for t in 0..<120 {
            let outer = t == 0 ? 200 : g.int(1, 5), axis = g.int(1, 9), inner = t == 1 ? 3000 : g.int(1, 17)
            let x = values(outer * axis * inner, seed: UInt64(t))
            for isMax in [true, false] {
                for last in [false, true] {
                    let want = ArgExtremum.reference(x, outer: outer, axis: axis, inner: inner, max: isMax, selectLast: last)
                    for pool in KCheck.pools {
                        var y = [Int64](repeating: -1, count: outer * inner)
                        ArgExtremum.run(x, &y, outer: outer, axis: axis, inner: inner, max: isMax, selectLast: last, pool: pool)
                        XCTAssertEqual(y, want, "arg\(isMax ? "max" : "min") \(outer)x\(axis)x\(inner) last=\(last) t\(pool.threads)")
                    }
                }
            }
        }
        // By hand: ties take the first (or last) index, NaN wins like numpy's argmax/argmin.
        let x: [Float] = [1, 3, 3, 0, 0]
        XCTAssertEqual(ArgExtremum.reference(x, outer: 1, axis: 5, inner: 1, max: true, selectLast: false), [1])
        XCTAssertEqual(ArgExtremum.reference(x, outer: 1, axis: 5, inner: 1, max: true, selectLast: true), [2])
        XCTAssertEqual(ArgExtremum.reference(x, outer: 1, axis: 5, inner: 1, max: false, selectLast: false), [3])
        XCTAssertEqual(ArgExtremum.reference(x, outer: 1, axis: 5, inner: 1, max: false, selectLast: true), [4])
        XCTAssertEqual(ArgExtremum.reference([1, .nan, 5, .nan], outer: 1, axis: 4, inner: 1, max: true, selectLast: false), [1])
        XCTAssertEqual(ArgExtremum.reference([1, .nan, 5, .nan], outer: 1, axis: 4, inner: 1, max: false, selectLast: true), [3])
    }

    /// Resample.gather (Pad of integers) against its reference on random pad plans (−1 taps outside).
    func testGatherMatchesReference() {
        var g = SeededRandom(seed: 55)
        for t in 0..<100 {
            let rank = g.int(1, 4)
            let inShape = (0..<rank).map { _ in g.int(1, 6) }
            let outShape = inShape.map { $0 + g.int(0, 4) }
            let axes = zip(inShape, outShape).map { n, m in Resample.Axis(nearest: (0..<m).map { _ in g.int(-1, n - 1) }) }
            let p = Resample.Plan(inShape: inShape, outShape: outShape, axes: axes)
            let x = (0..<inShape.reduce(1, *)).map { Int64($0 * 7 - 11) }
            let want = Resample.gatherReference(p, x, outside: Int64.min)
            for pool in KCheck.pools {
                var y = [Int64](repeating: 0, count: outShape.reduce(1, *))
                Resample.gather(p, x, &y, outside: Int64.min, pool: pool)
                XCTAssertEqual(y, want, "gather \(inShape)->\(outShape) #\(t) t\(pool.threads)")
            }
        }
        // By hand: edge padding of [1, 2, 3] by one on each side.
        let p = Resample.Plan(inShape: [3], outShape: [5], axes: [Resample.Axis(nearest: [0, 0, 1, 2, 2])])
        XCTAssertEqual(Resample.gatherReference(p, [Int64(1), 2, 3], outside: 0), [1, 1, 2, 3, 3])
    }
}
