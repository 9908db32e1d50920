// Grad: the kernels of the ops only backward graphs use — Sign, LeakyReluGrad, EluGrad, GatherGrad.
//
// Contract: each op has a scalar `…Reference` (the definition) and a SIMD / threaded `…` run
// over raw buffers. All three are exact: the fast kernel equals the reference bit for bit for
// every thread count (Sign, LeakyReluGrad and EluGrad are a select and at most an add and a
// multiply per element; GatherGrad adds the rows of dY into y in index order, splitting work
// only over independent outer slices and inner columns, so the summation order never depends
// on threads).
//   sign(x)               = 1 if x > 0, −1 if x < 0, else 0 (±0 → 0, NaN → 0).
//   leakyReluGrad(dy, y)  = dy if y > 0 else alpha·dy (Relu: alpha 0).
//   eluGrad(dy, y)        = dy if y > 0 else dy·(y + alpha) (Elu with alpha ≥ 0, from its output:
//                           y > 0 exactly where x > 0, and e^x = y/alpha + 1 elsewhere).
//   gatherGrad(dy, idx)   = y zeroed, then y[o, idx[j], k] += dy[o, j, k] (negative indices
//                           wrap; an index outside [−size, size) throws before writing).

public enum Grad {
    // MARK: Sign

    @inlinable
    public static func signScalar(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }

    public static func signReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = signScalar(x[i]) }
    }

    public static func sign(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool = .serial) {
        pool.splitWork((count + 15) / 16, work: count) { range in
            Unary.map(x, y, range.lowerBound * 16, min(count, range.upperBound * 16), Sign())
        }
    }

    struct Sign: LaneOp1 {
        @inline(__always) func callAsFunction(_ v: V16) -> V16 {
            V16(repeating: 0).replacing(with: V16(repeating: 1), where: v .> 0).replacing(with: V16(repeating: -1), where: v .< 0)
        }
    }

    // MARK: LeakyReluGrad

    public static func leakyReluGradReference(alpha: Float, _ dy: UnsafePointer<Float>, _ yv: UnsafePointer<Float>,
                                              _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = yv[i] > 0 ? dy[i] : alpha * dy[i] }
    }

    public static func leakyReluGrad(alpha: Float, _ dy: UnsafePointer<Float>, _ yv: UnsafePointer<Float>,
                                     _ out: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool = .serial) {
        zipMap(dy, yv, out, count, pool, LeakyReluGrad(alpha: V16(repeating: alpha)))
    }

    struct LeakyReluGrad: LaneOp2 {
        let alpha: V16
        @inline(__always) func callAsFunction(_ g: V16, _ v: V16) -> V16 { (alpha * g).replacing(with: g, where: v .> 0) }
    }

    /// out[i] = f(dy[i], y[i]) over 16-float vectors (a partial vector at the end), threads
    /// splitting whole vectors.
    @inline(__always)
    static func zipMap<F: LaneOp2>(_ dy: UnsafePointer<Float>, _ yv: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                   _ count: Int, _ pool: ThreadPool, _ f: F) {
        let vectors = (count + 15) / 16
        pool.splitWork(vectors, work: count) { range in
            var i = range.lowerBound * 16
            let end = min(count, range.upperBound * 16)
            while i + 16 <= end {
                store16(f(load16(dy + i), load16(yv + i)), out + i)
                i += 16
            }
            if i < end {
                let n = end - i
                storePartial(f(loadPartial(dy + i, n), loadPartial(yv + i, n)), out + i, n)
            }
        }
    }

    // MARK: EluGrad

    public static func eluGradReference(alpha: Float, _ dy: UnsafePointer<Float>, _ yv: UnsafePointer<Float>,
                                        _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = yv[i] > 0 ? dy[i] : dy[i] * (yv[i] + alpha) }
    }

    /// One pass over dY and Y for ELU's pullback (the point-wise form was seven kernels).
    public static func eluGrad(alpha: Float, _ dy: UnsafePointer<Float>, _ yv: UnsafePointer<Float>,
                               _ out: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool = .serial) {
        zipMap(dy, yv, out, count, pool, EluGrad(alpha: V16(repeating: alpha)))
    }

    struct EluGrad: LaneOp2 {
        let alpha: V16
        @inline(__always) func callAsFunction(_ g: V16, _ v: V16) -> V16 { (g * (v + alpha)).replacing(with: g, where: v .> 0) }
    }

    // MARK: GatherGrad

    /// dy is outer × indexCount × inner, y is outer × axisSize × inner.
    public static func gatherGradReference(_ dy: UnsafePointer<Float>, indices: UnsafePointer<Int64>, indexCount: Int,
                                           _ y: UnsafeMutablePointer<Float>, outer: Int, axisSize: Int, inner: Int) throws {
        try Gather.validate(indices, indexCount, axisSize)
        y.update(repeating: 0, count: outer * axisSize * inner)
        for o in 0..<outer {
            for j in 0..<indexCount {
                var i = Int(indices[j]); if i < 0 { i += axisSize }
                for k in 0..<inner { y[(o * axisSize + i) * inner + k] += dy[(o * indexCount + j) * inner + k] }
            }
        }
    }

    public static func gatherGrad(_ dy: UnsafePointer<Float>, indices: UnsafePointer<Int64>, indexCount: Int,
                                  _ y: UnsafeMutablePointer<Float>, outer: Int, axisSize: Int, inner: Int,
                                  pool: ThreadPool = .serial) throws {
        try Gather.validate(indices, indexCount, axisSize)
        let n = Int64(axisSize)
        // Units: (outer slice, 16-column block of inner); each owns its outputs.
        let blocks = (inner + 15) / 16
        pool.splitWork(outer * blocks, work: outer * (indexCount + axisSize) * inner) { range in
            for u in range {
                let o = u / blocks, b = u - o * blocks
                let k0 = b * 16, w = min(16, inner - k0)
                let py = y + o * axisSize * inner + k0, pd = dy + o * indexCount * inner + k0
                for i in 0..<axisSize { (py + i * inner).update(repeating: 0, count: w) }
                if w == 16 {
                    for j in 0..<indexCount {
                        let r = indices[j], row = Int(r < 0 ? r + n : r)
                        store16(load16(py + row * inner) + load16(pd + j * inner), py + row * inner)
                    }
                } else {
                    for j in 0..<indexCount {
                        let r = indices[j], row = Int(r < 0 ? r + n : r)
                        for k in 0..<w { py[row * inner + k] += pd[j * inner + k] }
                    }
                }
            }
        }
    }
}
