import XCTest
import TestSupport
import Kernels

/// Sign, LeakyReluGrad, EluGrad and GatherGrad: the fast kernels equal the scalar references bit for bit
/// at odd sizes, for 1 and 2 threads.
final class GradKernelTests: XCTestCase {
    func out(_ n: Int, _ body: (UnsafeMutablePointer<Float>) throws -> Void) rethrows -> [Float] {
        var y = [Float](repeating: .nan, count: n)
        try y.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
        return y
    }

    func testSign() {
        for n in [0, 1, 15, 17, 33, 40_001] {
            var x = randomFloats(n, seed: UInt64(n), range: -3...3)
            if n > 3 { x[0] = 0; x[1] = -0.0; x[2] = .nan; x[3] = -.infinity }
            let want = out(n) { Grad.signReference(x, $0, count: n) }
            if n > 3 { XCTAssertEqual(Array(want[0..<4]), [0, 0, 0, -1]) }
            for pool in KCheck.pools {
                KCheck.bitwise(out(n) { Grad.sign(x, $0, count: n, pool: pool) }, want, "sign n=\(n) t\(pool.threads)")
            }
        }
    }

    func testLeakyReluGrad() {
        for (n, alpha) in [(1, Float(0.2)), (15, 0), (31, 0.01), (37_123, 0.2)] {
            let dy = randomFloats(n, seed: 7, range: -2...2)
            var y = randomFloats(n, seed: 8, range: -2...2)
            if n > 1 { y[0] = 0 }
            let want = out(n) { Grad.leakyReluGradReference(alpha: alpha, dy, y, $0, count: n) }
            if n > 1 { XCTAssertEqual(want[0], alpha * dy[0]) }
            for pool in KCheck.pools {
                KCheck.bitwise(out(n) { Grad.leakyReluGrad(alpha: alpha, dy, y, $0, count: n, pool: pool) }, want,
                               "leakyReluGrad n=\(n) t\(pool.threads)")
            }
        }
    }

    func testEluGrad() {
        for (n, alpha) in [(1, Float(1)), (15, 0), (31, 0.4), (37_123, 1)] {
            let dy = randomFloats(n, seed: 9, range: -2...2)
            var y = randomFloats(n, seed: 10, range: -1...2)
            if n > 2 { y[0] = 0; y[1] = -0.0; y[2] = .nan }
            let want = out(n) { Grad.eluGradReference(alpha: alpha, dy, y, $0, count: n) }
            if n > 2 { XCTAssertEqual(want[0], dy[0] * alpha); XCTAssertEqual(want[1], dy[1] * alpha) }
            for pool in KCheck.pools {
                KCheck.bitwise(out(n) { Grad.eluGrad(alpha: alpha, dy, y, $0, count: n, pool: pool) }, want,
                               "eluGrad n=\(n) t\(pool.threads)")
            }
        }
    }

    func testGatherGrad() throws {
        var g = SeededRandom(seed: 44)
        for t in 0..<60 {
            let outer = t == 0 ? 301 : g.int(1, 5), axis = g.int(1, 7), inner = t == 1 ? 1003 : g.int(1, 35)
            let count = g.int(0, 9)
            let idx = (0..<count).map { _ in Int64(g.int(-axis, axis - 1)) }
            let dy = randomFloats(outer * count * inner, seed: UInt64(t))
            let n = outer * axis * inner
            let want = try out(n) { try Grad.gatherGradReference(dy, indices: idx, indexCount: count, $0, outer: outer, axisSize: axis, inner: inner) }
            for pool in KCheck.pools {
                KCheck.bitwise(try out(n) { try Grad.gatherGrad(dy, indices: idx, indexCount: count, $0, outer: outer, axisSize: axis,
                                                                inner: inner, pool: pool) },
                               want, "gatherGrad outer=\(outer) axis=\(axis) inner=\(inner) t\(pool.threads)")
            }
        }
        // Repeated and negative indices accumulate.
        let y = try out(3) { try Grad.gatherGrad([1, 2, 4], indices: [2, -1, 0], indexCount: 3, $0, outer: 1, axisSize: 3, inner: 1) }
        XCTAssertEqual(y, [4, 0, 3])
        XCTAssertThrowsError(try out(3) { try Grad.gatherGrad([1], indices: [3], indexCount: 1, $0, outer: 1, axisSize: 3, inner: 1) })
    }
}
