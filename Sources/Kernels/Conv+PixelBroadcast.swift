// Conv+PixelBroadcast: convolutions computed with output channels in the vector lanes and input
// pixels broadcast: no im2col, no packed B, no dropped columns, and no tile rows lost to a
// channel count that is not a multiple of the GEMM's 12 (DenseNet's 128 → 32 3×3 layers ran the
// direct GEMM's 12 + 12 + 8-row tiles with a 58-float virtual row for a 56-wide output).
//
// Contract: `Conv2D.isPixelBroadcast(s)` selects the shapes (strides 1 or 2, at least 16 output
// channels per group, no Winograd shape, an estimated cost below the GEMM paths':
// `pixelBroadcastWins`);
// `forwardPixelBroadcast` gives the same bits as the GEMM paths (direct, implicit, narrow,
// col-matrix): each element is the same fused multiply-adds of weight and input, summed from +0
// in the same k order (c, kh, kw) within the same K blocks of `Gemm.kcBlock`, the blocks merged
// as the GEMM merges them (the first block's sum stored, each later one added: sum + c), then
// the same lane-wise epilogue (bias per channel, activations).
// Tile: R ≤ 14 consecutive output pixels of one output row × 32 output channels (16 at a
// channel count's tail), 2R zmm accumulators; per k step two vector loads of the weights, packed
// as the narrow GEMM's B panels (`Gemm.packB` of Wᵀ: per K block, 32 channels a k step), and R
// scalar broadcasts of input pixels at x + offset(k) + r. The input comes from Conv+Direct's
// zero-padded stride phase planes (`fillPhases`, `DirectPlanes`): tap (c, kh, kw) of output
// pixel (oh, ow) is column ow + ⌊kw·dW / sW⌋ of row oh + ⌊kh·dH / sH⌋ of channel c's phase
// (kh·dH mod sH, kw·dW mod sW), so a tile's R pixels are R consecutive floats at any stride; an
// unpadded stride-1 1×1 reads x where it lies (offset c·H·W) and takes its pixels as one flat
// row. A row of W pixels is cut into ⌈W/14⌉ near-equal segments, so no
// lane computes a dropped column. Each finished tile ([R][32] in a per-thread buffer) gets the
// epilogue with the bias per column, then is turned into the NCHW planes by 16×16 register
// transposes: 16-float stores where the task's next tile overwrites the excess, R-float masked
// stores otherwise.
// Threads: per image (and group), tasks of (output row, or up to 4 flat segments) × 32-channel
// panel, claimed dynamically (whole images per thread with 4 or more a thread); what a task
// computes depends on the shape only, so the bits do not depend on the thread count.

/// A tile's pixel count, as a type so that each tile width gets its own specialised kernel.
protocol PixelRun { static var count: Int { get } }
enum PixelRun1: PixelRun { static var count: Int { 1 } }
enum PixelRun2: PixelRun { static var count: Int { 2 } }
enum PixelRun3: PixelRun { static var count: Int { 3 } }
enum PixelRun4: PixelRun { static var count: Int { 4 } }
enum PixelRun5: PixelRun { static var count: Int { 5 } }
enum PixelRun6: PixelRun { static var count: Int { 6 } }
enum PixelRun7: PixelRun { static var count: Int { 7 } }
enum PixelRun8: PixelRun { static var count: Int { 8 } }
enum PixelRun9: PixelRun { static var count: Int { 9 } }
enum PixelRun10: PixelRun { static var count: Int { 10 } }
enum PixelRun11: PixelRun { static var count: Int { 11 } }
enum PixelRun12: PixelRun { static var count: Int { 12 } }
enum PixelRun13: PixelRun { static var count: Int { 13 } }
enum PixelRun14: PixelRun { static var count: Int { 14 } }

/// Whether a tile holds 32 output channels (two vectors) or 16.
protocol ChannelHalves { static var two: Bool { get } }
enum TwoHalves: ChannelHalves { static var two: Bool { true } }
enum OneHalf: ChannelHalves { static var two: Bool { false } }

extension Conv2D {
    /// Most output pixels one tile holds (2 · 14 accumulators + 2 weight vectors of 32 zmm).
    static let broadcastPixels = 14

    /// The shape runs `forwardPixelBroadcast` (see the file header).
    public static func isPixelBroadcast(_ s: Conv2DShape) -> Bool {
        !Baseline.noPixelBroadcast && canPixelBroadcast(s) && !isWinograd(s) && !isWinogradWeightGrad(s) && !isWinogradS2(s)
            && pixelBroadcastWins(s)
    }

    /// The shapes the tiles can run: strides 1 or 2, at least 16 output channels and one input
    /// channel per group, not a full-window or depthwise one.
    public static func canPixelBroadcast(_ s: Conv2DShape) -> Bool {
        s.strideH <= 2 && s.strideW <= 2 && s.outChannels / s.group >= 16 && s.inChannels / s.group >= 1
            && !isFullWindow(s) && !isDepthwise(s)
    }

    /// `forwardPixelBroadcast` on any `canPixelBroadcast` shape, whatever the cost rule says
    /// (tests and measurements): packs the weights and allocates its scratch itself.
    public static func forcedPixelBroadcast(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                            bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                                            epilogue: [EpilogueOp], pool: ThreadPool) {
        precondition(canPixelBroadcast(s), "not a pixel-broadcast shape: \(s)")
        let g = s.group, mg = s.outChannels / g, k = (s.inChannels / g) * s.kernelH * s.kernelW
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: g * Gemm.packedBCount(k: k, n: mg))
        let work = UnsafeMutablePointer<Float>.allocate(capacity: max(1, pixelBroadcastScratch(s)))
        defer { packed.deallocate(); work.deallocate() }
        packWeightGroups(g, rows: mg, depth: k, storedTransposed: false, narrow: true, weight: weight, into: packed, pool: pool)
        forwardPixelBroadcast(s, x: x, bias: bias, y: y, ops: perChannelEpilogue(epilogue), packed: packed, work: work, pool: pool)
    }

    /// Whether the broadcast tiles cost less than the GEMM's (see `isPixelBroadcast`), in
    /// `isDirect`'s units (one register-tile row for one k step: two zmm FMAs), per image.
    /// Broadcast: P·k·⌈mg/16⌉/2 (no lane computes a dropped column or a missing channel but a
    /// 16-channel tail's), plus `broadcastTileUnits` a tile and 32-channel panel for the K-block
    /// merges, the epilogue and the turn into NCHW. GEMM: the path `forward` would take
    /// otherwise, over its padded columns (whole 32-column tiles, the direct path's virtual rows)
    /// and mg rounded up to the 4-row kernels, plus its packing of B (`isDirect`'s model; none for
    /// a batch-1 pointwise shape, which reads x in place). Fitted on batch 1, 1 thread:
    /// 128 → 128 1×1 on 56² stays on the GEMM (0.94 ms, the tiles 1.01), 640 → 128 on 14² and
    /// 128 → 32 3×3 on 56², 28², 14² and 7² run broadcast (0.336 → 0.286, 2.18 → 2.09,
    /// 0.57 → 0.53, 0.157 → 0.135, 0.051 → 0.038 ms). Flat shapes at batch > 1 stay on the GEMM.
    static func pixelBroadcastWins(_ s: Conv2DShape) -> Bool {
        if Baseline.alwaysPixelBroadcast { return true }
        // A flat shape's k steps read k planes in place: at batch > 1 they come from memory, and
        // the GEMM's packing (contiguous streams) wins, as for `isPointwiseDirect` (squeezenet1_1's
        // 1×1 64 → 16 on 55² at batch 32: 4.2 ms packed, 7.8 ms in place).
        if broadcastsFlat(s) && s.batch > 1 { return false }
        let mg = s.outChannels / s.group, k = (s.inChannels / s.group) * s.kernelH * s.kernelW
        let p = s.outHeight * s.outWidth
        let rowPixels = broadcastsFlat(s) ? p : s.outWidth, rows = broadcastsFlat(s) ? 1 : s.outHeight
        let tiles = rows * ((rowPixels + broadcastPixels - 1) / broadcastPixels)
        let panels = (mg + Gemm.nr - 1) / Gemm.nr
        // A panel's weights beyond half of L2 (k > 2048) stream from L3 for every tile: two vector
        // loads a k step, half a unit each (256 → 512, 4×4 stride 2 on 4² → 2², batch 64: tiles of
        // 2 pixels, 12 ms on the GEMM, 18 ms in tiles).
        let stream = k * Gemm.nr > 1 << 16 ? Double(k) : 0
        let broadcast = Double(p) * Double(k) * Double((mg + 15) / 16) / 2 + Double(tiles * panels) * (broadcastTileUnits + stream)
        let gemmRows = Double((mg + 3) / 4 * 4)
        let gemm: Double
        if isPointwise(s) && (isPointwiseDirect(s) || p >= targetColumns / 2) {
            gemm = tilesPerImage(p, images: 1) * Double(k) * (gemmRows + (isPointwiseDirect(s) ? 0 : implicitPackUnits(s)))
        } else if isDirect(s) {
            let d = DirectPlanes(s)
            let copies = d.width != s.outWidth && !compactsOutput(s)
            gemm = tilesPerImage(d.columns, images: 1) * Double(k) * gemmRows + (copies ? Double(mg * p) : 0)
        } else {
            let nb = chunk(s)
            gemm = tilesPerImage(nb * p, images: nb) * Double(k) * (gemmRows + implicitPackUnits(s))
        }
        return broadcast < gemm
    }

    /// `pixelBroadcastWins`' cost of a tile beyond its multiply-adds, in the same units: about 190
    /// on the 1×1 layers of DenseNet at batch 1 (128 → 128 on 56², 320 → 128 on 28²), about 300
    /// on the 3 → 64 3×3 stride-2 stem of 224² images (k = 27: 0.62 ms against the implicit
    /// GEMM's 0.52), which the larger figure keeps on the GEMM.
    static let broadcastTileUnits = 300.0

    /// Whether the input is read where it lies (an unpadded 1×1: one flat row of pixels).
    static func broadcastsFlat(_ s: Conv2DShape) -> Bool { isPointwise(s) }

    /// Floats of scratch `forwardPixelBroadcast` needs past the packed weights: one image's
    /// zero-padded planes of a group (none for a flat shape).
    static func pixelBroadcastScratch(_ s: Conv2DShape) -> Int {
        broadcastsFlat(s) ? 0 : DirectPlanes(s).count(channels: s.inChannels / s.group)
    }

    /// y = conv(x, w) for `isPixelBroadcast` shapes. `packed` holds every group's weights packed
    /// by `Gemm.packB` of Wᵀ (`packWeights`' narrow layout; `packedBCount(k, mg)` floats a
    /// group); `work` is scratch of `pixelBroadcastScratch(s)` floats.
    static func forwardPixelBroadcast(_ s: Conv2DShape, x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                      y: UnsafeMutablePointer<Float>, ops: [EpilogueOp], packed: UnsafePointer<Float>,
                                      work: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let g = s.group, cg = s.inChannels / g, mg = s.outChannels / g
        let k = cg * s.kernelH * s.kernelW
        let p = s.outHeight * s.outWidth, pin = s.inHeight * s.inWidth
        let flat = broadcastsFlat(s)
        let d = DirectPlanes(s)
        let perGroup = Gemm.packedBCount(k: k, n: mg), nPad = (mg + Gemm.nr - 1) / Gemm.nr * Gemm.nr
        let panels = nPad / Gemm.nr
        let colOps = perColumnEpilogue(ops)
        // Segments: a row of `rowPixels` pixels in `segments` near-equal runs of at most 14.
        let rowPixels = flat ? p : s.outWidth
        let segments = (rowPixels + broadcastPixels - 1) / broadcastPixels
        let flatGroup = 4
        let tasksPerPanel = flat ? (segments + flatGroup - 1) / flatGroup : s.outHeight
        // Task order: the panels of one row in turn (its input stays in L1), unless the weights
        // do not fit in half of L2 and re-reading them for every row would move more than
        // re-reading the input planes for every panel: then the rows of one panel in turn, its
        // weights read from memory once (512 → 512 3×3 on 7²: 9 MiB of weights, 0.16 MiB of
        // planes; row by row, 2.4 → 2.7 ms inside resnet18).
        let inputFloats = flat ? cg * p : d.count(channels: cg)
        let panelMajor = k * nPad > 1 << 17 && (tasksPerPanel - 1) * k * nPad > (panels - 1) * inputFloats
        withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { offs in
            if flat {
                for c in 0..<k { offs[c] = c * pin }
            } else {
                d.tapOffsets(s, into: offs.baseAddress!)
            }
            let offsets = UnsafePointer(offs.baseAddress!)
            /// Image n, group gi, through `planes` (this thread's when images are split over the
            /// threads: the loops inside then run serially).
            func image(_ n: Int, _ gi: Int, _ planes: UnsafeMutablePointer<Float>) {
                let src = x + (n * s.inChannels + gi * cg) * pin
                if !flat { d.fill(s, from: src, channels: cg, into: planes, pool: pool) }
                let base = flat ? src : UnsafePointer(planes)
                let yg = y + s.outPlane(n, gi * mg)
                let w = packed + gi * perGroup
                let b = bias.map { $0 + gi * mg }
                pool.dynamicFor(tasksPerPanel * panels) { t in
                    let panel = panelMajor ? t / tasksPerPanel : t % panels, task = panelMajor ? t % tasksPerPanel : t / panels
                    let oc0 = panel * Gemm.nr, width = min(Gemm.nr, mg - oc0)
                    let segRange = flat ? (task * flatGroup)..<min(segments, task * flatGroup + flatGroup) : 0..<segments
                    let buffer = tileStorage.get(tileFloats)
                    for seg in segRange {
                        let s0 = seg * rowPixels / segments, s1 = (seg + 1) * rowPixels / segments
                        let xTile = flat ? base + s0 : base + task * d.width + s0
                        let yTile = flat ? yg + s0 : yg + task * s.outWidth + s0
                        broadcastTile(count: s1 - s0, channels: width, k: k, x: xTile, offsets: offsets,
                                      packed: w, oc0: oc0, nPad: nPad, y: yTile + oc0 * p, ldy: p,
                                      bias: b.map { $0 + oc0 }, ops: colOps, buffer: buffer,
                                      spill: seg + 1 < segRange.upperBound && (seg + 2) * rowPixels / segments - s0 >= 16)
                    }
                }
            }
            if isBroadcastImageParallel(s, threads: pool.sharingThreads) {
                let count = pixelBroadcastScratch(s)
                pool.dynamicFor(s.batch * g) { i in image(i / g, i % g, imageStorage.get(count)) }
            } else {
                for n in 0..<s.batch {
                    for gi in 0..<g { image(n, gi, work) }
                }
            }
        }
    }

    /// Whether `forwardPixelBroadcast` runs whole images per thread (each in this thread's own
    /// planes, `imageStorage`) instead of splitting each image's rows over the threads: with at
    /// least 4 images a thread, as `isImageParallel` decides for the direct GEMM.
    static func isBroadcastImageParallel(_ s: Conv2DShape, threads: Int) -> Bool {
        threads > 1 && s.batch >= 4 * threads && pixelBroadcastScratch(s) <= 1 << 22
    }

    /// Per-thread tile buffers: the accumulated tile ([16][32]) and one turned half ([16][16]).
    static let tileStorage = ThreadBuffer(minimum: tileFloats)
    static let tileFloats = 16 * 32 + 16 * 16

    /// One tile: `count` (1…14) pixels at x + r (r < count) × `channels` (1…32) output channels,
    /// over all K blocks, then the epilogue, stored to y + o·ldy + r. `packed` is the group's
    /// `Gemm.packB` layout: K block pc of the panel of channels oc0 ..< oc0 + 32 lies at
    /// pc·nPad + oc0·kc, 32 floats a k step. `spill`: each channel's row may be written 16 floats
    /// wide (the floats past `count` are within the next tile of the same task, which overwrites
    /// them after); otherwise exactly `count` (masked stores). `buffer`: `tileFloats` of this thread's.
    @inline(__always)
    static func broadcastTile(count: Int, channels: Int, k: Int, x: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                              packed: UnsafePointer<Float>, oc0: Int, nPad: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                              bias: UnsafePointer<Float>?, ops: [EpilogueOp], buffer: UnsafeMutablePointer<Float>, spill: Bool) {
        let acc = buffer, turned = buffer + 16 * 32
        var pc = 0
        while pc < k {
            let kc = min(Gemm.kcBlock, k - pc)
            broadcastBlock(count: count, two: channels > 16, kc: kc, x: x, offsets: offsets + pc,
                           w: packed + pc * nPad + oc0 * kc, acc: acc, accumulate: pc > 0)
            pc += kc
        }
        if !ops.isEmpty {
            EpilogueApply.applyRows(c: acc, ldc: 32, rows: 0..<count, cols: 0..<channels, bias: bias, ops: ops)
        }
        var h = 0
        while h * 16 < channels {
            Gemm.transpose16(acc + 16 * h, 32, turned, 16)
            let rows = min(16, channels - 16 * h), dst = y + 16 * h * ldy
            if spill {
                for o in 0..<rows { store16(load16(turned + o * 16), dst + o * ldy) }
            } else {
                for o in 0..<rows { storePartial(load16(turned + o * 16), dst + o * ldy, count) }
            }
            h += 1
        }
    }

    /// One K block of a tile into `acc` ([count][32]): stored (`accumulate` false) or added
    /// (sum + acc, the GEMM's merge of a later K block).
    static func broadcastBlock(count: Int, two: Bool, kc: Int, x: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                               w: UnsafePointer<Float>, acc: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if two {
            broadcastRun(count, TwoHalves.self, kc, x, offsets, w, acc, accumulate)
        } else {
            broadcastRun(count, OneHalf.self, kc, x, offsets, w, acc, accumulate)
        }
    }

    @inline(__always)
    static func broadcastRun<H: ChannelHalves>(_ count: Int, _ h: H.Type, _ kc: Int, _ x: UnsafePointer<Float>,
                                               _ offsets: UnsafePointer<Int>, _ w: UnsafePointer<Float>,
                                               _ acc: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        switch count {
        case 14: broadcastKernel(PixelRun14.self, h, kc, x, offsets, w, acc, accumulate)
        case 13: broadcastKernel(PixelRun13.self, h, kc, x, offsets, w, acc, accumulate)
        case 12: broadcastKernel(PixelRun12.self, h, kc, x, offsets, w, acc, accumulate)
        case 11: broadcastKernel(PixelRun11.self, h, kc, x, offsets, w, acc, accumulate)
        case 10: broadcastKernel(PixelRun10.self, h, kc, x, offsets, w, acc, accumulate)
        case 9: broadcastKernel(PixelRun9.self, h, kc, x, offsets, w, acc, accumulate)
        case 8: broadcastKernel(PixelRun8.self, h, kc, x, offsets, w, acc, accumulate)
        case 7: broadcastKernel(PixelRun7.self, h, kc, x, offsets, w, acc, accumulate)
        case 6: broadcastKernel(PixelRun6.self, h, kc, x, offsets, w, acc, accumulate)
        case 5: broadcastKernel(PixelRun5.self, h, kc, x, offsets, w, acc, accumulate)
        case 4: broadcastKernel(PixelRun4.self, h, kc, x, offsets, w, acc, accumulate)
        case 3: broadcastKernel(PixelRun3.self, h, kc, x, offsets, w, acc, accumulate)
        case 2: broadcastKernel(PixelRun2.self, h, kc, x, offsets, w, acc, accumulate)
        default: broadcastKernel(PixelRun1.self, h, kc, x, offsets, w, acc, accumulate)
        }
    }
}

extension Conv2D {
    /// The tile kernel: acc[r][0..<16·halves] = Σ_p x[offsets[p] + r] · w[32p ..< 32p + 16·halves]
    /// (fused multiply-adds from +0 in p order) for r < R.count, stored or added to acc
    /// (`accumulate`: sum + acc). Accumulators a_r (channels 0..<16) and b_r (16..<32); the
    /// branches on R.count and H.two fold away in each specialisation.
    @inline(never)
    static func broadcastKernel<R: PixelRun, H: ChannelHalves>(_ r: R.Type, _ h: H.Type, _ kc: Int, _ x: UnsafePointer<Float>,
                                                               _ offsets: UnsafePointer<Int>, _ w: UnsafePointer<Float>,
                                                               _ acc: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        let n = R.count, two = H.two
        var a0 = V16(), b0 = V16()
        var a1 = V16(), b1 = V16()
        var a2 = V16(), b2 = V16()
        var a3 = V16(), b3 = V16()
        var a4 = V16(), b4 = V16()
        var a5 = V16(), b5 = V16()
        var a6 = V16(), b6 = V16()
        var a7 = V16(), b7 = V16()
        var a8 = V16(), b8 = V16()
        var a9 = V16(), b9 = V16()
        var a10 = V16(), b10 = V16()
        var a11 = V16(), b11 = V16()
        var a12 = V16(), b12 = V16()
        var a13 = V16(), b13 = V16()
        var wp = w
        var p = 0
        while p < kc {
            let s = x + offsets[p]
            let w0 = load16(wp), w1 = two ? load16(wp + 16) : w0
            wp += 32
            do { let v = V16(repeating: s[0]); a0.addProduct(v, w0); if two { b0.addProduct(v, w1) } }
            if n > 1 { let v = V16(repeating: s[1]); a1.addProduct(v, w0); if two { b1.addProduct(v, w1) } }
            if n > 2 { let v = V16(repeating: s[2]); a2.addProduct(v, w0); if two { b2.addProduct(v, w1) } }
            if n > 3 { let v = V16(repeating: s[3]); a3.addProduct(v, w0); if two { b3.addProduct(v, w1) } }
            if n > 4 { let v = V16(repeating: s[4]); a4.addProduct(v, w0); if two { b4.addProduct(v, w1) } }
            if n > 5 { let v = V16(repeating: s[5]); a5.addProduct(v, w0); if two { b5.addProduct(v, w1) } }
            if n > 6 { let v = V16(repeating: s[6]); a6.addProduct(v, w0); if two { b6.addProduct(v, w1) } }
            if n > 7 { let v = V16(repeating: s[7]); a7.addProduct(v, w0); if two { b7.addProduct(v, w1) } }
            if n > 8 { let v = V16(repeating: s[8]); a8.addProduct(v, w0); if two { b8.addProduct(v, w1) } }
            if n > 9 { let v = V16(repeating: s[9]); a9.addProduct(v, w0); if two { b9.addProduct(v, w1) } }
            if n > 10 { let v = V16(repeating: s[10]); a10.addProduct(v, w0); if two { b10.addProduct(v, w1) } }
            if n > 11 { let v = V16(repeating: s[11]); a11.addProduct(v, w0); if two { b11.addProduct(v, w1) } }
            if n > 12 { let v = V16(repeating: s[12]); a12.addProduct(v, w0); if two { b12.addProduct(v, w1) } }
            if n > 13 { let v = V16(repeating: s[13]); a13.addProduct(v, w0); if two { b13.addProduct(v, w1) } }
            p += 1
        }
        @inline(__always) func put(_ v: V16, _ q: UnsafeMutablePointer<Float>) { store16(accumulate ? v + load16(q) : v, q) }
        do { put(a0, acc + 0); if two { put(b0, acc + 16) } }
        if n > 1 { put(a1, acc + 32); if two { put(b1, acc + 48) } }
        if n > 2 { put(a2, acc + 64); if two { put(b2, acc + 80) } }
        if n > 3 { put(a3, acc + 96); if two { put(b3, acc + 112) } }
        if n > 4 { put(a4, acc + 128); if two { put(b4, acc + 144) } }
        if n > 5 { put(a5, acc + 160); if two { put(b5, acc + 176) } }
        if n > 6 { put(a6, acc + 192); if two { put(b6, acc + 208) } }
        if n > 7 { put(a7, acc + 224); if two { put(b7, acc + 240) } }
        if n > 8 { put(a8, acc + 256); if two { put(b8, acc + 272) } }
        if n > 9 { put(a9, acc + 288); if two { put(b9, acc + 304) } }
        if n > 10 { put(a10, acc + 320); if two { put(b10, acc + 336) } }
        if n > 11 { put(a11, acc + 352); if two { put(b11, acc + 368) } }
        if n > 12 { put(a12, acc + 384); if two { put(b12, acc + 400) } }
        if n > 13 { put(a13, acc + 416); if two { put(b13, acc + 432) } }
    }
}
