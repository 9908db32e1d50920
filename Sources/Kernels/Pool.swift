// Pool: MaxPool2D, AveragePool2D and GlobalAveragePool over NCHW tensors (ONNX semantics).
//
// Contract: output cell (oh, ow) covers input rows oh·strideH − padTop + kh·dilationH and
// columns ow·strideW − padLeft + kw·dilationW. Cells outside the input (padding) are excluded
// from the max and from the average's sum; the average divides by the number of taps inside the
// input, or, when countIncludePad, by the number of taps inside the padded input
// [−padTop, inH + padBottom) × [−padLeft, inW + padRight). A max window with no tap inside the
// input yields −∞; a NaN in a max window makes its output NaN (as PyTorch's max_pool2d does).
// ceil_mode only changes outH/outW, which the caller computes (`outputSize`).
// The input rows a work item reads are first copied into rows padded with a fill that changes
// nothing (+0 for the average's sum, which is never −0; −∞ for the max), so every output column,
// border or not, runs 16 at a time (strideW 1 or 2; one at a time otherwise) with no bounds
// checks; rows outside the input are skipped as in `reference`, taps are visited in its (kh, kw)
// order and the average divides by the same count, so both pools equal it bit for bit.
// GlobalAveragePool sums with lane accumulators (order fixed by the shape). Work is split over
// planes, and over row ranges of each plane when there are fewer planes than 4 per thread.

public struct Pool2DShape: Equatable, Sendable {
    public var batch, channels, inH, inW, outH, outW: Int
    public var kernelH, kernelW, strideH, strideW: Int
    public var padTop, padLeft, padBottom, padRight: Int
    public var dilationH, dilationW: Int
    public var countIncludePad: Bool

    /// padBottom / padRight default to padTop / padLeft.
    public init(batch: Int, channels: Int, inH: Int, inW: Int, outH: Int, outW: Int, kernelH: Int, kernelW: Int,
                strideH: Int = 1, strideW: Int = 1, padTop: Int = 0, padLeft: Int = 0, padBottom: Int? = nil, padRight: Int? = nil,
                dilationH: Int = 1, dilationW: Int = 1, countIncludePad: Bool = false) {
        self.batch = batch; self.channels = channels; self.inH = inH; self.inW = inW; self.outH = outH; self.outW = outW
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom ?? padTop; self.padRight = padRight ?? padLeft
        self.dilationH = dilationH; self.dilationW = dilationW; self.countIncludePad = countIncludePad
    }

    /// ONNX output extent along one axis. With ceilMode the last window must start inside the
    /// input or the leading padding.
    public static func outputSize(input: Int, kernel: Int, stride: Int, padBegin: Int, padEnd: Int,
                                  dilation: Int = 1, ceilMode: Bool = false) -> Int {
        let span = input + padBegin + padEnd - dilation * (kernel - 1) - 1
        if span < 0 { return 0 }
        var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        if ceilMode && (out - 1) * stride >= input + padBegin { out -= 1 }
        return out
    }
}

public enum Pool2D {
    public static func max(_ s: Pool2DShape, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        run(s, x, y, pool, average: false)
    }

    public static func average(_ s: Pool2DShape, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        run(s, x, y, pool, average: true)
    }

    static func run(_ s: Pool2DShape, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ pool: ThreadPool, average: Bool) {
        if !average && isMaxStride2(s) {
            maxStride2(s, x, y, pool)
            return
        }
        if average && isAverageStride1(s, threads: pool.threads) {
            averageStride1(s, x, y, pool)
            return
        }
        let planes = s.batch * s.channels
        let (inH, inW, outH, outW) = (s.inH, s.inW, s.outH, s.outW)
        if planes == 0 || outH == 0 || outW == 0 { return }
        let (kH, kW, sH, sW, dH, dW) = (s.kernelH, s.kernelW, s.strideH, s.strideW, s.dilationH, s.dilationW)
        // Padded rows: padded column u holds input column u − padLeft (the fill outside the input
        // adds nothing: +0 to a sum that is never −0, −∞ to a max), so every tap is a plain load.
        // `rowW` leaves room for a stride-2 vector's 32-float read past the last window, in whole
        // vectors.
        let span = (outW - 1) * sW + (kW - 1) * dW + 1
        let rowW = (span + 32 + 15) / 16 * 16
        let fill: Float = average ? 0 : -.infinity
        let lo = Swift.max(0, -s.padLeft), hi = Swift.min(inW, span - s.padLeft)
        // Rows of output per work item: whole planes when there are enough of them.
        let perPlane = Swift.max(1, Swift.min(outH, (4 * pool.threads + planes - 1) / planes))
        let items = planes * perPlane
        pool.splitWork(items, work: planes * outH * outW * kH * kW) { range in
            // Scratch: the padded input rows one item reads, then the divisor of each output column.
            let maxRows = ((outH + perPlane - 1) / perPlane - 1) * sH + (kH - 1) * dH + 1
            // Divisors of whole vectors: outW rounded up to 16, 1 past it.
            let divW = (outW + 15) / 16 * 16
            let buf = Gemm.threadBuffer(Swift.min(maxRows, inH) * rowW + 2 * divW + 16)
            let colValid = buf + Swift.min(maxRows, inH) * rowW, colPadded = colValid + divW
            if average {
                for ow in 0..<divW {
                    let t = ow < outW ? taps(ow * sW - s.padLeft, kW, dW, inW, s.padLeft, s.padRight) : (valid: 1, padded: 1)
                    colValid[ow] = Float(t.valid); colPadded[ow] = Float(t.padded)
                }
            }
            for item in range {
                let p = item / perPlane, part = item % perPlane
                let oh0 = part * outH / perPlane, oh1 = (part + 1) * outH / perPlane
                if oh0 == oh1 { continue }
                let px = x + p * inH * inW
                // Input rows [hLo, hHi) are all this item reads.
                let hLo = Swift.max(0, oh0 * sH - s.padTop)
                let hHi = Swift.min(inH, (oh1 - 1) * sH - s.padTop + (kH - 1) * dH + 1)
                if hLo < hHi {
                    // In vectors (whole ones: rowW is a multiple of 16; the copy's tail masked), not
                    // memset and memmove: their calls cost more than a small plane's rows.
                    let fv = V16(repeating: fill)
                    for h in hLo..<hHi {
                        let row = buf + (h - hLo) * rowW
                        var i = 0
                        while i < rowW { store16(fv, row + i); i += 16 }
                        if lo < hi {
                            let src = px + h * inW + lo, dst = row + lo + s.padLeft, n = hi - lo
                            var j = 0
                            while j + 16 <= n { store16(load16(src + j), dst + j); j += 16 }
                            if j < n { storePartial(loadPartial(src + j, n - j), dst + j, n - j) }
                        }
                    }
                }
                for oh in oh0..<oh1 {
                    let py = y + (p * outH + oh) * outW
                    let h0 = oh * sH - s.padTop
                    let t = taps(h0, kH, dH, inH, s.padTop, s.padBottom)
                    let divRows = Float(s.countIncludePad ? t.padded : t.valid)
                    let divCols = s.countIncludePad ? colPadded : colValid
                    if sW > 2 {
                        for ow in 0..<outW {
                            var acc: Float = average ? 0 : -.infinity
                            for kh in 0..<kH {
                                let h = h0 + kh * dH
                                if h < 0 || h >= inH { continue }
                                let pr = buf + (h - hLo) * rowW + ow * sW
                                for kw in 0..<kW {
                                    let v = pr[kw * dW]
                                    if average { acc += v } else if v > acc || v.isNaN { acc = v }
                                }
                            }
                            // rows·cols is exact in Float; the same division as `cell`.
                            py[ow] = average ? acc / (divRows * divCols[ow]) : acc
                        }
                        continue
                    }
                    // Up to four vectors of the row at once, taps outer: four independent add /
                    // max chains instead of one (each lane still takes its taps in (kh, kw) order).
                    var ow = 0
                    while ow < outW {
                        let nv = Swift.min(4, (outW - ow + 15) / 16)
                        let start = V16(repeating: average ? 0 : -.infinity)
                        var a0 = start, a1 = start, a2 = start, a3 = start
                        // NaN lanes are collected apart, so the max chain is one vmaxps per tap
                        // (v > acc ? v : acc, as `reference` has it for every other value).
                        var n0 = SIMDMask<SIMD16<Int32>>(repeating: false), n1 = n0, n2 = n0, n3 = n0
                        @inline(__always) func tap(_ acc: inout V16, _ nan: inout SIMDMask<SIMD16<Int32>>, _ p: UnsafeMutablePointer<Float>) {
                            let v = sW == 1 ? load16(p) : loadEven16(p)
                            if average { acc += v } else { acc.replace(with: v, where: v .> acc); nan .|= v .!= v }
                        }
                        for kh in 0..<kH {
                            let h = h0 + kh * dH
                            if h < 0 || h >= inH { continue }
                            let pr = buf + (h - hLo) * rowW + ow * sW
                            for kw in 0..<kW {
                                let p = pr + kw * dW
                                tap(&a0, &n0, p)
                                if nv > 1 { tap(&a1, &n1, p + 16 * sW) }
                                if nv > 2 { tap(&a2, &n2, p + 32 * sW) }
                                if nv > 3 { tap(&a3, &n3, p + 48 * sW) }
                            }
                        }
                        @inline(__always) func finish(_ acc: V16, _ nan: SIMDMask<SIMD16<Int32>>, _ o: Int) {
                            var acc = acc
                            if !average { acc.replace(with: .nan, where: nan) }
                            // divCols has room for whole vectors past outW.
                            if average { acc /= load16(divCols + o) * V16(repeating: divRows) }
                            let n = Swift.min(16, outW - o)
                            if n == 16 { store16(acc, py + o) } else { storePartial(acc, py + o, n) }
                        }
                        finish(a0, n0, ow)
                        if nv > 1 { finish(a1, n1, ow + 16) }
                        if nv > 2 { finish(a2, n2, ow + 32) }
                        if nv > 3 { finish(a3, n3, ow + 48) }
                        ow += 16 * nv
                    }
                }
            }
        }
    }

    /// Along one axis, of the `kernel` taps from `start` (dilation apart), how many fall inside
    /// the input [0, size) and inside the padded input [−padBegin, size + padEnd).
    @inline(__always)
    static func taps(_ start: Int, _ kernel: Int, _ dilation: Int, _ size: Int, _ padBegin: Int, _ padEnd: Int) -> (valid: Int, padded: Int) {
        var valid = 0, padded = 0
        for k in 0..<kernel {
            let i = start + k * dilation
            if i >= 0 && i < size { valid += 1 }
            if i >= -padBegin && i < size + padEnd { padded += 1 }
        }
        return (valid, padded)
    }

    /// One output cell, scalar, taps in (kh, kw) order.
    @inline(__always)
    static func cell(_ s: Pool2DShape, _ px: UnsafePointer<Float>, _ h0: Int, _ ow: Int, _ average: Bool) -> Float {
        let w0 = ow * s.strideW - s.padLeft
        var acc: Float = average ? 0 : -.infinity
        var valid = 0, padded = 0
        for kh in 0..<s.kernelH {
            let h = h0 + kh * s.dilationH
            let hIn = h >= 0 && h < s.inH, hPad = h >= -s.padTop && h < s.inH + s.padBottom
            for kw in 0..<s.kernelW {
                let w = w0 + kw * s.dilationW
                if hPad && w >= -s.padLeft && w < s.inW + s.padRight { padded += 1 }
                guard hIn && w >= 0 && w < s.inW else { continue }
                valid += 1
                let v = px[h * s.inW + w]
                if average { acc += v } else if v > acc || v.isNaN { acc = v }
            }
        }
        return average ? acc / Float(s.countIncludePad ? padded : valid) : acc
    }

    /// Scalar reference for MaxPool (average: false) and AveragePool (average: true).
    public static func reference(_ s: Pool2DShape, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, average: Bool) {
        for p in 0..<(s.batch * s.channels) {
            for oh in 0..<s.outH {
                for ow in 0..<s.outW {
                    y[(p * s.outH + oh) * s.outW + ow] = cell(s, x + p * s.inH * s.inW, oh * s.strideH - s.padTop, ow, average)
                }
            }
        }
    }

    /// GlobalAveragePool: y[p] = mean of the `spatial` elements of plane p (p < planes = N·C).
    public static func globalAverage(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, spatial: Int,
                                     pool: ThreadPool = .serial) {
        pool.splitWork(planes, work: planes * spatial) { range in
            for p in range {
                let px = x + p * spatial
                var a0 = V16(), a1 = V16()
                var c = 0
                while c + 32 <= spatial { a0 += load16(px + c); a1 += load16(px + c + 16); c += 32 }
                if c + 16 <= spatial { a0 += load16(px + c); c += 16 }
                if c < spatial { a1 += loadPartial(px + c, spatial - c) }
                y[p] = (a0 + a1).sum() / Float(spatial)
            }
        }
    }

    /// Scalar reference for GlobalAveragePool.
    public static func referenceGlobalAverage(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, spatial: Int) {
        for p in 0..<planes {
            var s: Float = 0
            for i in 0..<spatial { s += x[p * spatial + i] }
            y[p] = s / Float(spatial)
        }
    }
}
