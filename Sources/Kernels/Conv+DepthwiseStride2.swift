// Conv+DepthwiseStride2: the depthwise kernel (Conv+Depthwise.swift) for horizontal stride 2,
// straight from the input planes: no phase planes, no flat output, no copy-out.
//
// Contract: `Conv2D.isDepthwise(s)` and strideW == 2 (any kernel, vertical stride, dilation,
// pads, channel multiplier). Computes what `Conv2D.depthwise` computes, bit for bit: each output
// sums one fused multiply-add per tap from +0 in (kh, kw) order, taps in the padding adding w·0,
// then the epilogue. Threads split the N·outC output planes, each computed the same way
// whoever runs it.
//
// Sixteen outputs (ow0 … ow0 + 15) of a row read, for tap (kh, kw), input columns b, b + 2, …,
// b + 30 with b = 2·ow0 − padLeft + kw·dW: the even lanes of two vector loads at b and b + 16
// (one two-source permute). 3- and 5-column kernels without dilation take every tap column
// from three loads at b, b + 16 and b + 32 (kw = 0: even lanes, 1: odd lanes, 2–4: those shifted
// by one lane). Where loads would leave the input row (the first and last blocks of a row),
// masked loads read only the columns inside it and give zeros for the rest, the padding; rows
// outside the input read a row of zeros. Four output rows are summed at once. The epilogue (a
// bias then one `RegisterActivation`) is applied in registers and the last block of a row is
// stored masked; any other epilogue runs over the finished plane.
//
// Why: at stride 2 the phase-plane kernel copied each input plane into four phase planes (the
// input read from L3 with rows two apart, per-row bookkeeping and scalar tails), computed a
// flat output one column wider than the plane, and copied it out: 0.34 ms for MobileNet-v2's
// 96 × 112² → 56² layer where ONNX Runtime's NCHWc kernel takes 0.24.

import CSIMD

extension Conv2D {
    /// y = depthwise conv(x) + epilogue for `isDepthwise` shapes with strideW == 2 (file header).
    static func depthwiseStride2(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                                 pool: ThreadPool) {
        precondition(s.strideW == 2 && isDepthwise(s), "not a stride-2 depthwise shape: \(s)")
        let mg = s.outChannels / s.group
        let kH = s.kernelH, kW = s.kernelW, sH = s.strideH, dH = s.dilationH, dW = s.dilationW
        let outH = s.outHeight, outW = s.outWidth, p = outH * outW
        let inH = s.inHeight, inW = s.inWidth, pin = inH * inW, taps = kH * kW
        let (addBias, act, simple) = registerEpilogue(ops, hasBias: bias != nil)
        let narrow = dW == 1 && (kW == 3 || kW == 5)
        pool.parallelFor(s.batch * s.outChannels) { range in
            // Per thread: a row of zeros (the input rows outside the plane), then the two load
            // masks of every tap column of every block (the same for every plane).
            let blocks = (outW + 15) / 16
            let zeroRow = UnsafePointer(Gemm.threadBuffer(inW + blocks * (kW + 2) + 16))
            Im2Col.zero(UnsafeMutablePointer(mutating: zeroRow), inW)
            let masks = UnsafeMutableRawPointer(mutating: zeroRow + inW).bindMemory(to: UInt16.self, capacity: blocks * (2 * kW + 3))
            // `narrow` (3 or 5 columns, no dilation): the masks of three loads at b0, b0 + 16, b0 + 32.
            let sm = masks + 2 * blocks * kW
            for blk in 0..<blocks {
                for kw in 0..<kW {
                    let b = 32 * blk - s.padLeft + kw * dW
                    masks[2 * (blk * kW + kw)] = laneMask(-b, inW - b)
                    masks[2 * (blk * kW + kw) + 1] = laneMask(-b - 16, inW - b - 16)
                }
                for i in 0..<3 {
                    let b = 32 * blk - s.padLeft + 16 * i
                    sm[3 * blk + i] = laneMask(-b, inW - b)
                }
            }
            for idx in range {
                let n = idx / s.outChannels, oc = idx % s.outChannels
                let xPlane = x + (n * s.inChannels + oc / mg) * pin
                let w = weight + oc * taps
                let plane = y + idx * p
                let fin = RowEpilogue(simple ? act : nil, bias: simple && addBias ? bias![oc] : nil)
                // Four output rows at a time (four independent sums per tap); rows past the
                // plane read zeros and are not stored.
                var oh = 0
                while oh < outH {
                    let rows = min(4, outH - oh)
                    for blk in 0..<blocks {
                        let ow0 = 16 * blk, b0 = 2 * ow0 - s.padLeft
                        let bm = masks + 2 * blk * kW
                        var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
                        for kh in 0..<kH {
                            let wk = w + kh * kW
                            @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> {
                                let ih = (oh + r) * sH - s.padTop + kh * dH
                                return (r < rows && ih >= 0 && ih < inH ? xPlane + ih * inW : zeroRow) + b0
                            }
                            let x0 = row(0), x1 = row(1), x2 = row(2), x3 = row(3)
                            if narrow {
                                // Three loads give every tap column: columns b0 … b0 + 47.
                                let m0 = sm[3 * blk], m1 = sm[3 * blk + 1], m2 = sm[3 * blk + 2]
                                let w0 = V16(repeating: wk[0]), w1 = V16(repeating: wk[1]), w2 = V16(repeating: wk[2])
                                @inline(__always) func taps(_ a: inout V16, _ xr: UnsafePointer<Float>) {
                                    let l0 = gannet_load_masked16(xr, m0, 0), l1 = gannet_load_masked16(xr + 16, m1, 0)
                                    let l2 = gannet_load_masked16(xr + 32, m2, 0)
                                    let e = evenLanes(l0, l1), o = oddLanes(l0, l1)
                                    a.addProduct(w0, e); a.addProduct(w1, o); a.addProduct(w2, shiftIn(e, l2, 0))
                                    if kW == 5 {
                                        a.addProduct(V16(repeating: wk[3]), shiftIn(o, l2, 1))
                                        a.addProduct(V16(repeating: wk[4]), shiftIn2(e, l2))
                                    }
                                }
                                taps(&a0, x0); taps(&a1, x1); taps(&a2, x2); taps(&a3, x3)
                                continue
                            }
                            for kw in 0..<kW {
                                let wv = V16(repeating: wk[kw])
                                let lo = bm[2 * kw], hi = bm[2 * kw + 1], o = kw * dW
                                @inline(__always) func cols(_ xr: UnsafePointer<Float>) -> V16 {
                                    evenLanes(gannet_load_masked16(xr + o, lo, 0), gannet_load_masked16(xr + o + 16, hi, 0))
                                }
                                a0.addProduct(wv, cols(x0)); a1.addProduct(wv, cols(x1))
                                a2.addProduct(wv, cols(x2)); a3.addProduct(wv, cols(x3))
                            }
                        }
                        let count = min(16, outW - ow0)
                        let yp = plane + oh * outW + ow0
                        storePartial(fin.apply(a0), yp, count)
                        if rows > 1 { storePartial(fin.apply(a1), yp + outW, count) }
                        if rows > 2 { storePartial(fin.apply(a2), yp + 2 * outW, count) }
                        if rows > 3 { storePartial(fin.apply(a3), yp + 3 * outW, count) }
                    }
                    oh += 4
                }
                if !simple && !ops.isEmpty {
                    EpilogueApply.applyRows(c: plane, ldc: 0, rows: oc..<(oc + 1), cols: 0..<p, bias: bias, ops: ops)
                }
            }
        }
    }
}
