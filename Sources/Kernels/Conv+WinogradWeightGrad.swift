// Conv+WinogradWeightGrad: the weight gradient of a 4×4 stride-2 convolution (DCGAN's, pix2pix's)
// by Winograd's F(2×2, 2×2) over 2×2 blocks of the output gradient.
//
// Autodiff writes dW of a Conv (O, C, 4, 4) with stride 2 as a Conv of xᵀ (C, N, H, W) with dyᵀ
// (O, N, Hy, Wy) as its weight: dilation 2, stride 1, the forward's pads, output (C, O, 4, 4). In
// that Conv's own terms (batch B, input channels N, output channels O, kernel Hy × Wy, xp the
// padded input and P_pq[u][v] = xp[2u + p][2v + q] its stride phases):
//   y[b][o][2a + p][2e + q] = Σ_n Σ_{i,j} w[o][n][i][j] · P_pq[b][n][i + a][j + e].
// Cut (i, j) into 2×2 blocks (s, t); each block is F(2×2, 2×2) (Conv+WinogradStride2.swift's
// matrices) with taps g = w[o][n][2s…2s+1][2t…2t+1] (zero past the kernel) and patch
// d = P_pq[b][n][2s…2s+2][2t…2t+2]. With k = (n, s, t):
//   M^{pq}_ξ[b][o] = Σ_k V^{pq}_ξ[b][k] · U_ξ[o][k],  V = Bᵀ·d·B,  U = G·g·Gᵀ,
//   y[b][o][2a + p][2e + q] = (Aᵀ·M^{pq}·A)[a][e]:
// 9 GEMMs of 4B × O × N·blocks instead of one of 16B × O × N·Hy·Wy, 9/16 of the multiply-adds.
// V of one (b, n) plane is the Conv path's input transform (tiles = blocks). Where a vector of
// 16 blocks spans more block rows than a kernel has (`WinogradS2.rowsPerVector(tW) > tH`, e.g. 4×4
// kernels: 2 × 2 blocks), a chunk's images are stacked as the Conv path's tile rows are
// (`WinogradWGPlan.pitch`), so each vector holds blocks of several images; else image by image.
//
// Contract: `Conv2D.isWinogradWeightGrad(s)` selects the shapes (output 4×4, dilation 2, stride 1,
// one group, at least `winogradWGMinBatch` batch, `WinogradS2.minChannels` output channels and
// `winogradWGMinDepth` images × blocks); the forward
// computes what `Conv2D.forward` promises, to float rounding of the direct sum, with the same bits
// for any thread count (the GEMMs' bits do not depend on their split; chunks of k are summed in
// order, by the GEMM's beta = 1).
// Order: U of every k is kept whole where it is no larger than M of every b (then b is cut into
// blocks, each summing all of k), else M is kept whole and k is cut into chunks, each adding to
// every block of b.

/// Sizes and strides of `forwardWinogradWeightGrad`.
struct WinogradWGPlan {
    /// Blocks per kernel (tH × tW), images per k chunk, k chunks, k per chunk (at most), k in all.
    let tH: Int, tW: Int, blocks: Int, nc: Int, chunks: Int, kc: Int, kTotal: Int
    /// b per block (at most) and blocks; whether U is kept whole.
    let bb: Int, bBlocks: Int, uWhole: Bool
    /// Row length of V and of U (floats), floats from V_ξ to V_ξ₊₁, U_ξ to U_ξ₊₁, M_ξ to M_ξ₊₁ (M
    /// rows are 4·b + pq, of O floats).
    let ldV: Int, ldU: Int, vStride: Int, uStride: Int, mStride: Int
    /// Phase planes of one (b, n) plane: row length and floats per plane (8 planes).
    let pw: Int, phasePlane: Int
    /// Plane rows per kernel-block row when the blocks of a k chunk's images are stacked
    /// (`WinogradS2.fillStacked`: where a vector of 16 blocks spans more block rows than one
    /// image has), else 0 (image by image).
    let pitch: Int

    /// `threads` > 1: blocks of b small enough for two per thread (whole blocks then run on one
    /// thread each, `forwardWinogradWeightGrad`); a row's values do not depend on its block.
    init(_ s: Conv2DShape, threads: Int = 1, stacked: Bool = true) {
        tH = (s.kernelH + 1) / 2
        tW = (s.kernelW + 1) / 2
        blocks = tH * tW
        let n = s.inChannels, o = s.outChannels
        nc = max(1, min(n, 512 / blocks))
        chunks = (n + nc - 1) / nc
        kc = nc * blocks
        kTotal = n * blocks
        uWhole = kTotal <= 4 * s.batch
        @inline(__always) func rowLength(_ k: Int) -> Int { (k + 32 + 31) / 32 * 32 + 16 }
        ldV = rowLength(kc)
        ldU = rowLength(uWhole ? kTotal : kc)
        var b = max(1, (1 << 21) / (36 * ldV))
        if uWhole { b = min(b, max(1, (1 << 21) / (36 * o))) }
        if threads > 1 { b = min(b, (s.batch + 2 * threads - 1) / (2 * threads)) }
        bb = min(s.batch, b)
        bBlocks = (s.batch + bb - 1) / bb
        @inline(__always) func spread(_ f: Int) -> Int { (f + 1023) / 1024 * 1024 + 64 }
        vStride = spread(4 * bb * ldV)
        uStride = spread(o * ldU)
        mStride = spread(4 * (uWhole ? bb : s.batch) * o)
        pw = tW + 1
        pitch = stacked && WinogradS2.rowsPerVector(tW) > tH ? 3 : 0
        phasePlane = pitch > 0 ? (nc * tH + 8) * pitch * pw + 32 : (2 * tH + 1 + 16) * pw + 32
    }

    var scratch: Int { 9 * (vStride + uStride + mStride) }
    /// Floats of one thread's buffers when whole blocks run on one thread: V, M of a block (U
    /// kept whole) and the phase planes.
    var perThread: Int { 9 * (vStride + (uWhole ? mStride : 0)) + 8 * phasePlane }
}

extension Conv2D {
    /// Least batch (forward's input channels) for `isWinogradWeightGrad`: the GEMMs have 4× it rows.
    static let winogradWGMinBatch = 8
    /// Least GEMM depth (images × blocks): cifar10_wgangp's critic conv4 gradient (64 images of one
    /// 2×2 block, batch 64) ran 11.0–11.4 ms on the GEMM path and 14.1 ms here; with 4 blocks (depth
    /// 256) 12.0 → 11.6, with 16 blocks 12.0 → 10.6.
    static let winogradWGMinDepth = 128

    /// The shape runs `forwardWinogradWeightGrad` (see the file header) where it beats the GEMM
    /// paths (weights given at run time, 1 thread, Winograd / GEMM time):
    /// - Kernels (the output gradient's planes) of even height and width only: an odd one is
    ///   padded to whole 2×2 blocks. A 7×7 kernel (the 4×4 stride-2 layer 14² → 7² of the 28×28
    ///   critics) computes 64 taps for 49: 64 images of 64 channels to 128, 1.14× (9×9: 1.12×;
    ///   8×8: 0.82×).
    /// - h = batch·O/(batch + O) ≥ 32 (`WinogradS2.transformBalance` ≥ `minBalance`, as
    ///   `WinogradS2.pays`): the transforms cost about batch + O per k against batch·O multiply-adds. mnist_gan's generator deconv2 (ConvTranspose
    ///   64 → 32, 14² → 28²; 32 images of 64 channels to 64, a 14×14 kernel, h 21) ran 1.23×.
    /// `GANNET_BASELINE=winogradWGRule` selects by the rule before these two.
    public static func isWinogradWeightGrad(_ s: Conv2DShape) -> Bool {
        !Baseline.noWinogradS2 && s.outHeight == 4 && s.outWidth == 4 && s.dilationH == 2 && s.dilationW == 2
            && s.strideH == 1 && s.strideW == 1 && s.group == 1 && s.kernelH >= 2 && s.kernelW >= 2
            && s.batch >= winogradWGMinBatch && s.outChannels >= WinogradS2.minChannels
            && s.inChannels * ((s.kernelH + 1) / 2) * ((s.kernelW + 1) / 2) >= winogradWGMinDepth
            && (Baseline.winogradWeightGradOldRule
                || (s.kernelH % 2 == 0 && s.kernelW % 2 == 0
                    && WinogradS2.transformBalance(s.batch, s.outChannels) >= WinogradS2.minBalance))
    }

    /// y = conv(x, w) for `isWinogradWeightGrad` shapes. `scratch`: `WinogradWGPlan.scratch` floats.
    /// `stacked: false` transforms each image's kernel blocks on their own even where a chunk's
    /// images would be stacked (`WinogradWGPlan.pitch`; the same bits).
    static func forwardWinogradWeightGrad(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                          bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                                          scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, stacked: Bool = true) {
        // Whole blocks of b per thread when there are at least two per thread, else each phase
        // shared (the same bits: see `WinogradWGPlan.init`).
        let stacked = stacked && !Baseline.winogradWGImageRows
        let threaded = WinogradWGPlan(s, threads: pool.sharingThreads, stacked: stacked)
        let perThread = pool.sharingThreads > 1 && threaded.bBlocks >= 2 * pool.sharingThreads
        let plan = perThread ? threaded : WinogradWGPlan(s, stacked: stacked)
        let o = s.outChannels, n = s.inChannels, kH = s.kernelH, kW = s.kernelW
        let inH = s.inHeight, inW = s.inWidth, blocks = plan.blocks, tW = plan.tW
        let vShared = scratch, u = vShared + 9 * plan.vStride, mShared = u + 9 * plan.uStride
        /// U of images n0 ..< n1 into U's columns from `column`.
        func transformU(_ n0: Int, _ n1: Int, column: Int) {
            pool.parallelFor(o) { r in
                for oc in r {
                    for img in n0..<n1 {
                        let w = weight + (oc * n + img) * kH * kW
                        let dst = u + oc * plan.ldU + column + (img - n0) * blocks
                        for bs in 0..<plan.tH {
                            for bt in 0..<tW {
                                @inline(__always) func tap(_ i: Int, _ j: Int) -> Float {
                                    i < kH && j < kW ? w[i * kW + j] : 0
                                }
                                let i = 2 * bs, j = 2 * bt
                                WinogradS2.transformTaps(tap(i, j), tap(i, j + 1), tap(i + 1, j), tap(i + 1, j + 1),
                                                         into: dst + bs * tW + bt, stride: plan.uStride)
                            }
                        }
                    }
                }
            }
        }
        /// V of batch rows b0 ..< b1 and images n0 ..< n1 (rows 4·(b − b0) + pq) into v; `planes`:
        /// the phase planes, or nil for each thread's own.
        func transformV(_ b0: Int, _ b1: Int, _ n0: Int, _ n1: Int, v: UnsafeMutablePointer<Float>,
                        planes fixed: UnsafeMutablePointer<Float>?) {
            pool.parallelFor(b1 - b0) { r in
                let planes = fixed ?? WinogradS2.storage.get(8 * plan.phasePlane)
                for bl in r {
                    if plan.pitch > 0 {
                        // Block row r of the chunk is block row r mod tH of image n0 + r / tH; one
                        // `inputTiles` per phase pair covers every image, its vectors spanning images.
                        let rows = (n1 - n0) * plan.tH
                        WinogradS2.fillStackedConv(firstRow: 0, rows: rows, tH: plan.tH, tW: tW, pitch: plan.pitch, pw: plan.pw,
                                                   phasePlane: plan.phasePlane, channel: { x + ((b0 + bl) * n + n0 + $0) * inH * inW },
                                                   inH: inH, inW: inW, padTop: s.padTop, padLeft: s.padLeft, into: planes)
                        WinogradS2.convPhaseTiles(planes, phasePlane: plan.phasePlane, pw: plan.pw, pitch: plan.pitch * plan.pw,
                                                  rows: rows, tW: tW, xiStride: plan.vStride) { v + (4 * bl + $0) * plan.ldV }
                        continue
                    }
                    // Images in order: a plane's lanes past its last block land on the next one's.
                    for img in n0..<n1 {
                        WinogradS2.fillPhases(x + ((b0 + bl) * n + img) * inH * inW, inH: inH, inW: inW,
                                              firstRow: -s.padTop, strideH: 2, strideW: 4, padLeft: s.padLeft,
                                              pw: plan.pw, ph: 2 * plan.tH + 1, phasePlane: plan.phasePlane, into: planes)
                        WinogradS2.convPhaseTiles(planes, phasePlane: plan.phasePlane, pw: plan.pw, pitch: 2 * plan.pw, rows: plan.tH,
                                                  tW: tW, xiStride: plan.vStride) { v + (4 * bl + $0) * plan.ldV + (img - n0) * blocks }
                    }
                }
            }
        }
        /// M rows of b0 ..< b1 (from M row `mRow`) += V · U columns from `column`, k = (n1 − n0)·blocks.
        func gemms(_ b0: Int, _ b1: Int, _ n0: Int, _ n1: Int, column: Int, v: UnsafePointer<Float>,
                   m: UnsafeMutablePointer<Float>, mRow: Int) {
            for xi in 0..<9 {
                Gemm.sgemm(transA: false, transB: true, m: 4 * (b1 - b0), n: o, k: (n1 - n0) * blocks, alpha: 1,
                           a: v + xi * plan.vStride, lda: plan.ldV, b: u + xi * plan.uStride + column, ldb: plan.ldU,
                           beta: n0 == 0 ? 0 : 1, c: m + xi * plan.mStride + mRow * o, ldc: o, pool: pool)
            }
        }
        /// y of batch rows b0 ..< b1 from M rows from `mRow`, 16 output channels at a time (the
        /// last 16 overlap the previous ones where O is not a multiple of 16: same values).
        func output(_ b0: Int, _ b1: Int, m: UnsafePointer<Float>, mRow: Int) {
            pool.parallelFor(b1 - b0) { r in
                for bl in r {
                    var oc0 = 0
                    while oc0 < o {
                        let oc = min(oc0, o - 16)
                        let dst = y + ((b0 + bl) * o + oc) * 16
                        for pq in 0..<4 {
                            let src = m + (mRow + 4 * bl + pq) * o + oc
                            let (y00, y01, y10, y11) = WinogradS2.outputTile(src, xiStride: plan.mStride)
                            let p = pq / 2, q = pq % 2
                            for l in 0..<16 {
                                dst[l * 16 + p * 4 + q] = y00[l]
                                dst[l * 16 + p * 4 + 2 + q] = y01[l]
                                dst[l * 16 + (2 + p) * 4 + q] = y10[l]
                                dst[l * 16 + (2 + p) * 4 + 2 + q] = y11[l]
                            }
                        }
                        oc0 += 16
                    }
                }
            }
        }
        /// Block bi's rows: all of k (U kept whole: then its output), or chunk q's (M kept whole).
        func block(_ bi: Int, chunk: Int?, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                   planes: UnsafeMutablePointer<Float>?) {
            let b0 = bi * plan.bb, b1 = min(s.batch, b0 + plan.bb)
            for q in chunk.map({ $0..<($0 + 1) }) ?? 0..<plan.chunks {
                let n0 = q * plan.nc, n1 = min(n, n0 + plan.nc)
                transformV(b0, b1, n0, n1, v: v, planes: planes)
                gemms(b0, b1, n0, n1, column: plan.uWhole ? n0 * blocks : 0, v: v, m: m, mRow: plan.uWhole ? 0 : 4 * b0)
            }
            if plan.uWhole { output(b0, b1, m: m, mRow: 0) }
        }
        /// Every block, each whole on whichever thread takes it (own V, and M when U is whole), or
        /// one after another with each phase shared.
        func runBlocks(chunk: Int?) {
            if perThread {
                pool.dynamicFor(plan.bBlocks) { bi in
                    let v = WinogradS2.storage.get(plan.perThread)
                    let mBlock = plan.uWhole ? v + 9 * plan.vStride : mShared
                    block(bi, chunk: chunk, v: v, m: mBlock, planes: v + 9 * plan.vStride + (plan.uWhole ? 9 * plan.mStride : 0))
                }
            } else {
                for bi in 0..<plan.bBlocks { block(bi, chunk: chunk, v: vShared, m: mShared, planes: nil) }
            }
        }
        if plan.uWhole {
            transformU(0, n, column: 0)
            runBlocks(chunk: nil)
        } else {
            for q in 0..<plan.chunks {
                transformU(q * plan.nc, min(n, (q + 1) * plan.nc), column: 0)
                runBlocks(chunk: q)
            }
            output(0, s.batch, m: mShared, mRow: 0)
        }
        EpilogueApply.applyNCHW(y: y, batch: s.batch, channels: o, plane: 16, bias: bias, ops: ops, pool: pool)
    }
}
