// NormalizeResampleTests: the Normalize kernel (Instance/Layer/Group normalisation) and the
// Resample kernel (Resize, Pad) — fast kernels against their scalar references over odd sizes
// and thread counts, and the references against values computed by hand or independently.

import XCTest
import TestSupport
import Kernels

final class NormalizeResampleTests: XCTestCase {
    func normalize(_ p: Normalize.Plan, _ x: [Float], _ scale: [Float], _ bias: [Float]?, pool: ThreadPool?) -> ([Float], [Float], [Float]) {
        var y = [Float](repeating: .nan, count: x.count)
        var mean = [Float](repeating: .nan, count: p.rows), inv = [Float](repeating: .nan, count: p.rows)
        let b = bias ?? []
        x.withUnsafeBufferPointer { xp in scale.withUnsafeBufferPointer { sp in b.withUnsafeBufferPointer { bp in
            let bias = bias == nil ? nil : bp.baseAddress
            if let pool {
                Normalize.run(p, xp.baseAddress!, scale: sp.baseAddress!, bias: bias, &y, mean: &mean, invStd: &inv, pool: pool)
            } else {
                Normalize.reference(p, xp.baseAddress!, scale: sp.baseAddress!, bias: bias, &y, mean: &mean, invStd: &inv)
            }
        } } }
        return (y, mean, inv)
    }

    func testNormalizeMatchesReferenceOnOddSizes() {
        var g = SeededRandom(seed: 1401)
        for t in 0..<150 {
            let groups = g.int(1, 5), per = g.int(1, 4), spatial = g.int(1, 37)
            let rows = groups * g.int(1, 3)
            let p = Normalize.Plan(rows: rows, inner: per * spatial, groups: groups, spatial: spatial, epsilon: t % 2 == 0 ? 1e-5 : 0.3)
            let x = randomFloats(rows * per * spatial, seed: UInt64(t), range: -2...3)
            let scale = randomFloats(p.affineCount, seed: UInt64(t) + 1000, range: 0.5...2)
            let bias = t % 3 == 0 ? nil : randomFloats(p.affineCount, seed: UInt64(t) + 2000)
            let want = normalize(p, x, scale, bias, pool: nil)
            let one = normalize(p, x, scale, bias, pool: .serial)
            KCheck.bitwise(normalize(p, x, scale, bias, pool: KCheck.pool2).0, one.0, "normalize threads")
            KCheck.near(one.0, want.0, rel: 2e-5, abs: 2e-5, "normalize \(p)")
            KCheck.near(one.1, want.1, rel: 2e-5, abs: 2e-6, "mean \(p)")
            KCheck.near(one.2, want.2, rel: 2e-5, abs: 2e-6, "invStd \(p)")
        }
    }

    /// The reference against the definition: each (row, affine index) by hand.
    func testNormalizeKnownValues() {
        // 2 groups of (2 channels × 2 spatial): GroupNorm N=1, C=4, S=2.
        let x: [Float] = [1, 3, 5, 7, 0, 0, 2, -2]
        let p = Normalize.Plan(rows: 2, inner: 4, groups: 2, spatial: 2, epsilon: 0)
        let (y, mean, inv) = normalize(p, x, [1, 2, 3, 4], [0, 0, 1, 1], pool: nil)
        // Row 0: mean 4, var 5 → x̂ = (−3, −1, 1, 3)/√5; channel scales 1, 1, 2, 2.
        let r5 = Float(5).squareRoot()
        let r2 = Float(2).squareRoot()
        KCheck.near(mean, [4, 0], "mean")
        KCheck.near(inv, [1 / r5, 1 / r2], "invStd")
        KCheck.near(y, [-3 / r5, -1 / r5, 2 / r5, 6 / r5, 1, 1, 8 / r2 + 1, -8 / r2 + 1], "group values")
    }

    func resample(_ p: Resample.Plan, _ x: [Float], pool: ThreadPool?) -> [Float] {
        var y = [Float](repeating: .nan, count: p.outShape.reduce(1, *))
        x.withUnsafeBufferPointer { xp in
            if let pool { Resample.run(p, xp.baseAddress!, &y, pool: pool) } else { Resample.reference(p, xp.baseAddress!, &y) }
        }
        return y
    }

    /// Random taps over ranks 1–4: gathers, two- and four-tap blends (some weights 0) and outside elements.
    func testResampleMatchesReferenceOnOddSizes() {
        var g = SeededRandom(seed: 1402)
        for t in 0..<200 {
            let r = g.int(1, 4)
            let inShape = (0..<r).map { _ in g.int(1, 7) }
            let outShape = (0..<r).map { _ in g.int(1, 9) }
            let axes = (0..<r).map { a -> Resample.Axis in
                let n = inShape[a]
                let blend = g.bool()
                if blend && g.bool() {
                    var index = [Int32](), weight = [Float]()
                    for _ in 0..<outShape[a] {
                        let outside = t % 4 == 0 && g.int(0, 9) == 0
                        index += (0..<4).map { k in outside && k == 0 ? -1 : Int32(g.int(0, n - 1)) }
                        weight += (0..<4).map { _ in Float(g.int(-4, 12)) / 8 }
                    }
                    return Resample.Axis(width: 4, index: index, weight: weight)
                }
                var i0 = [Int32](), i1 = [Int32](), w1 = [Float]()
                for _ in 0..<outShape[a] {
                    let outside = t % 4 == 0 && g.int(0, 9) == 0
                    i0.append(outside ? -1 : Int32(g.int(0, n - 1)))
                    i1.append(Int32(g.int(0, n - 1)))
                    w1.append(blend ? Float(g.int(0, 8)) / 8 : 0)
                }
                return Resample.Axis(i0: i0, i1: i1, w1: w1)
            }
            let p = Resample.Plan(inShape: inShape, outShape: outShape, axes: axes, outside: t % 4 == 0 ? 2.5 : 0)
            let x = randomFloats(inShape.reduce(1, *), seed: UInt64(t), range: -3...3)
            let want = resample(p, x, pool: nil)
            let one = resample(p, x, pool: .serial)
            KCheck.bitwise(resample(p, x, pool: KCheck.pool2), one, "resample threads")
            KCheck.near(one, want, rel: 1e-6, abs: 1e-6, "resample \(p)")
        }
    }

    /// Image plans (leading axes kept) take `Resample.planar`: bilinear and bicubic 2× taps as
    /// Resize makes them (weight-0 taps at the clamped edges), random row taps spanning at most 4
    /// consecutive rows and random column taps of width 1, 2 or 4 (some weights 0), widths around
    /// the 16-column vectors, with ±inf and NaN where only weight-0 later taps read; the
    /// reference's values bit for bit, on 1 and 2 threads.
    func testPlanarPlansMatchTheReferenceBitwise() {
        var g = SeededRandom(seed: 4301)
        // Linear 2× (half_pixel) taps from n to 2n: clamped at the edges with weight 0.
        func linear2x(_ n: Int) -> Resample.Axis {
            var i0 = [Int32](), i1 = [Int32](), w1 = [Float]()
            for o in 0..<(2 * n) {
                let c = (Double(o) + 0.5) / 2 - 0.5, f = c.rounded(.down)
                let a = Int32(min(max(f, 0), Double(n - 1))), b = Int32(min(max(f + 1, 0), Double(n - 1)))
                i0.append(a); i1.append(b); w1.append(a == b ? 0 : Float(c - f))
            }
            return Resample.Axis(i0: i0, i1: i1, w1: w1)
        }
        func cubic2x(_ n: Int) -> Resample.Axis {
            var index = [Int32](), weight = [Float]()
            for o in 0..<(2 * n) {
                let f = o / 2 - 1
                index += (0..<4).map { Int32(min(max(f + $0, 0), n - 1)) }
                weight += o % 2 == 0 ? [-0.0703125, 0.8671875, 0.2265625, -0.0234375] : [-0.0234375, 0.2265625, 0.8671875, -0.0703125]
            }
            return Resample.Axis(width: 4, index: index, weight: weight)
        }
        func random(_ n: Int, _ m: Int, consecutive: Bool) -> Resample.Axis {
            let width = [1, 2, 4][g.int(0, 2)]
            var index = [Int32](), weight = [Float]()
            for _ in 0..<m {
                let start = g.int(0, n - 1)
                index += (0..<width).map { k in Int32(consecutive ? min(start + k, n - 1) : g.int(0, n - 1)) }
                weight += (0..<width).map { k in k > 0 && g.int(0, 2) == 0 ? 0 : Float(g.int(-4, 12)) / 8 }
            }
            return Resample.Axis(width: width, index: index, weight: weight)
        }
        for t in 0..<60 {
            let h = g.int(1, 9), w = g.int(1, 40)
            let lead = (0..<g.int(0, 2)).map { _ in g.int(1, 3) }
            let rows: Resample.Axis, cols: Resample.Axis
            switch t % 3 {
            case 0: (rows, cols) = (linear2x(h), linear2x(w))
            case 1: (rows, cols) = (cubic2x(h), cubic2x(w))
            default: (rows, cols) = (random(h, g.int(1, 12), consecutive: true), random(w, g.int(1, 40), consecutive: false))
            }
            let p = Resample.Plan(inShape: lead + [h, w], outShape: lead + [rows.count, cols.count],
                                  axes: lead.map { Resample.Axis(nearest: Array(0..<$0)) } + [rows, cols])
            XCTAssertTrue(Resample.isPlanar(p), "\(p)")
            var x = randomFloats(p.inShape.reduce(1, *), seed: UInt64(t), range: -3...3)
            // Non-finite values where no tap 0 and no weighted later tap of the last axis reads.
            var read = Set<Int>()
            for q in 0..<cols.index.count where q % cols.width == 0 || cols.weight[q] != 0 { read.insert(Int(cols.index[q])) }
            let special: [Float] = [.infinity, -.infinity, .nan]
            for j in 0..<w where !read.contains(j) { for q in stride(from: j, to: x.count, by: w) { x[q] = special[q % 3] } }
            let want = resample(p, x, pool: nil)
            for pool in KCheck.pools { KCheck.bitwise(resample(p, x, pool: pool), want, "planar \(p)") }
        }
    }

    /// Gather-only plans (nearest, Pad) through `run` and `gather`: 2× nearest upsamples whose rows
    /// take the 16-lane path (widths 32, 64) or not (width 34), an outside border, Int64 elements;
    /// the same values as `gatherReference`, bit for bit, on 1 and 2 threads.
    func testGatherPlansMatchTheReference() {
        for (h, w, pad) in [(5, 16, false), (4, 32, false), (3, 17, false), (6, 16, true)] {
            let up = { (n: Int) in (0..<(2 * n)).map { $0 / 2 } }
            var hs = up(h), ws = up(w)
            if pad { hs = [-1] + hs + [-1]; ws = [-1] + ws + [-1] }
            let p = Resample.Plan(inShape: [2, 3, h, w], outShape: [2, 3, hs.count, ws.count],
                                  axes: [Resample.Axis(nearest: [0, 1]), Resample.Axis(nearest: [0, 1, 2]),
                                         Resample.Axis(nearest: hs), Resample.Axis(nearest: ws)], outside: pad ? 7 : 0)
            let x = randomFloats(2 * 3 * h * w, seed: UInt64(h * w), range: -3...3)
            let want = Resample.gatherReference(p, x, outside: p.outside)
            for pool in KCheck.pools {
                KCheck.bitwise(resample(p, x, pool: pool), want, "nearest \(p)")
                let xi = x.map { Int64($0 * 100) }
                var yi = [Int64](repeating: -1, count: want.count)
                xi.withUnsafeBufferPointer { xp in yi.withUnsafeMutableBufferPointer { Resample.gather(p, xp.baseAddress!, $0.baseAddress!, outside: 7, pool: pool) } }
                XCTAssertEqual(yi, Resample.gatherReference(p, xi, outside: 7), "int64 \(p)")
            }
        }
    }

    /// Bilinear 2×2 → 3×3 (align-corners taps) and a reflect pad, by hand.
    func testResampleKnownValues() {
        let half = Resample.Axis(i0: [0, 0, 1], i1: [0, 1, 1], w1: [0, 0.5, 0])
        let p = Resample.Plan(inShape: [2, 2], outShape: [3, 3], axes: [half, half])
        KCheck.near(resample(p, [0, 2, 4, 6], pool: nil), [0, 1, 2, 2, 3, 4, 4, 5, 6], "bilinear")
        KCheck.near(resample(p, [0, 2, 4, 6], pool: .serial), [0, 1, 2, 2, 3, 4, 4, 5, 6], "bilinear fast")
        // Reflect pad of [1, 2, 3] by 2 each side: 3 2 1 2 3 2 1; constant pad (−1 taps) of 9.
        let reflect = Resample.Plan(inShape: [3], outShape: [7], axes: [Resample.Axis(nearest: [2, 1, 0, 1, 2, 1, 0])])
        KCheck.bitwise(resample(reflect, [1, 2, 3], pool: .serial), [3, 2, 1, 2, 3, 2, 1], "reflect")
        let constant = Resample.Plan(inShape: [1, 2], outShape: [2, 3], axes: [Resample.Axis(nearest: [0, -1]), Resample.Axis(nearest: [-1, 0, 1])],
                                     outside: 9)
        KCheck.bitwise(resample(constant, [4, 5], pool: .serial), [9, 4, 5, 9, 9, 9], "constant")
        KCheck.bitwise(resample(constant, [4, 5], pool: nil), [9, 4, 5, 9, 9, 9], "constant reference")
    }
}
