// Softmax: Softmax / LogSoftmax along one axis of a dense tensor viewed as (outer, axis, inner).
//
// Contract: numerically stable (the maximum along the axis is subtracted first).
// softmax: y = e^{x − max} / Σ e^{x − max};  log-softmax: y = (x − max) − log Σ e^{x − max},
// in that order (max + log Σ would round log Σ away next to a huge max).
// When inner == 1 each row is contiguous and is reduced with 16-lane accumulators; otherwise 16
// neighbouring inner positions are processed together along the axis. `x` and `y` may be the
// same buffer. Work is split over rows / column blocks only, so the result does not depend on
// the thread count. x − max ≤ 0, so e^{x − max} skips exp's upper clamp and fix-ups
// (`SIMDMath.expNonPositive`). `reference` uses Foundation's expf/logf; the fast kernel uses SIMDMath.
import Foundation

public enum Softmax {
    /// x, y: outer × axis × inner, dense.
    public static func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, axis: Int, inner: Int,
                           log: Bool = false, pool: ThreadPool = .serial) {
        if axis == 0 { return }
        let work = outer * axis * inner * 8
        if inner == 1 {
            pool.splitWork(outer, work: work) { range in
                for o in range { row(x + o * axis, y + o * axis, axis, log) }
            }
            return
        }
        let blocks = (inner + 15) / 16
        pool.splitWork(outer * blocks, work: work) { range in
            for u in range {
                let o = u / blocks, c = (u - o * blocks) * 16
                let m = min(16, inner - c)
                let px = x + o * axis * inner + c, py = y + o * axis * inner + c
                @inline(__always) func ld(_ k: Int) -> V16 { m == 16 ? load16(px + k * inner) : loadPartial(px + k * inner, m) }
                @inline(__always) func st(_ v: V16, _ k: Int) { if m == 16 { store16(v, py + k * inner) } else { storePartial(v, py + k * inner, m) } }
                var mx = ld(0)
                for k in 1..<axis { let v = ld(k); mx.replace(with: v, where: v .> mx) }
                // Each lane's sum in blocks of `sumBlock` terms, then the block sums: a long axis
                // (4096 keys of an attention block) keeps its rounding near the row kernel's.
                var s = V16()
                var k0 = 0
                while k0 < axis {
                    let k1 = min(axis, k0 + sumBlock)
                    var b = V16()
                    if log {
                        for k in k0..<k1 { b += SIMDMath.expNonPositive(ld(k) - mx) }
                    } else {
                        for k in k0..<k1 { let e = SIMDMath.expNonPositive(ld(k) - mx); b += e; st(e, k) }
                    }
                    s += b
                    k0 = k1
                }
                if log {
                    // (x − max) − log s: adding log s to a huge max first would round it away.
                    let l = SIMDMath.log(s)
                    for k in 0..<axis { st((ld(k) - mx) - l, k) }
                } else {
                    // One division, then multiplications, as `row` does (e·(1/s) is within an ulp of e/s).
                    let rs = 1 / s
                    for k in 0..<axis { st(load16OrPartial(py + k * inner, m) * rs, k) }
                }
            }
        }
    }

    /// Terms a column's running sum takes before it is added to the total.
    static let sumBlock = 64

    @inline(__always)
    static func load16OrPartial(_ p: UnsafeMutablePointer<Float>, _ m: Int) -> V16 {
        m == 16 ? load16(p) : loadPartial(p, m)
    }

    /// One contiguous row of length n.
    @inline(__always)
    static func row(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ log: Bool) {
        let tail = n & 15, full = n - tail
        var vm = V16(repeating: -.infinity)
        var c = 0
        while c < full { let v = load16(x + c); vm.replace(with: v, where: v .> vm); c += 16 }
        if tail > 0 { let v = loadPartial(x + c, tail, fill: -.infinity); vm.replace(with: v, where: v .> vm) }
        var mx = vm[0]
        for l in 1..<16 where vm[l] > mx { mx = vm[l] }
        let vmx = V16(repeating: mx)
        var s = V16()
        c = 0
        if log {
            while c < full { s += SIMDMath.expNonPositive(load16(x + c) - vmx); c += 16 }
            if tail > 0 { s += SIMDMath.expNonPositive(loadPartial(x + c, tail, fill: -.infinity) - vmx) }
            // (x − max) − log s: adding log s to a huge max first would round it away.
            let l = V16(repeating: SIMDMath.log(V16(repeating: s.sum()))[0])
            c = 0
            while c < full { store16((load16(x + c) - vmx) - l, y + c); c += 16 }
            if tail > 0 { storePartial((loadPartial(x + c, tail) - vmx) - l, y + c, tail) }
        } else {
            // Two accumulators (lanes summed in a fixed order): the adds do not wait on each other.
            var s2 = V16()
            while c + 32 <= full {
                let e0 = SIMDMath.expNonPositive(load16(x + c) - vmx), e1 = SIMDMath.expNonPositive(load16(x + c + 16) - vmx)
                s += e0; s2 += e1
                store16(e0, y + c); store16(e1, y + c + 16)
                c += 32
            }
            while c < full { let e = SIMDMath.expNonPositive(load16(x + c) - vmx); s += e; store16(e, y + c); c += 16 }
            if tail > 0 { let e = SIMDMath.expNonPositive(loadPartial(x + c, tail, fill: -.infinity) - vmx); s += e; storePartial(e, y + c, tail) }
            // One division, then multiplications (a vector division costs several multiplies;
            // e·(1/s) is within an ulp of e/s).
            let vs = V16(repeating: 1 / (s + s2).sum())
            c = 0
            while c < full { store16(load16(y + c) * vs, y + c); c += 16 }
            if tail > 0 { storePartial(loadPartial(y + c, tail) * vs, y + c, tail) }
        }
    }

    /// Scalar reference.
    public static func reference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, axis: Int, inner: Int, log: Bool = false) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * axis * inner + i
                var mx = x[base]
                for k in 1..<max(axis, 1) where x[base + k * inner] > mx { mx = x[base + k * inner] }
                var s: Float = 0
                for k in 0..<axis { s += Foundation.exp(x[base + k * inner] - mx) }
                for k in 0..<axis {
                    let v = x[base + k * inner] - mx
                    y[base + k * inner] = log ? v - Foundation.log(s) : Foundation.exp(v) / s
                }
            }
        }
    }
}
