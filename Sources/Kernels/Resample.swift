// Resample: a separable per-axis gather with optional linear blending — the kernel behind
// Resize (nearest, linear) and Pad (constant, reflect, edge, wrap).
//
// Contract: x has `inShape`, y has `outShape` (same rank ≥ 1). Each axis a has, for each output
// coordinate o, two taps: index i0[o] with weight 1 − w1[o] and index i1[o] with weight w1[o]
// (nearest and pad: w1 = 0). An index of −1 means "outside": the whole output element is
// `outside` (Pad's constant, Resize's extrapolation_value). Then
//   y[o_0, …, o_{r−1}] = Σ over corners c ∈ {0,1}^r  Π_a wt_a(c_a) · x[i_{c_0}[o_0], …]
// with only axes whose w1 is nonzero contributing a second corner. The reference evaluates that
// sum per element; the fast kernel walks output rows (all axes but the last), builds the corner
// list of the leading axes once per row and blends the last axis inside it; the sum runs in the
// same corner order, so both agree to a few ulp. Work is split over output rows.
// `gather` is the pure-gather case (every w1 = 0: Pad) for elements of any type (the runtime's
// Int64 integers): y = x at the taps, `outside` where a tap is −1; `gatherReference` is its
// per-element definition.

public enum Resample {
    /// The taps of one axis.
    public struct Axis: Equatable {
        public var i0: [Int32], i1: [Int32], w1: [Float]
        public init(i0: [Int32], i1: [Int32], w1: [Float]) {
            precondition(i0.count == i1.count && i0.count == w1.count, "Resample.Axis: tap arrays differ in length")
            (self.i0, self.i1, self.w1) = (i0, i1, w1)
        }
        /// Nearest taps (a pure gather; −1 = outside).
        public init(nearest: [Int]) { self.init(i0: nearest.map { Int32($0) }, i1: nearest.map { Int32($0) }, w1: nearest.map { _ in 0 }) }
        public var blends: Bool { w1.contains { $0 != 0 } }
    }

    /// Shapes and taps of one call.
    public struct Plan: Equatable, CustomStringConvertible {
        public var inShape: [Int], outShape: [Int]
        public var axes: [Axis]
        public var outside: Float
        public init(inShape: [Int], outShape: [Int], axes: [Axis], outside: Float = 0) {
            precondition(inShape.count == outShape.count && axes.count == outShape.count && !outShape.isEmpty, "Resample.Plan: rank mismatch")
            for (a, ax) in axes.enumerated() {
                precondition(ax.i0.count == outShape[a], "Resample.Plan: axis \(a) has \(ax.i0.count) taps for size \(outShape[a])")
                precondition(ax.i0.allSatisfy { $0 >= -1 && Int($0) < inShape[a] } && ax.i1.allSatisfy { $0 >= -1 && Int($0) < inShape[a] },
                             "Resample.Plan: axis \(a) index out of range")
            }
            (self.inShape, self.outShape, self.axes, self.outside) = (inShape, outShape, axes, outside)
        }
        public var description: String {
            let linear = axes.enumerated().filter { $0.element.blends }.map(\.offset)
            return "\(inShape)->\(outShape)" + (linear.isEmpty ? "" : " linear=\(linear)") + (outside != 0 ? " outside=\(outside)" : "")
        }
        var strides: [Int] {
            var s = [Int](repeating: 1, count: inShape.count)
            for a in stride(from: inShape.count - 2, through: 0, by: -1) { s[a] = s[a + 1] * inShape[a + 1] }
            return s
        }
    }

    public static func run(_ p: Plan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        let r = p.outShape.count, last = p.outShape[r - 1]
        let rows = p.outShape.dropLast().reduce(1, *)
        let strides = p.strides
        let lastAxis = p.axes[r - 1]
        let lastBlends = lastAxis.blends
        pool.splitWork(rows, work: rows * last * (lastBlends ? 2 : 1)) { range in
            var corners: [(Int, Float)] = []
            var next: [(Int, Float)] = []
            corners.reserveCapacity(1 << min(r, 12))
            next.reserveCapacity(1 << min(r, 12))
            lastAxis.i0.withUnsafeBufferPointer { l0 in
            lastAxis.i1.withUnsafeBufferPointer { l1 in
            lastAxis.w1.withUnsafeBufferPointer { lw in
                for row in range {
                    let py = y + row * last
                    // Corner list of the leading axes for this row.
                    corners.removeAll(keepingCapacity: true)
                    corners.append((0, 1))
                    var rest = row, outside = false
                    for a in stride(from: r - 2, through: 0, by: -1) {
                        let o = rest % p.outShape[a]
                        rest /= p.outShape[a]
                        let ax = p.axes[a]
                        let i0 = Int(ax.i0[o]), w1 = ax.w1[o]
                        if i0 < 0 { outside = true; break }
                        next.removeAll(keepingCapacity: true)
                        for (off, w) in corners {
                            next.append((off + i0 * strides[a], w * (1 - w1)))
                            if w1 != 0 { next.append((off + Int(ax.i1[o]) * strides[a], w * w1)) }
                        }
                        swap(&corners, &next)
                    }
                    if outside { py.update(repeating: p.outside, count: last); continue }
                    if corners.count == 1 && !lastBlends {
                        let px = x + corners[0].0, w = corners[0].1
                        for j in 0..<last { let i = Int(l0[j]); py[j] = i < 0 ? p.outside : w * px[i] }
                        continue
                    }
                    for j in 0..<last {
                        let i0 = Int(l0[j])
                        if i0 < 0 { py[j] = p.outside; continue }
                        let i1 = Int(l1[j]), w1 = lw[j]
                        var s: Float = 0
                        for (off, w) in corners {
                            var v = (1 - w1) * x[off + i0]
                            if w1 != 0 { v += w1 * x[off + i1] }
                            s += w * v
                        }
                        py[j] = s
                    }
                }
            }}}
        }
    }

    /// Scalar reference: the corner sum per output element.
    public static func reference(_ p: Plan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let r = p.outShape.count
        let strides = p.strides
        let total = p.outShape.reduce(1, *)
        var idx = [Int](repeating: 0, count: r)
        for e in 0..<total {
            var rest = e
            for a in stride(from: r - 1, through: 0, by: -1) { idx[a] = rest % p.outShape[a]; rest /= p.outShape[a] }
            if (0..<r).contains(where: { p.axes[$0].i0[idx[$0]] < 0 }) { y[e] = p.outside; continue }
            // Corners in the order the fast kernel sums them: leading axes outer (axis r−2 last), the last axis inner.
            var corners: [(Int, Float)] = [(0, 1)]
            for a in stride(from: r - 2, through: 0, by: -1) {
                let ax = p.axes[a], o = idx[a]
                var next: [(Int, Float)] = []
                for (off, w) in corners {
                    next.append((off + Int(ax.i0[o]) * strides[a], w * (1 - ax.w1[o])))
                    if ax.w1[o] != 0 { next.append((off + Int(ax.i1[o]) * strides[a], w * ax.w1[o])) }
                }
                corners = next
            }
            let la = p.axes[r - 1], j = idx[r - 1]
            var s: Float = 0
            for (off, w) in corners {
                var v = (1 - la.w1[j]) * x[off + Int(la.i0[j])]
                if la.w1[j] != 0 { v += la.w1[j] * x[off + Int(la.i1[j])] }
                s += w * v
            }
            y[e] = s
        }
    }

    /// y = x at the taps of a non-blending plan (Pad), `outside` where a tap is −1.
    public static func gather<T>(_ p: Plan, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, outside: T, pool: ThreadPool = .serial) {
        precondition(!p.axes.contains { $0.blends }, "Resample.gather: the plan blends")
        let r = p.outShape.count, last = p.outShape[r - 1]
        let rows = p.outShape.dropLast().reduce(1, *)
        let strides = p.strides
        let lastTaps = p.axes[r - 1].i0
        pool.splitWork(rows, work: rows * last) { range in
            lastTaps.withUnsafeBufferPointer { l0 in
                for row in range {
                    let py = y + row * last
                    var rest = row, off = 0, isOutside = false
                    for a in stride(from: r - 2, through: 0, by: -1) {
                        let o = rest % p.outShape[a]
                        rest /= p.outShape[a]
                        let i = Int(p.axes[a].i0[o])
                        if i < 0 { isOutside = true; break }
                        off += i * strides[a]
                    }
                    if isOutside { py.update(repeating: outside, count: last); continue }
                    for j in 0..<last { let i = Int(l0[j]); py[j] = i < 0 ? outside : x[off + i] }
                }
            }
        }
    }

    /// Scalar reference of `gather`: each output element from its per-axis taps.
    public static func gatherReference<T>(_ p: Plan, _ x: [T], outside: T) -> [T] {
        let r = p.outShape.count, strides = p.strides
        return (0..<p.outShape.reduce(1, *)).map { e in
            var rest = e, off = 0
            for a in stride(from: r - 1, through: 0, by: -1) {
                let i = Int(p.axes[a].i0[rest % p.outShape[a]])
                rest /= p.outShape[a]
                if i < 0 { return outside }
                off += i * strides[a]
            }
            return x[off]
        }
    }
}
