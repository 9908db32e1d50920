// SymmetricEigen: eigenvalues and eigenvectors of a real symmetric matrix (cyclic Jacobi, Double).
//
// Contract: `decompose(a, n)` takes a row-major n×n matrix (only symmetry is assumed; the
// lower and upper triangles are averaged) and returns eigenvalues (ascending) and the matrix V
// (row-major, column k = eigenvector k) with A = V diag(λ) Vᵀ. Cyclic Jacobi sweeps with the
// classic stable rotation (Golub & Van Loan 8.5.2, Rutishauser's threshold in the first three
// sweeps) until the off-diagonal mass is below 1e-30 of the total or 100 sweeps. Adequate (and
// accurate to a few ulps of ‖A‖) for classifier feature widths (n ≤ `jacobiLimit` = 512); wider
// matrices (Inception's 2048) go to the Householder + implicit QL solver
// (SymmetricEigen+Tridiagonal.swift), split over `pool`.

import Foundation
import Kernels

public enum SymmetricEigen {
    /// The widest matrix decomposed by cyclic Jacobi.
    public static let jacobiLimit = 512

    /// Eigen-decomposition of the symmetric row-major `n`×`n` matrix `a`.
    public static func decompose(_ a: [Double], n: Int, pool: ThreadPool = .serial) -> (values: [Double], vectors: [Double]) {
        precondition(a.count == n * n, "matrix has \(a.count) entries, expected \(n)×\(n)")
        if n == 0 { return ([], []) }
        if n > jacobiLimit { return tridiagonalDecompose(a, n: n, vectors: true, pool: pool) }
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { m[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]) } }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        m.withUnsafeMutableBufferPointer { mp in
            v.withUnsafeMutableBufferPointer { vp in
                jacobi(mp.baseAddress!, vp.baseAddress!, n)
            }
        }
        var order = Array(0..<n)
        let diag = (0..<n).map { m[$0 * n + $0] }
        order.sort { diag[$0] < diag[$1] }
        var values = [Double](repeating: 0, count: n)
        var vectors = [Double](repeating: 0, count: n * n)
        for (k, src) in order.enumerated() {
            values[k] = diag[src]
            for r in 0..<n { vectors[r * n + k] = v[r * n + src] }
        }
        return (values, vectors)
    }

    /// Eigenvalues only (ascending).
    public static func eigenvalues(_ a: [Double], n: Int, pool: ThreadPool = .serial) -> [Double] {
        n > jacobiLimit ? tridiagonalDecompose(a, n: n, vectors: false, pool: pool).values : decompose(a, n: n).values
    }

    private static func jacobi(_ a: UnsafeMutablePointer<Double>, _ v: UnsafeMutablePointer<Double>, _ n: Int) {
        var total = 0.0
        for i in 0..<(n * n) { total += a[i] * a[i] }
        if total == 0 { return }
        for sweep in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { off += a[p * n + q] * a[p * n + q] } }
            if off <= 1e-30 * total || off == 0 { return }
            let threshold = sweep < 3 ? 0.2 * off.squareRoot() / Double(n * n) : 0
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    let app = a[p * n + p], aqq = a[q * n + q]
                    let g = 100 * abs(apq)
                    // After a few sweeps, skip rotations that cannot change the diagonal.
                    if sweep > 3 && abs(app) + g == abs(app) && abs(aqq) + g == abs(aqq) {
                        a[p * n + q] = 0; a[q * n + p] = 0
                        continue
                    }
                    if abs(apq) <= threshold || apq == 0 { continue }
                    let theta = (aqq - app) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    // A ← Jᵀ A J on rows/columns p and q.
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    a[p * n + q] = 0; a[q * n + p] = 0
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
    }
}
