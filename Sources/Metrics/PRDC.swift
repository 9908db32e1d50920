// PRDC: improved precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et
// al. 2020) on feature sets (gan-metrics.md §3–§4).
//
// Contract:
// - Radii: NND_k(x) = distance to the k-th nearest neighbour in the same set EXCLUDING the
//   point itself (sorted index k of the self-distance row, index 0 being self).
// - precision = fraction of fakes inside ∪ B(real_i, NND_kPR(real_i)); recall = fraction of
//   reals inside ∪ B(fake_j, NND_kPR(fake_j)); membership `d <= r` (Kynkäänniemi) or `d < r`
//   (`strictPR`, the prdc package). F1 = 2PR/(P+R) (0 when both are 0).
// - density = (1/(kDC·M)) Σ_j Σ_i 1[d(real_i, fake_j) < NND_kDC(real_i)];
//   coverage = (1/N) Σ_i 1[min_j d(real_i, fake_j) < NND_kDC(real_i)] (strict `<`).
// - Distances are Euclidean, compared squared: max(|u|² − 2u·v + |v|², 0) with the cross term
//   from Gemm.sgemm over blocks of `blockRows` rows (memory O(blockRows · M)); features are
//   first centred on the real mean (fewer cancellation errors; distances are unchanged).

import Foundation
import Kernels

public struct PRDCResult: Equatable, Sendable {
    public var precision: Double
    public var recall: Double
    public var density: Double
    public var coverage: Double
    public var f1: Double { precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0 }

    public init(precision: Double, recall: Double, density: Double, coverage: Double) {
        self.precision = precision; self.recall = recall; self.density = density; self.coverage = coverage
    }
}

public struct PRDCOptions: Equatable, Sendable {
    /// k of precision/recall (Kynkäänniemi: 3).
    public var prK: Int
    /// k of density/coverage (Naeem: 5).
    public var dcK: Int
    /// Use `d < r` for precision/recall (the prdc package) instead of `d <= r` (Kynkäänniemi).
    public var strictPR: Bool
    /// Rows per distance block.
    public var blockRows: Int

    public init(prK: Int = 3, dcK: Int = 5, strictPR: Bool = false, blockRows: Int = 512) {
        self.prK = prK; self.dcK = dcK; self.strictPR = strictPR; self.blockRows = blockRows
    }

    /// gan-eval's defaults: P/R with k = 3 and `<=`, D/C with k = 5.
    public static let standard = PRDCOptions()
}

public enum PRDC {
    /// All four metrics for row-major `real` (N×d) and `fake` (M×d) features.
    public static func compute(real: [Float], fake: [Float], dimension d: Int, options o: PRDCOptions = .standard,
                               pool: ThreadPool = .serial) -> PRDCResult {
        precondition(d > 0 && real.count % d == 0 && fake.count % d == 0, "features must be rows of \(d)")
        let n = real.count / d, m = fake.count / d
        precondition(n > max(o.prK, o.dcK) && m > o.prK, "PRDC needs more than k points per set (N = \(n), M = \(m))")
        // Centre on the real mean.
        var mu = [Float](repeating: 0, count: d)
        var acc = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { acc[j] += Double(real[r * d + j]) } }
        for j in 0..<d { mu[j] = Float(acc[j] / Double(n)) }
        let x = centred(real, mu, d), y = centred(fake, mu, d)
        let xn = norms(x, d), yn = norms(y, d)

        let realRadii = kthNeighbour(x, xn, d: d, ks: [o.prK, o.dcK], blockRows: o.blockRows, pool: pool)
        let fakeRadii = kthNeighbour(y, yn, d: d, ks: [o.prK], blockRows: o.blockRows, pool: pool)
        let rPR = realRadii[0], rDC = realRadii[1], fPR = fakeRadii[0]

        // Per-point flags and counts, written from worker threads at disjoint indices.
        let inRealManifold = UnsafeMutableBufferPointer<Bool>.allocate(capacity: m)   // precision, per fake
        let densityCount = UnsafeMutableBufferPointer<Int>.allocate(capacity: m)      // per fake
        let inFakeManifold = UnsafeMutableBufferPointer<Bool>.allocate(capacity: n)   // recall, per real
        let covered = UnsafeMutableBufferPointer<Bool>.allocate(capacity: n)          // coverage, per real
        inRealManifold.initialize(repeating: false); densityCount.initialize(repeating: 0)
        inFakeManifold.initialize(repeating: false); covered.initialize(repeating: false)
        defer { inRealManifold.deallocate(); densityCount.deallocate(); inFakeManifold.deallocate(); covered.deallocate() }
        let strict = o.strictPR
        forEachBlock(x, xn, y, yn, d: d, blockRows: o.blockRows, pool: pool) { lo, rows, dist in
            // Per real row: recall and coverage.
            pool.parallelFor(rows) { range in
                for r in range {
                    let i = lo + r
                    let row = dist + r * m
                    var rec = false, minD = Float.infinity
                    for j in 0..<m {
                        let v = row[j]
                        if v < minD { minD = v }
                        if !rec && (strict ? v < fPR[j] : v <= fPR[j]) { rec = true }
                    }
                    if rec { inFakeManifold[i] = true }
                    if minD < rDC[i] { covered[i] = true }
                }
            }
            // Per fake column: precision and density (chunks of columns, rows outer).
            pool.parallelFor(m) { cols in
                for r in 0..<rows {
                    let i = lo + r
                    let row = dist + r * m
                    let rp = rPR[i], rd = rDC[i]
                    for j in cols {
                        let v = row[j]
                        if strict ? v < rp : v <= rp { inRealManifold[j] = true }
                        if v < rd { densityCount[j] += 1 }
                    }
                }
            }
        }
        let precision = Double(inRealManifold.filter { $0 }.count) / Double(m)
        let recall = Double(inFakeManifold.filter { $0 }.count) / Double(n)
        let density = Double(densityCount.reduce(0, +)) / Double(o.dcK * m)
        let coverage = Double(covered.filter { $0 }.count) / Double(n)
        return PRDCResult(precision: precision, recall: recall, density: density, coverage: coverage)
    }

    /// Squared distance to the k-th nearest neighbour (self excluded: sorted index k) of each
    /// row of `x`, for each k of `ks`.
    public static func kthNeighbour(_ x: [Float], _ xn: [Float], d: Int, ks: [Int], blockRows: Int = 512,
                                    pool: ThreadPool = .serial) -> [[Float]] {
        let n = x.count / d
        let kmax = ks.max()! + 1
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: ks.count * n)
        defer { out.deallocate() }
        out.initialize(repeating: 0)
        forEachBlock(x, xn, x, xn, d: d, blockRows: blockRows, pool: pool) { lo, rows, dist in
            pool.parallelFor(rows) { range in
                var best = [Float](repeating: .infinity, count: kmax)
                for r in range {
                    let row = dist + r * n
                    for t in 0..<kmax { best[t] = .infinity }
                    // Self is always at distance 0 in exact arithmetic.
                    row[lo + r] = 0
                    for j in 0..<n {
                        let v = row[j]
                        if v < best[kmax - 1] {
                            var t = kmax - 1
                            while t > 0 && best[t - 1] > v { best[t] = best[t - 1]; t -= 1 }
                            best[t] = v
                        }
                    }
                    for (q, k) in ks.enumerated() { out[q * n + lo + r] = best[k] }
                }
            }
        }
        return ks.indices.map { q in Array(out[(q * n)..<((q + 1) * n)]) }
    }

    /// Calls `body(lo, rows, D)` for blocks of rows of `a`, D (rows × |b|) the squared distances.
    static func forEachBlock(_ a: [Float], _ an: [Float], _ b: [Float], _ bn: [Float], d: Int, blockRows: Int,
                             pool: ThreadPool, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let n = a.count / d, m = b.count / d
        let br = max(1, min(blockRows, n))
        let buf = UnsafeMutablePointer<Float>.allocate(capacity: br * m)
        defer { buf.deallocate() }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                var lo = 0
                while lo < n {
                    let rows = min(br, n - lo)
                    Gemm.sgemm(transA: false, transB: true, m: rows, n: m, k: d, alpha: -2,
                               a: ap.baseAddress! + lo * d, lda: d, b: bp.baseAddress!, ldb: d,
                               beta: 0, c: buf, ldc: m, pool: pool)
                    pool.parallelFor(rows) { range in
                        for r in range {
                            let row = buf + r * m
                            let ni = an[lo + r]
                            for j in 0..<m { row[j] = max(row[j] + ni + bn[j], 0) }
                        }
                    }
                    body(lo, rows, buf)
                    lo += rows
                }
            }
        }
    }

    static func centred(_ x: [Float], _ mu: [Float], _ d: Int) -> [Float] {
        var y = x
        for r in 0..<(x.count / d) { for j in 0..<d { y[r * d + j] -= mu[j] } }
        return y
    }

    static func norms(_ x: [Float], _ d: Int) -> [Float] {
        (0..<(x.count / d)).map { r in
            var s = 0.0
            for j in 0..<d { let v = Double(x[r * d + j]); s += v * v }
            return Float(s)
        }
    }
}
