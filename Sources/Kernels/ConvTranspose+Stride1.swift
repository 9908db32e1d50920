// ConvTranspose+Stride1: a stride-1 ConvTranspose as the Conv it equals, with the kernel flipped
// and its channel axes swapped. The GEMM + col2im path writes kH·kW·outC values per input pixel
// into a column buffer and adds them back; with few input channels (the GEMM depth), that buffer
// is all the work (a generator's last 3×3 conv to 1 channel, differentiated: ConvTranspose
// 1 → 32 on 28², 64 images, took 3.0 ms in a training step; the Conv takes a fraction of that).
//
// Contract: with one input channel per group (stride 1, dilation 1, not a 1×1 point input),
// `forwardSingleChannel` adds, for each output plane and each tap (kh, kw) in order, the product
// W·x of every input pixel the tap carries there to a plane that starts at +0 (multiply, then
// add): the GEMM + col2im path's products (one rounded product per column entry) in its order,
// so the same bits. With finite weights it sums blocks of 4 rows × 16 outputs in registers, tap
// by tap in that order, and stores them once (`GANNET_BASELINE=singleChannelTaps` adds each tap
// to the plane in turn: 3.55–3.58 ms against 1.57–1.65 for mnist_gan's 1 → 32 on 28², 64
// images). With 2 or more input channels per group, padTop ≤ kH − 1 and
// padLeft ≤ kW − 1, y = convTranspose(x, W) = conv(x, W′) with pads (kH − 1 − padTop, kW − 1 − padLeft)
// and W′[g·mg + oc, ic, ky, kx] = W[g·cg + ic, oc, kH − 1 − ky, kW − 1 − kx]; output_padding and
// asymmetric end pads need nothing (the Conv reads zeros past the input). Each output sums the
// same products as the col2im path, in the Conv path's order: not the same bits, equal to float
// rounding (Winograd's for the 3×3 shapes `Conv2D.isWinograd` takes). Scratch: W′, then the Conv's scratch;
// packed weights: W′, then the Conv's packed weights. `GANNET_BASELINE=convTStride1` keeps the
// GEMM + col2im path.

import CSIMD

extension ConvTranspose2D {
    public static func isStride1Conv(_ s: Conv2DShape) -> Bool {
        !Baseline.stride1ConvTransposeCol2im && s.strideH == 1 && s.strideW == 1 && s.dilationH == 1 && s.dilationW == 1
            && s.padTop <= s.kernelH - 1 && s.padLeft <= s.kernelW - 1 && !isFromPoint(s)
            && s.inChannels / s.group > 1 && s.outChannels / s.group > 0
    }

    /// One input channel per group, stride 1, dilation 1 (`forwardSingleChannel`).
    public static func isSingleChannelStride1(_ s: Conv2DShape) -> Bool {
        !Baseline.stride1ConvTransposeCol2im && s.strideH == 1 && s.strideW == 1 && s.dilationH == 1 && s.dilationW == 1
            && !isFromPoint(s) && s.inChannels == s.group && s.outChannels / s.group > 0
    }

    /// y for `isSingleChannelStride1` shapes (see the file contract); threads split output planes.
    static func forwardSingleChannel(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                     bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                                     pool: ThreadPool, planeStats: UnsafeMutablePointer<Double>?) {
        let mg = s.outChannels / s.group, kH = s.kernelH, kW = s.kernelW
        let pin = s.inHeight * s.inWidth, pout = s.outHeight * s.outWidth
        pool.parallelFor(s.batch * s.outChannels) { r in
            for p in r {
                let n = p / s.outChannels, ch = p % s.outChannels, gi = ch / mg, oc = ch % mg
                let plane = y + p * pout
                let xin = x + (n * s.inChannels + gi) * pin
                let taps = weight + (gi * mg + oc) * kH * kW
                if Baseline.singleChannelTapLoop || !(0..<kH * kW).allSatisfy({ taps[$0].isFinite }) {
                    plane.update(repeating: 0, count: pout)
                    addTapByTap(s, xin, taps, plane)
                } else {
                    sumRowsInRegisters(s, xin, taps, plane)
                }
                if !ops.isEmpty {
                    EpilogueApply.applyRows(c: plane - ch * pout, ldc: pout, rows: ch..<(ch + 1), cols: 0..<pout, bias: bias, ops: ops)
                }
                if let planeStats { ConvTransposeBatchNorm.storePlaneSums(plane, pout, into: planeStats + 2 * p) }
            }
        }
    }

    /// Adds each tap's products to the zeroed `plane`, tap by tap over whole rows (any weights).
    @inline(__always)
    static func addTapByTap(_ s: Conv2DShape, _ xin: UnsafePointer<Float>, _ taps: UnsafePointer<Float>,
                            _ plane: UnsafeMutablePointer<Float>) {
        let kH = s.kernelH, kW = s.kernelW, inH = s.inHeight, inW = s.inWidth, outH = s.outHeight, outW = s.outWidth
        for kh in 0..<kH {
            let dy = kh - s.padTop
            let iy0 = max(0, -dy), iy1 = min(inH, outH - dy)
            if iy0 >= iy1 { continue }
            for kw in 0..<kW {
                let dx = kw - s.padLeft
                let ix0 = max(0, -dx), ix1 = min(inW, outW - dx)
                if ix0 >= ix1 { continue }
                let w = taps[kh * kW + kw], vw = V16(repeating: w), count = ix1 - ix0
                for iy in iy0..<iy1 {
                    let src = xin + iy * inW + ix0, dst = plane + (iy + dy) * outW + ix0 + dx
                    var i = 0
                    while i + 16 <= count {
                        let prod = vw * load16(src + i)
                        store16(load16(dst + i) + prod, dst + i)
                        i += 16
                    }
                    while i < count { let prod = w * src[i]; dst[i] = dst[i] + prod; i += 1 }
                }
            }
        }
    }

    /// Writes `plane` in blocks of four rows by sixteen columns, summing each output's taps in
    /// registers in the same (kh, kw) order from +0. A tap's input lanes outside the input are
    /// masked loads of 0, and w·0 = ±0 leaves a sum that started at +0 unchanged, so the bits
    /// equal `addTapByTap`'s; that needs finite weights (∞·0 is NaN), which the caller checks.
    @inline(__always)
    static func sumRowsInRegisters(_ s: Conv2DShape, _ xin: UnsafePointer<Float>, _ taps: UnsafePointer<Float>,
                                   _ plane: UnsafeMutablePointer<Float>) {
        let kH = s.kernelH, kW = s.kernelW, inH = s.inHeight, inW = s.inWidth, outH = s.outHeight, outW = s.outWidth
        var oy = 0
        while oy < outH {
            let rows = min(4, outH - oy)
            var c0 = 0
            while c0 < outW {
                var a0 = V16(repeating: 0), a1 = a0, a2 = a0, a3 = a0
                for kh in 0..<kH {
                    // Output row oy + r reads input row oy + r − dy.
                    let dy = kh - s.padTop
                    for kw in 0..<kW {
                        // Lane l is output column c0 + l, input column c0 + l − dx.
                        let dx = kw - s.padLeft
                        let mask = laneMask(dx - c0, min(outW, inW + dx) - c0)
                        if mask == 0 { continue }
                        let wv = V16(repeating: taps[kh * kW + kw]), base = xin + c0 - dx
                        @inline(__always) func add(_ r: Int, _ acc: inout V16) {
                            let iy = oy + r - dy
                            if r < rows && iy >= 0 && iy < inH {
                                let prod = wv * gannet_load_masked16(base + iy * inW, mask, 0)
                                acc = acc + prod
                            }
                        }
                        add(0, &a0); add(1, &a1); add(2, &a2); add(3, &a3)
                    }
                }
                let row = plane + oy * outW + c0, n = outW - c0
                storePartial(a0, row, n)
                if rows > 1 { storePartial(a1, row + outW, n) }
                if rows > 2 { storePartial(a2, row + 2 * outW, n) }
                if rows > 3 { storePartial(a3, row + 3 * outW, n) }
                c0 += 16
            }
            oy += 4
        }
    }

    /// The Conv this stride-1 ConvTranspose equals (weights `flippedWeights`).
    public static func stride1Conv(_ s: Conv2DShape) -> Conv2DShape {
        var c = s
        c.padTop = s.kernelH - 1 - s.padTop
        c.padLeft = s.kernelW - 1 - s.padLeft
        return c
    }

    /// Floats of W′ (as many as W), rounded up to 16.
    static func flippedCount(_ s: Conv2DShape) -> Int {
        (s.inChannels * (s.outChannels / s.group) * s.kernelH * s.kernelW + 15) / 16 * 16
    }

    /// W′ (outC, inC/group, kH, kW) from W (inC, outC/group, kH, kW).
    static func flipWeights(_ s: Conv2DShape, weight: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let g = s.group, cg = s.inChannels / g, mg = s.outChannels / g
        let kH = s.kernelH, kW = s.kernelW, khw = kH * kW
        for gi in 0..<g {
            for ic in 0..<cg {
                for oc in 0..<mg {
                    let src = weight + ((gi * cg + ic) * mg + oc) * khw
                    let d = dst + ((gi * mg + oc) * cg + ic) * khw
                    for t in 0..<khw { d[khw - 1 - t] = src[t] }
                }
            }
        }
    }

    static func forwardStride1(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, epilogue: [EpilogueOp],
                               scratch: UnsafeMutablePointer<Float>, pool: ThreadPool,
                               planeStats: UnsafeMutablePointer<Double>?, packedWeights: UnsafePointer<Float>?,
                               allowNarrow: Bool, allowWinograd: Bool) {
        let c = stride1Conv(s)
        let flipped: UnsafePointer<Float>
        if let packedWeights {
            flipped = packedWeights
        } else {
            flipWeights(s, weight: weight, into: scratch)
            flipped = UnsafePointer(scratch)
        }
        let conv = packedWeights.map { $0 + flippedCount(s) }
        Conv2D.forward(c, x: x, weight: flipped, bias: bias, y: y, epilogue: epilogue, scratch: scratch + flippedCount(s), pool: pool,
                       packedWeights: Conv2D.packedWeightCount(c) > 0 ? conv : nil, allowNarrow: allowNarrow, allowWinograd: allowWinograd)
        if let planeStats {
            let pout = s.outHeight * s.outWidth
            pool.parallelFor(s.batch * s.outChannels) { r in
                for p in r { ConvTransposeBatchNorm.storePlaneSums(y + p * pout, pout, into: planeStats + 2 * p) }
            }
        }
    }
}
