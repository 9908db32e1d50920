// AttentionTests: the fused attention kernel against the scalar GEMM and softmax references,
// over every operand layout, both output forms, one and several row blocks, 1 and 2 threads.

import XCTest
import TestSupport
import Kernels

final class AttentionTests: XCTestCase {
    /// S = op(A)·op(B), P = softmax rows, O = op(V)·Pᵀ or P·op(V), per batch, by the references.
    func reference(_ p: Attention.Plan, _ a: [Float], _ b: [Float], _ v: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: p.batch * p.m * p.c)
        for bi in 0..<p.batch {
            var s = [Float](repeating: 0, count: p.m * p.n), pr = s, o = [Float](repeating: 0, count: p.m * p.c)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                Gemm.reference(transA: p.transA, transB: p.transB, m: p.m, n: p.n, k: p.d, alpha: 1,
                               a: ap.baseAddress! + bi * p.m * p.d, lda: p.transA ? p.m : p.d,
                               b: bp.baseAddress! + bi * p.d * p.n, ldb: p.transB ? p.d : p.n, beta: 0, c: &s, ldc: p.n)
            } }
            Softmax.reference(s, &pr, outer: p.m, axis: p.n, inner: 1)
            v.withUnsafeBufferPointer { vp in
                let vb = vp.baseAddress! + bi * p.n * p.c
                if p.valueFirst {
                    Gemm.reference(transA: p.transV, transB: true, m: p.c, n: p.m, k: p.n, alpha: 1, a: vb, lda: p.transV ? p.c : p.n,
                                   b: pr, ldb: p.n, beta: 0, c: &o, ldc: p.m)
                } else {
                    Gemm.reference(transA: false, transB: p.transV, m: p.m, n: p.c, k: p.n, alpha: 1, a: pr, lda: p.n,
                                   b: vb, ldb: p.transV ? p.n : p.c, beta: 0, c: &o, ldc: p.c)
                }
            }
            out.replaceSubrange((bi * p.m * p.c)..<((bi + 1) * p.m * p.c), with: o)
        }
        return out
    }

    func run(_ p: Attention.Plan, _ a: [Float], _ b: [Float], _ v: [Float], pool: ThreadPool) -> [Float] {
        var out = [Float](repeating: .nan, count: max(p.batch * p.m * p.c, 1))
        var scratch = [Float](repeating: .nan, count: max(p.scratchFloats, 1))
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in v.withUnsafeBufferPointer { vp in
            out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { sc in
                Attention.run(p, ap.baseAddress!, bp.baseAddress!, vp.baseAddress!, o.baseAddress!, scratch: sc.baseAddress!, pool: pool)
            } }
        } } }
        return out
    }

    /// Every (transA, transB, transV, valueFirst); shapes with one block (n = 37), three blocks
    /// with a ragged last one (n = 2000: 32 rows a block, m = 70), and fewer than 4 rows (m = 3).
    /// No queries, no keys, no inner dimension: nothing written, zeros, and a uniform softmax.
    func testEmptyDimensions() {
        for (m, n, d) in [(0, 5, 3), (3, 0, 3), (4, 6, 0)] {
            for valueFirst in [false, true] {
                let p = Attention.Plan(batch: 2, m: m, n: n, d: d, c: 4, transA: false, transB: false, transV: false, valueFirst: valueFirst)
                let a = [Float](repeating: 0.5, count: max(2 * m * d, 1)), b = [Float](repeating: -1, count: max(2 * d * n, 1))
                let v = randomFloats(max(2 * n * 4, 1), seed: 9)
                let got = run(p, a, b, v, pool: KCheck.pool2)
                KCheck.near(Array(got.prefix(2 * m * 4)), reference(p, a, b, v), rel: 1e-6, abs: 1e-6, "\(p)")
            }
        }
    }

    func testMatchesTheReferencesOnEveryLayout() {
        var seed: UInt64 = 1
        for (batch, m, n, d, c) in [(2, 9, 37, 5, 7), (1, 70, 2000, 3, 6), (3, 3, 40, 4, 2)] {
            for flags in 0..<16 {
                let p = Attention.Plan(batch: batch, m: m, n: n, d: d, c: c, transA: flags & 1 != 0, transB: flags & 2 != 0,
                                       transV: flags & 4 != 0, valueFirst: flags & 8 != 0)
                seed += 1
                let a = randomFloats(batch * m * d, seed: seed, range: -2...2), b = randomFloats(batch * d * n, seed: seed + 100, range: -2...2)
                let v = randomFloats(batch * n * c, seed: seed + 200)
                let one = run(p, a, b, v, pool: .serial)
                KCheck.bitwise(run(p, a, b, v, pool: KCheck.pool2), one, "threads \(p)")
                KCheck.near(one, reference(p, a, b, v), rel: 1e-5, abs: 1e-6, "\(p)")
            }
        }
    }
}
