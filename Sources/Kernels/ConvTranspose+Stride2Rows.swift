// ConvTranspose+Stride2Rows: the col2im of a ConvTranspose with column stride 2 (dilation 1),
// one output row at a time in registers.
//
// Contract: `ConvTransposeStride2Rows.plane` writes one finished output plane (one image,
// one channel) from the GEMM's columns, the epilogue applied, bit for bit what the phase-grid
// accumulation of `forwardPhased` writes (its baseline `convTGrid`): each output sums the same
// taps in the same (kh, kw) order, starting from +0, and the epilogue's ops are lane-wise.
// Where the grid path zeroes four phase grids, adds each tap's input rows at a shift (rows of
// 2–16 floats, mostly scalar tails), gathers the two column phases back one float at a time and
// then runs the epilogue over the plane, this one builds the even and the odd output columns
// of a row as two vectors (masked loads stand for the grid's zeros), interleaves them with one
// permute and stores the row once. The planes of small layers are built in a staging buffer
// (rows stored as whole vectors) and copied out.
//
// The col matrix is read back from L2 where `ConvTranspose2D.chunk` keeps it there (layers with
// at least 128 input channels). Measured at batch 64, one thread: mnist_gan's generator layers
// 10.0 → 8.9 and 10.3 → 8.8 ms, cifar10_wgangp's four 12.4/11.4/11.5/12.2 → 10.8/10.5/10.8/11.6 ms.

extension ConvTranspose2D {
    /// Column stride 2 and dilation 1: the col2im runs row by row (`ConvTransposeStride2Rows`).
    public static func isStride2Rows(_ s: Conv2DShape) -> Bool {
        s.strideW == 2 && s.dilationH == 1 && s.dilationW == 1 && !Baseline.convTransposeGridCol2im
    }

    /// Floats `ConvTransposeStride2Rows.plane` may read before the first and past the last
    /// column of the GEMM's output (lanes of partial row loads; they are masked off).
    static let stride2RowsSlack = 16

    /// Sixteen floats of an input row from column `start` with the lanes outside 0..<inW (`outside`) +0.
    @inline(__always)
    static func rowLoad(_ row: UnsafePointer<Float>, _ start: Int, _ outside: SIMDMask<SIMD16<Int32>>) -> V16 {
        load16(row + start).replacing(with: 0, where: outside)
    }

    /// The lanes of a row load from column `start` that fall outside 0..<inW.
    @inline(__always)
    static func outsideLanes(_ start: Int, _ inW: Int) -> SIMDMask<SIMD16<Int32>> {
        let idx = V16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + V16(repeating: Float(start))
        return (idx .< 0) .| (idx .>= V16(repeating: Float(inW)))
    }
}

/// The row-by-row col2im of one ConvTranspose shape with column stride 2 (see the file header):
/// its geometry, and its epilogue (`Conv2D.registerEpilogue`: a bias then a
/// `Conv2D.RegisterActivation` in registers, any other epilogue over each finished plane).
struct ConvTransposeStride2Rows {
    let inH, inW, kH, kW, sH, outH, outW, padTop: Int
    /// Output column 2i + e reads grid column i + (padLeft + e) >> 1 of column phase (padLeft + e) & 1.
    let rxEven, rxOdd, gEven, gOdd, pairs: Int
    let ops: [EpilogueOp]
    let addBias: Bool, act: Activation?, inRegisters: Bool

    init(_ s: Conv2DShape, ops: [EpilogueOp], hasBias: Bool) {
        inH = s.inHeight; inW = s.inWidth; kH = s.kernelH; kW = s.kernelW; sH = s.strideH
        outH = s.outHeight; outW = s.outWidth; padTop = s.padTop
        rxEven = s.padLeft & 1; rxOdd = (s.padLeft + 1) & 1
        gEven = s.padLeft >> 1; gOdd = (s.padLeft + 1) >> 1
        pairs = (outW + 1) / 2
        self.ops = ops
        (addBias, act, inRegisters) = Conv2D.registerEpilogue(ops, hasBias: hasBias)
    }

    /// Planes of at most this many floats are built in a staging buffer, where every row is
    /// stored as whole vectors, and copied out (`stageCount`).
    static let stagedPlane = 4096

    /// Floats of the staging buffer `plane` needs (0: it writes straight to the output).
    var stageCount: Int { outH * outW <= Self.stagedPlane ? outH * outW + 32 : 0 }

    /// y[oh, ow] for one plane: the sum over taps (kh, kw) with oh + padTop = a·sH + kh and
    /// ow + padLeft = b·2 + kw of col[(kh·kW + kw)·ldcol + a·inW + b] (input pixel (a, b) inside
    /// the image), then the epilogue (bias[channel], activations). `col` is tap 0's first column
    /// of this image and channel, the next tap's `ldcol` floats further; the plane is `outH·outW`
    /// floats at `plane`; `stage` holds `stageCount` floats. Reads up to `stride2RowsSlack`
    /// floats before and after the columns it uses (never uses them).
    func plane(col: UnsafePointer<Float>, ldcol: Int, plane: UnsafeMutablePointer<Float>, stage: UnsafeMutablePointer<Float>?,
               bias: UnsafePointer<Float>?, channel: Int) {
        let pout = outH * outW
        let out = stageCount > 0 ? stage! : plane
        // Whole-vector stores may pass the end of a row: blocks run from the last to the first, so
        // that the next row's first block, written later, overwrites what spilled into it.
        let outEnd = out + (stageCount > 0 ? stageCount : pout)
        let fin = Conv2D.RowEpilogue(inRegisters ? act : nil, bias: inRegisters && addBias ? bias![channel] : nil)
        var i0 = (pairs - 1) / 16 * 16
        while i0 >= 0 {
            // Column starts and out-of-row lanes of the even and odd outputs' taps (kW = 4: two each).
            let e0 = i0 + gEven, e1 = e0 - 1, o0 = i0 + gOdd, o1 = o0 - 1
            let me0 = ConvTranspose2D.outsideLanes(e0, inW), me1 = ConvTranspose2D.outsideLanes(e1, inW)
            let mo0 = ConvTranspose2D.outsideLanes(o0, inW), mo1 = ConvTranspose2D.outsideLanes(o1, inW)
            let count = min(32, outW - 2 * i0)
            var ry = padTop % sH, gr = padTop / sH
            for oh in 0..<outH {
                var even = V16(), odd = V16()
                var kh = ry, a = gr
                while kh < kH {
                    if a >= 0 && a < inH {
                        let row = col + kh * kW * ldcol + a * inW
                        if kW == 4 {
                            even += ConvTranspose2D.rowLoad(row + rxEven * ldcol, e0, me0)
                            even += ConvTranspose2D.rowLoad(row + (rxEven + 2) * ldcol, e1, me1)
                            odd += ConvTranspose2D.rowLoad(row + rxOdd * ldcol, o0, mo0)
                            odd += ConvTranspose2D.rowLoad(row + (rxOdd + 2) * ldcol, o1, mo1)
                        } else {
                            var kw = rxEven
                            while kw < kW {
                                let start = e0 - kw / 2
                                if start > -16 && start < inW {
                                    even += ConvTranspose2D.rowLoad(row + kw * ldcol, start, ConvTranspose2D.outsideLanes(start, inW))
                                }
                                kw += 2
                            }
                            kw = rxOdd
                            while kw < kW {
                                let start = o0 - kw / 2
                                if start > -16 && start < inW {
                                    odd += ConvTranspose2D.rowLoad(row + kw * ldcol, start, ConvTranspose2D.outsideLanes(start, inW))
                                }
                                kw += 2
                            }
                        }
                    }
                    kh += sH; a -= 1
                }
                if inRegisters { even = fin.apply(even); odd = fin.apply(odd) }
                let lo = interleaveLow(even, odd), hi = interleaveHigh(even, odd)
                let dst = out + oh * outW + 2 * i0
                if dst + 32 <= outEnd {
                    store16(lo, dst); store16(hi, dst + 16)
                } else if count > 16 {
                    store16(lo, dst); storePartial(hi, dst + 16, count - 16)
                } else if count == 16 {
                    store16(lo, dst)
                } else {
                    storePartial(lo, dst, count)
                }
                ry += 1
                if ry == sH { ry = 0; gr += 1 }
            }
            i0 -= 16
        }
        if stageCount > 0 { Im2Col.copy(plane, out, pout) }
        if !inRegisters {
            EpilogueApply.applyRows(c: plane - channel * pout, ldc: pout, rows: channel..<(channel + 1),
                                    cols: 0..<pout, bias: bias, ops: ops)
        }
    }
}
