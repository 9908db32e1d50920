// Reduce: ReduceSum / ReduceMean / ReduceSumSquare / ReduceL2 / ReduceMax / ReduceMin /
// ReduceProd over an arbitrary set of axes of a dense tensor.
//
// Contract: `ReducePlan` (computed once) drops size-1 dimensions and merges neighbouring
// dimensions that are both reduced or both kept. The output is dense over the kept dimensions in
// their original order (keepdims is only a shape matter for the caller). Every kind is a
// combiner (identity, element map, combine: +, x² then +, max, min, ·) and a finish (mean: ÷
// count; L2: √). Two kernels, generic over the combiner:
//  * innermost run kept: each output element combines its reduced inputs in row-major order of the
//    reduced dimensions, 16 outputs per vector, so the result equals `reference` bit for bit;
//  * innermost run reduced: each output combines contiguous runs with 4×16 lane accumulators, then
//    the lanes; the order depends only on the shape, not on the thread count. A full reduction of
//    a long run (fewer than 8 outputs of one run of at least 128 Ki each: a gradient's norm) is
//    cut into 64 Ki pieces, each combined so and merged in order (`segmented`).
// Work is split over outputs, and over those pieces. An empty reduction gives the combiner's
// identity (0 for sums and L2, NaN for the mean, −∞ for max, +∞ for min, 1 for the product).

public enum ReduceKind: String, Equatable, Sendable, CaseIterable {
    case sum, mean, sumSquare, l2, max, min, prod

    /// The value an empty reduction starts from.
    public var identity: Float {
        switch self {
        case .sum, .mean, .sumSquare, .l2: return 0
        case .max: return -.infinity
        case .min: return .infinity
        case .prod: return 1
        }
    }

    /// Combines an accumulator with one element (the scalar definition).
    @inline(__always) public func combine(_ acc: Float, _ x: Float) -> Float {
        switch self {
        case .sum, .mean: return acc + x
        case .sumSquare, .l2: return acc + x * x
        case .max: return x > acc || x.isNaN ? x : acc
        case .min: return x < acc || x.isNaN ? x : acc
        case .prod: return acc * x
        }
    }

    /// The output from the accumulated value over `count` elements.
    @inline(__always) public func finish(_ acc: Float, count: Int) -> Float {
        switch self {
        case .mean: return acc / Float(count)
        case .l2: return acc.squareRoot()
        default: return acc
        }
    }
}

/// The vector form of a `ReduceKind`'s combine (the kernels are generic over it).
@usableFromInline protocol ReduceCombiner {
    static var identity: Float { get }
    static func step(_ acc: V16, _ v: V16) -> V16
    /// Joins two accumulators (step without the element map).
    static func merge(_ a: V16, _ b: V16) -> V16
    static func lanes(_ v: V16) -> Float
}
@usableFromInline enum SumCombiner: ReduceCombiner {
    @inline(__always) @usableFromInline static var identity: Float { 0 }
    @inline(__always) @usableFromInline static func step(_ a: V16, _ v: V16) -> V16 { a + v }
    @inline(__always) @usableFromInline static func merge(_ a: V16, _ b: V16) -> V16 { a + b }
    @inline(__always) @usableFromInline static func lanes(_ v: V16) -> Float { v.sum() }
}
@usableFromInline enum SquareSumCombiner: ReduceCombiner {
    @inline(__always) @usableFromInline static var identity: Float { 0 }
    @inline(__always) @usableFromInline static func step(_ a: V16, _ v: V16) -> V16 { a + v * v }
    @inline(__always) @usableFromInline static func merge(_ a: V16, _ b: V16) -> V16 { a + b }
    @inline(__always) @usableFromInline static func lanes(_ v: V16) -> Float { v.sum() }
}
@usableFromInline enum MaxCombiner: ReduceCombiner {
    @inline(__always) @usableFromInline static var identity: Float { -.infinity }
    @inline(__always) @usableFromInline static func step(_ a: V16, _ v: V16) -> V16 { a.replacing(with: v, where: (v .> a) .| (v .!= v)) }
    @inline(__always) @usableFromInline static func merge(_ a: V16, _ b: V16) -> V16 { step(a, b) }
    @inline(__always) @usableFromInline static func lanes(_ v: V16) -> Float { (0..<16).reduce(-Float.infinity) { ReduceKind.max.combine($0, v[$1]) } }
}
@usableFromInline enum MinCombiner: ReduceCombiner {
    @inline(__always) @usableFromInline static var identity: Float { .infinity }
    @inline(__always) @usableFromInline static func step(_ a: V16, _ v: V16) -> V16 { a.replacing(with: v, where: (v .< a) .| (v .!= v)) }
    @inline(__always) @usableFromInline static func merge(_ a: V16, _ b: V16) -> V16 { step(a, b) }
    @inline(__always) @usableFromInline static func lanes(_ v: V16) -> Float { (0..<16).reduce(Float.infinity) { ReduceKind.min.combine($0, v[$1]) } }
}
@usableFromInline enum ProdCombiner: ReduceCombiner {
    @inline(__always) @usableFromInline static var identity: Float { 1 }
    @inline(__always) @usableFromInline static func step(_ a: V16, _ v: V16) -> V16 { a * v }
    @inline(__always) @usableFromInline static func merge(_ a: V16, _ b: V16) -> V16 { a * b }
    @inline(__always) @usableFromInline static func lanes(_ v: V16) -> Float { (0..<16).reduce(Float(1)) { $0 * v[$1] } }
}

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
    /// y[o] = the kind's reduction of x over the plan's axes. y has `plan.outputCount` elements.
    public static func run(_ kind: ReduceKind, _ plan: ReducePlan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           pool: ThreadPool = .serial) {
        switch kind {
        case .sum, .mean: run(SumCombiner.self, plan, x, y, pool: pool)
        case .sumSquare, .l2: run(SquareSumCombiner.self, plan, x, y, pool: pool)
        case .max: run(MaxCombiner.self, plan, x, y, pool: pool)
        case .min: run(MinCombiner.self, plan, x, y, pool: pool)
        case .prod: run(ProdCombiner.self, plan, x, y, pool: pool)
        }
        if kind == .mean || kind == .l2 {
            for o in 0..<plan.outputCount { y[o] = kind.finish(y[o], count: plan.reduceCount) }
        }
    }

    static func run<C: ReduceCombiner>(_ c: C.Type, _ plan: ReducePlan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                       pool: ThreadPool) {
        let total = plan.outputCount * plan.reduceCount
        if total == 0 {
            y.update(repeating: C.identity, count: plan.outputCount)
            return
        }
        let (ks, kst, rs, rst, z) = (plan.keptSizes, plan.keptStrides, plan.redSizes, plan.redStrides, plan.zeros)
        let steps = rs.reduce(1, *)
        let inner = plan.inner
        let id = V16(repeating: C.identity)
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
                        var a0 = id, a1 = id, a2 = id, a3 = id
                        for _ in 0..<steps {
                            let p = base + ro.o0
                            a0 = C.step(a0, load16(p)); a1 = C.step(a1, load16(p + 16))
                            a2 = C.step(a2, load16(p + 32)); a3 = C.step(a3, load16(p + 48))
                            ro.next(sizes: rs, rst, z, z)
                        }
                        store16(a0, out); store16(a1, out + 16); store16(a2, out + 32); store16(a3, out + 48)
                    } else {
                        var c = 0
                        while c < n {
                            let m = min(16, n - c)
                            var acc = id
                            var ro2 = ro
                            for _ in 0..<steps {
                                acc = C.step(acc, m == 16 ? load16(base + ro2.o0 + c) : loadPartial(base + ro2.o0 + c, m, fill: C.identity))
                                ro2.next(sizes: rs, rst, z, z)
                            }
                            if m == 16 { store16(acc, out + c) } else { storePartial(acc, out + c, m) }
                            c += 16
                        }
                        ro = Odometer(start: 0, sizes: rs, rst, z, z)
                    }
                }
            }
        } else if steps == 1 && plan.outputCount < segmentedOutputs && inner >= 2 * segment && !Baseline.reduceOneRun {
            segmented(c, plan.outputCount, inner, x, y, pool: pool)
        } else {
            // Each output combines `steps` contiguous runs of `inner`.
            pool.splitWork(plan.outputCount, work: total) { range in
                var ko = Odometer(start: range.lowerBound, sizes: ks, kst, z, z)
                for o in range {
                    var a = (id, id, id, id)
                    var ro = Odometer(start: 0, sizes: rs, rst, z, z)
                    for _ in 0..<steps {
                        combineRun(C.self, x + ko.o0 + ro.o0, inner, &a)
                        ro.next(sizes: rs, rst, z, z)
                    }
                    y[o] = C.lanes(C.merge(C.merge(a.0, a.1), C.merge(a.2, a.3)))
                    ko.next(sizes: ks, kst, z, z)
                }
            }
        }
    }

    /// Combines the n floats at p into four lane accumulators: 64 at a time into all four, then
    /// 16 at a time into the first, the last partial vector into the second.
    @inline(__always)
    static func combineRun<C: ReduceCombiner>(_ c: C.Type, _ p: UnsafePointer<Float>, _ n: Int, _ a: inout (V16, V16, V16, V16)) {
        var i = 0
        while i + 64 <= n {
            a.0 = C.step(a.0, load16(p + i)); a.1 = C.step(a.1, load16(p + i + 16))
            a.2 = C.step(a.2, load16(p + i + 32)); a.3 = C.step(a.3, load16(p + i + 48))
            i += 64
        }
        while i + 16 <= n { a.0 = C.step(a.0, load16(p + i)); i += 16 }
        if i < n { a.1 = C.step(a.1, loadPartial(p + i, n - i, fill: C.identity)) }
    }

    /// Fewer outputs than this, each one contiguous run of at least two `segment`s, reduce by
    /// segments (a split that depends on the shape only).
    static let segmentedOutputs = 8
    static let segment = 1 << 16

    /// y[o] = the combination of x[o·inner ..< (o+1)·inner]: each `segment`-long piece (a multiple
    /// of 64, the last one shorter) combines into 4×16 lane accumulators as the one-run loop does,
    /// merged to 16 lanes; the pieces' lanes merge in order, then across lanes. The pieces run on
    /// whichever thread is free; their order of merging is fixed, so the bits are the same for any
    /// thread count.
    static func segmented<C: ReduceCombiner>(_ c: C.Type, _ outputs: Int, _ inner: Int, _ x: UnsafePointer<Float>,
                                             _ y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let pieces = (inner + segment - 1) / segment
        let id = V16(repeating: C.identity)
        withUnsafeTemporaryAllocation(of: V16.self, capacity: outputs * pieces) { partial in
            let part = partial.baseAddress!
            pool.parallelFor(outputs * pieces, chunks: outputs * pieces) { range in
                for u in range {
                    let o = u / pieces, q = u % pieces
                    let p = x + o * inner + q * segment, n = min(segment, inner - q * segment)
                    var a = (id, id, id, id)
                    combineRun(C.self, p, n, &a)
                    (part + u).initialize(to: C.merge(C.merge(a.0, a.1), C.merge(a.2, a.3)))
                }
            }
            for o in 0..<outputs {
                var acc = part[o * pieces]
                for q in 1..<pieces { acc = C.merge(acc, part[o * pieces + q]) }
                y[o] = C.lanes(acc)
            }
        }
    }

    /// Scalar reference: combines x in memory order into the outputs, then finishes (mean, L2).
    public static func reference(_ kind: ReduceKind, shape: [Int], axes: [Int], _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let r = shape.count
        let ax = Set(axes.map { $0 < 0 ? $0 + r : $0 })
        let kept = (0..<r).filter { !ax.contains($0) }
        let outCount = kept.reduce(1) { $0 * shape[$1] }
        let redCount = ax.reduce(1) { $0 * shape[$1] }
        y.update(repeating: kind.identity, count: outCount)
        let n = shape.reduce(1, *)
        var idx = [Int](repeating: 0, count: r)
        for i in 0..<n {
            var o = 0
            for d in kept { o = o * shape[d] + idx[d] }
            y[o] = kind.combine(y[o], x[i])
            var d = r - 1
            while d >= 0 { idx[d] += 1; if idx[d] < shape[d] { break }; idx[d] = 0; d -= 1 }
        }
        for o in 0..<outCount { y[o] = kind.finish(y[o], count: redCount) }
    }
}
