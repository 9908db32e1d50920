// Resample+Planar: the blending resample of images — every axis but the last two kept as it is —
// 16 output columns at a time.
//
// Contract: `isPlanar(p)` holds when the plan's rank is ≥ 2, every leading axis (all but the
// last two) maps each coordinate to itself (tap 0 at o with weight 1, nothing blended), no tap
// of the last two axes is outside (−1), each of them has at most 4 taps (nearest, linear,
// cubic), and the input rows one output row blends span fewer than 4 rows. Then `planar`
// computes exactly what `Resample.run`'s row walk computes, bit for bit: per output row, the
// corners are the row axis's tap 0 and its later taps of nonzero weight, each a horizontally
// blended input row h[j] = w_0[j]·x[i_0[j]] (+ w_k[j]·x[i_k[j]] for each later tap k of nonzero
// weight, in order), and y[j] = 0 + v_0·h_0[j] (+ v_k·h_k[j] …) in corner order. Columns go
// 16 at a time through gathers (`gannet_gather16`), a later tap of weight 0 masked out; a blended row is kept in a per-thread slot chosen by its input row's index mod 4
// (the corners of one output row are consecutive input rows, so they never share a slot) and
// reused by the next output rows. Rows are walked with a running (plane, row) counter, no
// division per row. Work is split over output rows, so any thread count gives the same bits.

import CSIMD

extension Resample {
    /// Blended rows kept per thread (see the contract): more than the widest row axis's corners.
    static let planarSlots = 4

    /// Whether `planar` computes plan `p` (see the contract).
    public static func isPlanar(_ p: Plan) -> Bool {
        let r = p.outShape.count
        guard r >= 2, !Baseline.resampleRows else { return false }
        for a in 0..<(r - 2) {
            let ax = p.axes[a]
            guard p.inShape[a] == p.outShape[a], !ax.blends,
                  (0..<ax.count).allSatisfy({ ax.index[$0 * ax.width] == Int32($0) && ax.weight[$0 * ax.width] == 1 }) else { return false }
        }
        guard p.axes[(r - 2)...].allSatisfy({ $0.width <= planarSlots && !$0.index.contains(-1) }) else { return false }
        // The rows one output row blends must fall in distinct slots: a span of fewer than planarSlots.
        let rows = p.axes[r - 2]
        return (0..<rows.count).allSatisfy { o in
            let used = (0..<rows.width).filter { $0 == 0 || rows.weight[o * rows.width + $0] != 0 }.map { rows.index[o * rows.width + $0] }
            return used.max()! - used.min()! < Int32(planarSlots)
        }
    }

    static func planar(_ p: Plan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let r = p.outShape.count
        let h = p.inShape[r - 2], w = p.inShape[r - 1], oh = p.outShape[r - 2], ow = p.outShape[r - 1]
        let planes = p.outShape.dropLast(2).reduce(1, *)
        let rowAxis = p.axes[r - 2], colAxis = p.axes[r - 1]
        let cw = colAxis.width, rw = rowAxis.width
        let owPad = (ow + 15) / 16 * 16
        // Column tap k's indices and weights at k·owPad (padding lanes: index 0, weight 0).
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: cw * owPad) { ci in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: cw * owPad) { cwt in
            ci.initialize(repeating: 0)
            cwt.initialize(repeating: 0)
            for k in 0..<cw {
                for j in 0..<ow { ci[k * owPad + j] = colAxis.index[j * cw + k]; cwt[k * owPad + j] = colAxis.weight[j * cw + k] }
            }
            let cIndex = UnsafePointer(ci.baseAddress!), cWeight = UnsafePointer(cwt.baseAddress!)
            let rows = planes * oh
            pool.splitWork(rows, work: rows * ow * (cw + rw)) { range in
                let slots = Gemm.threadBuffer(planarSlots * owPad)
                var keys = (-1, -1, -1, -1)
                var plane = range.lowerBound / oh, oy = range.lowerBound % oh
                rowAxis.index.withUnsafeBufferPointer { ri in
                rowAxis.weight.withUnsafeBufferPointer { rwt in
                    var blended = [UnsafePointer<Float>](repeating: slots, count: planarSlots)
                    var weights = [Float](repeating: 0, count: planarSlots)
                    for row in range {
                        var corners = 0
                        for k in 0..<rw where k == 0 || rwt[oy * rw + k] != 0 {
                            let ir = Int(ri[oy * rw + k]), key = plane * h + ir, slot = ir % planarSlots
                            let dst = slots + slot * owPad
                            let cached: Bool
                            switch slot {
                            case 0: cached = keys.0 == key; keys.0 = key
                            case 1: cached = keys.1 == key; keys.1 = key
                            case 2: cached = keys.2 == key; keys.2 = key
                            default: cached = keys.3 == key; keys.3 = key
                            }
                            if !cached { blendRow(x + key * w, cIndex, cWeight, cw, owPad, dst) }
                            blended[corners] = UnsafePointer(dst)
                            weights[corners] = rwt[oy * rw + k]
                            corners += 1
                        }
                        let py = y + row * ow
                        var j = 0
                        while j < ow {
                            var acc = V16(repeating: 0)
                            for c in 0..<corners { acc = acc + V16(repeating: weights[c]) * load16(blended[c] + j) }
                            if j + 16 <= ow { store16(acc, py + j) } else { storePartial(acc, py + j, ow - j) }
                            j += 16
                        }
                        oy += 1
                        if oy == oh { oy = 0; plane += 1 }
                    }
                }}
            }
        }}
    }

    /// dst[j] (owPad columns) = Σ over column taps k (k = 0, or weight ≠ 0) w_k[j]·src[i_k[j]], in tap order.
    @inline(__always)
    static func blendRow(_ src: UnsafePointer<Float>, _ index: UnsafePointer<Int32>, _ weight: UnsafePointer<Float>,
                         _ taps: Int, _ owPad: Int, _ dst: UnsafeMutablePointer<Float>) {
        let indexRaw = UnsafeRawPointer(index)
        var j = 0
        while j < owPad {
            var t = load16(weight + j) * gannet_gather16(src, indexRaw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Int32>.self))
            for k in 1..<max(taps, 1) {
                let wk = load16(weight + k * owPad + j)
                let g = gannet_gather16(src, indexRaw.loadUnaligned(fromByteOffset: 4 * (k * owPad + j), as: SIMD16<Int32>.self))
                t.replace(with: t + wk * g, where: wk .!= 0)
            }
            store16(t, dst + j)
            j += 16
        }
    }
}
