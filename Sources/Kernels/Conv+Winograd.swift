// Conv+Winograd: 3×3 stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3) (Lavin
// and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): per group, 16 GEMMs of
// mg × cg × tiles instead of one of mg × 9·cg × pixels, 2.25× fewer multiply-adds.
//
// Contract: `Conv2D.isWinograd(s)` selects the shapes (3×3 kernel, strides and dilations 1, at
// least `winogradMinInputChannels` input and `winogradMinOutputChannels` output channels per
// group, output rows at least
// `winogradMinWidth` wide; measured faster than the direct, implicit and narrow GEMMs there); `forwardWinograd` computes what `Conv2D.forward` promises, to
// float rounding of the direct sum (the transforms reassociate it, so not the same bits as the
// GEMM paths), with the same bits for any thread count: every element is computed the same way
// whoever runs it, and the GEMM's bits do not depend on how it is split.
// With g the 3×3 kernel of (oc, c), d a 4×4 input patch (zero padded) and the usual
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 −1 −1],
// a 2×2 output tile is Aᵀ·[Σ_c (G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A. Per group and chunk of images:
//  1. U = G·g·Gᵀ: element ξ = 4i + j of every (oc, c) forms an mg × cg matrix, packed as a GEMM's
//     A (`packWeights` does this once for constant weights).
//  2. The output is cut into 2×2 tiles, tH × tW per image; a chunk is a run of tile rows of the
//     batch (so of one or more images), sized so that its V and M fit in about `winogradL2Floats`.
//     The rows' input is copied into zero-padded planes split into even and odd columns (the
//     depthwise kernel's `fillPhases` with a column stride of 2), so that tile tw's four columns
//     are E[tw], O[tw], E[tw+1], O[tw+1], and 16 tiles of a row transform at once;
//     V = Bᵀ·d·B goes to V_ξ[c][t] (rows of `ldV` floats, t the chunk's tile index).
//  3. M_ξ = U_ξ·V_ξ, the GEMM reading V_ξ's rows where they lie (`Gemm.DirectB`).
//  4. Y = Aᵀ·M·A per tile into y (rows and columns past outH, outW dropped), then the bias and
//     epilogue on those output rows while they are in cache.
// Threads: with at least two chunks per thread, each chunk runs whole on whichever thread takes
// it (`dynamicFor`; V and M in that thread's `winogradStorage`); with fewer, the chunks run one
// after another, each phase shared (input channels, then the 16 GEMMs, then output channels).
// A tile's result does not depend on its chunk or on who computes it (a GEMM column's bits do
// not depend on the other columns), so neither the chunks nor the mode change the bits.

extension Conv2D {
    /// Fewest input and output channels per group for the Winograd path: below them the
    /// transforms cost more than the multiplies they save. The input transform of a channel is
    /// shared by the output channels and the output transform by the input channels, and the
    /// input transform costs more, so few output channels hurt most. On a core with two 512-bit
    /// FMA ports (Xeon, batch 1, 1 thread) the direct GEMM won at 128 → 32 (56²: 1.68 against
    /// 2.30 ms; 28², 14²: 0.44 / 0.53, 0.129 / 0.179), 32 → 32 (149²: 3.43 / 3.97) and 16 → 64
    /// (55²: 0.49 / 0.55), Winograd at 32 → 64 (147²: 6.0 / 6.5), 32 → 128 (27²: 0.386 / 0.412)
    /// and 64 → 64 (56²: 1.42 / 1.63); on Zen 4, whose FMAs are half as wide, 128 → 32 tied.
    static let winogradMinInputChannels = 32
    static let winogradMinOutputChannels = 48
    /// Narrowest output for the Winograd path: the transforms run 16 tiles of a row at a time,
    /// so narrower rows waste most lanes. (Batch 1, 1 thread: 7² planes, where rows are 4 tiles,
    /// ran 1.1–1.3× slower than the narrow GEMM at 256–512 channels and 2× slower than the
    /// direct GEMM at 128 → 32; 14² planes, 7 tiles, 1.6× faster than the narrow GEMM at 64–256
    /// channels and even with the direct GEMM at 128 → 32.)
    static let winogradMinWidth = 12
    /// Floats a chunk's V and M should take at most, and the tiles a chunk should have at least
    /// and at most. (On 1 thread, chunks of 512–1024 tiles ran 3–10% faster than chunks sized
    /// for L2, of 64–128: the GEMMs' per-call cost; on 2 threads, batch 8, 64 → 64 channels on
    /// 56², 256 tiles ran faster than 784, the two threads' V and M sharing L3.)
    static let winogradL2Floats = 2 << 20
    static let winogradMinTiles = 256, winogradMaxTiles = 1024

    /// Per-thread V, M, planes and output rows of the chunks run whole on one thread.
    static let winogradStorage = ThreadBuffer(minimum: 0)

    /// Tile counts, chunking and buffer strides of `forwardWinograd`.
    struct WinogradPlan {
        /// Tile rows and columns per image, tile rows per chunk, chunks, tiles per chunk (at most).
        let tH: Int, tW: Int, rows: Int, chunks: Int, tiles: Int
        /// Floats per row of V_ξ (input channel) and of M_ξ (output channel): at least `tiles` +
        /// 32 (the GEMM reads up to 31 columns past the last, the transforms write and read up
        /// to 15), an odd multiple of 16 so that the GEMM's k steps spread over the cache sets.
        let ld: Int
        /// Floats of one even/odd plane pair (`fillPhases` geometry for `rows` tile rows) and of
        /// the two output rows the output transform writes whole vectors into.
        let planes: Int, outRows: Int

        init(_ s: Conv2DShape) {
            tH = (s.outHeight + 1) / 2
            tW = (s.outWidth + 1) / 2
            let cg = s.inChannels / s.group, mg = s.outChannels / s.group
            let target = min(Conv2D.winogradMaxTiles,
                             max(Conv2D.winogradMinTiles, Conv2D.winogradL2Floats / (16 * (cg + mg))))
            rows = max(1, min(target / tW, s.batch * tH))
            chunks = (s.batch * tH + rows - 1) / rows
            tiles = rows * tW
            ld = (tiles + 32 + 31) / 32 * 32 + 16
            planes = 2 * WinogradPlan.phaseGeometry(s, tW: tW, rows: rows).plane
            outRows = 2 * (2 * tW + 32)
        }

        /// Floats from V_ξ to V_ξ₊₁ (cg rows) and from M_ξ to M_ξ₊₁ (mg rows): 256 bytes past a
        /// multiple of 4 KiB, so that the 16 streams a transform reads or writes fall in
        /// different L1 sets (a multiple of 4 KiB put them all in one).
        func vStride(_ cg: Int) -> Int { (cg * ld + 1023) / 1024 * 1024 + 64 }
        func mStride(_ mg: Int) -> Int { (mg * ld + 1023) / 1024 * 1024 + 64 }
        /// Floats of V and M.
        func vCount(_ cg: Int) -> Int { 16 * vStride(cg) }
        func mCount(_ mg: Int) -> Int { 16 * mStride(mg) }

        /// `fillPhases` geometry for `rows` tile rows starting at padded row 0: column stride 2,
        /// so phase 0 holds the even padded columns and phase 1 the odd ones.
        static func phaseGeometry(_ s: Conv2DShape, tW: Int, rows: Int, inHeight: Int? = nil, padTop: Int = 0)
            -> (shape: Conv2DShape, pw: Int, ph: Int, plane: Int) {
            let shape = Conv2DShape(batch: 1, inChannels: 1, inHeight: inHeight ?? s.inHeight, inWidth: s.inWidth,
                                    outChannels: 1, outHeight: 2 * rows, outWidth: tW, kernelH: 3, kernelW: 3,
                                    strideH: 1, strideW: 2, padTop: padTop, padLeft: s.padLeft)
            let g = Conv2D.depthwiseGeometry(shape)
            return (shape, g.pw, g.ph, g.plane)
        }

        /// Calls `body` on the images' tile-row ranges of chunk q, in order: (image, first tile
        /// row, end tile row, the chunk's tile index of the first tile).
        @inline(__always)
        func forEachSegment(_ q: Int, batch: Int, _ body: (_ image: Int, _ th0: Int, _ th1: Int, _ t0: Int) -> Void) {
            Conv2D.forEachTileSegment(q, rows: rows, tH: tH, tW: tW, batch: batch, body)
        }
    }

    /// Calls `body` on the images' tile-row ranges of chunk q (tile rows q·rows ..< (q + 1)·rows
    /// of the batch, tH per image, tW tiles each), in order: (image, first tile row, end tile
    /// row, the chunk's tile index of the first tile).
    @inline(__always)
    static func forEachTileSegment(_ q: Int, rows: Int, tH: Int, tW: Int, batch: Int,
                                   _ body: (_ image: Int, _ th0: Int, _ th1: Int, _ t0: Int) -> Void) {
        let r0 = q * rows, r1 = min(batch * tH, r0 + rows)
        var r = r0
        while r < r1 {
            let image = r / tH, th0 = r % tH, th1 = min(tH, th0 + (r1 - r))
            body(image, th0, th1, (r - r0) * tW)
            r += th1 - th0
        }
    }

    /// The shape runs `forwardWinograd` (see the file header).
    public static func isWinograd(_ s: Conv2DShape) -> Bool {
        let cg = s.inChannels / s.group, mg = s.outChannels / s.group
        guard !Baseline.noWinograd, s.kernelH == 3, s.kernelW == 3, s.strideH == 1, s.strideW == 1,
              s.dilationH == 1, s.dilationW == 1, cg >= winogradMinInputChannels, mg >= winogradMinOutputChannels,
              s.outWidth >= winogradMinWidth, !isDepthwise(s) else { return false }
        return true
    }

    /// Floats of `forward`'s packed weights on the Winograd path: per group, 16 packed A panels.
    static func winogradPackedCount(_ s: Conv2DShape) -> Int {
        s.group * 16 * Gemm.packedACount(m: s.outChannels / s.group, k: s.inChannels / s.group)
    }

    /// Floats of scratch `forwardWinograd` needs: one group's packed U and unpacked U (for
    /// weights packed per call), and one chunk's V and M (for chunks whose phases are shared).
    static func winogradScratch(_ s: Conv2DShape) -> Int {
        let cg = s.inChannels / s.group, mg = s.outChannels / s.group
        let plan = WinogradPlan(s)
        return 16 * Gemm.packedACount(m: mg, k: cg) + 16 * mg * cg + plan.vCount(cg) + plan.mCount(mg)
    }

    /// U = G·g·Gᵀ of group `gi` as 16 mg × cg matrices (ξ-major) into `u`, then each packed by
    /// `Gemm.packA` into `dst` (16 × `packedACount(mg, cg)` floats).
    static func winogradPackWeights(_ s: Conv2DShape, group gi: Int, weight: UnsafePointer<Float>,
                                    u: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let cg = s.inChannels / s.group, mg = s.outChannels / s.group
        let body: (Range<Int>) -> Void = { r in
            for o in r {
                for c in 0..<cg {
                    let g = weight + ((gi * mg + o) * cg + c) * 9
                    // G·g (4 × 3), then (G·g)·Gᵀ (4 × 4), row by row.
                    @inline(__always) func row(_ a: Float, _ b: Float, _ d: Float) -> (Float, Float, Float, Float) {
                        (a, 0.5 * (a + b + d), 0.5 * (a - b + d), d)
                    }
                    let c0 = row(g[0], g[3], g[6]), c1 = row(g[1], g[4], g[7]), c2 = row(g[2], g[5], g[8])
                    let stride = mg * cg
                    @inline(__always) func put(_ i: Int, _ r: (Float, Float, Float, Float)) {
                        let base = u + (4 * i * mg + o) * cg + c
                        base[0] = r.0; base[stride] = r.1; base[2 * stride] = r.2; base[3 * stride] = r.3
                    }
                    put(0, row(c0.0, c1.0, c2.0)); put(1, row(c0.1, c1.1, c2.1))
                    put(2, row(c0.2, c1.2, c2.2)); put(3, row(c0.3, c1.3, c2.3))
                }
            }
        }
        if mg * cg < 4096 { body(0..<mg) } else { pool.parallelFor(mg, body) }
        let per = Gemm.packedACount(m: mg, k: cg)
        for xi in 0..<16 {
            Gemm.packA(transA: false, m: mg, k: cg, a: u + xi * mg * cg, lda: cg, into: dst + xi * per, pool: pool)
        }
    }

    /// y = conv(x, w) for `isWinograd` shapes (see the file header). `packedWeights`: every
    /// group's 16 packed U matrices from `packWeights`, or nil to transform and pack them here.
    /// `scratch`: `winogradScratch(s)` floats.
    static func forwardWinograd(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                                scratch: UnsafeMutablePointer<Float>, pool: ThreadPool,
                                packedWeights: UnsafePointer<Float>?) {
        let g = s.group, cg = s.inChannels / g, mg = s.outChannels / g
        let plan = WinogradPlan(s)
        let per = Gemm.packedACount(m: mg, k: cg)
        let packed = scratch, u = packed + 16 * per
        let shared = u + 16 * mg * cg
        let ld = plan.ld, p = s.outHeight * s.outWidth, outW = s.outWidth
        let whole = pool.sharingThreads == 1 || plan.chunks >= 2 * pool.sharingThreads
        withUnsafeTemporaryAllocation(of: Int.self, capacity: cg) { offs in
            for c in 0..<cg { offs[c] = c * ld }
            let offsets = UnsafePointer(offs.baseAddress!)
            for gi in 0..<g {
                let uPacked: UnsafePointer<Float>
                if let packedWeights {
                    uPacked = packedWeights + gi * 16 * per
                } else {
                    winogradPackWeights(s, group: gi, weight: weight, u: u, into: packed, pool: pool)
                    uPacked = UnsafePointer(packed)
                }
                /// Input channel c's tiles of chunk q into v (V_0's row c).
                func input(_ q: Int, _ c: Int, _ v: UnsafeMutablePointer<Float>, _ planes: UnsafeMutablePointer<Float>) {
                    plan.forEachSegment(q, batch: s.batch) { image, th0, th1, t0 in
                        let src = x + (image * s.inChannels + gi * cg + c) * s.inHeight * s.inWidth
                        // Padded rows 2·th0 … of the image: input rows from 2·th0 − padTop.
                        let first = 2 * th0 - s.padTop
                        let skip = min(max(first, 0), s.inHeight)
                        let geo = WinogradPlan.phaseGeometry(s, tW: plan.tW, rows: th1 - th0,
                                                             inHeight: s.inHeight - skip, padTop: max(-first, 0))
                        fillPhases(src + skip * s.inWidth, inH: s.inHeight - skip, inW: s.inWidth, s: geo.shape,
                                   pw: geo.pw, ph: geo.ph, phasePlane: geo.plane, into: planes)
                        winogradInputTiles(planes, odd: planes + geo.plane, pw: geo.pw, rows: th1 - th0,
                                           tW: plan.tW, v: v + t0, xiStride: plan.vStride(cg))
                    }
                }
                /// Output channel o's tiles of chunk q from m (M_0's row o) into y, then the epilogue.
                func output(_ q: Int, _ o: Int, _ m: UnsafePointer<Float>, _ rowsBuf: UnsafeMutablePointer<Float>) {
                    let oc = gi * mg + o
                    plan.forEachSegment(q, batch: s.batch) { image, th0, th1, t0 in
                        let plane = y + s.outPlane(image, oc)
                        winogradOutputTiles(m + t0, xiStride: plan.mStride(mg), th0: th0, th1: th1, tW: plan.tW,
                                            s: s, y: plane, rows: rowsBuf)
                        if !ops.isEmpty {
                            let r0 = 2 * th0, r1 = min(2 * th1, s.outHeight)
                            EpilogueApply.applyRows(c: plane + r0 * outW, ldc: p, rows: 0..<1, cols: 0..<((r1 - r0) * outW),
                                                    bias: bias.map { $0 + oc }, ops: ops)
                        }
                    }
                }
                func gemm(_ xi: Int, _ v: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ tiles: Int) {
                    Gemm.sgemmPacked(m: mg, n: tiles, k: cg, alpha: 1, packedA: uPacked + xi * per,
                                     b: .direct(Gemm.DirectB(base: v + xi * plan.vStride(cg), offsets: offsets)),
                                     beta: 0, c: m + xi * plan.mStride(mg), ldc: ld, pool: pool)
                }
                func tiles(_ q: Int) -> Int { (min(s.batch * plan.tH, (q + 1) * plan.rows) - q * plan.rows) * plan.tW }
                if whole {
                    pool.dynamicFor(plan.chunks) { q in
                        let v = winogradStorage.get(plan.vCount(cg) + plan.mCount(mg) + plan.planes + plan.outRows)
                        let m = v + plan.vCount(cg), planes = m + plan.mCount(mg), rowsBuf = planes + plan.planes
                        for c in 0..<cg { input(q, c, v + c * ld, planes) }
                        for xi in 0..<16 { gemm(xi, v, m, tiles(q)) }
                        for o in 0..<mg { output(q, o, m + o * ld, rowsBuf) }
                    }
                } else {
                    let v = shared, m = shared + plan.vCount(cg)
                    for q in 0..<plan.chunks {
                        pool.parallelFor(cg) { r in
                            let planes = winogradStorage.get(plan.planes)
                            for c in r { input(q, c, v + c * ld, planes) }
                        }
                        pool.dynamicFor(16) { xi in gemm(xi, v, m, tiles(q)) }
                        pool.parallelFor(mg) { r in
                            let rowsBuf = winogradStorage.get(plan.outRows)
                            for o in r { output(q, o, m + o * ld, rowsBuf) }
                        }
                    }
                }
            }
        }
    }

    /// V = Bᵀ·d·B for `rows` tile rows of one image and channel: `even` and `odd` hold the
    /// padded input's even and odd columns (`fillPhases`, rows of `pw`, from the first tile
    /// row's first padded row); element ξ of tile (th, tw) goes to v[ξ·xiStride + th·tW + tw].
    /// Tiles are written 16 at a time in increasing order; lanes past a tile row land on tiles
    /// rewritten after them, or past the chunk's last tile (`ld` has room).
    @inline(__always)
    static func winogradInputTiles(_ even: UnsafePointer<Float>, odd: UnsafePointer<Float>, pw: Int, rows: Int, tW: Int,
                                   v: UnsafeMutablePointer<Float>, xiStride: Int) {
        for th in 0..<rows {
            var tw0 = 0
            while tw0 < tW {
                let t = th * tW + tw0
                // Row transform (·B) of the patch's four rows.
                var a = (V16(), V16(), V16(), V16(), V16(), V16(), V16(), V16(),
                         V16(), V16(), V16(), V16(), V16(), V16(), V16(), V16())
                withUnsafeMutableBytes(of: &a) { raw in
                    let r = raw.baseAddress!.assumingMemoryBound(to: V16.self)
                    for i in 0..<4 {
                        let e = even + (2 * th + i) * pw + tw0, o = odd + (2 * th + i) * pw + tw0
                        let x0 = load16(e), x1 = load16(o), x2 = load16(e + 1), x3 = load16(o + 1)
                        r[4 * i] = x0 - x2
                        r[4 * i + 1] = x1 + x2
                        r[4 * i + 2] = x2 - x1
                        r[4 * i + 3] = x1 - x3
                    }
                    // Column transform (Bᵀ·) and store.
                    for j in 0..<4 {
                        let a0 = r[j], a1 = r[4 + j], a2 = r[8 + j], a3 = r[12 + j]
                        store16(a0 - a2, v + j * xiStride + t)
                        store16(a1 + a2, v + (4 + j) * xiStride + t)
                        store16(a2 - a1, v + (8 + j) * xiStride + t)
                        store16(a1 - a3, v + (12 + j) * xiStride + t)
                    }
                }
                tw0 += 16
            }
        }
    }

    /// Y = Aᵀ·M·A for tile rows th0 ..< th1 of one image and output channel, from
    /// m[ξ·xiStride + (th − th0)·tW + tw], into its plane `y` (outH × outW). Each tile row's two
    /// output rows are written in whole interleaved vectors into `rows` (2 × (2·tW + 32)
    /// floats), then copied.
    @inline(__always)
    static func winogradOutputTiles(_ m: UnsafePointer<Float>, xiStride: Int, th0: Int, th1: Int, tW: Int,
                                    s: Conv2DShape, y: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
        let outH = s.outHeight, outW = s.outWidth
        let row1 = rows + 2 * tW + 32
        for th in th0..<th1 {
            var tw0 = 0
            while tw0 < tW {
                let t = (th - th0) * tW + tw0
                // Column combine (·A) per row i, then row combine (Aᵀ·).
                var c0 = (V16(), V16(), V16(), V16()), c1 = (V16(), V16(), V16(), V16())
                withUnsafeMutableBytes(of: &c0) { r0 in
                    withUnsafeMutableBytes(of: &c1) { r1 in
                        let q0 = r0.baseAddress!.assumingMemoryBound(to: V16.self)
                        let q1 = r1.baseAddress!.assumingMemoryBound(to: V16.self)
                        for i in 0..<4 {
                            let m0 = load16(m + (4 * i) * xiStride + t), m1 = load16(m + (4 * i + 1) * xiStride + t)
                            let m2 = load16(m + (4 * i + 2) * xiStride + t), m3 = load16(m + (4 * i + 3) * xiStride + t)
                            q0[i] = m0 + m1 + m2
                            q1[i] = m1 - m2 - m3
                        }
                    }
                }
                let y00 = c0.0 + c0.1 + c0.2, y10 = c0.1 - c0.2 - c0.3
                let y01 = c1.0 + c1.1 + c1.2, y11 = c1.1 - c1.2 - c1.3
                store16(interleaveLow(y00, y01), rows + 2 * tw0)
                store16(interleaveHigh(y00, y01), rows + 2 * tw0 + 16)
                store16(interleaveLow(y10, y11), row1 + 2 * tw0)
                store16(interleaveHigh(y10, y11), row1 + 2 * tw0 + 16)
                tw0 += 16
            }
            let oh = 2 * th
            Im2Col.copy(y + oh * outW, rows, outW)
            if oh + 1 < outH { Im2Col.copy(y + (oh + 1) * outW, row1, outW) }
        }
    }
}

