// Resample: a separable per-axis gather with optional blending — the kernel behind Resize
// (nearest, linear, cubic) and Pad (constant, reflect, edge, wrap).
//
// Contract: x has `inShape`, y has `outShape` (same rank ≥ 1). Each axis a has, for each output
// coordinate o, `width` taps (1: nearest and pad; 2: linear; 4: cubic): indices i_k[o] with
// weights w_k[o]. Tap 0's index −1 means "outside": the whole output element is `outside`
// (Pad's constant, Resize's extrapolation_value). Then
//   y[o_0, …, o_{r−1}] = Σ over corners c  Π_a w_{c_a}[o_a] · x[i_{c_0}[o_0], …]
// where a corner takes, on each axis, tap 0 or a later tap whose weight is nonzero. The
// reference evaluates that sum per element; the fast kernel walks output rows (all axes but
// the last), builds the corner list of the leading axes once per row and blends the last axis
// inside it; the sum runs in the same corner order, so both agree to a few ulp. Plans that only
// gather (every tap-0 weight 1, nothing blended: nearest, Pad) go to `gather` instead (values
// exactly as stored, where the reference's 0 + 1·x turns −0 into +0). Blending plans that keep
// every axis but the last two (images: bilinear and bicubic Resize) go to `planar`
// (Resample+Planar.swift): the reference's values bit for bit, 16 columns at a time. Work is
// split over output rows. `gather` is the pure-gather case for elements of any type (also the runtime's Int64
// integers): y = x at tap 0, `outside` where it is −1, whole rows copied where an output row
// repeats the one before; `gatherReference` is its per-element definition.

public enum Resample {
    /// The taps of one axis: `width` taps per output coordinate (1: a gather — nearest, Pad;
    /// 2: linear; 4: cubic); tap k of output coordinate o reads index[o·width + k] with weight
    /// weight[o·width + k]. Tap 0's index −1 means "outside".
    public struct Axis: Equatable {
        public var width: Int
        public var index: [Int32], weight: [Float]
        public init(width: Int, index: [Int32], weight: [Float]) {
            precondition(width >= 1 && index.count == weight.count && index.count % width == 0, "Resample.Axis: taps do not fill the width")
            (self.width, self.index, self.weight) = (width, index, weight)
        }
        /// Two taps blended: i0 with weight 1 − w1, i1 with weight w1.
        public init(i0: [Int32], i1: [Int32], w1: [Float]) {
            precondition(i0.count == i1.count && i0.count == w1.count, "Resample.Axis: tap arrays differ in length")
            var index = [Int32](), weight = [Float]()
            index.reserveCapacity(2 * i0.count)
            weight.reserveCapacity(2 * i0.count)
            for o in i0.indices {
                index += [i0[o], i1[o]]
                weight += [1 - w1[o], w1[o]]
            }
            self.init(width: 2, index: index, weight: weight)
        }
        /// Nearest taps (a pure gather; −1 = outside).
        public init(nearest: [Int]) { self.init(width: 1, index: nearest.map { Int32($0) }, weight: nearest.map { _ in 1 }) }
        /// The number of output coordinates.
        public var count: Int { index.count / width }
        /// Tap 0's index of each output coordinate (−1: outside).
        public var first: [Int32] { Swift.stride(from: 0, to: index.count, by: width).map { index[$0] } }
        /// Tap k's indices and weights, one per output coordinate.
        public func tap(_ k: Int) -> (index: [Int32], weight: [Float]) {
            (Swift.stride(from: k, to: index.count, by: width).map { index[$0] }, Swift.stride(from: k, to: weight.count, by: width).map { weight[$0] })
        }
        /// True when some tap beyond the first has a nonzero weight.
        public var blends: Bool { width > 1 && weight.indices.contains { $0 % width != 0 && weight[$0] != 0 } }
    }

    /// Shapes and taps of one call.
    public struct Plan: Equatable, CustomStringConvertible {
        public var inShape: [Int], outShape: [Int]
        public var axes: [Axis]
        public var outside: Float
        public init(inShape: [Int], outShape: [Int], axes: [Axis], outside: Float = 0) {
            precondition(inShape.count == outShape.count && axes.count == outShape.count && !outShape.isEmpty, "Resample.Plan: rank mismatch")
            for (a, ax) in axes.enumerated() {
                precondition(ax.count == outShape[a], "Resample.Plan: axis \(a) has \(ax.count) taps for size \(outShape[a])")
                precondition(ax.index.allSatisfy { $0 >= -1 && Int($0) < inShape[a] }, "Resample.Plan: axis \(a) index out of range")
            }
            (self.inShape, self.outShape, self.axes, self.outside) = (inShape, outShape, axes, outside)
        }
        public var description: String {
            let blended = axes.enumerated().filter { $0.element.blends }
            let linear = blended.filter { $0.element.width <= 2 }.map(\.offset), cubic = blended.filter { $0.element.width > 2 }.map(\.offset)
            return "\(inShape)->\(outShape)" + (linear.isEmpty ? "" : " linear=\(linear)") + (cubic.isEmpty ? "" : " cubic=\(cubic)")
                + (outside != 0 ? " outside=\(outside)" : "")
        }
        var strides: [Int] {
            var s = [Int](repeating: 1, count: inShape.count)
            for a in Swift.stride(from: inShape.count - 2, through: 0, by: -1) { s[a] = s[a + 1] * inShape[a + 1] }
            return s
        }
    }

    public static func run(_ p: Plan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        if p.axes.allSatisfy({ ax in Swift.stride(from: 0, to: ax.weight.count, by: ax.width).allSatisfy { ax.weight[$0] == 1 } && !ax.blends }) {
            gather(p, x, y, outside: p.outside, pool: pool)
            return
        }
        if isPlanar(p) {
            planar(p, x, y, pool: pool)
            return
        }
        let r = p.outShape.count, last = p.outShape[r - 1]
        let rows = p.outShape.dropLast().reduce(1, *)
        let strides = p.strides
        let lastAxis = p.axes[r - 1]
        let lastBlends = lastAxis.blends, width = lastAxis.width
        // The leading axes' taps, flat: axis a's (index · stride, weight) pairs from starts[a],
        // widths[a] per output coordinate (offset −1 at tap 0: outside).
        let outShape = p.outShape, widths = p.axes.map(\.width)
        var starts = [Int](repeating: 0, count: r)
        for a in 1..<r { starts[a] = starts[a - 1] + outShape[a - 1] * widths[a - 1] }
        let leadTaps = starts[r - 1]
        let cap = (0..<(r - 1)).reduce(1) { $0 * widths[$1] }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(leadTaps, 1)) { toff in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(leadTaps, 1)) { tw in
        for a in 0..<(r - 1) {
            let ax = p.axes[a]
            for q in ax.index.indices {
                let i = Int(ax.index[q])
                toff[starts[a] + q] = i < 0 ? -1 : i * strides[a]
                tw[starts[a] + q] = ax.weight[q]
            }
        }
        let tOff = UnsafePointer(toff.baseAddress!), tW = UnsafePointer(tw.baseAddress!)
        pool.splitWork(rows, work: rows * last * (lastBlends ? width : 1)) { range in
            // Corners (offset, weight) of the current row: two halves of `cap` each, built axis by axis.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * cap) { co in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * cap) { cw in
            // Blended input rows of recent corners: `cacheSlots` rows of `last` floats, keyed by offset.
            let cacheSlots = 4
            let cache = Gemm.threadBuffer(cacheSlots * last + 16)
            var cacheKey = (-1, -1, -1, -1), cacheNext = 0
            lastAxis.index.withUnsafeBufferPointer { li in
            lastAxis.weight.withUnsafeBufferPointer { lw in
                for row in range {
                    let py = y + row * last
                    var n = 1, cur = 0
                    co[0] = 0; cw[0] = 1
                    var rest = row, outside = false
                    for a in Swift.stride(from: r - 2, through: 0, by: -1) {
                        let o = rest % outShape[a]
                        rest /= outShape[a]
                        let wa = widths[a], base = starts[a] + o * wa
                        if tOff[base] < 0 { outside = true; break }
                        let src = cur * cap, dst = (1 - cur) * cap
                        var m = 0
                        for c in 0..<n {
                            let off = co[src + c], w = cw[src + c]
                            co[dst + m] = off + tOff[base]; cw[dst + m] = w * tW[base]; m += 1
                            for k in 1..<wa where tW[base + k] != 0 {
                                co[dst + m] = off + tOff[base + k]; cw[dst + m] = w * tW[base + k]; m += 1
                            }
                        }
                        n = m
                        cur = 1 - cur
                    }
                    if outside { py.update(repeating: p.outside, count: last); continue }
                    let c0 = cur * cap
                    if n == 1 && !lastBlends {
                        let px = x + co[c0], w = cw[c0]
                        for j in 0..<last { let i = Int(li[j * width]); py[j] = i < 0 ? p.outside : w * px[i] }
                        continue
                    }
                    // Corners outer, the row inner: each element still sums its corners in order from 0.
                    // A corner's last-axis blend of its input row is kept for the rows after it
                    // (an upsample reads each input row for several output rows).
                    py.update(repeating: 0, count: last)
                    for c in 0..<n {
                        let off = co[c0 + c], w = cw[c0 + c]
                        let slot: Int
                        if cacheKey.0 == off { slot = 0 } else if cacheKey.1 == off { slot = 1 }
                        else if cacheKey.2 == off { slot = 2 } else if cacheKey.3 == off { slot = 3 }
                        else {
                            slot = cacheNext
                            cacheNext = (cacheNext + 1) % cacheSlots
                            switch slot { case 0: cacheKey.0 = off; case 1: cacheKey.1 = off; case 2: cacheKey.2 = off; default: cacheKey.3 = off }
                            let v = cache + slot * last, px = x + off
                            for j in 0..<last {
                                let base = j * width
                                let i0 = Int(li[base])
                                if i0 < 0 { v[j] = 0; continue }
                                var t = lw[base] * px[i0]
                                for k in 1..<width where lw[base + k] != 0 { t += lw[base + k] * px[Int(li[base + k])] }
                                v[j] = t
                            }
                        }
                        let v = cache + slot * last
                        let wv = V16(repeating: w)
                        var j = 0
                        while j + 16 <= last { store16(load16(py + j) + wv * load16(v + j), py + j); j += 16 }
                        while j < last { py[j] += w * v[j]; j += 1 }
                    }
                    for j in 0..<last where li[j * width] < 0 { py[j] = p.outside }
                }
            }}
            }}
        }
        }}
    }

    /// Scalar reference: the corner sum per output element.
    public static func reference(_ p: Plan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let r = p.outShape.count
        let strides = p.strides
        let total = p.outShape.reduce(1, *)
        var idx = [Int](repeating: 0, count: r)
        for e in 0..<total {
            var rest = e
            for a in Swift.stride(from: r - 1, through: 0, by: -1) { idx[a] = rest % p.outShape[a]; rest /= p.outShape[a] }
            if (0..<r).contains(where: { p.axes[$0].index[idx[$0] * p.axes[$0].width] < 0 }) { y[e] = p.outside; continue }
            // Corners in the order the fast kernel sums them: leading axes outer (axis r−2 last), the last axis inner.
            var corners: [(Int, Float)] = [(0, 1)]
            for a in Swift.stride(from: r - 2, through: 0, by: -1) {
                let ax = p.axes[a], base = idx[a] * ax.width
                var next: [(Int, Float)] = []
                for (off, w) in corners {
                    for k in 0..<ax.width where k == 0 || ax.weight[base + k] != 0 {
                        next.append((off + Int(ax.index[base + k]) * strides[a], w * ax.weight[base + k]))
                    }
                }
                corners = next
            }
            let la = p.axes[r - 1], base = idx[r - 1] * la.width
            var s: Float = 0
            for (off, w) in corners {
                var v = la.weight[base] * x[off + Int(la.index[base])]
                for k in 1..<la.width where la.weight[base + k] != 0 { v += la.weight[base + k] * x[off + Int(la.index[base + k])] }
                s += w * v
            }
            y[e] = s
        }
    }

    /// y = x at the taps of a non-blending plan (Pad, nearest Resize), `outside` where a tap is −1.
    /// Each output row is the input row its leading-axis taps select, gathered along the last
    /// axis (for Float, 16 at a time when that is a 2× nearest upsample), or a copy of the output
    /// row before it when that selects the same input row (the repeated rows of an upsample).
    /// Taps are read from one flat buffer built per call.
    public static func gather<T>(_ p: Plan, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, outside: T, pool: ThreadPool = .serial) {
        precondition(!p.axes.contains { $0.blends }, "Resample.gather: the plan blends")
        let r = p.outShape.count, last = p.outShape[r - 1]
        let rows = p.outShape.dropLast().reduce(1, *)
        let strides = p.strides
        let lead = p.outShape.dropLast().reduce(0, +)
        let lastAxis = p.axes[r - 1]
        // y[j] = x[j / 2] along the last axis (a 2× nearest upsample of a row).
        let dup2 = T.self == Float.self && last % 16 == 0
            && (0..<last).allSatisfy { Int(lastAxis.index[$0 * lastAxis.width]) == $0 / 2 }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: lead + last) { taps in
            // Leading axis a's offsets (index · stride, −1 outside), axis after axis, then the last axis's indices.
            var at = 0
            for a in 0..<(r - 1) {
                let ax = p.axes[a]
                for o in 0..<p.outShape[a] {
                    let i = Int(ax.index[o * ax.width])
                    taps[at + o] = i < 0 ? -1 : i * strides[a]
                }
                at += p.outShape[a]
            }
            for j in 0..<last { taps[lead + j] = Int(lastAxis.index[j * lastAxis.width]) }
            let t = UnsafePointer(taps.baseAddress!)
            let outShape = p.outShape
            pool.splitWork(rows, work: rows * last) { range in
                var previous = -1, previousOffset = -1
                for row in range {
                    let py = y + row * last
                    var rest = row, off = 0, isOutside = false, start = lead
                    for a in Swift.stride(from: r - 2, through: 0, by: -1) {
                        start -= outShape[a]
                        let o = rest % outShape[a]
                        rest /= outShape[a]
                        let v = t[start + o]
                        if v < 0 { isOutside = true; break }
                        off += v
                    }
                    if isOutside { py.update(repeating: outside, count: last); previous = -1; continue }
                    if previous >= 0 && off == previousOffset {
                        py.update(from: y + previous * last, count: last)
                        previous = row
                        continue
                    }
                    if dup2 {
                        let px = UnsafeRawPointer(x + off).assumingMemoryBound(to: Float.self)
                        let pf = UnsafeMutableRawPointer(py).assumingMemoryBound(to: Float.self)
                        var j = 0
                        while j < last {
                            let v = UnsafeRawPointer(px + j / 2).loadUnaligned(as: SIMD8<Float>.self)
                            store16(V16(v[0], v[0], v[1], v[1], v[2], v[2], v[3], v[3], v[4], v[4], v[5], v[5], v[6], v[6], v[7], v[7]), pf + j)
                            j += 16
                        }
                    } else {
                        let px = x + off, li = t + lead
                        for j in 0..<last { let i = li[j]; py[j] = i < 0 ? outside : px[i] }
                    }
                    previous = row
                    previousOffset = off
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
                let i = Int(p.axes[a].index[(rest % p.outShape[a]) * p.axes[a].width])
                rest /= p.outShape[a]
                if i < 0 { return outside }
                off += i * strides[a]
            }
            return x[off]
        }
    }
}
