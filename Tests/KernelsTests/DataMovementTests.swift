import XCTest
import TestSupport
import Kernels

final class DataMovementTests: XCTestCase {
    func withIO(_ x: [Float], _ n: Int, _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) throws -> Void) rethrows -> [Float] {
        var y = [Float](repeating: .nan, count: n)
        try x.withUnsafeBufferPointer { xp in try y.withUnsafeMutableBufferPointer { try body(xp.baseAddress!, $0.baseAddress!) } }
        return y
    }

    func testTransposeRandom() throws {
        var g = SeededRandom(seed: 41)
        var cases: [([Int], [Int])] = (0..<300).map { _ in
            let s = KCheck.shape(&g, maxRank: 5, maxDim: 7)
            var p = Array(s.indices)
            for i in p.indices.reversed() where i > 0 { p.swapAt(i, g.int(0, i)) }
            return (s, p)
        }
        cases += [([257, 1023], [1, 0]), ([3, 130, 70], [0, 2, 1]), ([16, 8, 9, 40], [0, 2, 3, 1]), ([16, 40, 8, 9], [0, 3, 1, 2]), ([5, 300, 200], [2, 1, 0])]
        for (shape, perm) in cases {
            let x = randomFloats(shape.reduce(1, *), seed: UInt64(shape.count), range: -9...9)
            let plan = try TransposePlan(shape: shape, perm: perm)
            XCTAssertEqual(plan.outShape, perm.map { shape[$0] })
            let want = withIO(x, x.count) { Transpose.reference(shape: shape, perm: perm, $0, $1) }
            for pool in KCheck.pools {
                KCheck.bitwise(withIO(x, x.count) { Transpose.run(plan, $0, $1, pool: pool) }, want, "transpose \(shape) \(perm) t\(pool.threads)")
            }
        }
        XCTAssertEqual(withIO([1, 2, 3, 4, 5, 6], 6) { Transpose.run(try! TransposePlan(shape: [2, 3], perm: [1, 0]), $0, $1) }, [1, 4, 2, 5, 3, 6])
        XCTAssertThrowsError(try TransposePlan(shape: [2, 3], perm: [0, 0]))
    }

    func testConcatRandom() {
        var g = SeededRandom(seed: 42)
        for t in 0..<120 {
            let k = g.int(1, 5)
            let outer = t == 0 ? 300 : g.int(1, 6), inner = t == 1 ? 5000 : g.int(1, 20)
            let sizes = (0..<k).map { _ in g.int(0, 6) }
            let inputs = sizes.enumerated().map { randomFloats(outer * $0.element * inner, seed: UInt64(t * 10 + $0.offset)) }
            let total = sizes.reduce(0, +) * outer * inner
            let ptrs = inputs.map { a -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, a.count)); p.initialize(from: a, count: a.count); return p }
            defer { ptrs.forEach { $0.deallocate() } }
            let cp = ptrs.map { UnsafePointer($0) }
            let want = withIO([], total) { _, y in Concat.reference(inputs: cp, axisSizes: sizes, outer: outer, inner: inner, y) }
            for pool in KCheck.pools {
                KCheck.bitwise(withIO([], total) { _, y in Concat.run(inputs: cp, axisSizes: sizes, outer: outer, inner: inner, y, pool: pool) },
                               want, "concat \(sizes) \(outer) \(inner)")
            }
        }
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [9, 8]
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            let y = withIO([], 6) { _, y in Concat.run(inputs: [ap.baseAddress!, bp.baseAddress!], axisSizes: [2, 1], outer: 2, inner: 1, y) }
            XCTAssertEqual(y, [1, 2, 9, 3, 4, 8])
        } }
    }

    func testGather() throws {
        var g = SeededRandom(seed: 43)
        for t in 0..<150 {
            let outer = t == 0 ? 40 : g.int(1, 5), axis = g.int(1, 9), inner = t == 0 ? 2000 : (g.bool() ? 1 : g.int(1, 30))
            let count = g.int(0, 12)
            let idx = (0..<count).map { _ in Int64(g.int(-axis, axis - 1)) }
            let x = randomFloats(outer * axis * inner, seed: UInt64(t))
            let n = outer * count * inner
            let want = try idx.withUnsafeBufferPointer { ip in try withIO(x, n) {
                try Gather.reference($0, indices: ip.baseAddress!, indexCount: count, $1, outer: outer, axisSize: axis, inner: inner) } }
            for pool in KCheck.pools {
                let y = try idx.withUnsafeBufferPointer { ip in try withIO(x, n) {
                    try Gather.run($0, indices: ip.baseAddress!, indexCount: count, $1, outer: outer, axisSize: axis, inner: inner, pool: pool) } }
                KCheck.bitwise(y, want, "gather \(outer) \(axis) \(inner) \(idx)")
            }
        }
        // Known values with negative indices, and the error for out-of-range ones.
        let x: [Float] = [10, 11, 12, 13]
        let idx: [Int64] = [-1, 0, -4, 2]
        let y = try idx.withUnsafeBufferPointer { ip in try withIO(x, 4) {
            try Gather.run($0, indices: ip.baseAddress!, indexCount: 4, $1, outer: 1, axisSize: 4, inner: 1) } }
        XCTAssertEqual(y, [13, 10, 10, 12])
        for bad: Int64 in [4, -5, 100] {
            let ids: [Int64] = [0, bad]
            XCTAssertThrowsError(try ids.withUnsafeBufferPointer { ip in try withIO(x, 2) {
                try Gather.run($0, indices: ip.baseAddress!, indexCount: 2, $1, outer: 1, axisSize: 4, inner: 1) } }) {
                XCTAssertEqual($0 as? KernelError, .indexOutOfRange(index: Int(bad), size: 4))
            }
        }
    }

    func testSliceRandom() throws {
        var g = SeededRandom(seed: 44)
        var tested = 0
        for t in 0..<400 {
            let shape = t == 0 ? [7, 300, 120] : KCheck.shape(&g, maxRank: 5, maxDim: 8).map { max($0, 1) }
            var starts: [Int] = [], steps: [Int] = [], out: [Int] = []
            for d in shape {
                var step = [1, 1, 2, 3, -1, -2][g.int(0, 5)]
                if t == 0 { step = 1 }
                let start = g.int(0, d - 1)
                let avail = step > 0 ? (d - start + step - 1) / step : (start + 1 + (-step) - 1) / (-step)
                starts.append(start); steps.append(step); out.append(g.int(0, avail))
            }
            let plan = try SlicePlan(shape: shape, starts: starts, steps: steps, outShape: out)
            let x = randomFloats(shape.reduce(1, *), seed: UInt64(t))
            let n = out.reduce(1, *)
            let want = withIO(x, n) { Slice.reference(shape: shape, starts: starts, steps: steps, outShape: out, $0, $1) }
            for pool in KCheck.pools {
                KCheck.bitwise(withIO(x, n) { Slice.run(plan, $0, $1, pool: pool) }, want, "slice \(shape) \(starts) \(steps) \(out)")
            }
            tested += n > 0 ? 1 : 0
        }
        XCTAssertGreaterThan(tested, 100)
        let y = withIO([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 4) {
            Slice.run(try! SlicePlan(shape: [3, 4], starts: [2, 3], steps: [-1, -2], outShape: [2, 2]), $0, $1) }
        XCTAssertEqual(y, [11, 9, 7, 5])
        XCTAssertThrowsError(try SlicePlan(shape: [3], starts: [1], steps: [1], outShape: [3]))
    }

    func testExpandRandom() throws {
        var g = SeededRandom(seed: 45)
        for t in 0..<300 {
            let out = t == 0 ? [64, 16, 30, 30] : KCheck.shape(&g)
            var inS = Array(out.dropFirst(g.int(0, out.count)))
            for i in inS.indices where g.bool() { inS[i] = 1 }
            if t == 0 { inS = [16, 1, 1] }
            let plan = try BroadcastPlan(outShape: out, aShape: inS, bShape: [])
            let x = randomFloats(inS.reduce(1, *), seed: UInt64(t))
            let want = withIO(x, plan.count) { Expand.reference(outShape: out, inShape: inS, $0, $1) }
            for pool in KCheck.pools {
                KCheck.bitwise(withIO(x, plan.count) { Expand.run(plan, $0, $1, pool: pool) }, want, "expand \(inS) → \(out)")
            }
        }
        let y = withIO([1, 2], 6) { Expand.run(try! BroadcastPlan(outShape: [3, 2], aShape: [2], bShape: []), $0, $1) }
        XCTAssertEqual(y, [1, 2, 1, 2, 1, 2])
    }
}
