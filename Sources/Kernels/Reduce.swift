// Reduce: ReduceSum / ReduceMean over an arbitrary set of axes of a dense tensor.
//
// Contract: `ReducePlan` (computed once) drops size-1 dimensions and merges neighbouring
// dimensions that are both reduced or both kept. The output is dense over the kept dimensions in
// their original order (keepdims is only a shape matter for the caller). Two kernels:
//  * innermost run kept: each output element sums its reduced inputs in row-major order of the
//    reduced dimensions, 16 outputs per vector, so the result equals `reference` bit for bit;
//  * innermost run reduced: each output sums contiguous runs with 4×16 lane accumulators, then
//    adds the lanes; the order depends only on the shape, not on the thread count.
// Work is split over outputs only. Mean divides the sum by the reduced element count.

public enum ReduceKind: Equatable, Sendable { case sum, mean }

/// How a reduction over `axes` of a dense `shape` is walked.
public struct ReducePlan: Equatable, Sendable {
    public let shape: [Int]
    /// Sorted, non-negative, distinct axes.
    public let axes: [Int]
    /// Elements in the output (product of the kept dimensions).
    public let outputCount: Int
    /// Elements summed into each output (product of the reduced dimensions).
    public let reduceCount: Int
    /// Length of the innermost collapsed run and whether it is reduced.
    let inner: Int
    let innerReduced: Bool
    /// Kept dimensions other than the innermost run: sizes and input strides.
    let keptSizes: [Int], keptStrides: [Int]
    /// Reduced dimensions other than the innermost run: sizes and input strides.
    let redSizes: [Int], redStrides: [Int]
    let zeros: [Int]

    /// Axes may be negative (counted from the end); duplicates are an error.
    public init(shape: [Int], axes: [Int]) throws {
        let r = shape.count
        var norm: [Int] = []
        for a in axes {
            let n = a < 0 ? a + r : a
            guard n >= 0 && n < r else { throw KernelError.invalidShape("reduce axis \(a) out of range for rank \(r)") }
            guard !norm.contains(n) else { throw KernelError.invalidShape("reduce axis \(a) repeated") }
            norm.append(n)
        }
        self.shape = shape
        self.axes = norm.sorted()
        var dims: [(size: Int, reduced: Bool)] = []
        for d in 0..<r where shape[d] != 1 {
            let red = norm.contains(d)
            if let last = dims.last, last.reduced == red { dims[dims.count - 1].size *= shape[d] } else { dims.append((shape[d], red)) }
        }
        outputCount = (0..<r).filter { !norm.contains($0) }.reduce(1) { $0 * shape[$1] }
        reduceCount = norm.reduce(1) { $0 * shape[$1] }
        var strides = [Int](repeating: 1, count: dims.count)
        for i in stride(from: dims.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * dims[i + 1].size }
        inner = dims.last?.size ?? 1
        innerReduced = dims.last?.reduced ?? false
        var ks: [Int] = [], kst: [Int] = [], rs: [Int] = [], rst: [Int] = []
        for i in 0..<max(0, dims.count - 1) {
            if dims[i].reduced { rs.append(dims[i].size); rst.append(strides[i]) } else { ks.append(dims[i].size); kst.append(strides[i]) }
        }
        guard ks.count <= maxOuterRank && rs.count <= maxOuterRank else { throw KernelError.invalidShape("reduction of \(shape) over \(axes) is too irregular") }
        keptSizes = ks; keptStrides = kst; redSizes = rs; redStrides = rst
        zeros = [Int](repeating: 0, count: maxOuterRank)
    }
}

public enum Reduce {
    /// y[o] = sum (or mean) of x over the plan's axes. y has `plan.outputCount` elements.
    public static func run(_ kind: ReduceKind, _ plan: ReducePlan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           pool: ThreadPool = .serial) {
        let scale: Float = kind == .mean ? Float(plan.reduceCount) : 1
        let total = plan.outputCount * plan.reduceCount
        if total == 0 {
            y.update(repeating: kind == .mean ? .nan : 0, count: plan.outputCount)
            return
        }
        let (ks, kst, rs, rst, z) = (plan.keptSizes, plan.keptStrides, plan.redSizes, plan.redStrides, plan.zeros)
        let steps = rs.reduce(1, *)
        let inner = plan.inner
        if !plan.innerReduced {
            // Outputs in rows of `inner`; blocks of 64 columns accumulate in registers.
            let rows = ks.reduce(1, *)
            let blocks = (inner + 63) / 64
            pool.splitWork(rows * blocks, work: total) { range in
                var row = range.lowerBound / blocks
                var ko = Odometer(start: row, sizes: ks, kst, z, z)
                for u in range {
                    let r = u / blocks
                    if r != row { ko.next(sizes: ks, kst, z, z); row = r }
                    let c0 = (u - r * blocks) * 64
                    let n = min(64, inner - c0)
                    let base = x + ko.o0 + c0
                    let out = y + r * inner + c0
                    var ro = Odometer(start: 0, sizes: rs, rst, z, z)
                    if n == 64 {
                        var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
                        for _ in 0..<steps {
                            let p = base + ro.o0
                            a0 += load16(p); a1 += load16(p + 16); a2 += load16(p + 32); a3 += load16(p + 48)
                            ro.next(sizes: rs, rst, z, z)
                        }
                        if kind == .mean { a0 /= V16(repeating: scale); a1 /= V16(repeating: scale); a2 /= V16(repeating: scale); a3 /= V16(repeating: scale) }
                        store16(a0, out); store16(a1, out + 16); store16(a2, out + 32); store16(a3, out + 48)
                    } else {
                        var c = 0
                        while c < n {
                            let m = min(16, n - c)
                            var acc = V16()
                            var ro2 = ro
                            for _ in 0..<steps {
                                acc += m == 16 ? load16(base + ro2.o0 + c) : loadPartial(base + ro2.o0 + c, m)
                                ro2.next(sizes: rs, rst, z, z)
                            }
                            if kind == .mean { acc /= V16(repeating: scale) }
                            if m == 16 { store16(acc, out + c) } else { storePartial(acc, out + c, m) }
                            c += 16
                        }
                        ro = Odometer(start: 0, sizes: rs, rst, z, z)
                    }
                }
            }
        } else {
            // Each output sums `steps` contiguous runs of `inner`.
            pool.splitWork(plan.outputCount, work: total) { range in
                var ko = Odometer(start: range.lowerBound, sizes: ks, kst, z, z)
                for o in range {
                    var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
                    var ro = Odometer(start: 0, sizes: rs, rst, z, z)
                    for _ in 0..<steps {
                        let p = x + ko.o0 + ro.o0
                        var c = 0
                        while c + 64 <= inner {
                            a0 += load16(p + c); a1 += load16(p + c + 16); a2 += load16(p + c + 32); a3 += load16(p + c + 48)
                            c += 64
                        }
                        while c + 16 <= inner { a0 += load16(p + c); c += 16 }
                        if c < inner { a1 += loadPartial(p + c, inner - c) }
                        ro.next(sizes: rs, rst, z, z)
                    }
                    let s = ((a0 + a1) + (a2 + a3)).sum()
                    y[o] = kind == .mean ? s / scale : s
                    ko.next(sizes: ks, kst, z, z)
                }
            }
        }
    }

    /// Scalar reference: accumulates x in memory order into the outputs, then divides for mean.
    public static func reference(_ kind: ReduceKind, shape: [Int], axes: [Int], _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let r = shape.count
        let ax = Set(axes.map { $0 < 0 ? $0 + r : $0 })
        let kept = (0..<r).filter { !ax.contains($0) }
        let outCount = kept.reduce(1) { $0 * shape[$1] }
        let redCount = ax.reduce(1) { $0 * shape[$1] }
        y.update(repeating: 0, count: outCount)
        let n = shape.reduce(1, *)
        var idx = [Int](repeating: 0, count: r)
        for i in 0..<n {
            var o = 0
            for d in kept { o = o * shape[d] + idx[d] }
            y[o] += x[i]
            var d = r - 1
            while d >= 0 { idx[d] += 1; if idx[d] < shape[d] { break }; idx[d] = 0; d -= 1 }
        }
        if kind == .mean { for o in 0..<outCount { y[o] /= Float(redCount) } }
    }
}
