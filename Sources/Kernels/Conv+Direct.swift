// Conv+Direct: stride-1 and stride-2 convolutions whose GEMM reads the padded input where it
// lies instead of packing im2col panels (ORT and oneDNN run such shapes as direct convolutions;
// Gannet's implicit GEMM spent a third of a narrow layer's time packing: 128→32 channels, 3×3, 56²).
//
// Contract: `Conv2D.isDirect(s)` selects the shapes (strides 1 or 2, at least `Gemm.smallM`
// output channels per group, and an estimated cost below the implicit GEMM's: the dropped
// columns and the output copy against the packing); `forwardDirect` gives the same bits as the
// implicit GEMM. Per image and group, the group's input channels are copied into zero-padded
// stride phase planes (the depthwise kernel's, `fillPhases`: one plane per channel at stride 1,
// sH·sW at stride 2, phase (ry, rx) holding input rows ry, ry + sH, … and columns rx, rx + sW, …
// of the padded input): rows of width = outW + ⌊(kW−1)·dW / sW⌋ floats (every column a window
// reaches, no more), then zeroed slack. Output pixel (oh, ow) is the GEMM's virtual column
// t = oh·width + ow, and tap (c, kh, kw) of it, with rh = kh·dH and rw = kw·dW, is element
// t + ⌊rh / sH⌋·width + ⌊rw / sW⌋ of channel c's phase (rh mod sH, rw mod sW): each k step of B
// is one contiguous run of the planes at a per-tap offset (`Gemm.DirectB`), read by the
// microkernel without packing. Virtual columns with ow ≥ outW are computed and dropped (the cost:
// ⌊(kW−1)·dW / sW⌋ columns per output row): the GEMM stores its tiles compacted
// (`Gemm.CompactRows`), so it writes y directly either way (`GANNET_BASELINE=directCopy`: into a
// virtual output copied to y afterwards, which took about 11% of a 3→64 7×7 stride-2 stem).
// Same bits: each element is the same products in the same k order and K blocks, by the same
// microkernels, as the implicit GEMM (Im2Col+Packed.swift) — only where B is read from changes.
// Threads: with 4 or more images per thread (`isImageParallel`) each thread takes whole images,
// whichever is free next, in planes of its own; otherwise each image's fill, GEMM and copy are
// split over the threads. Either way the bits do not depend on the thread count.

extension Conv2D {
    /// Geometry of the direct path's padded planes: the depthwise kernel's phase planes
    /// (`depthwiseGeometry`, filled by `fillPhases`), whose zeroed slack of at least 32 floats
    /// after each plane covers the last register tile's reads past its last real column.
    struct DirectPlanes {
        /// Floats per plane row, floats per phase plane (slack included), phase planes per
        /// channel (strideH · strideW), virtual GEMM columns.
        let width: Int, plane: Int, phases: Int, columns: Int

        init(_ s: Conv2DShape) {
            let g = Conv2D.depthwiseGeometry(s)
            width = g.pw
            plane = g.plane
            phases = s.strideH * s.strideW
            columns = s.outHeight * width
        }

        /// Floats the planes of `channels` channels take.
        func count(channels: Int) -> Int { channels * phases * plane }

        /// Writes the (c, kh, kw)-ordered tap offsets of one group's k = cg·kH·kW taps into
        /// `offs`: tap (c, kh, kw) of output pixel (oh, ow), with rh = kh·dH and rw = kw·dW, is
        /// element oh·width + ow + offset of the planes (channel c's phase (rh mod sH, rw mod sW),
        /// row ⌊rh / sH⌋, column ⌊rw / sW⌋ on).
        func tapOffsets(_ s: Conv2DShape, into offs: UnsafeMutablePointer<Int>) {
            let sH = s.strideH, sW = s.strideW
            var i = 0
            for c in 0..<(s.inChannels / s.group) {
                for kh in 0..<s.kernelH {
                    for kw in 0..<s.kernelW {
                        let rh = kh * s.dilationH, rw = kw * s.dilationW
                        offs[i] = (c * phases + (rh % sH) * sW + rw % sW) * plane + (rh / sH) * width + rw / sW
                        i += 1
                    }
                }
            }
        }

        /// Fills `planes` with the zero-padded phase planes of `channels` input planes at `src`
        /// (`fillPhases`), over the pool's threads when they are large.
        func fill(_ s: Conv2DShape, from src: UnsafePointer<Float>, channels: Int, into planes: UnsafeMutablePointer<Float>,
                  pool: ThreadPool) {
            let g = Conv2D.depthwiseGeometry(s), pin = s.inHeight * s.inWidth
            let body: (Range<Int>) -> Void = { r in
                for c in r {
                    Conv2D.fillPhases(src + c * pin, inH: s.inHeight, inW: s.inWidth, s: s, pw: g.pw, ph: g.ph,
                                      phasePlane: g.plane, into: planes + c * phases * g.plane)
                }
            }
            if count(channels: channels) < 16384 { body(0..<channels) } else { pool.parallelFor(channels, body) }
        }
    }

    /// The shape runs `forwardDirect` (see the file header).
    public static func isDirect(_ s: Conv2DShape) -> Bool {
        let mg = s.outChannels / s.group
        let strides = s.strideH == 1 && s.strideW == 1 || (!Baseline.directStride1Only && s.strideH <= 2 && s.strideW <= 2)
        guard !Baseline.implicitConv, strides, mg >= Gemm.smallM,
              !isFullWindow(s), !isDepthwise(s), !isSmallMDirect(s), !isNarrow(s) else { return false }
        let p = s.outHeight * s.outWidth
        if isPointwise(s) && p >= targetColumns / 2 { return false }
        // Estimated cost per image, in units of one register-tile row for one k step (two zmm
        // FMAs): the implicit GEMM packs each tile's B, about 12 such units per k step; the
        // direct one computes the dropped columns' tiles too and copies its output once (about
        // one unit per element). Fitted to 128→32 and 64→128 3×3 layers and a 3→64 one, where
        // the copy made the direct path 1.7× slower. A stride-2 pack gathers every other column,
        // about 40 units: fitted to stems (3→64 3×3 on 224² stays implicit, 3→32 on 299² and
        // 3→64 7×7 go direct, 10% and 7% faster) and 64→128 3×3 on 56² (direct, 3.5%). Tall
        // kH × 1 kernels pack dearer (`implicitPackUnits`).
        let nb = chunk(s), k = (s.inChannels / s.group) * s.kernelH * s.kernelW
        let d = DirectPlanes(s)
        let rows = tileRows(mg)
        let direct = tilesPerImage(d.columns, images: 1) * Double(k) * rows + (d.width == s.outWidth ? 0 : Double(mg * p))
        let implicit = tilesPerImage(nb * p, images: nb) * Double(k) * (rows + implicitPackUnits(s))
        return direct < implicit
    }

    /// `isDirect`'s cost of packing one implicit-GEMM k step of a register tile (see there). A
    /// kW × 1 kernel with kH > 1 (Inception's 7×1) drops no columns on the direct path, while
    /// the implicit pack copies each of a 32-column tile's output rows separately for every tap:
    /// on 17-wide rows about 55 units, fitted to 192 → 192 and 160 → 160 channels, 7×1 on 17²,
    /// batch 32 (the direct path 13–15% faster there; the flat 12 chose the implicit one). It is
    /// 28 units per 32 columns of output row, at least 12.
    static func implicitPackUnits(_ s: Conv2DShape) -> Double {
        if s.strideW != 1 { return 40 }
        if s.kernelW == 1 && s.kernelH > 1 && !Baseline.tallKernelsImplicit {
            return max(12, 28 * Double(Gemm.nr) / Double(s.outWidth))
        }
        return 12
    }

    /// Rows of register tiles `mg` GEMM rows take (whole `Gemm.mr` panels), for `isDirect`'s cost
    /// model.
    static func tileRows(_ mg: Int) -> Double { Double((mg + Gemm.mr - 1) / Gemm.mr * Gemm.mr) }

    /// Register-tile columns per image of a GEMM over `columns` columns holding `images` images.
    static func tilesPerImage(_ columns: Int, images: Int) -> Double {
        Double((columns + Gemm.nr - 1) / Gemm.nr) / Double(images)
    }

    /// Floats of scratch `forwardDirect` needs past the packed weights: planes, and the virtual
    /// output when it has dropped columns.
    static func directScratch(_ s: Conv2DShape) -> Int {
        let d = DirectPlanes(s), mg = s.outChannels / s.group
        return d.count(channels: s.inChannels / s.group) + (d.width == s.outWidth || compactsOutput(s) ? 0 : mg * d.columns)
    }

    /// Whether `forwardDirect`'s GEMM stores its output without the dropped columns
    /// (`Gemm.CompactRows`) instead of into a virtual output copied to y afterwards: when k fits
    /// one K block and an image's output is at least 1 MiB (beyond half of L2, so the copy
    /// reads it back from memory). Over several K blocks every tile goes through the tile buffer
    /// once per block (the merge reads C back): 128 → 32 channels, 3×3 on 14², and 48 → 64, 5×5
    /// on 35² (k 1152 and 1200), ran 5% slower. Small outputs copy from L2: 3 → 32, 4×4 stride 2
    /// on 64² ran 1–4% slower, 3 → 64, 7×7 stride 2 on 112² (200 Ki floats) the same. The stems
    /// of 224² and 299² images (300–800 Ki floats) ran 11–21% faster.
    public static func compactsOutput(_ s: Conv2DShape) -> Bool {
        let k = (s.inChannels / s.group) * s.kernelH * s.kernelW
        let out = (s.outChannels / s.group) * s.outHeight * s.outWidth
        return DirectPlanes(s).width != s.outWidth && k <= Gemm.kcBlock && out >= 1 << 18 && !Baseline.directOutputCopy
    }

    /// Per-thread planes and virtual output of `isImageParallel` runs.
    static let imageStorage = ThreadBuffer(minimum: 0)

    /// Whether `forwardDirect` runs whole images per thread (each in this thread's own planes)
    /// instead of splitting each image's fill, GEMM and copy over the threads: with images
    /// enough to share (at least 4 per thread, claimed dynamically) and at most 4 Mi floats of
    /// buffers per thread. Split, each image costs two or three loops, each with its
    /// synchronisation, around a short GEMM (32 → 64 channels, 4×4 stride 2 on 28², batch 64,
    /// 2 threads: 6.9 ms split, 3.8 ms whole images; 7.7 ms on one thread).
    public static func isImageParallel(_ s: Conv2DShape, threads: Int) -> Bool {
        !Baseline.splitImageGemms && threads > 1 && s.batch >= 4 * threads && directScratch(s) <= 1 << 22
    }

    /// y = conv(x, w) for `isDirect` shapes. `packedA(gi)` is group gi's weights packed by
    /// `Gemm.packA`, `pack(gi)` packs them first when the caller did not; `work` is scratch of
    /// `directScratch(s)` floats.
    static func forwardDirect(_ s: Conv2DShape, x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                              y: UnsafeMutablePointer<Float>, ops: [EpilogueOp], work: UnsafeMutablePointer<Float>,
                              pool: ThreadPool, pack: (Int) -> Void, packedA: (Int) -> UnsafePointer<Float>) {
        let g = s.group, cg = s.inChannels / g, mg = s.outChannels / g
        let d = DirectPlanes(s)
        let p = s.outHeight * s.outWidth, pin = s.inHeight * s.inWidth
        let k = cg * s.kernelH * s.kernelW
        let planes = work, virtualOut = work + d.count(channels: cg)
        let compact = compactsOutput(s), dropped = d.width != s.outWidth && !compact
        withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { offs in
            d.tapOffsets(s, into: offs.baseAddress!)
            let offsets = UnsafePointer(offs.baseAddress!)
            let perImage = isImageParallel(s, threads: pool.sharingThreads)
            for gi in 0..<g {
                pack(gi)
                /// Image n of group gi through `planes` and `virtualOut` (this thread's, when images
                /// are split over threads; a nested loop then runs serially).
                func image(_ n: Int, _ planes: UnsafeMutablePointer<Float>, _ virtualOut: UnsafeMutablePointer<Float>) {
                    d.fill(s, from: x + (n * s.inChannels + gi * cg) * pin, channels: cg, into: planes, pool: pool)
                    let yg = y + s.outPlane(n, gi * mg)
                    let rows = compact ? Gemm.CompactRows(virtualWidth: d.width, width: s.outWidth) : nil
                    Gemm.sgemmPacked(m: mg, n: d.columns, k: k, alpha: 1, packedA: packedA(gi),
                                     b: .direct(Gemm.DirectB(base: planes, offsets: offsets, compact: rows)),
                                     beta: 0, c: dropped ? virtualOut : yg, ldc: dropped ? d.columns : p,
                                     bias: bias.map { $0 + gi * mg }, epilogue: ops, pool: pool)
                    if dropped {
                        let outW = s.outWidth, outH = s.outHeight
                        let body: (Range<Int>) -> Void = { r in
                            for m in r {
                                for oh in 0..<outH {
                                    Im2Col.copy(yg + m * p + oh * outW, virtualOut + m * d.columns + oh * d.width, outW)
                                }
                            }
                        }
                        if mg * p < 32768 { body(0..<mg) } else { pool.parallelFor(mg, body) }
                    }
                }
                if perImage {
                    let planeCount = d.count(channels: cg), ownCount = directScratch(s)
                    pool.dynamicFor(s.batch) { n in
                        let own = imageStorage.get(ownCount)
                        image(n, own, own + planeCount)
                    }
                } else {
                    for n in 0..<s.batch { image(n, planes, virtualOut) }
                }
            }
        }
    }
}
