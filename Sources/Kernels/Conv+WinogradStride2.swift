// Conv+WinogradStride2: 4×4 stride-2 convolutions and transposed convolutions (the layers of
// DCGAN and pix2pix, and the input gradients of each other) by Winograd's minimal filtering
// F(2×2, 2×2) on their stride phases: the GEMMs do 9/16 of the direct GEMM's multiply-adds.
//
// Both are sums of 2×2 stride-1 correlations:
// - Conv: with xp the padded input and P_pq[u][v] = xp[2u + p][2v + q] its four stride phases,
//   y[o][i][j] = Σ_c Σ_{p,q} Σ_{a,b} w[o][c][2a + p][2b + q] · P_pq[i + a][j + b], a 2×2
//   correlation over 4·cg channels k = 4c + 2p + q.
// - ConvTranspose (ONNX: input m, tap k land on output 2m − pad + k), per axis: with x1 the input
//   padded by one in front, an output of parity e is y[2u + e] = Σ_a x1[u + δ + a] · w[r + 2 − 2a],
//   r = (e + pad) mod 2, δ = ⌊(e + pad)/2⌋; so four 2×2 correlations over cg channels, one per
//   output parity pair (e_h, e_w), each with its own 2×2 taps of every (c, o) kernel.
// F(2, 2): Bᵀ = [1 −1 0; 0 1 0; 0 −1 1], G = [1 0; 1 1; 0 1], Aᵀ = [1 1 0; 0 1 1] (only
// additions and subtractions, no rounding in G). A 2×2 output tile is Aᵀ·[Σ_k (G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A
// with g the 2×2 taps and d the 3×3 patch; element ξ = 3i + j of the 3×3 products.
//
// Contract: `Conv2D.isWinogradS2(s)` / `ConvTranspose2D.isWinogradS2(s)` select the shapes
// (4×4 kernel, stride 2, dilation 1, at least `minChannels` input and output channels per group,
// enough channels and tiles that it pays, `WinogradS2.pays`; ConvTranspose with pads 0–2 in
// front); the forwards compute what `Conv2D.forward` / `ConvTranspose2D.forward` promise, to float
// rounding of the direct sum (not the GEMM paths' bits), with the same bits for any thread count.
// Per group and chunk (a run of tile rows of the batch: 32–256 tiles, whole 32-column GEMM
// panels where the tile rows allow, `WinogradS2Plan`):
//  1. U = G·g·Gᵀ for every product (9 for Conv, 4 × 9 for ConvTranspose): mg × kRows matrices,
//     packed as GEMM A panels (once, for constant weights: `packWeights`).
//  2. Each input channel's rows are split into stride phases (`fillPhases`: Conv's row stride 2
//     and column stride 4, so the three columns of 16 neighbouring tiles are three vectors;
//     ConvTranspose's even and odd columns of x1), and V = Bᵀ·d·B goes to V_ξ[k][t].
//  3. M_ξ = U_ξ·V_ξ (the GEMM reads V where it lies, `Gemm.DirectB`).
//  4. Y = Aᵀ·M·A per tile into y (Conv: 2×2 outputs; ConvTranspose: the four parities' tiles make
//     a 4×4 block, interleaved in registers), then the bias and epilogue on finished rows.
// Threads as in Conv+Winograd.swift: whole chunks per thread with two or more chunks per thread,
// else each phase shared. A tile's value does not depend on its chunk or its thread.

import CSIMD

/// Tiles, chunks and buffer strides of one F(2×2, 2×2) run.
struct WinogradS2Plan {
    /// Tile rows and columns per image, tile rows per chunk, chunks, tiles per chunk (at most).
    let tH: Int, tW: Int, rows: Int, chunks: Int, tiles: Int
    /// GEMM depth (rows of each V_ξ), output channels (rows of each M_ξ), products (V_ξ and M_ξ
    /// pairs: 9 per output parity).
    let kRows: Int, mg: Int, products: Int
    /// Floats per row of V_ξ and M_ξ (as Conv+Winograd.swift's `ld`).
    let ld: Int
    /// Floats per stride-phase plane, phase planes per input channel, plane row length; floats of
    /// the output row buffer.
    let phasePlane: Int, phases: Int, pw: Int, outRows: Int
    /// Plane rows per tile row when the chunk's tile rows are stacked across images
    /// (`WinogradS2.fillStacked`: where a vector of 16 tiles spans more tile rows than an image
    /// has), else 0 (each image's rows on their own).
    let pitch: Int

    /// `stackPitch`: the plane rows one tile row reads (its patches' rows in each phase plane).
    /// `stacked`: stack the tile rows when they are short enough.
    init(batch: Int, tH: Int, tW: Int, kRows: Int, mg: Int, products: Int, phases: Int,
         planeRows: (Int) -> Int, stackPitch: Int, stacked: Bool, outRows: Int) {
        self.tH = tH; self.tW = tW; self.kRows = kRows; self.mg = mg; self.products = products
        // Tiles per chunk (batch 64 or 8, 1 thread, chunks of 16–512 tiles): planes of 2–4 tile
        // columns ran fastest with 256 (ConvTranspose 1024 → 512 on 4², 512 → 256 on 8², Conv
        // 256 → 512 to 8²: 32 tiles ran 8–14% slower); wider ones with V and M near 4 MB (Conv
        // 128 → 256 to 16²: 32–64 tiles 10–15% faster than 256; ConvTranspose 256 → 128 on 16²:
        // 32 tiles 25% faster than 256).
        let target = tW <= 4 ? WinogradS2.maxTiles
            : min(WinogradS2.maxTiles, max(WinogradS2.minTiles, WinogradS2.footprintFloats / (products * (kRows + mg))))
        // Whole GEMM column panels: tiles a multiple of 32 where 32/gcd(tW, 32) rows come near
        // the target (ConvTranspose 256 → 128 on 16², tW = 8: 48 or 72 tiles ran 1.3–1.5× slower
        // than 64, the GEMM's last panel of 32 columns half or three quarters empty).
        let unit = 32 / gcd(tW, 32)
        var r = max(1, target / tW)
        if r >= unit { r = r / unit * unit } else if unit * tW <= 2 * target { r = unit }
        rows = max(1, min(r, batch * tH))
        chunks = (batch * tH + rows - 1) / rows
        tiles = rows * tW
        ld = (tiles + 32 + 31) / 32 * 32 + 16
        pw = tW + 1
        pitch = stacked && WinogradS2.rowsPerVector(tW) > tH ? stackPitch : 0
        // 16 rows of slack: a vector of packed tile rows (`WinogradS2.gather`) reads up to 14
        // rows past the chunk's last (stacked: up to 7 tile rows of `pitch` rows).
        phasePlane = pitch > 0 ? (rows + 8) * pitch * pw + 32 : (planeRows(rows) + 16) * pw + 32
        self.phases = phases
        self.outRows = outRows
    }

    func vStride() -> Int { (kRows * ld + 1023) / 1024 * 1024 + 64 }
    func mStride() -> Int { (mg * ld + 1023) / 1024 * 1024 + 64 }
    var vCount: Int { products * vStride() }
    var mCount: Int { products * mStride() }
    /// Floats of one thread's buffers for a whole chunk: V, M, phase planes, output rows.
    var wholeCount: Int { vCount + mCount + phases * phasePlane + outRows }
    func tilesOf(_ q: Int, batch: Int) -> Int { (min(batch * tH, (q + 1) * rows) - q * rows) * tW }

    /// Floats of one group's packed U.
    var groupPackedCount: Int { products * Gemm.packedACount(m: mg, k: kRows) }

    /// `Conv2D.forEachTileSegment` over chunk q's tile rows.
    @inline(__always)
    func forEachSegment(_ q: Int, batch: Int, _ body: (_ image: Int, _ th0: Int, _ th1: Int, _ t0: Int) -> Void) {
        Conv2D.forEachTileSegment(q, rows: rows, tH: tH, tW: tW, batch: batch, body)
    }
}

enum WinogradS2 {
    /// Fewest input and output channels per group.
    static let minChannels = 16
    /// Fewest tiles in all (batch × tiles per image): U holds 9/4 of the weights' floats, read
    /// once per GEMM column panel, so with few tiles the layer is bound by reading U (batch 1:
    /// DCGAN's 1024 → 512 ConvTranspose on 4², 4 tiles, ran 2.4× slower than the GEMM path).
    static let minTilesInAll = 64

    /// Whether F(2×2, 2×2) beats the GEMM paths on a shape with GEMM depth `depth`, `mg` output
    /// channels, `tW` tiles per tile row and `tiles` in all. The transforms cost about
    /// depth + mg per tile against depth·mg multiply-adds, so h = depth·mg/(depth + mg) decides,
    /// and short tile rows waste more. Batch 64, 1 thread (ms, GEMM paths → Winograd):
    /// ConvTranspose 1024 → 512 on 4² (h 341, tW 2) 167 → 134; 256 → 128 on 4² (h 85, tW 2)
    /// 11.9 → 16.8; 128 → 64 on 8² (h 43, tW 4) 11.6–11.8 → 11.1–12.3; 128 → 64 on 7² (h 43, tW 4,
    /// mnist_gan's generator) 10.2 → 11.4–11.9; 64 → 32 on 16² (h 21, tW 8) 10.6 → 12.3;
    /// 128 → 64 on 64², batch 8 (h 43, tW 32) 90 → 60. Conv 64 → 128 to 8² (h 85, tW 4) 11.8 → 8.9.
    static func pays(depth: Int, mg: Int, tW: Int, tiles: Int) -> Bool {
        let h = transformBalance(depth, mg)
        return tiles >= minTilesInAll && tW >= 2 && h >= minBalance && (tW >= 8 || h >= 64) && (tW >= 4 || h >= 128)
    }

    /// h = a·b/(a + b) for a GEMM whose transforms cost about a + b per k step against a·b
    /// multiply-adds (`pays`; the weight gradient's rule, Conv+WinogradWeightGrad.swift).
    static func transformBalance(_ a: Int, _ b: Int) -> Int { a * b / (a + b) }
    /// The least h at which F(2×2, 2×2) pays at all.
    static let minBalance = 32
    /// Tiles per chunk at least and at most, and the floats a chunk's V and M should take at
    /// most (`WinogradS2Plan`).
    static let minTiles = 32, maxTiles = 256, footprintFloats = 1 << 20

    /// Per-thread buffers of the chunks run whole on one thread.
    static let storage = ThreadBuffer(minimum: 0)

    /// Floats of scratch a run needs: one group's packed U, one chunk's V and M.
    static func scratch(_ plan: WinogradS2Plan) -> Int {
        plan.groupPackedCount + plan.vCount + plan.mCount
    }

    /// U = G·g·Gᵀ of one 2×2 tap set g = (g00, g01, g10, g11), element ξ = 3i + j at u[ξ·stride].
    @inline(__always)
    static func transformTaps(_ g00: Float, _ g01: Float, _ g10: Float, _ g11: Float,
                              into u: UnsafeMutablePointer<Float>, stride: Int) {
        @inline(__always) func row(_ i: Int, _ a: Float, _ b: Float) {
            u[(3 * i) * stride] = a
            u[(3 * i + 1) * stride] = a + b
            u[(3 * i + 2) * stride] = b
        }
        row(0, g00, g01)
        row(1, g00 + g10, g01 + g11)
        row(2, g10, g11)
    }

    /// U = G·g·Gᵀ of every output parity e < products / 9, row o < mg and depth k < kRows, with
    /// g = taps(e, o, k), written into `Gemm.packA`'s layout (product e·9 + ξ's panels at
    /// dst + (e·9 + ξ)·packedACount): per K block of `Gemm.kcBlock`, MR-high panels holding MR rows
    /// per k, zero past the last row. Runs of 16 k of one panel are transformed into a small
    /// buffer, then each product's run (contiguous in the packed layout) is copied out: storing
    /// every product's value directly hit 36 streams 4 KiB-aliased into one L1 set. Panels are
    /// split over the pool. `tapsAt(o, k)`, where given: an address in the cache line of
    /// taps(·, o, k), which is prefetched a run ahead, for taps whose consecutive k lie far apart
    /// (ConvTranspose's weights, (cin, cout, 4, 4)): a large layer's weights come from L3 or
    /// memory, and waiting for those loads took half the pack's time (1024 → 512, k 32 KiB
    /// apart). Conv's weights, (cout, cin, 4, 4), are read in order, and prefetching them made
    /// the pack slower.
    @inline(__always)
    static func packTransformed(_ plan: WinogradS2Plan, into dst: UnsafeMutablePointer<Float>, pool: ThreadPool,
                                tapsAt: ((_ o: Int, _ k: Int) -> UnsafeRawPointer)? = nil,
                                taps: (_ e: Int, _ o: Int, _ k: Int) -> (Float, Float, Float, Float)) {
        let mg = plan.mg, kRows = plan.kRows, products = plan.products, parities = products / 9
        let mr = Gemm.mr, kcBlock = Gemm.kcBlock, kStep = 16, run = mr * kStep
        let per = Gemm.packedACount(m: mg, k: kRows), mPad = per / max(kRows, 1)
        func body(_ r: Range<Int>) {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: products * run) { buf in
                let tmp = buf.baseAddress!
                let runs = (kRows + kStep - 1) / kStep
                let steps = r.count * runs
                @inline(__always) func start(_ step: Int) -> (i0: Int, k0: Int) {
                    ((r.lowerBound + step / runs) * mr, step % runs * kStep)
                }
                for step in 0..<steps {
                    let (i0, k0) = start(step)
                    let next = start(min(step + 1, steps - 1))
                    // kcBlock is a multiple of kStep: a run never crosses a K block.
                    let kn = min(kStep, kRows - k0)
                    for kk in 0..<kn {
                        if let tapsAt, next.k0 + kk < kRows {
                            for i in 0..<min(mr, mg - next.i0) { gannet_prefetch(tapsAt(next.i0 + i, next.k0 + kk)) }
                        }
                        for i in 0..<mr {
                            let o = i0 + i
                            for e in 0..<parities {
                                let u = tmp + 9 * e * run + kk * mr + i
                                if o < mg {
                                    let g = taps(e, o, k0 + kk)
                                    transformTaps(g.0, g.1, g.2, g.3, into: u, stride: run)
                                } else {
                                    for xi in 0..<9 { u[xi * run] = 0 }
                                }
                            }
                        }
                    }
                    let pc = k0 / kcBlock * kcBlock, kc = min(kcBlock, kRows - pc)
                    let base = dst + pc * mPad + i0 * kc + (k0 - pc) * mr
                    for xi in 0..<products { Im2Col.copy(base + xi * per, tmp + xi * run, kn * mr) }
                }
            }
        }
        let panels = mPad / mr
        if mg * kRows < 4096 { body(0..<panels) } else { pool.parallelFor(panels) { body($0) } }
    }

    /// Tile rows one vector of 16 tiles spans: 16/tW for tW = 2, 4, 8 (the vector holds tW tiles
    /// of each of those rows, see `gather`), else 1 (16 tiles of one row; lanes past its end
    /// are wasted).
    @inline(__always)
    static func rowsPerVector(_ tW: Int) -> Int { tW == 2 || tW == 4 || tW == 8 ? 16 / tW : 1 }

    /// 16 floats: p[0 ..< 16] when `rowsPerVector(tW)` is 1, else tW floats from each of
    /// p, p + rowStep, p + 2·rowStep, … (16/tW pieces).
    @inline(__always)
    static func gather(_ p: UnsafePointer<Float>, rowStep: Int, tW: Int) -> V16 {
        typealias V8 = SIMD8<Float>
        typealias V4 = SIMD4<Float>
        typealias V2 = SIMD2<Float>
        @inline(__always) func load<T: SIMD>(_ q: UnsafePointer<Float>, _: T.Type) -> T {
            UnsafeRawPointer(q).loadUnaligned(as: T.self)
        }
        switch tW {
        case 8:
            return V16(lowHalf: load(p, V8.self), highHalf: load(p + rowStep, V8.self))
        case 4:
            return V16(lowHalf: V8(lowHalf: load(p, V4.self), highHalf: load(p + rowStep, V4.self)),
                       highHalf: V8(lowHalf: load(p + 2 * rowStep, V4.self), highHalf: load(p + 3 * rowStep, V4.self)))
        case 2:
            @inline(__always) func four(_ q: UnsafePointer<Float>) -> V8 {
                V8(lowHalf: V4(lowHalf: load(q, V2.self), highHalf: load(q + rowStep, V2.self)),
                   highHalf: V4(lowHalf: load(q + 2 * rowStep, V2.self), highHalf: load(q + 3 * rowStep, V2.self)))
            }
            return V16(lowHalf: four(p), highHalf: four(p + 4 * rowStep))
        default:
            return load16(p)
        }
    }

    /// V = Bᵀ·d·B for `rows` tile rows of one channel: column s ∈ 0..<3 of tile (th, tw)'s patch
    /// row i is cS[th·pitch + i·pw + tw] (pitch: floats from one tile row's patches to the next's,
    /// 2·pw in an image's phase planes); element ξ goes to v[ξ·xiStride + th·tW + tw]. Tiles are
    /// written 16 at a time in increasing order (`rowsPerVector` tile rows at a time where tW
    /// divides 16); lanes past the last tile land on tiles rewritten after them, or past the
    /// chunk's last tile (`ld` has room), and read up to 14 rows past `rows` (the planes' slack).
    @inline(__always)
    static func inputTiles(_ c0: UnsafePointer<Float>, _ c1: UnsafePointer<Float>, _ c2: UnsafePointer<Float>,
                           pw: Int, pitch: Int, rows: Int, tW: Int, v: UnsafeMutablePointer<Float>, xiStride: Int) {
        let step = rowsPerVector(tW)
        var th = 0
        while th < rows {
            var tw0 = 0
            while tw0 < tW {
                let t = th * tW + tw0
                @inline(__always) func row(_ i: Int) -> (V16, V16, V16) {
                    let o = th * pitch + i * pw + tw0
                    let d0 = gather(c0 + o, rowStep: pitch, tW: tW), d1 = gather(c1 + o, rowStep: pitch, tW: tW)
                    let d2 = gather(c2 + o, rowStep: pitch, tW: tW)
                    return (d0 - d1, d1, d2 - d1)
                }
                let a = row(0), b = row(1), c = row(2)
                store16(a.0 - b.0, v + t)
                store16(a.1 - b.1, v + xiStride + t)
                store16(a.2 - b.2, v + 2 * xiStride + t)
                store16(b.0, v + 3 * xiStride + t)
                store16(b.1, v + 4 * xiStride + t)
                store16(b.2, v + 5 * xiStride + t)
                store16(c.0 - b.0, v + 6 * xiStride + t)
                store16(c.1 - b.1, v + 7 * xiStride + t)
                store16(c.2 - b.2, v + 8 * xiStride + t)
                tw0 += 16
            }
            th += step
        }
    }

    /// Stacked phase planes of one input channel for chunk q (`WinogradS2Plan.pitch` > 0). Image
    /// by image, an image of fewer tile rows than a vector spans wrote its phase planes and then
    /// vectors mostly past its last tile row (recomputed by the next image): ConvTranspose
    /// 1024 → 512 on 4² (2 × 2 tiles an image) spent as long transforming its input as in its
    /// GEMMs (batch 64, 1 thread: 155–163 ms image by image, 119–120 stacked). Where an image
    /// fills whole vectors, stacking copies more rows than it saves (512 → 256 on 8²: 98 → 104).
    /// The chunk's tile row r, tile row th of image `image`, gets rows r·pitch ..< (r + 1)·pitch of
    /// each of the `phases` planes, plane f's row u holding input row
    /// rowA·th + rowOf(f) + rowU·u − padTop of `channel(image)` (inH × inW) at columns
    /// colA·o + colOf(f) − padLeft, o < pw, zeros outside the input. So tile rows lie
    /// pitch·pw floats apart across images, and `inputTiles` covers the chunk in one call, its
    /// vectors spanning images. The `rowsPerVector(tW)` tile rows after the chunk's last, which
    /// those vectors read, are zeroed.
    @inline(__always)
    static func fillStacked(_ plan: WinogradS2Plan, q: Int, batch: Int, channel: (_ image: Int) -> UnsafePointer<Float>,
                            inH: Int, inW: Int, rowA: Int, rowU: Int, padTop: Int, colA: Int, padLeft: Int,
                            rowOf: (_ f: Int) -> Int, colOf: (_ f: Int) -> Int, into planes: UnsafeMutablePointer<Float>) {
        let r0 = q * plan.rows
        fillStacked(firstRow: r0, rows: min(batch * plan.tH, r0 + plan.rows) - r0, tH: plan.tH, tW: plan.tW, pitch: plan.pitch,
                    pw: plan.pw, phases: plan.phases, phasePlane: plan.phasePlane, channel: channel, inH: inH, inW: inW,
                    rowA: rowA, rowU: rowU, padTop: padTop, colA: colA, padLeft: padLeft, rowOf: rowOf, colOf: colOf,
                    into: planes)
    }

    /// `fillStacked` of tile rows r0 ..< r0 + n (tile row r: tile row r mod tH of image r / tH),
    /// `phases` planes `phasePlane` floats apart, for callers without a `WinogradS2Plan` (the
    /// weight gradient's kernel blocks, Conv+WinogradWeightGrad.swift).
    @inline(__always)
    static func fillStacked(firstRow r0: Int, rows n: Int, tH: Int, tW: Int, pitch: Int, pw: Int, phases: Int, phasePlane: Int,
                            channel: (_ image: Int) -> UnsafePointer<Float>,
                            inH: Int, inW: Int, rowA: Int, rowU: Int, padTop: Int, colA: Int, padLeft: Int,
                            rowOf: (_ f: Int) -> Int, colOf: (_ f: Int) -> Int, into planes: UnsafeMutablePointer<Float>) {
        for f in 0..<phases {
            let dst = planes + f * phasePlane
            let ro = rowOf(f) - padTop, co = colOf(f) - padLeft
            // Columns o with 0 ≤ colA·o + co < inW: lo ..< hi.
            let lo = co >= 0 ? 0 : min(pw, (colA - 1 - co) / colA)
            let hi = max(lo, min(pw, inW - co <= 0 ? 0 : (inW - co + colA - 1) / colA))
            var image = r0 / tH, th = r0 % tH
            for r in 0..<n {
                let src = channel(image)
                for u in 0..<pitch {
                    let row = dst + (r * pitch + u) * pw
                    let ih = rowA * th + ro + rowU * u
                    if ih < 0 || ih >= inH {
                        for o in 0..<pw { row[o] = 0 }
                        continue
                    }
                    let srow = src + ih * inW + co
                    for o in 0..<lo { row[o] = 0 }
                    for o in lo..<hi { row[o] = srow[colA * o] }
                    for o in hi..<pw { row[o] = 0 }
                }
                th += 1
                if th == tH { th = 0; image += 1 }
            }
            Im2Col.zero(dst + n * pitch * pw, rowsPerVector(tW) * pitch * pw + 16)
        }
    }

    /// `fillStacked` for a Conv's 8 stride phases (row stride 2, column stride 4; phase f = 4·ry + rx):
    /// tile row th's patch row u is padded row 4·th + ry + 2u, column o of phase f padded column 4·o + rx.
    @inline(__always)
    static func fillStackedConv(firstRow r0: Int, rows n: Int, tH: Int, tW: Int, pitch: Int, pw: Int, phasePlane: Int,
                                channel: (_ image: Int) -> UnsafePointer<Float>, inH: Int, inW: Int, padTop: Int, padLeft: Int,
                                into planes: UnsafeMutablePointer<Float>) {
        fillStacked(firstRow: r0, rows: n, tH: tH, tW: tW, pitch: pitch, pw: pw, phases: 8, phasePlane: phasePlane, channel: channel,
                    inH: inH, inW: inW, rowA: 4, rowU: 2, padTop: padTop, colA: 4, padLeft: padLeft,
                    rowOf: { $0 / 4 }, colOf: { $0 % 4 }, into: planes)
    }

    /// V of a Conv's four stride phase pairs pq = 2p + q from its 8 phase planes (`fillPhases` with
    /// strides 2 and 4, or `fillStackedConv`): pair pq's patch columns 0 and 2 are phase (p, q)'s,
    /// its column 1 phase (p, q + 2)'s; `rows` tile rows `pitch` floats apart, into `v(pq)`.
    @inline(__always)
    static func convPhaseTiles(_ planes: UnsafeMutablePointer<Float>, phasePlane: Int, pw: Int, pitch: Int, rows: Int, tW: Int,
                               xiStride: Int, v: (_ pq: Int) -> UnsafeMutablePointer<Float>) {
        for pq in 0..<4 {
            let a = planes + ((pq / 2) * 4 + pq % 2) * phasePlane
            inputTiles(a, a + 2 * phasePlane, a + 1, pw: pw, pitch: pitch, rows: rows, tW: tW, v: v(pq), xiStride: xiStride)
        }
    }

    /// Y = Aᵀ·M·A for 16 tiles from m[ξ·xiStride]: (y00, y01, y10, y11), y_ab the output at
    /// row a, column b of each tile.
    @inline(__always)
    static func outputTile(_ m: UnsafePointer<Float>, xiStride: Int) -> (V16, V16, V16, V16) {
        @inline(__always) func cols(_ i: Int) -> (V16, V16) {
            let m0 = load16(m + 3 * i * xiStride), m1 = load16(m + (3 * i + 1) * xiStride)
            let m2 = load16(m + (3 * i + 2) * xiStride)
            return (m0 + m1, m1 + m2)
        }
        let r0 = cols(0), r1 = cols(1), r2 = cols(2)
        return (r0.0 + r1.0, r0.1 + r1.1, r1.0 + r2.0, r1.1 + r2.1)
    }

    /// `dst` after `pack(dst)`: a group's U packed for this call.
    @inline(__always)
    static func packed(into dst: UnsafeMutablePointer<Float>, _ pack: (UnsafeMutablePointer<Float>) -> Void) -> UnsafePointer<Float> {
        pack(dst)
        return UnsafePointer(dst)
    }

    /// `Conv2D.fillPhases` of one channel's plane `src` (inH × inW) from padded row `firstRow`
    /// (input row firstRow; negative: rows of zeros first), `ph` rows of each of the
    /// strideH × strideW phase planes (`phasePlane` floats apart). Past the rows only the slack
    /// that `inputTiles` over these rows reads is zeroed (16 rows and 32 floats, as the plan's
    /// planes have past a whole chunk), not the rest of a plane sized for a chunk: one image's
    /// segment of mnist_gan's 64 → 128 layer on 14² fills 9 of 145 rows, and zeroing the other
    /// 136 took 8% of the layer.
    @inline(__always)
    static func fillPhases(_ src: UnsafePointer<Float>, inH: Int, inW: Int, firstRow: Int, strideH: Int, strideW: Int,
                           padLeft: Int, pw: Int, ph: Int, phasePlane: Int, into planes: UnsafeMutablePointer<Float>) {
        let skip = min(max(firstRow, 0), inH)
        let geo = Conv2DShape(batch: 1, inChannels: 1, inHeight: inH - skip, inWidth: inW, outChannels: 1, outHeight: 1,
                              outWidth: 1, kernelH: 4, kernelW: 4, strideH: strideH, strideW: strideW,
                              padTop: max(-firstRow, 0), padLeft: padLeft)
        let filled = Baseline.winogradS2WholePlanes ? phasePlane : min(phasePlane, (ph + 16) * pw + 32)
        Conv2D.fillPhases(src + skip * inW, inH: inH - skip, inW: inW, s: geo, pw: pw, ph: ph, phasePlane: phasePlane,
                          filled: filled, into: planes)
    }

    /// Runs chunks: `input(q, c, v, planes)` writes input channel c's V rows of chunk q (V at
    /// `v`, `planes` its phase-plane buffer); the GEMMs M_ξ = U_ξ·V_ξ for every product; then
    /// `output(q, o, m, rows)` writes output channel o's outputs of chunk q (M at `m`, `rows` its
    /// output-row buffer). `packedU`: the group's `products` packed U matrices. `shared`:
    /// `plan.vCount + plan.mCount` floats for the chunks whose phases are shared.
    static func run(_ plan: WinogradS2Plan, batch: Int, inputChannels: Int, packedU: UnsafePointer<Float>,
                    shared: UnsafeMutablePointer<Float>, pool: ThreadPool,
                    input: (_ q: Int, _ c: Int, _ v: UnsafeMutablePointer<Float>, _ planes: UnsafeMutablePointer<Float>) -> Void,
                    output: (_ q: Int, _ o: Int, _ m: UnsafePointer<Float>, _ rows: UnsafeMutablePointer<Float>) -> Void) {
        let per = Gemm.packedACount(m: plan.mg, k: plan.kRows)
        let vStride = plan.vStride(), mStride = plan.mStride(), ld = plan.ld
        let planeFloats = plan.phases * plan.phasePlane
        let whole = pool.sharingThreads == 1 || plan.chunks >= 2 * pool.sharingThreads
        withUnsafeTemporaryAllocation(of: Int.self, capacity: plan.kRows) { offs in
            for k in 0..<plan.kRows { offs[k] = k * ld }
            let offsets = UnsafePointer(offs.baseAddress!)
            func gemm(_ xi: Int, _ v: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ tiles: Int) {
                Gemm.sgemmPacked(m: plan.mg, n: tiles, k: plan.kRows, alpha: 1, packedA: packedU + xi * per,
                                 b: .direct(Gemm.DirectB(base: v + xi * vStride, offsets: offsets)),
                                 beta: 0, c: m + xi * mStride, ldc: ld, pool: pool)
            }
            if whole {
                pool.dynamicFor(plan.chunks) { q in
                    let v = storage.get(plan.wholeCount)
                    let m = v + plan.vCount, planes = m + plan.mCount, rowsBuf = planes + planeFloats
                    for c in 0..<inputChannels { input(q, c, v, planes) }
                    for xi in 0..<plan.products { gemm(xi, v, m, plan.tilesOf(q, batch: batch)) }
                    for o in 0..<plan.mg { output(q, o, m, rowsBuf) }
                }
            } else {
                let v = shared, m = shared + plan.vCount
                for q in 0..<plan.chunks {
                    pool.parallelFor(inputChannels) { r in
                        let planes = storage.get(planeFloats)
                        for c in r { input(q, c, v, planes) }
                    }
                    pool.dynamicFor(plan.products) { xi in gemm(xi, v, m, plan.tilesOf(q, batch: batch)) }
                    pool.parallelFor(plan.mg) { r in
                        let rowsBuf = storage.get(plan.outRows)
                        for o in r { output(q, o, m, rowsBuf) }
                    }
                }
            }
        }
    }
}

// MARK: - Conv 4×4 stride 2

extension Conv2D {
    /// The shape runs `forwardWinogradS2` (see the file header).
    public static func isWinogradS2(_ s: Conv2DShape) -> Bool {
        let cg = s.inChannels / s.group, mg = s.outChannels / s.group
        return !Baseline.noWinogradS2 && s.kernelH == 4 && s.kernelW == 4 && s.strideH == 2 && s.strideW == 2
            && s.dilationH == 1 && s.dilationW == 1 && cg >= WinogradS2.minChannels && mg >= WinogradS2.minChannels
            && !isDepthwise(s) && WinogradS2.pays(depth: 4 * cg, mg: mg, tW: (s.outWidth + 1) / 2,
                                                  tiles: s.batch * ((s.outHeight + 1) / 2) * ((s.outWidth + 1) / 2))
    }

    /// Conv's plan: one output parity, depth 4·cg; 8 phase planes (row stride 2, column stride 4)
    /// of 2·rows + 1 rows; two output rows.
    static func winogradS2Plan(_ s: Conv2DShape, stacked: Bool = !Baseline.winogradS2Segments) -> WinogradS2Plan {
        let tW = (s.outWidth + 1) / 2
        return WinogradS2Plan(batch: s.batch, tH: (s.outHeight + 1) / 2, tW: tW, kRows: 4 * (s.inChannels / s.group),
                              mg: s.outChannels / s.group, products: 9, phases: 8, planeRows: { 2 * $0 + 1 },
                              stackPitch: 3, stacked: stacked, outRows: 2 * (2 * tW + 32))
    }

    static func winogradS2PackedCount(_ s: Conv2DShape) -> Int { s.group * winogradS2Plan(s).groupPackedCount }

    /// Group gi's U (9 mg × 4cg matrices), packed into `dst`.
    static func winogradS2PackWeights(_ s: Conv2DShape, group gi: Int, weight: UnsafePointer<Float>,
                                      into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let plan = winogradS2Plan(s)
        let cg = s.inChannels / s.group, mg = plan.mg
        WinogradS2.packTransformed(plan, into: dst, pool: pool) { _, o, k in
            // Depth k = 4c + 2p + q: taps g[a][b] = w[o][c][2a + p][2b + q].
            let c = k / 4, p = (k / 2) % 2, q = k % 2
            let w = weight + ((gi * mg + o) * cg + c) * 16
            return (w[p * 4 + q], w[p * 4 + 2 + q], w[(2 + p) * 4 + q], w[(2 + p) * 4 + 2 + q])
        }
    }

    /// y = conv(x, w) for `isWinogradS2` shapes. `packedWeights`: every group's packed U from
    /// `packWeights`, or nil to transform and pack them here. `scratch`: `WinogradS2.scratch` floats.
    static func forwardWinogradS2(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                                  scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, packedWeights: UnsafePointer<Float>?,
                                  stacked: Bool) {
        let plan = winogradS2Plan(s, stacked: stacked)
        let cg = s.inChannels / s.group, mg = plan.mg
        let per = plan.groupPackedCount
        let packed = scratch, shared = packed + per
        let inH = s.inHeight, inW = s.inWidth, outW = s.outWidth, p = s.outHeight * outW
        let pw = plan.pw, phasePlane = plan.phasePlane, vStride = plan.vStride(), mStride = plan.mStride(), ld = plan.ld
        for gi in 0..<s.group {
            let uPacked = packedWeights.map { $0 + gi * per }
                ?? WinogradS2.packed(into: packed) { winogradS2PackWeights(s, group: gi, weight: weight, into: $0, pool: pool) }
            WinogradS2.run(plan, batch: s.batch, inputChannels: cg, packedU: uPacked, shared: shared, pool: pool,
                           input: { q, c, v, planes in
                if plan.pitch > 0 {
                    let r0 = q * plan.rows, rows = plan.tilesOf(q, batch: s.batch) / plan.tW
                    WinogradS2.fillStackedConv(firstRow: r0, rows: rows, tH: plan.tH, tW: plan.tW, pitch: plan.pitch, pw: pw,
                                               phasePlane: phasePlane, channel: { x + ($0 * s.inChannels + gi * cg + c) * inH * inW },
                                               inH: inH, inW: inW, padTop: s.padTop, padLeft: s.padLeft, into: planes)
                    WinogradS2.convPhaseTiles(planes, phasePlane: phasePlane, pw: pw, pitch: plan.pitch * pw, rows: rows, tW: plan.tW,
                                              xiStride: vStride) { v + (4 * c + $0) * ld }
                    return
                }
                plan.forEachSegment(q, batch: s.batch) { image, th0, th1, t0 in
                    let src = x + (image * s.inChannels + gi * cg + c) * inH * inW
                    // Padded rows 4·th0 … : input rows from 4·th0 − padTop.
                    WinogradS2.fillPhases(src, inH: inH, inW: inW, firstRow: 4 * th0 - s.padTop, strideH: 2, strideW: 4,
                                          padLeft: s.padLeft, pw: pw, ph: 2 * (th1 - th0) + 1, phasePlane: phasePlane,
                                          into: planes)
                    WinogradS2.convPhaseTiles(planes, phasePlane: phasePlane, pw: pw, pitch: 2 * pw, rows: th1 - th0, tW: plan.tW,
                                              xiStride: vStride) { v + (4 * c + $0) * ld + t0 }
                }
            }, output: { q, o, m, rowsBuf in
                let oc = gi * mg + o
                if plan.pitch > 0 {
                    // The chunk's tile rows in vectors of `rowsPerVector` rows, across images.
                    let tW = plan.tW, tH = plan.tH, step = WinogradS2.rowsPerVector(tW)
                    let r0 = q * plan.rows, n = plan.tilesOf(q, batch: s.batch) / tW
                    let row1 = rowsBuf + 2 * tW + 32
                    var r = 0
                    while r < n {
                        let t = WinogradS2.outputTile(m + o * ld + r * tW, xiStride: mStride)
                        store16(interleaveLow(t.0, t.1), rowsBuf)
                        store16(interleaveHigh(t.0, t.1), rowsBuf + 16)
                        store16(interleaveLow(t.2, t.3), row1)
                        store16(interleaveHigh(t.2, t.3), row1 + 16)
                        for j in 0..<min(step, n - r) {
                            let g = r0 + r + j, oh = 2 * (g % tH)
                            let plane = y + ((g / tH) * s.outChannels + oc) * p
                            Im2Col.copy(plane + oh * outW, rowsBuf + 2 * tW * j, outW)
                            if oh + 1 < s.outHeight { Im2Col.copy(plane + (oh + 1) * outW, row1 + 2 * tW * j, outW) }
                        }
                        r += step
                    }
                    if !ops.isEmpty {
                        plan.forEachSegment(q, batch: s.batch) { image, th0, th1, _ in
                            let r0 = 2 * th0, r1 = min(2 * th1, s.outHeight)
                            EpilogueApply.applyRows(c: y + (image * s.outChannels + oc) * p + r0 * outW, ldc: p, rows: 0..<1,
                                                    cols: 0..<((r1 - r0) * outW), bias: bias.map { $0 + oc }, ops: ops)
                        }
                    }
                    return
                }
                plan.forEachSegment(q, batch: s.batch) { image, th0, th1, t0 in
                    let plane = y + (image * s.outChannels + oc) * p
                    let row1 = rowsBuf + 2 * plan.tW + 32
                    let tW = plan.tW, step = WinogradS2.rowsPerVector(tW)
                    var th = th0
                    while th < th1 {
                        var tw0 = 0
                        while tw0 < tW {
                            let t = (th - th0) * tW + tw0
                            let r = WinogradS2.outputTile(m + o * ld + t0 + t, xiStride: mStride)
                            store16(interleaveLow(r.0, r.1), rowsBuf + 2 * tw0)
                            store16(interleaveHigh(r.0, r.1), rowsBuf + 2 * tw0 + 16)
                            store16(interleaveLow(r.2, r.3), row1 + 2 * tw0)
                            store16(interleaveHigh(r.2, r.3), row1 + 2 * tw0 + 16)
                            tw0 += 16
                        }
                        // Tile row th + j's outputs are 2·tW floats from 2·tW·j of each row buffer.
                        for j in 0..<min(step, th1 - th) {
                            let oh = 2 * (th + j)
                            Im2Col.copy(plane + oh * outW, rowsBuf + 2 * tW * j, outW)
                            if oh + 1 < s.outHeight { Im2Col.copy(plane + (oh + 1) * outW, row1 + 2 * tW * j, outW) }
                        }
                        th += step
                    }
                    if !ops.isEmpty {
                        let r0 = 2 * th0, r1 = min(2 * th1, s.outHeight)
                        EpilogueApply.applyRows(c: plane + r0 * outW, ldc: p, rows: 0..<1, cols: 0..<((r1 - r0) * outW),
                                                bias: bias.map { $0 + oc }, ops: ops)
                    }
                }
            })
        }
    }
}

// MARK: - ConvTranspose 4×4 stride 2

extension ConvTranspose2D {
    /// The shape runs `forwardWinogradS2` (see the file header).
    public static func isWinogradS2(_ s: Conv2DShape) -> Bool {
        let cg = s.inChannels / s.group, mg = s.outChannels / s.group
        return !Baseline.noWinogradS2 && s.kernelH == 4 && s.kernelW == 4 && s.strideH == 2 && s.strideW == 2
            && s.dilationH == 1 && s.dilationW == 1 && (0...2).contains(s.padTop) && (0...2).contains(s.padLeft)
            && cg >= WinogradS2.minChannels && mg >= WinogradS2.minChannels
            && WinogradS2.pays(depth: cg, mg: mg, tW: (s.outWidth + 3) / 4,
                               tiles: s.batch * ((s.outHeight + 3) / 4) * ((s.outWidth + 3) / 4))
    }

    /// ConvTranspose's plan: four output parities of 9 products each, depth cg; the even and odd
    /// columns of x1, 2·rows + 2 rows; four output rows per tile row.
    static func winogradS2Plan(_ s: Conv2DShape, stacked: Bool = !Baseline.winogradS2Segments) -> WinogradS2Plan {
        let tW = (s.outWidth + 3) / 4
        return WinogradS2Plan(batch: s.batch, tH: (s.outHeight + 3) / 4, tW: tW, kRows: s.inChannels / s.group,
                              mg: s.outChannels / s.group, products: 36, phases: 2, planeRows: { 2 * $0 + 2 },
                              stackPitch: 4, stacked: stacked, outRows: 4 * (4 * tW + 64))
    }

    static func winogradS2PackedCount(_ s: Conv2DShape) -> Int { s.group * winogradS2Plan(s).groupPackedCount }

    /// Group gi's U (4 parities × 9 mg × cg matrices, parity e = 2·e_h + e_w), packed into `dst`.
    static func winogradS2PackWeights(_ s: Conv2DShape, group gi: Int, weight: UnsafePointer<Float>,
                                      into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let plan = winogradS2Plan(s)
        let cg = plan.kRows, mg = plan.mg
        let tapsAt: (Int, Int) -> UnsafeRawPointer = { o, c in UnsafeRawPointer(weight + ((gi * cg + c) * mg + o) * 16) }
        WinogradS2.packTransformed(plan, into: dst, pool: pool, tapsAt: Baseline.winogradS2PackNoPrefetch ? nil : tapsAt) { e, o, c in
            // Taps g[a][b] = w[c][o][rh + 2 − 2a][rw + 2 − 2b].
            let rh = (e / 2 + s.padTop) % 2, rw = (e % 2 + s.padLeft) % 2
            let w = weight + ((gi * cg + c) * mg + o) * 16
            return (w[(rh + 2) * 4 + rw + 2], w[(rh + 2) * 4 + rw], w[rh * 4 + rw + 2], w[rh * 4 + rw])
        }
    }

    /// y = convTranspose(x, w) for `isWinogradS2` shapes. `packedWeights`: every group's packed U
    /// from `packWeights`, or nil to transform and pack them here. `scratch`: `WinogradS2.scratch` floats.
    static func forwardWinogradS2(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                                  scratch: UnsafeMutablePointer<Float>, pool: ThreadPool,
                                  planeStats: UnsafeMutablePointer<Double>?, packedWeights: UnsafePointer<Float>?,
                                  stacked: Bool) {
        let plan = winogradS2Plan(s, stacked: stacked)
        let cg = plan.kRows, mg = plan.mg, tW = plan.tW
        let per = plan.groupPackedCount
        let packed = scratch, shared = packed + per
        let inH = s.inHeight, inW = s.inWidth, outH = s.outHeight, outW = s.outWidth, p = outH * outW
        let pw = plan.pw, phasePlane = plan.phasePlane, vStride = plan.vStride(), mStride = plan.mStride(), ld = plan.ld
        let deltaH = ((s.padTop) / 2, (1 + s.padTop) / 2), deltaW = ((s.padLeft) / 2, (1 + s.padLeft) / 2)
        let rowLength = 4 * tW + 64
        for gi in 0..<s.group {
            let uPacked = packedWeights.map { $0 + gi * per }
                ?? WinogradS2.packed(into: packed) { winogradS2PackWeights(s, group: gi, weight: weight, into: $0, pool: pool) }
            WinogradS2.run(plan, batch: s.batch, inputChannels: cg, packedU: uPacked, shared: shared, pool: pool,
                           input: { q, c, v, planes in
                if plan.pitch > 0 {
                    // Phase f: x1's columns of parity f; tile row th's patch row u is x1 row 2·th + u.
                    WinogradS2.fillStacked(plan, q: q, batch: s.batch, channel: { x + ($0 * s.inChannels + gi * cg + c) * inH * inW },
                                           inH: inH, inW: inW, rowA: 2, rowU: 1, padTop: 1, colA: 2, padLeft: 1,
                                           rowOf: { _ in 0 }, colOf: { $0 }, into: planes)
                    for e in 0..<4 {
                        let dh = e / 2 == 0 ? deltaH.0 : deltaH.1, dw = e % 2 == 0 ? deltaW.0 : deltaW.1
                        @inline(__always) func column(_ k: Int) -> UnsafePointer<Float> {
                            UnsafePointer(planes + (k % 2) * phasePlane + k / 2 + dh * pw)
                        }
                        WinogradS2.inputTiles(column(dw), column(dw + 1), column(dw + 2), pw: pw, pitch: plan.pitch * pw,
                                              rows: plan.tilesOf(q, batch: s.batch) / tW, tW: tW,
                                              v: v + 9 * e * vStride + c * ld, xiStride: vStride)
                    }
                    return
                }
                plan.forEachSegment(q, batch: s.batch) { image, th0, th1, t0 in
                    let src = x + (image * s.inChannels + gi * cg + c) * inH * inW
                    // Rows 2·th0 … of x1: input rows from 2·th0 − 1.
                    WinogradS2.fillPhases(src, inH: inH, inW: inW, firstRow: 2 * th0 - 1, strideH: 1, strideW: 2,
                                          padLeft: 1, pw: pw, ph: 2 * (th1 - th0) + 2, phasePlane: phasePlane, into: planes)
                    for e in 0..<4 {
                        let dh = e / 2 == 0 ? deltaH.0 : deltaH.1, dw = e % 2 == 0 ? deltaW.0 : deltaW.1
                        // Patch column s is x1's column 2·tw + dw + s: phase (dw + s) mod 2, offset (dw + s)/2.
                        @inline(__always) func column(_ k: Int) -> UnsafePointer<Float> {
                            UnsafePointer(planes + (k % 2) * phasePlane + k / 2 + dh * pw)
                        }
                        WinogradS2.inputTiles(column(dw), column(dw + 1), column(dw + 2), pw: pw, pitch: 2 * pw, rows: th1 - th0, tW: tW,
                                   v: v + 9 * e * vStride + c * ld + t0, xiStride: vStride)
                    }
                }
            }, output: { q, o, m, rowsBuf in
                let oc = gi * mg + o
                if plan.pitch > 0 {
                    // The chunk's tile rows in vectors of `rowsPerVector` rows, across images.
                    let tH = plan.tH, step = WinogradS2.rowsPerVector(tW)
                    let r0 = q * plan.rows, n = plan.tilesOf(q, batch: s.batch) / tW
                    var r = 0
                    while r < n {
                        for eh in 0..<2 {
                            let m0 = m + 9 * (2 * eh) * mStride + o * ld + r * tW
                            let a = WinogradS2.outputTile(m0, xiStride: mStride)
                            let b = WinogradS2.outputTile(m0 + 9 * mStride, xiStride: mStride)
                            store64(a.0, b.0, a.1, b.1, rowsBuf + eh * rowLength)
                            store64(a.2, b.2, a.3, b.3, rowsBuf + (2 + eh) * rowLength)
                        }
                        for j in 0..<min(step, n - r) {
                            let g = r0 + r + j, th = g % tH
                            let plane = y + ((g / tH) * s.outChannels + oc) * p
                            for rr in 0..<4 where 4 * th + rr < outH {
                                Im2Col.copy(plane + (4 * th + rr) * outW, rowsBuf + rr * rowLength + 4 * tW * j, outW)
                            }
                        }
                        r += step
                    }
                    if !ops.isEmpty {
                        plan.forEachSegment(q, batch: s.batch) { image, th0, th1, _ in
                            let r0 = 4 * th0, r1 = min(4 * th1, outH)
                            EpilogueApply.applyRows(c: y + (image * s.outChannels + oc) * p + r0 * outW, ldc: p, rows: 0..<1,
                                                    cols: 0..<((r1 - r0) * outW), bias: bias.map { $0 + oc }, ops: ops)
                        }
                    }
                    return
                }
                plan.forEachSegment(q, batch: s.batch) { image, th0, th1, t0 in
                    let plane = y + (image * s.outChannels + oc) * p
                    let step = WinogradS2.rowsPerVector(tW)
                    var th = th0
                    while th < th1 {
                        var tw0 = 0
                        while tw0 < tW {
                            let t = t0 + (th - th0) * tW + tw0
                            for eh in 0..<2 {
                                let m0 = m + 9 * (2 * eh) * mStride + o * ld + t
                                let a = WinogradS2.outputTile(m0, xiStride: mStride)
                                let b = WinogradS2.outputTile(m0 + 9 * mStride, xiStride: mStride)
                                // Output row 2·ra + eh of the block: columns 4·tw + (2·rb + ew).
                                store64(a.0, b.0, a.1, b.1, rowsBuf + eh * rowLength + 4 * tw0)
                                store64(a.2, b.2, a.3, b.3, rowsBuf + (2 + eh) * rowLength + 4 * tw0)
                            }
                            tw0 += 16
                        }
                        // Tile row th + j's outputs are 4·tW floats from 4·tW·j of each row buffer.
                        for j in 0..<min(step, th1 - th) {
                            for r in 0..<4 where 4 * (th + j) + r < outH {
                                Im2Col.copy(plane + (4 * (th + j) + r) * outW, rowsBuf + r * rowLength + 4 * tW * j, outW)
                            }
                        }
                        th += step
                    }
                    if !ops.isEmpty {
                        let r0 = 4 * th0, r1 = min(4 * th1, outH)
                        EpilogueApply.applyRows(c: plane + r0 * outW, ldc: p, rows: 0..<1, cols: 0..<((r1 - r0) * outW),
                                                bias: bias.map { $0 + oc }, ops: ops)
                    }
                }
            })
        }
        if let planeStats {
            pool.parallelFor(s.batch * s.outChannels) { r in
                for i in r { ConvTransposeBatchNorm.storePlaneSums(y + i * p, p, into: planeStats + 2 * i) }
            }
        }
    }

    /// v0[0], v1[0], v2[0], v3[0], v0[1], … , v3[15] into p[0 ..< 64].
    @inline(__always)
    static func store64(_ v0: V16, _ v1: V16, _ v2: V16, _ v3: V16, _ p: UnsafeMutablePointer<Float>) {
        let a = interleaveLow(v0, v2), b = interleaveHigh(v0, v2), c = interleaveLow(v1, v3), d = interleaveHigh(v1, v3)
        store16(interleaveLow(a, c), p)
        store16(interleaveHigh(a, c), p + 16)
        store16(interleaveLow(b, d), p + 32)
        store16(interleaveHigh(b, d), p + 48)
    }
}
