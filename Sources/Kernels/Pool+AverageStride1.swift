// Pool+AverageStride1: AveragePool with stride 1 and the input's width (Inception's 3×3 branch
// pools, padding 1), read where the input lies, sixteen outputs of the flattened plane at a time.
//
// Contract: `isAverageStride1(s)`; computes what `Pool2D.reference` computes for AveragePool,
// bit for bit. With outW = inW, output t = oh·outW + ow of a plane reads, for tap (kh, kw), input
// element t + (kh·dH − padTop)·inW + (kw·dW − padLeft) of the same plane when that tap is inside
// the input. So every tap of sixteen consecutive outputs is one masked load at a fixed offset,
// whatever the row boundaries: the lane masks (which lanes' taps are inside the input) and the
// divisors depend on the shape only, and are computed once per call and thread.
// Same bits: each output adds its taps in (kh, kw) order from +0, as `reference` does; a tap
// outside the input is a masked-off lane and adds +0, which changes nothing (the sum starts at +0
// and so is never −0); the divisor is `reference`'s count (rows × columns, exact in Float).
//
// Why: the general kernel (Pool.swift) copies each input row into a padded row and runs one
// partial vector per output row: on Inception's 8² and 17² planes it spent most of its time on
// loop control and copies, 3–5× ONNX Runtime (2048 × 8², batch 1: 0.35 ms against 0.07).

import CSIMD

extension Pool2D {
    /// AveragePool shapes of `averageStride1`: stride 1, the output as wide as the input (so a
    /// tap is a fixed offset in the flattened plane), planes enough to share between threads, and
    /// at most 64 Ki lane masks per call.
    public static func isAverageStride1(_ s: Pool2DShape, threads: Int) -> Bool {
        guard !Baseline.averagePoolRows, s.strideH == 1, s.strideW == 1, s.outW == s.inW,
              s.batch * s.channels >= 2 * threads else { return false }
        let vectors = (s.outH * s.outW + 15) / 16
        return vectors * s.kernelH * s.kernelW <= 1 << 16
    }

    static func averageStride1(_ s: Pool2DShape, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ pool: ThreadPool) {
        let planes = s.batch * s.channels
        let (inH, inW, outH, outW) = (s.inH, s.inW, s.outH, s.outW)
        let n = outH * outW
        if planes == 0 || n == 0 { return }
        let (kH, kW, dH, dW) = (s.kernelH, s.kernelW, s.dilationH, s.dilationW)
        let taps = kH * kW, vectors = (n + 15) / 16
        pool.splitWork(planes, work: planes * n * taps) { range in
            // Per thread: divisors (a float per output, whole vectors), tap offsets, lane masks.
            let buf = Gemm.threadBuffer(16 * vectors + 2 * taps + (vectors * taps + 1) / 2 + 16)
            let div = buf
            let offsets = UnsafeMutableRawPointer(buf + 16 * vectors).bindMemory(to: Int.self, capacity: taps)
            let masks = UnsafeMutableRawPointer(buf + 16 * vectors + 2 * taps).bindMemory(to: UInt16.self, capacity: vectors * taps)
            for kh in 0..<kH {
                for kw in 0..<kW { offsets[kh * kW + kw] = (kh * dH - s.padTop) * inW + (kw * dW - s.padLeft) }
            }
            for i in 0..<(vectors * taps) { masks[i] = 0 }
            var oh = 0, ow = 0
            for t in 0..<(16 * vectors) {
                guard t < n else { div[t] = 1; continue }
                let r = Pool2D.taps(oh - s.padTop, kH, dH, inH, s.padTop, s.padBottom)
                let c = Pool2D.taps(ow - s.padLeft, kW, dW, inW, s.padLeft, s.padRight)
                div[t] = Float(s.countIncludePad ? r.padded * c.padded : r.valid * c.valid)
                let bit = UInt16(1) << UInt16(t % 16), m = masks + (t / 16) * taps
                for kh in 0..<kH {
                    let h = oh + kh * dH - s.padTop
                    if h < 0 || h >= inH { continue }
                    for kw in 0..<kW {
                        let w = ow + kw * dW - s.padLeft
                        if w >= 0 && w < inW { m[kh * kW + kw] |= bit }
                    }
                }
                ow += 1
                if ow == outW { ow = 0; oh += 1 }
            }
            for p in range {
                let px = x + p * inH * inW, py = y + p * n
                if taps == 9 {
                    // 3×3: the offsets in registers, two vectors' add chains interleaved.
                    let (o0, o1, o2, o3, o4) = (offsets[0], offsets[1], offsets[2], offsets[3], offsets[4])
                    let (o5, o6, o7, o8) = (offsets[5], offsets[6], offsets[7], offsets[8])
                    @inline(__always) func sum(_ t: Int) -> V16 {
                        let m = masks + (t / 16) * 9, q = px + t
                        var a = V16(repeating: 0) + gannet_load_masked16(q + o0, m[0], 0)
                        a += gannet_load_masked16(q + o1, m[1], 0); a += gannet_load_masked16(q + o2, m[2], 0)
                        a += gannet_load_masked16(q + o3, m[3], 0); a += gannet_load_masked16(q + o4, m[4], 0)
                        a += gannet_load_masked16(q + o5, m[5], 0); a += gannet_load_masked16(q + o6, m[6], 0)
                        a += gannet_load_masked16(q + o7, m[7], 0); a += gannet_load_masked16(q + o8, m[8], 0)
                        return a / load16(div + t)
                    }
                    var t = 0
                    while t + 32 <= n {
                        let a = sum(t), b = sum(t + 16)
                        store16(a, py + t); store16(b, py + t + 16)
                        t += 32
                    }
                    while t < n {
                        let a = sum(t)
                        if t + 16 <= n { store16(a, py + t) } else { storePartial(a, py + t, n - t) }
                        t += 16
                    }
                    continue
                }
                for v in 0..<vectors {
                    let t = 16 * v, m = masks + v * taps
                    var a = V16(repeating: 0)
                    for i in 0..<taps { a += gannet_load_masked16(px + t + offsets[i], m[i], 0) }
                    a /= load16(div + t)
                    if t + 16 <= n { store16(a, py + t) } else { storePartial(a, py + t, n - t) }
                }
            }
        }
    }
}
