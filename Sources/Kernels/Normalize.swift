// Normalize: normalisation by the input's own statistics — the kernel behind
// InstanceNormalization, LayerNormalization and GroupNormalization.
//
// Contract: x and y are `rows` × `inner` (row-major); each row is normalised by its own mean
// and biased variance: y = (x − mean)/√(var + ε)·scale[s] + bias[s], where the affine index of
// element i of row r is s = (r mod groups)·(inner / spatial) + i / spatial. So:
//   InstanceNorm (N, C, S…): rows N·C, inner S, groups C, spatial S  → s = c;
//   GroupNorm (N, C, S…) in G groups: rows N·G, inner (C/G)·S, groups G, spatial S → s = channel;
//   LayerNorm at axis a: rows = Π dims before a, inner = Π dims from a, groups 1, spatial 1 → s = i.
// `bias` may be nil (zero). When `mean`/`invStd` are given they receive each row's mean and
// 1/√(var + ε) (`rows` floats). The reference accumulates in Double; the fast kernel in Float
// SIMD lanes over two passes (mean, then the centred sum of squares), which agrees with the
// reference to a few ulp of the row's magnitude. `x == y` is allowed. Work is split over rows.

public enum Normalize {
    /// Sizes and ε of one normalisation (see the file contract).
    public struct Plan: Equatable, CustomStringConvertible {
        public var rows: Int, inner: Int, groups: Int, spatial: Int
        public var epsilon: Float
        public init(rows: Int, inner: Int, groups: Int, spatial: Int, epsilon: Float) {
            precondition(groups >= 1 && spatial >= 1 && inner % spatial == 0, "Normalize.Plan: bad groups/spatial")
            (self.rows, self.inner, self.groups, self.spatial, self.epsilon) = (rows, inner, groups, spatial, epsilon)
        }
        public var description: String { "rows=\(rows) inner=\(inner) groups=\(groups) spatial=\(spatial) eps=\(epsilon)" }
        /// Affine parameters the kernel reads: groups · (inner / spatial).
        public var affineCount: Int { groups * (inner / spatial) }
    }

    public static func run(_ p: Plan, _ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                           _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>? = nil,
                           invStd: UnsafeMutablePointer<Float>? = nil, pool: ThreadPool = .serial) {
        let n = p.inner, per = p.inner / p.spatial
        pool.splitWork(p.rows, work: p.rows * n * 3) { range in
            for r in range {
                let px = x + r * n, py = y + r * n
                var acc = V16(repeating: 0)
                var i = 0
                while i + 16 <= n { acc += load16(px + i); i += 16 }
                if i < n { acc += loadPartial(px + i, n - i) }
                let mu = n > 0 ? acc.sum() / Float(n) : 0
                let vmu = V16(repeating: mu)
                acc = V16(repeating: 0)
                i = 0
                while i + 16 <= n { let d = load16(px + i) - vmu; acc += d * d; i += 16 }
                if i < n { let d = loadPartial(px + i, n - i, fill: mu) - vmu; acc += d * d }
                let variance = n > 0 ? acc.sum() / Float(n) : 0
                let inv = 1 / (variance + p.epsilon).squareRoot()
                mean?[r] = mu
                invStd?[r] = inv
                let base = (r % p.groups) * per
                for k in 0..<per {
                    let a = scale[base + k] * inv
                    let b = (bias?[base + k] ?? 0) - mu * a
                    let va = V16(repeating: a), vb = V16(repeating: b)
                    let qx = px + k * p.spatial, qy = py + k * p.spatial
                    var j = 0
                    while j + 16 <= p.spatial { store16(load16(qx + j) * va + vb, qy + j); j += 16 }
                    if j < p.spatial { storePartial(loadPartial(qx + j, p.spatial - j) * va + vb, qy + j, p.spatial - j) }
                }
            }
        }
    }

    /// Scalar reference (Double statistics).
    public static func reference(_ p: Plan, _ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>? = nil,
                                 invStd: UnsafeMutablePointer<Float>? = nil) {
        let n = p.inner, per = p.inner / p.spatial
        for r in 0..<p.rows {
            var s = 0.0
            for i in 0..<n { s += Double(x[r * n + i]) }
            let mu = n > 0 ? s / Double(n) : 0
            var q = 0.0
            for i in 0..<n { let d = Double(x[r * n + i]) - mu; q += d * d }
            let variance = n > 0 ? q / Double(n) : 0
            let inv = 1 / (variance + Double(p.epsilon)).squareRoot()
            mean?[r] = Float(mu)
            invStd?[r] = Float(inv)
            for i in 0..<n {
                let k = (r % p.groups) * per + i / p.spatial
                y[r * n + i] = Float((Double(x[r * n + i]) - mu) * inv * Double(scale[k]) + Double(bias?[k] ?? 0))
            }
        }
    }
}
