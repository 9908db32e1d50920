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
    /// A row-by-row shape whose GEMM runs a block of output channels at a time, each block's
    /// col rows read back by the col2im while they are in L2 (`forwardChannelBlocked`): 128 to
    /// 255 input channels a group. There the whole-col path keeps its col matrix in L2 by
    /// cutting the chunk to a few images (`chunk`: mnist_gan's 128 → 64 on 7², 5 images, 245
    /// GEMM columns, the last register tile 21 of 32 wide); blocks keep 15 images (735 columns).
    /// Measured at batch 64, one thread, 10 interleaved runs each (min and median time ratios):
    /// 128 → 64 on 7² 0.92 / 0.97, on 8² without bias 0.98 / 0.99. With fewer channels the
    /// whole-col path's rows are long already (64 → 32 on 14²: 1.00 / 1.00; on 16² without bias
    /// 1.10 / 1.00); with 256 the packed xs that every block reads crowds L2 (256 → 128 on 4²:
    /// 1.03–1.13). One K block either way, so the packed weights' row panels can be addressed
    /// on their own.
    public static func isChannelBlocked(_ s: Conv2DShape) -> Bool {
        isStride2Rows(s) && (128..<256).contains(s.inChannels / s.group) && !Baseline.convTransposeWholeCol
    }

    /// Output channels per block of `forwardChannelBlocked`: their col rows (channels·kH·kW)
    /// are whole GEMM row panels, about 48 rows.
    public static func channelBlock(_ s: Conv2DShape) -> Int {
        let khw = s.kernelH * s.kernelW
        let unit = Gemm.mr / gcd(Gemm.mr, khw)
        return unit * max(1, 48 / (unit * khw))
    }

    /// Images per chunk of `forwardChannelBlocked`: at most 1024 GEMM columns and 96 Ki floats
    /// of packed xs (every block reads all of it: it must stay in L2 beside the block's col
    /// rows; cifar10_wgangp's 256 → 128 on 4² ran 1.13× the whole-col time with 256 Ki) but
    /// one image at least, the count whose columns fill their last 32-column panel best (the
    /// larger on a tie).
    public static func blockedChunk(_ s: Conv2DShape) -> Int {
        let pin = s.inHeight * s.inWidth, cg = s.inChannels / s.group
        let columns = min(1024, (96 * 1024) / max(cg, 1))
        var best = 1, bestFill = 0.0
        for nb in 1...max(1, min(s.batch, columns / max(pin, 1))) {
            let cols = nb * pin
            let fill = Double(cols) / Double((cols + Gemm.nr - 1) / Gemm.nr * Gemm.nr)
            if fill >= bestFill { best = nb; bestFill = fill }
        }
        return best
    }

    /// The packed xs of `forwardChannelBlocked` (on the calling thread), and each thread's col
    /// block and staging rows.
    static let blockedB = ThreadBuffer(minimum: 0), blockedCol = ThreadBuffer(minimum: 0)

    /// Steps 2–4 of `forwardPhased` for one chunk of images of group gi, a block of output
    /// channels at a time: xs (cg × nc·inH·inW, the chunk's planes side by side) is packed once,
    /// then each block's col rows (`channelBlock`·kH·kW of them) are one GEMM, read back at once
    /// by `ConvTransposeStride2Rows.plane`. Where the whole chunk's col matrix (up to 1 MiB) was
    /// written and then read back from L2 or beyond, a block's (about 200 KB) stays in L2, and
    /// the chunk can hold more images (GEMM rows of up to 1024 columns that fill their last
    /// register tile). Each col element is the same GEMM sum as in the whole-col path, so the
    /// same bits (baseline `convTransposeWholeCol`). Threads take whole blocks.
    static func forwardChannelBlocked(_ s: Conv2DShape, xs: UnsafePointer<Float>, images: Range<Int>, group gi: Int,
                                      packedWeights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                      y: UnsafeMutablePointer<Float>, planeStats: UnsafeMutablePointer<Double>?,
                                      col2im: ConvTransposeStride2Rows, pool: ThreadPool) {
        let cg = s.inChannels / s.group, mg = s.outChannels / s.group
        let khw = s.kernelH * s.kernelW, pin = s.inHeight * s.inWidth, pout = s.outHeight * s.outWidth
        let nc = images.count, lx = nc * pin
        let xsPacked = blockedB.get(Gemm.packedBCount(k: cg, n: lx))
        Gemm.packB(transB: false, k: cg, n: lx, b: xs, ldb: lx, into: xsPacked, pool: pool)
        let packedB = UnsafePointer(xsPacked)
        let cb = channelBlock(s)
        let slack = stride2RowsSlack
        pool.dynamicFor((mg + cb - 1) / cb) { blk in
            let c0 = blk * cb, cn = min(cb, mg - c0)
            let buf = blockedCol.get(cb * khw * lx + 2 * slack + col2im.stageCount + 16)
            let colBlock = buf + slack
            let stage = col2im.stageCount > 0 ? buf + cb * khw * lx + 2 * slack : nil
            Gemm.sgemmPackedAB(m: cn * khw, n: lx, k: cg, packedA: packedWeights + c0 * khw * cg, packedB: packedB,
                               c: colBlock, ldc: lx, pool: .serial)
            for o in 0..<cn {
                let ch = gi * mg + c0 + o
                for (j, n) in images.enumerated() {
                    let plane = y + (n * s.outChannels + ch) * pout
                    col2im.plane(col: colBlock + o * khw * lx + j * pin, ldcol: lx, plane: plane, stage: stage,
                                 bias: bias, channel: ch)
                    if let planeStats {
                        ConvTransposeBatchNorm.storePlaneSums(plane, pout, into: planeStats + 2 * (n * s.outChannels + ch))
                    }
                }
            }
        }
    }

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
