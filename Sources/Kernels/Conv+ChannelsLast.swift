// Conv+ChannelsLast: depthwise convolution over channels-last (NHWC) data, sixteen channels per
// vector, for the MobileNet/EfficientNet blocks that ChannelsLastIslands keeps in NHWC.
//
// Contract: `s` is the convolution's NCHW geometry with one input and one output channel per
// group (`isChannelsLastDepthwise`); x is (N, inH, inW, C), y is (N, outH, outW, C), the weight
// (C, 1, kH, kW) as ONNX stores it, packed by `packChannelsLastWeights` into kH·kW rows of C
// floats (tap-major: one vector load gives a tap's weight for sixteen channels). Each output
// element sums, from +0, one fused multiply-add per tap in the input rows, in (kh, kw) order (a
// tap in a padding column adds w·0: a masked load gives zeros there; rows in the padding are
// skipped), then the epilogue (bias per channel, activations): `channelsLastReference`'s bits
// when the epilogue is a bias and ReLU or Clip, within the SIMD activations' tolerance otherwise
// (a bias and one `Conv2D.RegisterActivation` in registers, anything else per finished row).
// Fewer than 16 channels run one at a time. Skipped rows give the NCHW kernels' value (they add
// w·0 there) up to the sign of a zero sum, unless w is ±∞ or NaN. Threads split (image, output
// row, channel chunk) tasks, each computed the same way whoever runs it: the bits do not depend
// on the thread count.
//
// Why: in NCHW a 7×7 or 14×14 plane fills a vector row badly and each of the C planes pays the
// padding copy and the row copy-out (960 × 7² took 94 µs, ONNX Runtime's NCHWc kernel 27 µs).
// With channels in lanes every vector is full whatever the plane size, and a channel count that
// is not a multiple of 16 ends with a block overlapping the previous one (same values stored
// twice) instead of a scalar tail.

import CSIMD

extension Conv2D {
    /// One input and one output channel per group (depthwise, multiplier 1), 2-D.
    public static func isChannelsLastDepthwise(_ s: Conv2DShape) -> Bool {
        s.group > 1 && s.inChannels == s.group && s.outChannels == s.group
    }

    /// Floats of `packChannelsLastWeights`' layout: kH·kW rows of C.
    public static func channelsLastWeightCount(_ s: Conv2DShape) -> Int { s.kernelH * s.kernelW * s.outChannels }

    /// Packs weight (C, 1, kH, kW) into kH·kW rows of C floats (`channelsLastWeightCount`).
    public static func packChannelsLastWeights(_ s: Conv2DShape, weight: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let taps = s.kernelH * s.kernelW, c = s.outChannels
        for ch in 0..<c {
            for t in 0..<taps { dst[t * c + ch] = weight[ch * taps + t] }
        }
    }

    /// Channels per task of `depthwiseChannelsLast` (whole vectors); the last task of a row takes
    /// the rest too, so that the overlapping last block stays inside one task.
    static let channelsLastChunk = 128

    /// y = depthwise conv(x) + epilogue over NHWC data (see the file header). `packedWeights`:
    /// `weight` packed by `packChannelsLastWeights`, or nil to pack it into `scratch`
    /// (`channelsLastWeightCount` floats).
    public static func depthwiseChannelsLast(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                             bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, epilogue ops: [EpilogueOp],
                                             packedWeights: UnsafePointer<Float>?, scratch: UnsafeMutablePointer<Float>,
                                             pool: ThreadPool) {
        precondition(isChannelsLastDepthwise(s), "not a channels-last depthwise shape: \(s)")
        let w: UnsafePointer<Float>
        if let packedWeights { w = packedWeights } else {
            packChannelsLastWeights(s, weight: weight, into: scratch)
            w = UnsafePointer(scratch)
        }
        let c = s.outChannels, outH = s.outHeight, outW = s.outWidth, inH = s.inHeight, inW = s.inWidth
        let kH = s.kernelH, kW = s.kernelW, sH = s.strideH, sW = s.strideW, dH = s.dilationH, dW = s.dilationW
        // A bias first, then at most one `RegisterActivation`: applied to each vector in
        // registers; any other epilogue runs over the finished row (`EpilogueApply`, per-column bias).
        var (addBias, act, simple) = registerEpilogue(ops, hasBias: bias != nil)
        if !simple { addBias = false; act = nil }
        // Output columns whose every tap column lies inside the input.
        let owLo = min(outW, (s.padLeft + sW - 1) / sW)
        let lastStart = inW - 1 + s.padLeft - (kW - 1) * dW
        let owHi = lastStart < 0 ? owLo : max(owLo, min(outW, lastStart / sW + 1))
        let plan = ChannelsLastRow(c: c, inW: inW, kW: kW, sW: sW, dW: dW, outW: outW, padLeft: s.padLeft, owLo: owLo, owHi: owHi,
                                   bias: addBias ? bias : nil, act: RegisterActivation(act)!)
        let chunks = max(1, c / channelsLastChunk)
        pool.parallelFor(s.batch * outH * chunks) { range in
            for task in range {
                let row = task / chunks, chunk = task % chunks
                let n = row / outH, oh = row % outH
                let xImage = x + n * inH * inW * c
                let yRow = y + row * outW * c
                // Taps kh in khLo..<khHi land inside the input rows.
                let ih0 = oh * sH - s.padTop
                var khLo = 0
                while khLo < kH && ih0 + khLo * dH < 0 { khLo += 1 }
                var khHi = kH
                while khHi > khLo && ih0 + (khHi - 1) * dH >= inH { khHi -= 1 }
                let cBegin = chunk * channelsLastChunk, cEnd = chunk == chunks - 1 ? c : cBegin + channelsLastChunk
                if c < 16 {
                    channelsLastScalarRow(s, xImage: xImage, w: w, bias: addBias ? bias : nil, act: act, yRow: yRow, oh: oh)
                } else {
                    plan.row(x: xImage + (ih0 + khLo * dH) * inW * c, xRowStride: dH * inW * c, w: w + khLo * kW * c,
                             rows: khHi - khLo, y: yRow, channels: cBegin..<cEnd)
                }
                if !simple {
                    let lo = c < 16 ? 0 : cBegin, hi = c < 16 ? c : cEnd
                    EpilogueApply.applyRows(c: yRow, ldc: c, rows: 0..<outW, cols: lo..<hi, bias: bias, ops: perColumnEpilogue(ops))
                }
            }
        }
    }

    /// Bias ops → per-column (per channel) bias for rows of pixels × channels.
    static func perColumnEpilogue(_ ops: [EpilogueOp]) -> [EpilogueOp] {
        ops.map { if case .bias = $0 { return .bias(perRow: false) } else { return $0 } }
    }

    /// Output (oh, ow) of channel `ch` of image `xImage` before the epilogue: one fused
    /// multiply-add per tap in the input rows, in (kh, kw) order, from +0 (w·0 for a column in
    /// the padding; rows in the padding are skipped); `weight(tap)` gives
    /// tap kh·kW + kw's weight in whichever layout the caller holds.
    @inline(__always)
    static func channelsLastCell(_ s: Conv2DShape, _ xImage: UnsafePointer<Float>, oh: Int, ow: Int, ch: Int,
                                 weight: (Int) -> Float) -> Float {
        var acc: Float = 0
        for kh in 0..<s.kernelH {
            let ih = oh * s.strideH - s.padTop + kh * s.dilationH
            if ih < 0 || ih >= s.inHeight { continue }
            for kw in 0..<s.kernelW {
                let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                let v = iw < 0 || iw >= s.inWidth ? 0 : xImage[(ih * s.inWidth + iw) * s.outChannels + ch]
                acc = acc.addingProduct(weight(kh * s.kernelW + kw), v)
            }
        }
        return acc
    }

    /// One output row of a channels-last depthwise convolution with fewer than 16 channels, one
    /// channel at a time (the vector path's arithmetic, per lane); `w` packed.
    static func channelsLastScalarRow(_ s: Conv2DShape, xImage: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                      bias: UnsafePointer<Float>?, act: Activation?, yRow: UnsafeMutablePointer<Float>, oh: Int) {
        let c = s.outChannels
        for ow in 0..<s.outWidth {
            for ch in 0..<c {
                var acc = channelsLastCell(s, xImage, oh: oh, ow: ow, ch: ch) { w[$0 * c + ch] }
                if let bias { acc += bias[ch] }
                yRow[ow * c + ch] = act.map { $0.apply(acc) } ?? acc
            }
        }
    }

    /// Scalar reference of `depthwiseChannelsLast` (unpacked weight (C, 1, kH, kW)): the same bits.
    public static func channelsLastReference(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                             bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, epilogue ops: [EpilogueOp]) {
        let c = s.outChannels, taps = s.kernelH * s.kernelW
        for n in 0..<s.batch {
            let xImage = x + n * s.inHeight * s.inWidth * c
            for oh in 0..<s.outHeight {
                for ow in 0..<s.outWidth {
                    for ch in 0..<c {
                        y[((n * s.outHeight + oh) * s.outWidth + ow) * c + ch] =
                            channelsLastCell(s, xImage, oh: oh, ow: ow, ch: ch) { weight[ch * taps + $0] }
                    }
                }
            }
        }
        EpilogueApply.referenceRows(c: y, ldc: c, rows: 0..<(s.batch * s.outHeight * s.outWidth), cols: 0..<c,
                                    bias: bias, ops: perColumnEpilogue(ops))
    }
}

/// One output row of `Conv2D.depthwiseChannelsLast` for a range of channels (c ≥ 16): the
/// geometry along the row and the in-register epilogue (bias, then a `RegisterActivation`).
struct ChannelsLastRow {
    var c, inW, kW, sW, dW, outW, padLeft: Int
    /// Output columns owLo..<owHi read no padding columns.
    var owLo, owHi: Int
    var bias: UnsafePointer<Float>?
    /// The activation after the bias (a clamp to (−∞, +∞) when none).
    var act: Conv2D.RegisterActivation

    /// y[ow, channels] for every output column: `rows` kernel rows, the first at input row `x`
    /// (column 0, channel 0) with weights `w` (that kernel row's first tap), the next ones
    /// `xRowStride` floats and kW·C weights further. Groups of four columns; the last group
    /// overlaps the one before when outW is not a multiple of 4 (the same values again).
    @inline(__always)
    func row(x: UnsafePointer<Float>, xRowStride: Int, w: UnsafePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>,
             channels: Range<Int>) {
        let groups = outW >= 4 ? (outW + 3) / 4 : 1
        let count = min(4, outW)
        let fast3 = kW == 3 && dW == 1 && (sW == 1 || sW == 2)
        let fast5 = kW == 5 && dW == 1 && sW == 1
        for gi in 0..<groups {
            let ow = outW >= 4 ? min(gi * 4, outW - 4) : 0
            let iw0 = ow * sW - padLeft
            let interior = ow >= owLo && ow + 4 <= owHi
            var c0 = channels.lowerBound
            while c0 < channels.upperBound {
                let cb = min(c0, c - 16)
                var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
                var xr = x + iw0 * c + cb, wr = w + cb
                /// Input column iw0 + i of the current kernel row: zeros when it lies in the
                /// padding (a masked load, which reads nothing there).
                @inline(__always) func col(_ i: Int) -> V16 {
                    let p = xr + i * c
                    if interior { return load16(p) }
                    return gannet_load_masked16(p, iw0 + i >= 0 && iw0 + i < inW ? 0xFFFF : 0, 0)
                }
                if fast3 {
                    for _ in 0..<rows {
                        // Each input column loaded once for the outputs that read it.
                        let w0 = load16(wr), w1 = load16(wr + c), w2 = load16(wr + 2 * c)
                        let x0 = col(0), x1 = col(1), x2 = col(2), x3 = col(3), x4 = col(4)
                        if sW == 1 {
                            let x5 = col(5)
                            a0.addProduct(w0, x0); a0.addProduct(w1, x1); a0.addProduct(w2, x2)
                            a1.addProduct(w0, x1); a1.addProduct(w1, x2); a1.addProduct(w2, x3)
                            a2.addProduct(w0, x2); a2.addProduct(w1, x3); a2.addProduct(w2, x4)
                            a3.addProduct(w0, x3); a3.addProduct(w1, x4); a3.addProduct(w2, x5)
                        } else {
                            let x5 = col(5), x6 = col(6), x7 = col(7), x8 = col(8)
                            a0.addProduct(w0, x0); a0.addProduct(w1, x1); a0.addProduct(w2, x2)
                            a1.addProduct(w0, x2); a1.addProduct(w1, x3); a1.addProduct(w2, x4)
                            a2.addProduct(w0, x4); a2.addProduct(w1, x5); a2.addProduct(w2, x6)
                            a3.addProduct(w0, x6); a3.addProduct(w1, x7); a3.addProduct(w2, x8)
                        }
                        xr += xRowStride; wr += 3 * c
                    }
                } else if fast5 {
                    for _ in 0..<rows {
                        // 5 taps, stride 1: eight input columns serve the four outputs.
                        let w0 = load16(wr), w1 = load16(wr + c), w2 = load16(wr + 2 * c), w3 = load16(wr + 3 * c), w4 = load16(wr + 4 * c)
                        let x0 = col(0), x1 = col(1), x2 = col(2), x3 = col(3)
                        let x4 = col(4), x5 = col(5), x6 = col(6), x7 = col(7)
                        a0.addProduct(w0, x0); a0.addProduct(w1, x1); a0.addProduct(w2, x2); a0.addProduct(w3, x3); a0.addProduct(w4, x4)
                        a1.addProduct(w0, x1); a1.addProduct(w1, x2); a1.addProduct(w2, x3); a1.addProduct(w3, x4); a1.addProduct(w4, x5)
                        a2.addProduct(w0, x2); a2.addProduct(w1, x3); a2.addProduct(w2, x4); a2.addProduct(w3, x5); a2.addProduct(w4, x6)
                        a3.addProduct(w0, x3); a3.addProduct(w1, x4); a3.addProduct(w2, x5); a3.addProduct(w3, x6); a3.addProduct(w4, x7)
                        xr += xRowStride; wr += 5 * c
                    }
                } else {
                    for _ in 0..<rows {
                        for kw in 0..<kW {
                            let wv = load16(wr + kw * c)
                            a0.addProduct(wv, col(kw * dW))
                            a1.addProduct(wv, col(kw * dW + sW))
                            a2.addProduct(wv, col(kw * dW + 2 * sW))
                            a3.addProduct(wv, col(kw * dW + 3 * sW))
                        }
                        xr += xRowStride; wr += kW * c
                    }
                }
                // The epilogue in registers (with no activation, a clamp to (−∞, +∞) leaves every value as it is).
                if let bias {
                    let bv = load16(bias + cb)
                    a0 += bv; a1 += bv; a2 += bv; a3 += bv
                }
                let yp = y + ow * c + cb
                store16(act.apply(a0), yp)
                if count > 1 { store16(act.apply(a1), yp + c) }
                if count > 2 { store16(act.apply(a2), yp + 2 * c) }
                if count > 3 { store16(act.apply(a3), yp + 3 * c) }
                c0 += 16
            }
        }
    }
}
