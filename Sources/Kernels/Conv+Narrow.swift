// Conv+Narrow: convolutions whose GEMM would have fewer columns than one register tile is wide
// (batch 1 on 1×1–5×5 planes: a generator's first layers, a U-Net's bottleneck), computed with
// the GEMM turned around.
//
// Contract: `Conv2D.isNarrow(s)` / `ConvTranspose2D.isNarrow(s)` select the shapes (the whole
// batch in one chunk of images, fewer than `Gemm.nr` GEMM columns, at least `Gemm.smallM` GEMM
// rows, and fewer tile lanes turned around:
// `narrowWins`); `forward` then computes the same bits as the wide orientation. A Conv2D with
// at least 64 output channels per group also runs narrow with up to `narrowMaxColumns` (7×7
// and 14×14 planes at batch 1), where the im2col and the transposed output cost less than the
// padding lanes of the wide tiles (resnet18's 512×7² 3×3 layers: 2.93 → 2.58 ms).
// Wide, W (rows) times the columns: Y[M × L] = W·col, with L < 32 of each 32-wide tile useful.
// Narrow: Yᵀ[L × M] = colᵀ·Wᵀ, the L rows in 4/8/12-row tiles and the weights as the 32-wide
// B panels (packed per call, or once by the caller: `packWeights` / `packedWeights`).
// Same bits: each element is the same products summed in the same k order, in the same K blocks
// (`Gemm.kcBlock`), by the same fused multiply-adds; the tile path is used in both orientations
// (fewer than `Gemm.smallM` rows would take Gemm's row-SIMD loop, which does not block K: with
// L < 4, col, or a ConvTranspose's xs, is padded with zero columns to 4 rows of the turned-around
// product and the extra rows are dropped). pix2pix's 256 → 256 ConvTranspose on a 1×1 plane at
// batch 1 ran wide, 1 of each 32 tile lanes used: 0.69 ms, narrow 0.18 ms.
// Conv2D: im2col writes col[K × L] as in the wide path, the GEMM writes Yᵀ with the bias and
// activations, then Yᵀ is copied into the NCHW planes. ConvTranspose2D (phased): colᵀ[L × M] =
// xsᵀ·W_g, and each output channel's khw×L block is transposed into a per-thread buffer before
// the phased col2im reads it as the wide path does.

/// Whether an M×L product (M weight rows, L columns) wastes fewer register-tile lanes
/// turned around: rows come in tiles of 4–12, columns in tiles of 32.
func narrowWins(rows m: Int, columns l: Int) -> Bool {
    func up(_ x: Int, _ q: Int) -> Int { (x + q - 1) / q * q }
    return up(max(l, Gemm.smallM), 4) * up(m, Gemm.nr) < up(m, 4) * up(l, Gemm.nr)
}

extension Conv2D {
    /// The GEMM of this shape runs narrow (see the file header).
    public static func isNarrow(_ s: Conv2DShape) -> Bool {
        let mg = s.outChannels / s.group
        let cols = s.batch * s.outHeight * s.outWidth
        return !isFullWindow(s) && !isDepthwise(s) && !isSmallMDirect(s) && mg >= Gemm.smallM
            && cols >= 1 && cols < (mg >= 2 * Gemm.nr ? narrowMaxColumns : Gemm.nr) && chunk(s) >= s.batch
            && narrowWins(rows: mg, columns: cols)
    }

    /// Most GEMM columns of a narrow Conv2D with at least 64 output channels per group.
    static let narrowMaxColumns = 8 * Gemm.nr

    /// Rows of Yᵀ a narrow convolution computes: its GEMM columns, at least `Gemm.smallM`.
    static func narrowRows(_ s: Conv2DShape) -> Int { max(Gemm.smallM, s.batch * s.outHeight * s.outWidth) }

    /// Narrow convolution: per group, col = im2col (K × L), Yᵀ (L × mg) = colᵀ·W_gᵀ with the
    /// bias and epilogue, then Yᵀ into y. Scratch: (K + mg)·`narrowRows` floats.
    static func forwardNarrow(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                              scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, packedWeights: UnsafePointer<Float>?) {
        let g = s.group, cg = s.inChannels / g, mg = s.outChannels / g
        let p = s.outHeight * s.outWidth, k = cg * s.kernelH * s.kernelW
        let cols = s.batch * p, rows = narrowRows(s)
        let col = scratch, yt = scratch + k * rows
        let colOps = perColumnEpilogue(ops)
        let per = Gemm.packedBCount(k: k, n: mg)
        for gi in 0..<g {
            Im2Col.im2col(s, x: x, n0: 0, count: s.batch, channel0: gi * cg, channels: cg, col: col, ldcol: rows, pool: pool)
            if rows > cols { for kk in 0..<k { Im2Col.zero(col + kk * rows + cols, rows - cols) } }
            let w = weight + gi * mg * k, b = bias.map { $0 + gi * mg }
            if let packedWeights {
                Gemm.sgemmPackedB(transA: true, m: rows, n: mg, k: k, alpha: 1, a: col, lda: rows,
                                  packedB: packedWeights + gi * per, transB: true, b: w, ldb: k,
                                  beta: 0, c: yt, ldc: mg, bias: b, epilogue: colOps, pool: pool)
            } else {
                Gemm.sgemm(transA: true, transB: true, m: rows, n: mg, k: k, alpha: 1, a: col, lda: rows, b: w, ldb: k,
                           beta: 0, c: yt, ldc: mg, bias: b, epilogue: colOps, pool: pool)
            }
            for n in 0..<s.batch {
                transposeOut(UnsafePointer(yt + n * p * mg), pixels: p, channels: mg, into: y + s.outPlane(n, gi * mg), pool: pool)
            }
        }
    }

    /// y[o·pixels + q] = yt[q·channels + o] for o < channels, q < pixels: one image's Yᵀ into its
    /// NCHW planes in 16×16 blocks (`Transpose.block`, as the Transpose op copies), the blocks
    /// split over the pool. (Element by element on one thread, this copy was half of a 1×1
    /// 64 → 256 convolution on 13² at batch 1.)
    static func transposeOut(_ yt: UnsafePointer<Float>, pixels: Int, channels: Int, into y: UnsafeMutablePointer<Float>,
                             pool: ThreadPool) {
        let qb = (pixels + 15) / 16, ob = (channels + 15) / 16
        pool.splitWork(ob * qb, work: pixels * channels) { range in
            for u in range {
                let o0 = (u / qb) * 16, q0 = (u % qb) * 16
                Transpose.block(yt, channels, y, pixels, o0..<min(channels, o0 + 16), q0..<min(pixels, q0 + 16))
            }
        }
    }
}

extension ConvTranspose2D {
    /// The GEMM of this (phased) shape runs narrow (see the file header).
    public static func isNarrow(_ s: Conv2DShape) -> Bool {
        let m = (s.outChannels / s.group) * s.kernelH * s.kernelW
        let cols = s.batch * s.inHeight * s.inWidth
        return !isFromPoint(s) && isPhased(s) && m >= Gemm.smallM && cols >= 1 && cols < Gemm.nr
            && chunk(s) >= s.batch && narrowWins(rows: m, columns: cols)
    }

    /// Copies output channel `oc`'s block of colᵀ (L × ldc, row j holding (oc, tap) at column
    /// oc·khw + tap) into `dst` as khw rows of L: dst[tap·L + j] = colᵀ[j·ldc + oc·khw + tap].
    @inline(__always)
    static func transposeChannelBlock(_ colT: UnsafePointer<Float>, ldc: Int, oc: Int, khw: Int, columns: Int,
                                      into dst: UnsafeMutablePointer<Float>) {
        for j in 0..<columns {
            let src = colT + j * ldc + oc * khw
            for tap in 0..<khw { dst[tap * columns + j] = src[tap] }
        }
    }
}
