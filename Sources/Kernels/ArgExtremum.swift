// ArgExtremum: ONNX ArgMax / ArgMin — the index of the largest (smallest) value along one axis.
//
// Contract: x is viewed as outer × axis × inner (axis ≥ 1) and y (Int64) as outer × inner;
// y[o, i] is the index a along the axis of the extremum of x[o, a, i]. Ties go to the first
// index, or the last with `selectLast` (ONNX select_last_index). NaN counts as larger than
// every number for ArgMax and smaller for ArgMin (numpy's argmax/argmin return the first NaN);
// `selectLast` then takes the last NaN. `run` walks the axis over contiguous inner runs (the
// current extremum read back through y's index, so nothing is allocated), split over the pool
// by outer index; `reference` is the per-element definition; the two agree
// exactly.

public enum ArgExtremum {
    /// True when `v` replaces the current extremum `best` (ties by `selectLast`).
    @inline(__always)
    static func beats(_ v: Float, _ best: Float, max: Bool, selectLast: Bool) -> Bool {
        if best.isNaN { return selectLast && v.isNaN }
        if v.isNaN { return true }
        if v == best { return selectLast }
        return max ? v > best : v < best
    }

    /// y[o, i] = argmax (argmin) over a of x[o, a, i].
    public static func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Int64>, outer: Int, axis: Int, inner: Int,
                           max: Bool, selectLast: Bool, pool: ThreadPool = .serial) {
        pool.splitWork(outer, work: outer * axis * inner) { range in
            for o in range {
                let base = x + o * axis * inner, out = y + o * inner
                out.update(repeating: 0, count: inner)
                for a in 1..<Swift.max(axis, 1) {
                    let row = base + a * inner
                    for i in 0..<inner where beats(row[i], base[Int(out[i]) * inner + i], max: max, selectLast: selectLast) {
                        out[i] = Int64(a)
                    }
                }
            }
        }
    }

    /// Scalar reference: each output element by a scan of its axis.
    public static func reference(_ x: [Float], outer: Int, axis: Int, inner: Int, max: Bool, selectLast: Bool) -> [Int64] {
        var y = [Int64](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var at = 0
                for a in 1..<Swift.max(axis, 1) where beats(x[(o * axis + a) * inner + i], x[(o * axis + at) * inner + i], max: max, selectLast: selectLast) {
                    at = a
                }
                y[o * inner + i] = Int64(at)
            }
        }
        return y
    }
}
