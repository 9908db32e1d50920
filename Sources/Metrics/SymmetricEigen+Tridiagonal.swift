// SymmetricEigen+Tridiagonal: the O(n³) eigensolver for wide feature sets (Inception's d = 2048,
// where cyclic Jacobi would take hours): Householder reduction to tridiagonal form, then the
// implicit QL algorithm with Wilkinson-type shifts (Golub & Van Loan 8.3; Numerical Recipes'
// tred2/tqli), in Double.
//
// Contract: `tridiagonalDecompose(a, n, vectors:, pool:)` takes a row-major symmetric n×n matrix
// (the triangles are averaged) and returns eigenvalues ascending and, when `vectors` is true,
// V row-major with column k = eigenvector k (A = V diag(λ) Vᵀ); without vectors, `vectors` is
// empty and the Householder vectors are not accumulated (about 4× cheaper). Backward stable:
// eigenvalues are within a few n·ulp·‖A‖ of the true ones. The reduction's matrix-vector
// product and rank-2 update, the accumulation of Q and the QL rotations on the eigenvector rows
// are split over `pool` (rows are independent, so results do not depend on the thread count).
// Columns below 1e-15·max|A| count as reduced and off-diagonals below ε·‖T‖ deflate (backward
// errors of that size), so rank-deficient covariances (N < d) stay O(n³). A QL iteration that
// has not converged after 60 sweeps keeps its current values (the limit only bounds the time).

import Foundation
import Kernels

extension SymmetricEigen {
    /// Householder tridiagonalisation + implicit QL (see the file contract).
    public static func tridiagonalDecompose(_ a: [Double], n: Int, vectors wantVectors: Bool,
                                            pool: ThreadPool = .serial) -> (values: [Double], vectors: [Double]) {
        precondition(a.count == n * n, "matrix has \(a.count) entries, expected \(n)×\(n)")
        if n == 0 { return ([], []) }
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { m[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]) } }
        var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: n)
        var betas = [Double](repeating: 0, count: n)
        var zt: [Double] = []   // Qᵀ, then (QZ)ᵀ: row k = eigenvector k
        m.withUnsafeMutableBufferPointer { mb in
            let a = mb.baseAddress!
            householder(a, n, &d, &e, &betas, pool)
            if wantVectors {
                zt = [Double](repeating: 0, count: n * n)
                zt.withUnsafeMutableBufferPointer { accumulateQTransposed(a, n, betas, $0.baseAddress!, pool) }
            }
        }
        if wantVectors {
            zt.withUnsafeMutableBufferPointer { implicitQL(&d, &e, n, $0.baseAddress!, pool) }
        } else {
            implicitQL(&d, &e, n, nil, pool)
        }
        let order = (0..<n).sorted { d[$0] < d[$1] }
        let values = order.map { d[$0] }
        guard wantVectors else { return (values, []) }
        var v = [Double](repeating: 0, count: n * n)
        for (k, src) in order.enumerated() { for r in 0..<n { v[r * n + k] = zt[src * n + r] } }
        return (values, v)
    }

    /// Reduces the full symmetric `a` in place: d = diagonal, e[k] = T[k+1][k] (e[n−1] = 0).
    /// Row k of `a` (columns k+1…) keeps the Householder vector v_k of step k, betas[k] its
    /// β (H_k = I − β v vᵀ; β = 0 when the column was already reduced).
    private static func householder(_ a: UnsafeMutablePointer<Double>, _ n: Int, _ d: inout [Double], _ e: inout [Double],
                                    _ betas: inout [Double], _ pool: ThreadPool) {
        var p = [Double](repeating: 0, count: n), w = [Double](repeating: 0, count: n)
        var anorm = 0.0
        for i in 0..<(n * n) { anorm = max(anorm, abs(a[i])) }
        for k in 0..<max(n - 2, 0) {
            let s = k + 1, len = n - s
            let v = a + k * n + s   // x = A[k, k+1…] (= column k below the diagonal)
            var scale = 0.0
            for i in 0..<len { scale = max(scale, abs(v[i])) }
            d[k] = a[k * n + k]
            // A column at rounding-noise level (rank-deficient covariances: N < d) counts as
            // reduced: dropping it perturbs A by < 1e-15·max|A| per entry (Weyl), and avoids
            // reflecting noise into denormals.
            if scale <= 1e-15 * anorm { e[k] = v[0]; betas[k] = 0; continue }
            var norm2 = 0.0
            for i in 0..<len { let t = v[i] / scale; norm2 += t * t }
            let alpha = (v[0] >= 0 ? -1.0 : 1.0) * scale * norm2.squareRoot()
            e[k] = alpha
            v[0] -= alpha
            var vv = 0.0
            for i in 0..<len { vv += v[i] * v[i] }
            if vv == 0 { betas[k] = 0; continue }
            let beta = 2 / vv
            betas[k] = beta
            // p = β B v over the trailing block B = A[s…, s…] (rows in parallel).
            p.withUnsafeMutableBufferPointer { pb in
                let pp = pb.baseAddress!
                pool.parallelFor(len) { rows in
                    for i in rows {
                        let row = a + (s + i) * n + s
                        var acc = 0.0
                        for j in 0..<len { acc += row[j] * v[j] }
                        pp[i] = beta * acc
                    }
                }
            }
            var pv = 0.0
            for i in 0..<len { pv += p[i] * v[i] }
            let kk = 0.5 * beta * pv
            for i in 0..<len { w[i] = p[i] - kk * v[i] }
            // B ← B − v wᵀ − w vᵀ.
            w.withUnsafeBufferPointer { wb in
                let ww = wb.baseAddress!
                pool.parallelFor(len) { rows in
                    for i in rows {
                        let row = a + (s + i) * n + s
                        let vi = v[i], wi = ww[i]
                        for j in 0..<len { row[j] -= vi * ww[j] + wi * v[j] }
                    }
                }
            }
        }
        if n >= 2 {
            d[n - 2] = a[(n - 2) * n + (n - 2)]
            e[n - 2] = a[(n - 1) * n + (n - 2)]
        }
        d[n - 1] = a[(n - 1) * n + (n - 1)]
        e[n - 1] = 0
    }

    /// Qᵀ = H_{n−3} ⋯ H_0 into `zt` (row-major), from the vectors kept in `a`'s rows. Built as
    /// Q = H_0(H_1(⋯(H_{n−3} I))) with rows of Q[s…, s…] updated by v (vᵀ Q) — row-contiguous —
    /// then transposed.
    private static func accumulateQTransposed(_ a: UnsafeMutablePointer<Double>, _ n: Int, _ betas: [Double],
                                              _ zt: UnsafeMutablePointer<Double>, _ pool: ThreadPool) {
        var q = [Double](repeating: 0, count: n * n)
        for i in 0..<n { q[i * n + i] = 1 }
        var w = [Double](repeating: 0, count: n)
        q.withUnsafeMutableBufferPointer { qb in
            let q = qb.baseAddress!
            for k in stride(from: n - 3, through: 0, by: -1) where betas[k] != 0 {
                let s = k + 1, len = n - s, beta = betas[k]
                let v = a + k * n + s
                // wᵀ = vᵀ Q[s…, s…], split over columns.
                w.withUnsafeMutableBufferPointer { wb in
                    let ww = wb.baseAddress!
                    pool.parallelFor(len) { cols in
                        for j in cols { ww[j] = 0 }
                        for i in 0..<len {
                            let vi = v[i]
                            if vi == 0 { continue }
                            let row = q + (s + i) * n + s
                            for j in cols { ww[j] += vi * row[j] }
                        }
                    }
                }
                w.withUnsafeBufferPointer { wb in
                    let ww = wb.baseAddress!
                    pool.parallelFor(len) { rows in
                        for i in rows {
                            let f = beta * v[i]
                            if f == 0 { continue }
                            let row = q + (s + i) * n + s
                            for j in 0..<len { row[j] -= f * ww[j] }
                        }
                    }
                }
            }
            for i in 0..<n { for j in 0..<n { zt[j * n + i] = q[i * n + j] } }
        }
    }

    /// Implicit QL on the tridiagonal (d, e) with e[i] = T[i+1][i]; eigenvalues into d. With
    /// `zt`, each sweep's rotations of columns i, i+1 of Z are applied, in order, to rows i, i+1
    /// of Zᵀ (columns of Zᵀ split over the pool: each chunk replays the whole sweep).
    private static func implicitQL(_ d: inout [Double], _ e: inout [Double], _ n: Int,
                                   _ zt: UnsafeMutablePointer<Double>?, _ pool: ThreadPool) {
        let eps = Double.ulpOfOne
        var rotations: [(Int, Double, Double)] = []
        // Deflate e[m] when negligible next to its diagonal neighbours OR next to ‖T‖ (the
        // absolute floor ends the iteration on noise-level blocks of rank-deficient matrices).
        var tnorm = 0.0
        for i in 0..<n { tnorm = max(tnorm, abs(d[i]) + abs(e[i])) }
        for l in 0..<n {
            var iterations = 0
            while true {
                var m = l
                while m < n - 1 {
                    let dd = abs(d[m]) + abs(d[m + 1])
                    if abs(e[m]) <= eps * dd || abs(e[m]) <= eps * tnorm { break }
                    m += 1
                }
                if m == l { break }
                iterations += 1
                if iterations > 60 { break }
                var g = (d[l + 1] - d[l]) / (2 * e[l])
                var r = hypot(g, 1)
                g = d[m] - d[l] + e[l] / (g + (g >= 0 ? abs(r) : -abs(r)))
                var s = 1.0, c = 1.0, p = 0.0
                var i = m - 1
                var deflated = false
                rotations.removeAll(keepingCapacity: true)
                while i >= l {
                    let f = s * e[i]
                    let b = c * e[i]
                    r = hypot(f, g)
                    e[i + 1] = r
                    if r == 0 {
                        d[i + 1] -= p
                        e[m] = 0
                        deflated = true
                        break
                    }
                    s = f / r
                    c = g / r
                    g = d[i + 1] - p
                    r = (d[i] - g) * s + 2 * c * b
                    p = s * r
                    d[i + 1] = g + p
                    g = c * r - b
                    rotations.append((i, c, s))
                    i -= 1
                }
                if let zt { applyRotations(rotations, zt, n, pool) }
                if deflated { continue }
                d[l] -= p
                e[l] = g
                e[m] = 0
            }
        }
    }

    /// Applies the rotations (i, c, s) in order: rows (i, i+1) of `zt` ← (c·z_i − s·z_{i+1}, s·z_i + c·z_{i+1}).
    private static func applyRotations(_ rotations: [(Int, Double, Double)], _ zt: UnsafeMutablePointer<Double>, _ n: Int, _ pool: ThreadPool) {
        if rotations.isEmpty { return }
        let chunks = rotations.count * n >= 1 << 16 ? pool.threads : 1
        pool.parallelFor(n, chunks: chunks) { ks in
            for (i, c, s) in rotations {
                let r0 = zt + i * n, r1 = zt + (i + 1) * n
                for k in ks {
                    let z0 = r0[k], z1 = r1[k]
                    r1[k] = s * z0 + c * z1
                    r0[k] = c * z0 - s * z1
                }
            }
        }
    }
}
