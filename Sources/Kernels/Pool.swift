// Pool: MaxPool2D, AveragePool2D and GlobalAveragePool over NCHW tensors (ONNX semantics).
//
// Contract: output cell (oh, ow) covers input rows oh·strideH − padTop + kh·dilationH and
// columns ow·strideW − padLeft + kw·dilationW. Cells outside the input (padding) are excluded
// from the max and from the average's sum; the average divides by the number of taps inside the
// input, or, when countIncludePad, by the number of taps inside the padded input
// [−padTop, inH + padBottom) × [−padLeft, inW + padRight). A max window with no tap inside the
// input yields −∞. ceil_mode only changes outH/outW, which the caller computes (`outputSize`).
// Interior output columns (all kernel columns inside the input) run 16 at a time when
// strideW is 1 or 2; taps are visited in the same (kh, kw) order as `reference`, so max and
// average pools equal it bit for bit. GlobalAveragePool sums with lane accumulators (order
// fixed by the shape). Work is split over output rows.

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
        let planes = s.batch * s.channels
        let (inH, inW, outH, outW) = (s.inH, s.inW, s.outH, s.outW)
        let (kH, kW, sH, sW, dH, dW) = (s.kernelH, s.kernelW, s.strideH, s.strideW, s.dilationH, s.dilationW)
        // Interior columns: every kernel column inside the input.
        let owLo = Swift.min(outW, (s.padLeft + sW - 1) / sW)
        let lastTap = inW - 1 - (kW - 1) * dW + s.padLeft
        let owHi = lastTap < 0 ? owLo : Swift.max(owLo, Swift.min(outW, lastTap / sW + 1))
        pool.splitWork(planes * outH, work: planes * outH * outW * kH * kW) { range in
            for u in range {
                let p = u / outH, oh = u - p * outH
                let px = x + p * inH * inW, py = y + u * outW
                let h0 = oh * sH - s.padTop
                var rows = 0, paddedRows = 0
                for kh in 0..<kH {
                    let h = h0 + kh * dH
                    if h >= 0 && h < inH { rows += 1 }
                    if h >= -s.padTop && h < inH + s.padBottom { paddedRows += 1 }
                }
                for ow in 0..<owLo { py[ow] = cell(s, px, h0, ow, average) }
                var ow = owLo
                let div = Float((s.countIncludePad ? paddedRows : rows) * kW)
                if sW <= 2 {
                    while ow + 16 <= owHi && (sW == 1 || (ow + 16) * 2 - s.padLeft + (kW - 1) * dW <= inW) {
                        let w0 = ow * sW - s.padLeft
                        var acc = V16(repeating: average ? 0 : -.infinity)
                        for kh in 0..<kH {
                            let h = h0 + kh * dH
                            if h < 0 || h >= inH { continue }
                            let pr = px + h * inW + w0
                            for kw in 0..<kW {
                                let v = sW == 1 ? load16(pr + kw * dW)
                                    : UnsafeRawPointer(pr + kw * dW).loadUnaligned(as: SIMD32<Float>.self).evenHalf
                                if average { acc += v } else { acc.replace(with: v, where: v .> acc) }
                            }
                        }
                        if average { acc /= V16(repeating: div) }
                        store16(acc, py + ow)
                        ow += 16
                    }
                }
                while ow < outW { py[ow] = cell(s, px, h0, ow, average); ow += 1 }
            }
        }
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
                if average { acc += v } else if v > acc { acc = v }
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
