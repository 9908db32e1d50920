// Conv: 2-D convolution and transposed convolution over NCHW float32 tensors.
//
// Conv2D.forward: y = conv(x, w) (+ bias per output channel) then the epilogue. Lowered to GEMM
// per group: Y_g[Mg × P] = W_g[Mg × K] · col[K × P] with K = (C/group)·kH·kW, P = outH·outW.
// A 1×1 / stride 1 / no-pad convolution on large planes uses x directly as the GEMM's B.
// One input channel per group (depthwise) runs the direct kernel of Conv+Depthwise.swift; a
// GEMM narrower than one register tile (batch 1 on tiny planes) runs turned around
// (Conv+Narrow.swift, same bits).
// Otherwise images are processed in chunks of `nb` so that the GEMM has about `targetColumns`
// columns (small planes, e.g. 4×4 at batch 64, would starve the 32-wide register tile):
// the GEMM packs its B blocks from zero-padded copies of the images (Im2Col+Packed.swift, an
// implicit GEMM: the col matrix is never stored) where those copies fit in the col matrix's
// room, else im2col writes col[K × nb·P] first; the GEMM writes into y (nb = 1) or into a
// scratch block that is then copied plane by plane into y.
//
// ConvTranspose2D.forward: per group, col[(oc,kh,kw) × (n,ih,iw)] = W_gᵀ · X_g by GEMM (X_g
// gathered across a chunk of images when planes are small), then col2im scatters-adds each
// column into y; each output plane is owned by one thread and summed in a fixed order, then
// gets the bias and activation while in cache.
//
// Weights: each call packs the GEMM's weight panels into its scratch, unless the caller packed
// them once with `packWeights` and passes them as `packedWeights` (Runtime does so for constant
// weights: inference initializers); both give the same bits.
//
// Both are deterministic: the same bits for any thread count. Bias ops in the epilogue are
// per output channel whatever their `perRow` flag. Scratch comes from the caller
// (`scratchCount` floats); nothing is allocated here (GEMM packing uses per-thread buffers).

import CSIMD

/// Geometry of a 2-D (transposed) convolution. For Conv2D, `in*` is the input and `out*` the
/// output; for ConvTranspose2D too (`in*` is the ConvTranspose input, `out*` its output,
/// output_padding included). Pads bottom/right are implied by the sizes.
public struct Conv2DShape: Equatable, CustomStringConvertible {
    public var batch: Int
    public var inChannels: Int
    public var inHeight: Int
    public var inWidth: Int
    public var outChannels: Int
    public var outHeight: Int
    public var outWidth: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padTop: Int
    public var padLeft: Int
    public var dilationH: Int
    public var dilationW: Int
    public var group: Int
    /// Conv2D only: floats from one output image to the next when the output is a view into a
    /// wider tensor (a batch > 1 Concat's channel slice, Runtime's Lowering+ConcatViews); 0 for a
    /// dense output (outChannels·outH·outW). Only shapes `Conv2D.writesStridedImages` accepts
    /// may set it.
    public var outImageStride: Int

    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int, outHeight: Int,
                outWidth: Int, kernelH: Int, kernelW: Int, strideH: Int = 1, strideW: Int = 1, padTop: Int = 0,
                padLeft: Int = 0, dilationH: Int = 1, dilationW: Int = 1, group: Int = 1, outImageStride: Int = 0) {
        self.batch = batch; self.inChannels = inChannels; self.inHeight = inHeight; self.inWidth = inWidth
        self.outChannels = outChannels; self.outHeight = outHeight; self.outWidth = outWidth
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.dilationH = dilationH; self.dilationW = dilationW
        self.group = group; self.outImageStride = outImageStride
    }

    /// Floats from one output image to the next (`outImageStride`, or the dense image size).
    public var outImageFloats: Int { outImageStride > 0 ? outImageStride : outChannels * outHeight * outWidth }

    /// Float offset of output plane (image n, channel oc) from the output's start.
    @inline(__always) public func outPlane(_ n: Int, _ oc: Int) -> Int {
        n * outImageFloats + oc * outHeight * outWidth
    }

    public var description: String {
        "N\(batch) \(inChannels)x\(inHeight)x\(inWidth) -> \(outChannels)x\(outHeight)x\(outWidth) "
            + "k\(kernelH)x\(kernelW) s\(strideH),\(strideW) p\(padTop),\(padLeft) d\(dilationH),\(dilationW) g\(group)"
            + (outImageStride > 0 ? " ystride=\(outImageStride)" : "")
    }
}

/// Bias ops → per-row (per output channel) bias for the GEMM's M×N layout.
@inline(__always)
func perChannelEpilogue(_ ops: [EpilogueOp]) -> [EpilogueOp] {
    ops.map { if case .bias = $0 { return .bias(perRow: true) } else { return $0 } }
}

/// Packs each group's weight matrix — `rows` × `depth` as the wide GEMM's A (stored depth × rows
/// when `storedTransposed`), groups back to back — once: as A panels (`Gemm.packA`), or as B
/// panels (`Gemm.packB`) for the narrow GEMM (Conv+Narrow.swift).
func packWeightGroups(_ groups: Int, rows: Int, depth: Int, storedTransposed: Bool, narrow: Bool,
                      weight: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
    let per = narrow ? Gemm.packedBCount(k: depth, n: rows) : Gemm.packedACount(m: rows, k: depth)
    let ld = storedTransposed ? rows : depth
    for gi in 0..<groups {
        let w = weight + gi * rows * depth
        if narrow {
            Gemm.packB(transB: !storedTransposed, k: depth, n: rows, b: w, ldb: ld, into: dst + gi * per, pool: pool)
        } else {
            Gemm.packA(transA: storedTransposed, m: rows, k: depth, a: w, lda: ld, into: dst + gi * per, pool: pool)
        }
    }
}

public enum Conv2D {
    /// Columns a GEMM should see at least (chunks of images are batched up to this).
    static let targetColumns = 1024
    /// Upper bound on the im2col buffer, in floats (soft: one image always fits).
    static let maxColFloats = 4 << 20

    static func isPointwise(_ s: Conv2DShape) -> Bool {
        s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 && s.padTop == 0 && s.padLeft == 0
            && s.inHeight == s.outHeight && s.inWidth == s.outWidth
    }

    /// A pointwise shape whose GEMM reads its input planes where they lie (`Gemm.DirectB`, k step
    /// c at c·plane) instead of packing them (the pointwise branch of `forward`; same bits): at
    /// batch 1 only, where the image is in cache. Packing B costs about 12 register-tile rows of
    /// work per k step and tile (the `isDirect` model), a large share when few output channels
    /// reuse each packed value (batch 1, 1 thread: 144 → 24 channels on 56², 0.26 → 0.20 ms;
    /// 128 → 16 on 55², 0.18 → 0.12 ms). At batch > 1 the planes come from memory, and reading
    /// them in place (k strided streams, rows not 64-byte aligned) loses to packing them: batch
    /// 32, 1 and 2 threads, 128 → 16 on 55² 1.28–1.37× the packed time, 256 → 32 on 27²
    /// 1.26–1.32×, 64 → 16 on 55² 4.4 ms against 3.8; mobilenet_v2 batch 32, 2 threads 1.13×.
    public static func isPointwiseDirect(_ s: Conv2DShape) -> Bool {
        let mg = s.outChannels / s.group, p = s.outHeight * s.outWidth
        return !Baseline.pointwisePacked && isPointwise(s) && p >= Gemm.nr && mg >= Gemm.smallM && s.batch == 1
    }

    /// Whether `forward` honours `s.outImageStride` (writing each image's channels where the
    /// stride puts them and nothing between): every path but the depthwise kernels and the
    /// stride-2 and weight-gradient Winograd paths and the tiny-plane one.
    public static func writesStridedImages(_ s: Conv2DShape) -> Bool {
        !isDepthwise(s) && !isWinogradWeightGrad(s) && !isWinogradS2(s) && !isTinyPlane(s)
    }

    /// Images per chunk.
    static func chunk(_ s: Conv2DShape) -> Int {
        let p = s.outHeight * s.outWidth
        let k = (s.inChannels / s.group) * s.kernelH * s.kernelW
        var nb = (targetColumns + p - 1) / max(p, 1)
        nb = min(nb, maxColFloats / max(1, k * p))
        return max(1, min(nb, s.batch))
    }

    /// Output 1×1 and the kernel covers the whole unpadded input: y = X · Wᵀ with no im2col.
    static func isFullWindow(_ s: Conv2DShape) -> Bool {
        s.outHeight == 1 && s.outWidth == 1 && s.padTop == 0 && s.padLeft == 0 && s.dilationH == 1 && s.dilationW == 1
            && s.kernelH == s.inHeight && s.kernelW == s.inWidth
    }

    /// Floats of scratch that `forward` needs.
    public static func scratchCount(_ s: Conv2DShape, threads: Int) -> Int {
        let p = s.outHeight * s.outWidth
        let k = (s.inChannels / s.group) * s.kernelH * s.kernelW
        let mg = s.outChannels / s.group
        if isWideKernel(s) { return wideKernelScratch(s) }
        if isFullWindow(s) || isDepthwise(s) || isSmallMDirect(s) { return 0 }
        let packed = Gemm.packedACount(m: mg, k: k)
        // A Winograd shape also fits the GEMM paths (`allowWinograd: false`).
        let winograd = isTinyPlane(s) ? TinyPlane.scratch(s) : isWinograd(s) ? winogradScratch(s)
            : isWinogradS2(s) ? WinogradS2.scratch(winogradS2Plan(s)) : isWinogradWeightGrad(s) ? WinogradWGPlan(s).scratch : 0
        // Narrow: col and Yᵀ (Conv+Narrow.swift); also enough for the wide path (`allowNarrow`).
        // Pixel broadcast: packed Wᵀ panels and padded planes; the GEMM paths' room too
        // (`allowDirect: false`).
        let broadcast = isPixelBroadcast(s) ? s.group * Gemm.packedBCount(k: k, n: mg) + pixelBroadcastScratch(s) : 0
        if isNarrow(s) { return max(winograd, broadcast, packed + (k + mg) * narrowRows(s)) }
        if isPointwise(s) && p >= targetColumns / 2 { return max(broadcast, packed) }
        let nb = chunk(s)
        // A direct shape also fits the implicit path (`allowDirect: false`).
        return max(winograd, broadcast, packed + max(k * nb * p + (nb > 1 ? mg * nb * p : 0), isDirect(s) ? directScratch(s) : 0))
    }

    /// Floats of the GEMM-packed weights `forward` packs on each call for this shape (every
    /// group's `Gemm.packA` panels back to back, or `Gemm.packB` panels for a narrow shape), or 0
    /// for the paths that never pack them (full-window, depthwise, small-M direct, 1–3 output
    /// channels per group).
    public static func packedWeightCount(_ s: Conv2DShape) -> Int {
        let mg = s.outChannels / s.group
        let k = (s.inChannels / s.group) * s.kernelH * s.kernelW
        if isFullWindow(s) || isDepthwise(s) || isSmallMDirect(s) || mg < Gemm.smallM || isWinogradWeightGrad(s) || isTinyPlane(s) { return 0 }
        if isWinograd(s) { return winogradPackedCount(s) }
        if isWinogradS2(s) { return winogradS2PackedCount(s) }
        if isNarrow(s) || isPixelBroadcast(s) { return s.group * Gemm.packedBCount(k: k, n: mg) }
        return s.group * Gemm.packedACount(m: mg, k: k)
    }

    /// Packs `weight` (outC, inC/group, kH, kW) once into `into` (`packedWeightCount` floats) for
    /// `forward(…, packedWeights:)`: weights that do not change between calls (inference
    /// initializers) skip the per-call repack.
    public static func packWeights(_ s: Conv2DShape, weight: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                                   pool: ThreadPool) {
        guard packedWeightCount(s) > 0 else { return }
        if isWinograd(s) {
            let mg = s.outChannels / s.group, cg = s.inChannels / s.group
            let u = UnsafeMutablePointer<Float>.allocate(capacity: 16 * mg * cg)
            defer { u.deallocate() }
            for gi in 0..<s.group {
                winogradPackWeights(s, group: gi, weight: weight, u: u,
                                    into: dst + gi * 16 * Gemm.packedACount(m: mg, k: cg), pool: pool)
            }
            return
        }
        if isWinogradS2(s) {
            let per = winogradS2Plan(s).groupPackedCount
            for gi in 0..<s.group { winogradS2PackWeights(s, group: gi, weight: weight, into: dst + gi * per, pool: pool) }
            return
        }
        packWeightGroups(s.group, rows: s.outChannels / s.group, depth: (s.inChannels / s.group) * s.kernelH * s.kernelW,
                         storedTransposed: false, narrow: isNarrow(s) || isPixelBroadcast(s), weight: weight, into: dst, pool: pool)
    }

    /// y (N, outC, outH, outW) = conv(x (N, inC, inH, inW), weight (outC, inC/group, kH, kW)),
    /// then the epilogue (bias per output channel, activations). `packedWeights`, when given, is
    /// `weight` already packed by `packWeights` (same bits as packing it here). `allowNarrow:
    /// false` runs a narrow shape's GEMM the wide way (Conv+Narrow.swift; same bits; not with
    /// `packedWeights`). `allowImplicit: false` writes the whole col matrix for the GEMM instead of
    /// letting it pack B from padded planes (Im2Col+Packed.swift) or read them where they lie
    /// (Conv+Direct.swift); same bits. `allowDirect: false` runs a direct shape through the
    /// implicit GEMM instead, and a horizontal-stride-2 depthwise shape on phase planes (same bits).
    /// `allowWinograd: false` runs a Winograd shape
    /// (Conv+Winograd.swift; not the same bits) through the GEMM paths; with any `allow…: false`
    /// on such a shape, `packedWeights` must be nil (`packWeights` packed them for Winograd).
    /// `stackWinogradRows: false` transforms a 4×4 stride-2 Winograd shape's tile rows (a Winograd
    /// weight gradient's kernel blocks) image by image even where they would be stacked across
    /// images (Conv+WinogradStride2.swift, Conv+WinogradWeightGrad.swift; same bits).
    public static func forward(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               epilogue: [EpilogueOp], scratch: UnsafeMutablePointer<Float>?, pool: ThreadPool,
                               packedWeights: UnsafePointer<Float>? = nil, allowNarrow: Bool = true,
                               allowImplicit: Bool = true, allowDirect: Bool = true, allowWinograd: Bool = true,
                               stackWinogradRows: Bool = !Baseline.winogradS2Segments) {
        let g = s.group
        let cg = s.inChannels / g, mg = s.outChannels / g
        let p = s.outHeight * s.outWidth
        let pin = s.inHeight * s.inWidth
        let k = cg * s.kernelH * s.kernelW
        let ops = perChannelEpilogue(epilogue)
        precondition(s.outImageStride == 0 || writesStridedImages(s), "strided output on a path that writes dense images: \(s)")
        if s.batch == 0 || p == 0 || mg == 0 { return }
        if isFullWindow(s) {
            // y[n, g·mg + oc] = Σ_k x[n, g·cg·pin + k] · W[g·mg + oc, k]
            let colOps = perColumnEpilogue(ops)
            for gi in 0..<g {
                Gemm.sgemm(transA: false, transB: true, m: s.batch, n: mg, k: k, alpha: 1,
                           a: x + gi * cg * pin, lda: s.inChannels * pin, b: weight + gi * mg * k, ldb: k,
                           beta: 0, c: y + gi * mg, ldc: s.outImageFloats,
                           bias: bias.map { $0 + gi * mg }, epilogue: colOps, pool: pool)
            }
            return
        }
        if isDepthwise(s) {
            depthwise(s, x: x, weight: weight, bias: bias, y: y, ops: ops, pool: pool, directStride2: allowDirect)
            return
        }
        if isWideKernel(s) {
            directWideKernel(s, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch!, pool: pool)
            return
        }
        if isSmallMDirect(s) {
            directSmallM(s, x: x, weight: weight, bias: bias, y: y, ops: ops, pool: pool)
            return
        }
        if allowWinograd && allowNarrow && allowImplicit && allowDirect && isTinyPlane(s) {
            forwardTinyPlane(s, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch!, pool: pool)
            return
        }
        if allowWinograd && allowNarrow && allowImplicit && allowDirect && isWinograd(s) {
            forwardWinograd(s, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch!, pool: pool,
                            packedWeights: packedWeights)
            return
        }
        if allowWinograd && allowNarrow && allowImplicit && allowDirect && isWinogradWeightGrad(s) {
            forwardWinogradWeightGrad(s, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch!, pool: pool,
                                      stacked: stackWinogradRows)
            return
        }
        if allowWinograd && allowNarrow && allowImplicit && allowDirect && isWinogradS2(s) {
            forwardWinogradS2(s, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch!, pool: pool,
                              packedWeights: packedWeights, stacked: stackWinogradRows)
            return
        }
        if allowDirect && allowImplicit && allowNarrow && isPixelBroadcast(s) {
            let w: UnsafePointer<Float>
            if let packedWeights {
                w = packedWeights
            } else {
                packWeightGroups(g, rows: mg, depth: k, storedTransposed: false, narrow: true, weight: weight,
                                 into: scratch!, pool: pool)
                w = UnsafePointer(scratch!)
            }
            forwardPixelBroadcast(s, x: x, bias: bias, y: y, ops: ops, packed: w,
                                  work: scratch! + g * Gemm.packedBCount(k: k, n: mg), pool: pool)
            return
        }
        if allowNarrow && isNarrow(s) {
            forwardNarrow(s, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch!, pool: pool,
                          packedWeights: packedWeights)
            return
        }
        let packed = scratch!
        let packedCount = Gemm.packedACount(m: mg, k: k)
        // Weights are packed once per group and reused by every GEMM of that group, or once for
        // all calls by the caller (`packedWeights`); tiny mg goes through plain sgemm, which has a
        // dedicated small-M path.
        let prepack = mg >= Gemm.smallM
        func pack(_ gi: Int) {
            if prepack && packedWeights == nil {
                Gemm.packA(transA: false, m: mg, k: k, a: weight + gi * mg * k, lda: k, into: packed, pool: pool)
            }
        }
        /// Group `gi`'s packed weights: the caller's, or this call's pack in scratch.
        func packedA(_ gi: Int) -> UnsafePointer<Float> {
            packedWeights.map { $0 + gi * packedCount } ?? UnsafePointer(packed)
        }
        func gemm(_ gi: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ n: Int) {
            if prepack {
                let a = packedA(gi)
                Gemm.sgemmPacked(m: mg, n: n, k: k, alpha: 1, packedA: a, transB: false, b: b, ldb: ldb,
                                 beta: 0, c: c, ldc: ldc, bias: bias.map { $0 + gi * mg }, epilogue: ops, pool: pool)
            } else {
                Gemm.sgemm(transA: false, transB: false, m: mg, n: n, k: k, alpha: 1, a: weight + gi * mg * k, lda: k,
                           b: b, ldb: ldb, beta: 0, c: c, ldc: ldc, bias: bias.map { $0 + gi * mg }, epilogue: ops, pool: pool)
            }
        }
        let pointwiseDirect = allowDirect && allowImplicit && prepack && isPointwiseDirect(s)
        if allowDirect && allowImplicit && allowNarrow && !pointwiseDirect && isDirect(s) {
            forwardDirect(s, x: x, bias: bias, y: y, ops: ops, work: packed + packedCount, pool: pool,
                          pack: pack, packedA: packedA)
            return
        }
        if isPointwise(s) && (p >= targetColumns / 2 || pointwiseDirect) {
            // One GEMM per image; shallow ones (k ≤ 64) run whole images per thread.
            let perImage = isChunkParallel(s, chunks: s.batch, threads: pool.sharingThreads)
            let direct = pointwiseDirect
            withUnsafeTemporaryAllocation(of: Int.self, capacity: direct ? k : 0) { offs in
                if direct { for c in 0..<k { offs[c] = c * pin } }
                for gi in 0..<g {
                    pack(gi)
                    let image = { (n: Int) in
                        let xn = x + (n * s.inChannels + gi * cg) * pin, yn = y + s.outPlane(n, gi * mg)
                        guard direct else { gemm(gi, xn, pin, yn, p, p); return }
                        // Whole register tiles read the planes where they lie; the last partial
                        // tile (it would read past the plane) is packed as usual.
                        let whole = p / Gemm.nr * Gemm.nr
                        Gemm.sgemmPacked(m: mg, n: whole, k: k, alpha: 1, packedA: packedA(gi),
                                         b: .direct(Gemm.DirectB(base: xn, offsets: UnsafePointer(offs.baseAddress!))),
                                         beta: 0, c: yn, ldc: p, bias: bias.map { $0 + gi * mg }, epilogue: ops, pool: pool)
                        if whole < p { gemm(gi, xn + whole, pin, yn + whole, p, p - whole) }
                    }
                    if perImage { pool.dynamicFor(s.batch, image) } else { for n in 0..<s.batch { image(n) } }
                }
            }
            return
        }
        let nb = chunk(s)
        // Implicit GEMM where the padded planes fit where the col matrix would go.
        let implicit = allowImplicit && prepack && !Baseline.im2colBuffer
            && Im2Col.PaddedPlanes(s).count(images: nb, channels: cg) <= k * nb * p
        let chunkFloats = k * nb * p + (nb > 1 ? mg * nb * p : 0)
        let chunks = (s.batch + nb - 1) / nb
        let perChunk = isChunkParallel(s, chunks: chunks, threads: pool.sharingThreads)
            && chunkFloats <= 1 << 18
        for gi in 0..<g {
            pack(gi)
            if perChunk {
                // Few multiply-adds per chunk (small k): whole chunks per thread, each in this
                // thread's own col (and out) buffer; a chunk's bits do not depend on its thread.
                pool.dynamicFor(chunks) { q in
                    let col = chunkStorage.get(chunkFloats)
                    chunkBody(gi, q * nb, col, col + k * nb * p, implicit: implicit)
                }
            } else {
                var n0 = 0
                while n0 < s.batch {
                    chunkBody(gi, n0, packed + packedCount, packed + packedCount + k * nb * p, implicit: implicit)
                    n0 += nb
                }
            }
        }

        /// Images n0 ..< n0 + nb of group gi, through `col` (k × cols) and `out` (mg × cols).
        func chunkBody(_ gi: Int, _ n0: Int, _ col: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                       implicit: Bool) {
                let nc = min(nb, s.batch - n0)
                let cols = nc * p
                let target = nc == 1 ? y + s.outPlane(n0, gi * mg) : out
                if implicit {
                    // The GEMM packs its B blocks from padded copies of the images
                    // (Im2Col+Packed.swift) that take no more room than the col matrix.
                    let a = packedA(gi)
                    Im2Col.padPlanes(s, x: x, n0: n0, count: nc, channel0: gi * cg, channels: cg, planes: col, pool: pool)
                    let planes = UnsafePointer(col)
                    Gemm.sgemmPacked(m: mg, n: cols, k: k, alpha: 1, packedA: a,
                                     b: .packing({ p0, kc, j0, ncols, dst in
                                         Im2Col.packBlock(s, planes: planes, channels: cg, p0: p0, kc: kc,
                                                          j0: j0, nc: ncols, dst: dst)
                                     }),
                                     beta: 0, c: target, ldc: nc == 1 ? p : cols, bias: bias.map { $0 + gi * mg },
                                     epilogue: ops, pool: pool)
                } else {
                    Im2Col.im2col(s, x: x, n0: n0, count: nc, channel0: gi * cg, channels: cg, col: col, ldcol: cols, pool: pool)
                    gemm(gi, col, cols, target, nc == 1 ? p : cols, cols)
                }
                if nc > 1 {
                    pool.parallelFor(mg * nc) { r in
                        for idx in r {
                            let m = idx / nc, j = idx % nc
                            Im2Col.copy(y + s.outPlane(n0 + j, gi * mg + m), out + m * cols + j * p, p)
                        }
                    }
                }
        }
    }

    /// Per-thread col/out buffers of `isChunkParallel` runs.
    static let chunkStorage = ThreadBuffer(minimum: 0)

    /// Whether the GEMM paths run whole image chunks (`chunks` of them; one image each on the
    /// pointwise path) per thread instead of splitting each chunk's GEMM: there are chunks enough
    /// to share (at least 4 per thread, claimed by whichever thread is free), and every split loop
    /// would cost a synchronisation. Shallow GEMMs (k ≤ 64: few input channels, e.g. a network's
    /// first layer or a 1×1 expansion) split into loops too short to pay for it (1 → 128 channels
    /// on 64², batch 64: 3.5 ms on one thread, 11.9 ms split over two); deeper ones lose less but
    /// still lose (batch 32, 2 threads, whole chunks against split: squeezenet1_1 0.94,
    /// mobilenet_v2 0.98). The implicit and im2col paths also need each thread's buffers to fit
    /// in 1 MiB.
    public static func isChunkParallel(_ s: Conv2DShape, chunks: Int, threads: Int) -> Bool {
        let k = (s.inChannels / s.group) * s.kernelH * s.kernelW
        return !Baseline.splitChunkGemms && threads > 1 && (k <= 64 || !Baseline.shallowChunksOnly) && chunks >= 4 * threads
    }

    // MARK: direct convolution for few output channels

    /// Rows of output computed together by `directSmallM` (independent accumulator chains).
    static let directRows = 4

    /// 1–3 output channels per group, stride 1, no dilation, rows up to 64 wide: a direct
    /// convolution vectorised along the output width (a GEMM would be all padding; im2col would
    /// move kH·kW times the input for a few FLOPs per element).
    public static func isSmallMDirect(_ s: Conv2DShape) -> Bool {
        let mg = s.outChannels / s.group
        return !isFullWindow(s) && mg >= 1 && mg < Gemm.smallM && s.strideH == 1 && s.strideW == 1
            && s.dilationH == 1 && s.dilationW == 1 && s.outWidth <= 64 && s.inChannels / s.group >= 1
    }

    /// y = conv(x, w) for `isSmallMDirect` shapes. Each image's group input is copied once into a
    /// zero-padded per-thread buffer (rows of width `pw`, `ph` rows per channel) so that every tap is
    /// an unaligned vector load without bounds checks; `directRows` output rows × 2 vectors of 16
    /// columns accumulate together. Each output element sums (c, kh, kw) in order: the same bits
    /// for any thread count (threads split images).
    static func directSmallM(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                             bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                             pool: ThreadPool) {
        typealias V = SIMD16<Float>
        let g = s.group, cg = s.inChannels / g, mg = s.outChannels / g
        let kH = s.kernelH, kW = s.kernelW
        let outW = s.outWidth, outH = s.outHeight, p = outH * outW, pin = s.inHeight * s.inWidth
        let nv = (outW + 15) / 16
        let nvPairs = (nv + 1) / 2
        let R = directRows
        let pw = max(s.padLeft + s.inWidth, kW - 1 + 32 * nvPairs)
        let rowGroups = (outH + R - 1) / R
        let ph = max(s.padTop + s.inHeight, rowGroups * R + kH - 1)
        let bufCount = cg * ph * pw
        let khw = kH * kW
        pool.parallelFor(s.batch) { range in
            let buf = Gemm.threadBuffer(bufCount + 64)
            // The padding is zeroed once: each image's copy overwrites only the inputs.
            Im2Col.zero(buf, bufCount + 64)
            for n in range {
                for gi in 0..<g {
                    // Padded copy of this image's group channels.
                    padCopy(s, x + (n * s.inChannels + gi * cg) * pin, channels: cg, into: buf, ph: ph, pw: pw,
                            bordersZero: true)
                    if mg >= 2 {
                        directSmallMChannels(buf: buf, weight: weight + gi * mg * cg * khw, y: y + s.outPlane(n, gi * mg),
                                             mg: mg, cg: cg, kH: kH, kW: kW, ph: ph, pw: pw, outH: outH, outW: outW)
                        if !ops.isEmpty {
                            EpilogueApply.applyRows(c: y + s.outPlane(n, 0), ldc: p, rows: (gi * mg)..<(gi * mg + mg),
                                                    cols: 0..<p, bias: bias, ops: ops)
                        }
                        continue
                    }
                    for o in 0..<mg {
                        let oc = gi * mg + o
                        let wbase = weight + oc * cg * khw
                        let plane = y + s.outPlane(n, oc)
                        for rg in 0..<rowGroups {
                            let oh0 = rg * R
                            for vp in 0..<nvPairs {
                                let col0 = vp * 32
                                var a0 = V(), a1 = V(), a2 = V(), a3 = V(), b0 = V(), b1 = V(), b2 = V(), b3 = V()
                                if kH == 3 && kW == 3 && R == 4 && !Baseline.smallMTapLoop {
                                    // Each input row's vectors loaded once for the (up to three) output
                                    // rows that read it, the nine weights in registers; every output
                                    // still sums (c, kh, kw) in order.
                                    for c in 0..<cg {
                                        let wc = wbase + c * 9
                                        let w0 = V(repeating: wc[0]), w1 = V(repeating: wc[1]), w2 = V(repeating: wc[2])
                                        let w3 = V(repeating: wc[3]), w4 = V(repeating: wc[4]), w5 = V(repeating: wc[5])
                                        let w6 = V(repeating: wc[6]), w7 = V(repeating: wc[7]), w8 = V(repeating: wc[8])
                                        let cbase = UnsafePointer(buf + c * ph * pw + oh0 * pw + col0)
                                        @inline(__always) func row(_ i: Int, _ a: inout V, _ b: inout V, _ wa: V, _ wb: V, _ wc: V) {
                                            let q = cbase + i * pw
                                            a.addProduct(wa, gannet_load16_exact(q)); b.addProduct(wa, gannet_load16_exact(q + 16))
                                            a.addProduct(wb, gannet_load16_exact(q + 1)); b.addProduct(wb, gannet_load16_exact(q + 17))
                                            a.addProduct(wc, gannet_load16_exact(q + 2)); b.addProduct(wc, gannet_load16_exact(q + 18))
                                        }
                                        row(0, &a0, &b0, w0, w1, w2)
                                        row(1, &a0, &b0, w3, w4, w5); row(1, &a1, &b1, w0, w1, w2)
                                        row(2, &a0, &b0, w6, w7, w8); row(2, &a1, &b1, w3, w4, w5); row(2, &a2, &b2, w0, w1, w2)
                                        row(3, &a1, &b1, w6, w7, w8); row(3, &a2, &b2, w3, w4, w5); row(3, &a3, &b3, w0, w1, w2)
                                        row(4, &a2, &b2, w6, w7, w8); row(4, &a3, &b3, w3, w4, w5)
                                        row(5, &a3, &b3, w6, w7, w8)
                                    }
                                } else {
                                for c in 0..<cg {
                                    let wc = wbase + c * khw
                                    let cbase = UnsafeRawPointer(buf + c * ph * pw + oh0 * pw + col0)
                                    for kh in 0..<kH {
                                        let r0 = cbase + kh * pw * 4
                                        for kw in 0..<kW {
                                            let wv = V(repeating: wc[kh * kW + kw])
                                            let q = r0 + kw * 4
                                            a0.addProduct(wv, q.loadUnaligned(as: V.self))
                                            b0.addProduct(wv, q.loadUnaligned(fromByteOffset: 64, as: V.self))
                                            a1.addProduct(wv, q.loadUnaligned(fromByteOffset: pw * 4, as: V.self))
                                            b1.addProduct(wv, q.loadUnaligned(fromByteOffset: pw * 4 + 64, as: V.self))
                                            a2.addProduct(wv, q.loadUnaligned(fromByteOffset: pw * 8, as: V.self))
                                            b2.addProduct(wv, q.loadUnaligned(fromByteOffset: pw * 8 + 64, as: V.self))
                                            a3.addProduct(wv, q.loadUnaligned(fromByteOffset: pw * 12, as: V.self))
                                            b3.addProduct(wv, q.loadUnaligned(fromByteOffset: pw * 12 + 64, as: V.self))
                                        }
                                    }
                                }
                                }
                                var acc = (a0, b0, a1, b1, a2, b2, a3, b3)
                                withUnsafeBytes(of: &acc) { raw in
                                    let f = raw.baseAddress!.assumingMemoryBound(to: Float.self)
                                    let w = min(32, outW - col0)
                                    for r in 0..<min(R, outH - oh0) {
                                        let d = plane + (oh0 + r) * outW + col0
                                        if nvPairs == 1 && d + 32 <= plane + p {
                                            // Rows of one block, in order: lanes past this row land in
                                            // the next one, which is written after it.
                                            store16(load16(f + r * 32), d); store16(load16(f + r * 32 + 16), d + 16)
                                        } else {
                                            for t in 0..<w { d[t] = f[r * 32 + t] }
                                        }
                                    }
                                }
                            }
                        }
                        if !ops.isEmpty {
                            EpilogueApply.applyRows(c: plane - oc * p, ldc: p, rows: oc..<(oc + 1), cols: 0..<p,
                                                    bias: bias, ops: ops)
                        }
                    }
                }
            }
        }
    }

    /// `directSmallM`'s inner loops for 2–3 output channels of one image's group: every tap's
    /// input vectors are loaded once for all of them (2 output rows × 32 columns × 3 channels of
    /// accumulators; a third channel is computed from the second's weights and dropped when
    /// mg = 2). Same summation order per element as the one-channel loop. `buf`: the padded
    /// planes (ph rows of pw floats per input channel); `y`: the group's first output plane.
    static func directSmallMChannels(buf: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                     mg: Int, cg: Int, kH: Int, kW: Int, ph: Int, pw: Int, outH: Int, outW: Int) {
        typealias V = SIMD16<Float>
        let khw = kH * kW, p = outH * outW
        let w0 = weight, w1 = weight + cg * khw, w2 = mg > 2 ? weight + 2 * cg * khw : w1
        let nvPairs = ((outW + 15) / 16 + 1) / 2
        var oh0 = 0
        while oh0 < outH {
            for vp in 0..<nvPairs {
                let col0 = vp * 32
                var x0 = V(), x1 = V(), x2 = V(), x3 = V()
                var y0 = V(), y1 = V(), y2 = V(), y3 = V()
                var z0 = V(), z1 = V(), z2 = V(), z3 = V()
                for c in 0..<cg {
                    let cbase = buf + c * ph * pw + oh0 * pw + col0
                    for kh in 0..<kH {
                        let r0 = cbase + kh * pw
                        for kw in 0..<kW {
                            let t = c * khw + kh * kW + kw
                            let q = r0 + kw
                            let i0 = gannet_load16_exact(q), i1 = gannet_load16_exact(q + 16)
                            let i2 = gannet_load16_exact(q + pw), i3 = gannet_load16_exact(q + pw + 16)
                            let a = V(repeating: w0[t]), b = V(repeating: w1[t]), d = V(repeating: w2[t])
                            x0.addProduct(a, i0); x1.addProduct(a, i1); x2.addProduct(a, i2); x3.addProduct(a, i3)
                            y0.addProduct(b, i0); y1.addProduct(b, i1); y2.addProduct(b, i2); y3.addProduct(b, i3)
                            z0.addProduct(d, i0); z1.addProduct(d, i1); z2.addProduct(d, i2); z3.addProduct(d, i3)
                        }
                    }
                }
                var acc = (x0, x1, x2, x3, y0, y1, y2, y3, z0, z1, z2, z3)
                withUnsafeBytes(of: &acc) { raw in
                    let f = raw.baseAddress!.assumingMemoryBound(to: Float.self)
                    let w = min(32, outW - col0)
                    for o in 0..<min(mg, 3) {
                        for r in 0..<min(2, outH - oh0) {
                            let d = y + o * p + (oh0 + r) * outW + col0
                            let from = f + o * 64 + r * 32
                            for t in 0..<w { d[t] = from[t] }
                        }
                    }
                }
            }
            oh0 += 2
        }
    }

    /// Direct scalar reference with the same contract as `forward`.
    public static func reference(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                                 epilogue: [EpilogueOp]) {
        let cg = s.inChannels / s.group, mg = s.outChannels / s.group
        for n in 0..<s.batch {
            for oc in 0..<s.outChannels {
                let gi = oc / mg
                for oh in 0..<s.outHeight {
                    for ow in 0..<s.outWidth {
                        var acc: Float = 0
                        for c in 0..<cg {
                            let ic = gi * cg + c
                            for kh in 0..<s.kernelH {
                                let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                                if ih < 0 || ih >= s.inHeight { continue }
                                for kw in 0..<s.kernelW {
                                    let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                                    if iw < 0 || iw >= s.inWidth { continue }
                                    acc += x[((n * s.inChannels + ic) * s.inHeight + ih) * s.inWidth + iw]
                                        * weight[((oc * cg + c) * s.kernelH + kh) * s.kernelW + kw]
                                }
                            }
                        }
                        y[((n * s.outChannels + oc) * s.outHeight + oh) * s.outWidth + ow] = acc
                    }
                }
            }
        }
        referenceEpilogue(y, batch: s.batch, channels: s.outChannels, plane: s.outHeight * s.outWidth,
                          bias: bias, epilogue: epilogue)
    }

    static func referenceEpilogue(_ y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int,
                                  bias: UnsafePointer<Float>?, epilogue: [EpilogueOp]) {
        let ops = perChannelEpilogue(epilogue)
        for n in 0..<batch {
            let base = y + n * channels * plane
            EpilogueApply.referenceRows(c: base, ldc: plane, rows: 0..<channels, cols: 0..<plane, bias: bias, ops: ops)
        }
    }
}

public enum ConvTranspose2D {
    static let targetColumns = 1024
    static let maxColFloats = 4 << 20
    /// The col matrix of a layer with at least 128 input channels a group stays within L2
    /// (1 MiB), from the GEMM that writes it to the col2im that reads it back: cifar10's
    /// 512 → 256 on 2×2 up to 128 → 64 on 8×8 at batch 64 took 5–11% less time. Shallower layers
    /// lose more on the GEMM's shorter rows than the col2im gains (mnist's 64 → 32 on 14×14:
    /// 8.7 → 9.2 ms with 1 MiB chunks).
    static let l2ColFloats = 1 << 18

    /// Images per chunk.
    static func chunk(_ s: Conv2DShape) -> Int {
        let pin = s.inHeight * s.inWidth
        let m = (s.outChannels / s.group) * s.kernelH * s.kernelW
        var nb = (targetColumns + pin - 1) / max(pin, 1)
        let colFloats = s.inChannels / s.group >= 128 && !Baseline.convTransposeGridCol2im ? l2ColFloats : maxColFloats
        nb = min(nb, colFloats / max(1, m * pin))
        return max(1, min(nb, s.batch))
    }

    /// 1×1 input, no pads/dilation, output exactly one kernel: y[n] = x[n] · W, no col2im.
    static func isFromPoint(_ s: Conv2DShape) -> Bool {
        s.inHeight == 1 && s.inWidth == 1 && s.padTop == 0 && s.padLeft == 0 && s.dilationH == 1 && s.dilationW == 1
            && s.outHeight == s.kernelH && s.outWidth == s.kernelW
    }

    // MARK: phase (sub-pixel) col2im for dilation 1

    /// Dilation 1: the input is gathered into a zero-padded AH×AW grid so that every tap of the
    /// col2im becomes one contiguous shifted vector add into a stride phase (see `forwardPhased`).
    static func isPhased(_ s: Conv2DShape) -> Bool {
        s.dilationH == 1 && s.dilationW == 1 && s.inChannels / s.group > 0
    }

    /// Padded input grid: AH rows × AW columns per image.
    static func phasedGrid(_ s: Conv2DShape) -> (ah: Int, aw: Int) {
        let ah = max(s.inHeight + (s.kernelH - 1) / s.strideH, (s.outHeight - 1 + s.padTop) / s.strideH + 1)
        let aw = max(s.inWidth + (s.kernelW - 1) / s.strideW, (s.outWidth - 1 + s.padLeft) / s.strideW + 1)
        return (ah, aw)
    }

    static func phasedChunk(_ s: Conv2DShape) -> Int {
        let g = phasedGrid(s)
        let pin = g.ah * g.aw
        let m = (s.outChannels / s.group) * s.kernelH * s.kernelW
        var nb = (targetColumns + pin - 1) / max(pin, 1)
        nb = min(nb, maxColFloats / max(1, m * pin))
        return max(1, min(nb, s.batch))
    }

    /// Floats of scratch that `forward` needs (either phased variant: see `forwardPhased`; a
    /// tiny-plane shape also fits them, `allowWinograd: false`).
    public static func scratchCount(_ s: Conv2DShape, threads: Int) -> Int {
        max(isTinyPlane(s) ? TinyPlane.scratch(s) : 0, gemmScratchCount(s, threads: threads))
    }

    static func gemmScratchCount(_ s: Conv2DShape, threads: Int) -> Int {
        if isFromPoint(s) { return 0 }
        // A stride-1 shape also fits the phased path (`paddedGrid`).
        let stride1 = isStride1Conv(s) ? flippedCount(s) + Conv2D.scratchCount(stride1Conv(s), threads: threads) : 0
        if stride1 > 0 {
            let g = phasedGrid(s)
            let m = (s.outChannels / s.group) * s.kernelH * s.kernelW, cg = s.inChannels / s.group
            return max(stride1, Gemm.packedACount(m: m, k: cg) + (m + cg) * max(phasedChunk(s) * g.ah * g.aw, chunk(s) * s.inHeight * s.inWidth))
        }
        // A Winograd shape also fits the phased path (`allowWinograd: false`).
        let winograd = isWinogradS2(s) ? WinogradS2.scratch(winogradS2Plan(s)) : 0
        if isPhased(s) {
            let g = phasedGrid(s)
            let lPadded = phasedChunk(s) * g.ah * g.aw
            let lPlain = chunk(s) * s.inHeight * s.inWidth
            let m = (s.outChannels / s.group) * s.kernelH * s.kernelW
            let cg = s.inChannels / s.group
            let blockedXs = isChannelBlocked(s) ? cg * blockedChunk(s) * s.inHeight * s.inWidth : 0
            return max(winograd, Gemm.packedACount(m: m, k: cg) + max((m + cg) * max(lPadded, lPlain, Gemm.smallM) + stride2RowsSlack,
                                                                     blockedXs))
        }
        let pin = s.inHeight * s.inWidth
        let nb = chunk(s)
        let m = (s.outChannels / s.group) * s.kernelH * s.kernelW
        let cg = s.inChannels / s.group
        return Gemm.packedACount(m: m, k: cg) + m * nb * pin + (nb > 1 ? cg * nb * pin : 0)
    }

    /// Floats of the GEMM-packed weights `forward` packs on each call (every group's Wᵀ panels
    /// back to back), or 0 where it never packs them (a ConvTranspose from a 1×1 point).
    public static func packedWeightCount(_ s: Conv2DShape) -> Int {
        let cg = s.inChannels / s.group, m = (s.outChannels / s.group) * s.kernelH * s.kernelW
        if isFromPoint(s) || cg == 0 || m == 0 || isSingleChannelStride1(s) || isTinyPlane(s) { return 0 }
        if isWinogradS2(s) { return winogradS2PackedCount(s) }
        if isStride1Conv(s) { return flippedCount(s) + Conv2D.packedWeightCount(stride1Conv(s)) }
        return s.group * (isNarrow(s) ? Gemm.packedBCount(k: cg, n: m) : Gemm.packedACount(m: m, k: cg))
    }

    /// Packs `weight` (inC, outC/group, kH, kW) once into `into` (`packedWeightCount` floats) for
    /// `forward(…, packedWeights:)`, so that weights that do not change between calls (inference
    /// initializers) skip the per-call repack.
    public static func packWeights(_ s: Conv2DShape, weight: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                                   pool: ThreadPool) {
        guard packedWeightCount(s) > 0 else { return }
        if isStride1Conv(s) {
            flipWeights(s, weight: weight, into: dst)
            Conv2D.packWeights(stride1Conv(s), weight: dst, into: dst + flippedCount(s), pool: pool)
            return
        }
        if isWinogradS2(s) {
            let per = winogradS2Plan(s).groupPackedCount
            for gi in 0..<s.group { winogradS2PackWeights(s, group: gi, weight: weight, into: dst + gi * per, pool: pool) }
            return
        }
        packWeightGroups(s.group, rows: (s.outChannels / s.group) * s.kernelH * s.kernelW, depth: s.inChannels / s.group,
                         storedTransposed: true, narrow: isNarrow(s), weight: weight, into: dst, pool: pool)
    }

    /// y (N, outC, outH, outW) = convTranspose(x (N, inC, inH, inW), weight (inC, outC/group, kH, kW)),
    /// then the epilogue (bias per output channel, activations). ONNX ConvTranspose semantics:
    /// input pixel (ih, iw) and tap (kh, kw) land on output (ih·sH − padTop + kh·dH, iw·sW − padLeft + kw·dW).
    /// With `planeStats` (2·N·outC doubles), each finished output plane (n, c) also stores its sum and
    /// sum of squares at planeStats[2(n·outC + c)], [2(n·outC + c) + 1] while it is in cache.
    /// `paddedGrid` picks the phased variant whose GEMM runs over the padded grid (the baseline
    /// `convTPadded`; same bits, see `forwardPhased`). `packedWeights`, when given, is `weight`
    /// already packed by `packWeights` (same bits as packing it here). `allowNarrow: false` runs
    /// a narrow shape's GEMM the wide way (Conv+Narrow.swift; same bits; not with `packedWeights`).
    /// `allowWinograd: false` runs a 4×4 stride-2 shape (Conv+WinogradStride2.swift; not the same
    /// bits) through the phased path; then `packedWeights` must be nil, as with `paddedGrid` or
    /// `allowNarrow: false` on such a shape. `allowStride1Conv: false` runs a stride-1 shape
    /// through the phased path instead of the Conv it equals (ConvTranspose+Stride1.swift; not the
    /// same bits; `packedWeights` must then be nil). `stackWinogradRows` as in `Conv2D.forward`.
    public static func forward(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               epilogue: [EpilogueOp], scratch: UnsafeMutablePointer<Float>?, pool: ThreadPool,
                               planeStats: UnsafeMutablePointer<Double>? = nil,
                               paddedGrid: Bool = Baseline.convTransposePaddedGrid,
                               packedWeights: UnsafePointer<Float>? = nil, allowNarrow: Bool = true,
                               allowWinograd: Bool = true, allowStride1Conv: Bool = true,
                               stackWinogradRows: Bool = !Baseline.winogradS2Segments) {
        let g = s.group
        let cg = s.inChannels / g, mg = s.outChannels / g
        let khw = s.kernelH * s.kernelW
        let m = mg * khw
        let pin = s.inHeight * s.inWidth
        let pout = s.outHeight * s.outWidth
        if s.batch == 0 || pout == 0 || mg == 0 { return }
        let ops = perChannelEpilogue(epilogue)
        if isFromPoint(s) {
            for gi in 0..<g {
                if cg == 0 {
                    for n in 0..<s.batch { (y + n * s.outChannels * pout + gi * m).update(repeating: 0, count: m) }
                    continue
                }
                Gemm.sgemm(transA: false, transB: false, m: s.batch, n: m, k: cg, alpha: 1,
                           a: x + gi * cg, lda: s.inChannels, b: weight + gi * cg * m, ldb: m,
                           beta: 0, c: y + gi * m, ldc: s.outChannels * pout, pool: pool)
            }
            EpilogueApply.applyNCHW(y: y, batch: s.batch, channels: s.outChannels, plane: pout, bias: bias, ops: ops, pool: pool)
            if let planeStats {
                pool.parallelFor(s.batch * s.outChannels) { r in
                    for p in r { ConvTransposeBatchNorm.storePlaneSums(y + p * pout, pout, into: planeStats + 2 * p) }
                }
            }
            return
        }
        if allowWinograd && allowNarrow && allowStride1Conv && !paddedGrid && isTinyPlane(s) {
            forwardTinyPlane(s, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch!, pool: pool, planeStats: planeStats)
            return
        }
        if allowWinograd && allowNarrow && !paddedGrid && isWinogradS2(s) {
            forwardWinogradS2(s, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch!, pool: pool,
                              planeStats: planeStats, packedWeights: packedWeights, stacked: stackWinogradRows)
            return
        }
        if allowStride1Conv && !paddedGrid && isSingleChannelStride1(s) {
            forwardSingleChannel(s, x: x, weight: weight, bias: bias, y: y, ops: ops, pool: pool, planeStats: planeStats)
            return
        }
        if allowStride1Conv && !paddedGrid && isStride1Conv(s) {
            forwardStride1(s, x: x, weight: weight, bias: bias, y: y, epilogue: epilogue, scratch: scratch!, pool: pool,
                           planeStats: planeStats, packedWeights: packedWeights, allowNarrow: allowNarrow, allowWinograd: allowWinograd)
            return
        }
        if isPhased(s) {
            forwardPhased(s, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch!, pool: pool,
                          planeStats: planeStats, paddedGrid: paddedGrid, packedWeights: packedWeights,
                          narrow: allowNarrow && !paddedGrid && isNarrow(s))
            return
        }
        let nb = chunk(s)
        let packedCount = Gemm.packedACount(m: m, k: cg)
        let col = scratch! + packedCount
        let xs = col + m * nb * pin
        for gi in 0..<g {
          let packed = packedWeights.map { $0 + gi * packedCount } ?? UnsafePointer(scratch!)
          if cg > 0 && packedWeights == nil {
            Gemm.packA(transA: true, m: m, k: cg, a: weight + gi * cg * m, lda: m, into: scratch!, pool: pool)
          }
          var n0 = 0
          while n0 < s.batch {
            let nc = min(nb, s.batch - n0)
            let cols = nc * pin
            do {
                let bPtr: UnsafePointer<Float>
                if nc == 1 {
                    bPtr = x + (n0 * s.inChannels + gi * cg) * pin
                } else {
                    pool.parallelFor(cg * nc) { r in
                        for idx in r {
                            let c = idx / nc, j = idx % nc
                            Im2Col.copy(xs + c * cols + j * pin, x + ((n0 + j) * s.inChannels + gi * cg + c) * pin, pin)
                        }
                    }
                    bPtr = UnsafePointer(xs)
                }
                if cg == 0 {
                    col.update(repeating: 0, count: m * cols)
                } else {
                    Gemm.sgemmPacked(m: m, n: cols, k: cg, alpha: 1, packedA: packed, transB: false,
                                     b: bPtr, ldb: cols, beta: 0, c: col, ldc: cols, pool: pool)
                }
                pool.parallelFor(nc * mg) { r in
                    for idx in r {
                        let j = idx / mg, oc = idx % mg
                        let ch = gi * mg + oc
                        let plane = y + ((n0 + j) * s.outChannels + ch) * pout
                        Im2Col.col2imPlane(s, col: col + oc * khw * cols + j * pin, ldcol: cols, plane: plane)
                        if !ops.isEmpty {
                            EpilogueApply.applyRows(c: plane - ch * pout, ldc: pout, rows: ch..<(ch + 1), cols: 0..<pout,
                                                    bias: bias, ops: ops)
                        }
                        if let planeStats {
                            ConvTransposeBatchNorm.storePlaneSums(plane, pout, into: planeStats + 2 * ((n0 + j) * s.outChannels + ch))
                        }
                    }
                }
            }
            n0 += nc
          }
        }
    }

    /// ConvTranspose with dilation 1. Per chunk of images and group:
    /// 1. xs[c, (j, a, b)] = x[n0 + j, c, a, b], the nc images' planes side by side (unpadded);
    /// 2. col[(oc, kh, kw), Lx] = W_gᵀ · xs by GEMM (Lx = nc·inH·inW: only useful FLOPs);
    /// 3. per output channel, stride phase (ry, rx) accumulates, on a zero-padded AH×AW grid per
    ///    image (L = nc·AH·AW floats), Z[(j·AH + a + kh / sH)·AW + b + kw / sW] += col[(oc, kh, kw), (j, a, b)]
    ///    for every tap with kh ≡ ry, kw ≡ rx: input (a, b) with tap (kh, kw) lands on output row
    ///    a·sH + kh − padTop = (a + kh / sH)·sH + ry − padTop, so each tap adds each input row's inW
    ///    values at a shifted offset (AH, AW leave room, so no shift leaves its image's grid).
    ///    Taps are summed in (kh, kw) order;
    /// 4. y[oh, ow] = Z[phase of (oh + padTop, ow + padLeft)][grid position], then the epilogue.
    /// With `paddedGrid` (the previous algorithm, kept as baseline `convTPadded`), xs is gathered onto
    /// the AH×AW grid with zeros, the GEMM runs over all L padded columns (2.25× the FLOPs on a
    /// 2×2 plane), and each tap is one flat shifted add of L values over the grid. Both variants add
    /// the same products into each Z element in the same order, and the extra terms of the padded
    /// variant are +0 added to a sum that starts at +0 (so never −0): the two give the same bits.
    /// Threads split output channels in step 3–4: the same bits for any thread count.
    /// With column stride 2 (`isStride2Rows`), steps 3–4 run as one pass per output row instead
    /// (`ConvTransposeStride2Rows`, ConvTranspose+Stride2Rows.swift; the same bits).
    static func forwardPhased(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                              scratch: UnsafeMutablePointer<Float>, pool: ThreadPool,
                              planeStats: UnsafeMutablePointer<Double>?, paddedGrid: Bool,
                              packedWeights: UnsafePointer<Float>?, narrow: Bool) {
        let g = s.group, cg = s.inChannels / g, mg = s.outChannels / g
        let kH = s.kernelH, kW = s.kernelW, sH = s.strideH, sW = s.strideW
        let khw = kH * kW, m = mg * khw
        let grid = phasedGrid(s)
        let AH = grid.ah, AW = grid.aw, pinP = AH * AW
        let pin = s.inHeight * s.inWidth, pout = s.outHeight * s.outWidth
        let outW = s.outWidth, padTop = s.padTop, padLeft = s.padLeft
        let inH = s.inHeight, inW = s.inWidth
        let blocked = !paddedGrid && !narrow && isChannelBlocked(s)
        let nb = paddedGrid ? phasedChunk(s) : blocked ? blockedChunk(s) : chunk(s)
        let gemmPlane = paddedGrid ? pinP : pin
        let packedCount = Gemm.packedACount(m: m, k: cg)
        let col = scratch + packedCount
        // A narrow GEMM of fewer than `Gemm.smallM` columns runs on that many (zero-padded) rows.
        // The channel-blocked path keeps no col matrix in scratch (ConvTranspose+Stride2Rows.swift).
        let xs = blocked ? col : col + m * max(nb * gemmPlane, narrow ? Gemm.smallM : 0)
        let phases = sH * sW
        let packedBCount = Gemm.packedBCount(k: cg, n: m)
        let rows = !paddedGrid && isStride2Rows(s)
        let rowCol2im = ConvTransposeStride2Rows(s, ops: ops, hasBias: bias != nil)
        for gi in 0..<g {
            let packed = packedWeights.map { $0 + gi * packedCount } ?? UnsafePointer(scratch)
            if packedWeights == nil && !narrow {
                Gemm.packA(transA: true, m: m, k: cg, a: weight + gi * cg * m, lda: m, into: scratch, pool: pool)
            }
            var n0 = 0
            while n0 < s.batch {
                let nc = min(nb, s.batch - n0)
                let L = nc * pinP
                let Lx = nc * gemmPlane
                let bPtr: UnsafePointer<Float>
                if !paddedGrid && nc == 1 {
                    bPtr = x + (n0 * s.inChannels + gi * cg) * pin
                } else {
                    pool.parallelFor(cg * nc) { r in
                        for idx in r {
                            let c = idx / nc, j = idx % nc
                            let src = x + ((n0 + j) * s.inChannels + gi * cg + c) * pin
                            let dst = xs + c * Lx + j * gemmPlane
                            if !paddedGrid { Im2Col.copy(dst, src, pin); continue }
                            for a in 0..<inH {
                                Im2Col.copy(dst + a * AW, src + a * inW, inW)
                                Im2Col.zero(dst + a * AW + inW, AW - inW)
                            }
                            Im2Col.zero(dst + inH * AW, (AH - inH) * AW)
                        }
                    }
                    bPtr = UnsafePointer(xs)
                }
                if blocked {
                    forwardChannelBlocked(s, xs: bPtr, images: n0..<(n0 + nc), group: gi, packedWeights: packed,
                                          bias: bias, y: y, planeStats: planeStats, col2im: rowCol2im, pool: pool)
                    n0 += nc
                    continue
                }
                if narrow {
                    // colᵀ (Lx × m) = xsᵀ·W_g (Conv+Narrow.swift). Fewer than `Gemm.smallM` rows are
                    // padded with zero rows (the extra rows of colᵀ are never read), so that the GEMM
                    // runs its tiles, not its row loop: the same bits as the wide orientation.
                    let w = weight + gi * cg * m
                    let rows = max(Lx, Gemm.smallM)
                    var a = bPtr
                    if rows > Lx {
                        // In place when bPtr is xs: from the last float back, so no source is
                        // overwritten before it is read.
                        for c in stride(from: cg - 1, through: 0, by: -1) {
                            let dst = xs + c * rows, src = bPtr + c * Lx
                            for j in stride(from: rows - 1, through: Lx, by: -1) { dst[j] = 0 }
                            for j in stride(from: Lx - 1, through: 0, by: -1) { dst[j] = src[j] }
                        }
                        a = UnsafePointer(xs)
                    }
                    if let packedWeights {
                        Gemm.sgemmPackedB(transA: true, m: rows, n: m, k: cg, alpha: 1, a: a, lda: rows,
                                          packedB: packedWeights + gi * packedBCount, transB: false, b: w, ldb: m,
                                          beta: 0, c: col, ldc: m, pool: pool)
                    } else {
                        Gemm.sgemm(transA: true, transB: false, m: rows, n: m, k: cg, alpha: 1, a: a, lda: rows,
                                   b: w, ldb: m, beta: 0, c: col, ldc: m, pool: pool)
                    }
                } else {
                    Gemm.sgemmPacked(m: m, n: Lx, k: cg, alpha: 1, packedA: packed, transB: false,
                                     b: bPtr, ldb: Lx, beta: 0, c: col, ldc: Lx, pool: pool)
                }
                /// Output channel oc's khw rows of Lx columns: in col, or (narrow) transposed out of
                /// colᵀ into `buffer`.
                func channelColumns(_ oc: Int, _ buffer: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
                    guard let buffer else { return UnsafePointer(col + oc * khw * Lx) }
                    transposeChannelBlock(col, ldc: m, oc: oc, khw: khw, columns: Lx, into: buffer)
                    return UnsafePointer(buffer)
                }
                if rows {
                    pool.parallelFor(mg) { r in
                        let cols = narrow ? khw * Lx + 2 * stride2RowsSlack : 0
                        let buffer = Gemm.threadBuffer(cols + rowCol2im.stageCount + 16)
                        let t = narrow ? buffer + stride2RowsSlack : nil
                        let stage = rowCol2im.stageCount > 0 ? buffer + cols : nil
                        for oc in r {
                            let ch = gi * mg + oc
                            let colOc = channelColumns(oc, t)
                            for j in 0..<nc {
                                let plane = y + ((n0 + j) * s.outChannels + ch) * pout
                                rowCol2im.plane(col: colOc + j * pin, ldcol: Lx, plane: plane, stage: stage, bias: bias, channel: ch)
                                if let planeStats {
                                    ConvTransposeBatchNorm.storePlaneSums(plane, pout, into: planeStats + 2 * ((n0 + j) * s.outChannels + ch))
                                }
                            }
                        }
                    }
                    n0 += nc
                    continue
                }
                pool.parallelFor(mg) { r in
                    let z = Gemm.threadBuffer(phases * L + (narrow ? khw * Lx : 0) + 64)
                    for oc in r {
                        let ch = gi * mg + oc
                        let colOc = channelColumns(oc, narrow ? z + phases * L : nil)
                        for ry in 0..<sH {
                            for rx in 0..<sW {
                                let zp = z + (ry * sW + rx) * L
                                Im2Col.zero(zp, L)
                                var kh = ry
                                while kh < kH {
                                    var kw = rx
                                    while kw < kW {
                                        let shift = (kh / sH) * AW + kw / sW
                                        let src = colOc + (kh * kW + kw) * Lx
                                        if paddedGrid {
                                            addShifted(zp + shift, src, L - shift)
                                        } else {
                                            for j in 0..<nc {
                                                let zj = zp + j * pinP + shift, sj = src + j * pin
                                                for a in 0..<inH { addShifted(zj + a * AW, sj + a * inW, inW) }
                                            }
                                        }
                                        kw += sW
                                    }
                                    kh += sH
                                }
                            }
                        }
                        for j in 0..<nc {
                            let plane = y + ((n0 + j) * s.outChannels + ch) * pout
                            for oh in 0..<s.outHeight {
                                let u = oh + padTop
                                let zrow = z + (u % sH) * sW * L + (j * AH + u / sH) * AW
                                let drow = plane + oh * outW
                                if sW == 2 {
                                    let z0 = zrow, z1 = zrow + L
                                    for ow in 0..<outW {
                                        let v = ow + padLeft
                                        drow[ow] = (v & 1 == 0 ? z0 : z1)[v >> 1]
                                    }
                                } else if sW == 1 {
                                    Im2Col.copy(drow, zrow + padLeft, outW)
                                } else {
                                    for ow in 0..<outW {
                                        let v = ow + padLeft
                                        drow[ow] = zrow[(v % sW) * L + v / sW]
                                    }
                                }
                            }
                            if !ops.isEmpty {
                                EpilogueApply.applyRows(c: plane - ch * pout, ldc: pout, rows: ch..<(ch + 1), cols: 0..<pout,
                                                        bias: bias, ops: ops)
                            }
                            if let planeStats {
                                ConvTransposeBatchNorm.storePlaneSums(plane, pout, into: planeStats + 2 * ((n0 + j) * s.outChannels + ch))
                            }
                        }
                    }
                }
                n0 += nc
            }
        }
    }

    /// dst[0..<count] += src[0..<count], element by element (16, then 4 lanes, then scalars).
    @inline(__always)
    static func addShifted(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
        let s = UnsafeRawPointer(src)
        var f = 0
        while f + 16 <= count {
            let d = UnsafeMutableRawPointer(dst + f)
            d.storeBytes(of: d.loadUnaligned(as: SIMD16<Float>.self)
                         + s.loadUnaligned(fromByteOffset: f * 4, as: SIMD16<Float>.self), as: SIMD16<Float>.self)
            f += 16
        }
        while f + 4 <= count {
            let d = UnsafeMutableRawPointer(dst + f)
            d.storeBytes(of: d.loadUnaligned(as: SIMD4<Float>.self)
                         + s.loadUnaligned(fromByteOffset: f * 4, as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            f += 4
        }
        while f < count { dst[f] += src[f]; f += 1 }
    }

    /// Direct scalar reference with the same contract as `forward`.
    public static func reference(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                                 epilogue: [EpilogueOp]) {
        let cg = s.inChannels / s.group, mg = s.outChannels / s.group
        let total = s.batch * s.outChannels * s.outHeight * s.outWidth
        y.update(repeating: 0, count: total)
        for n in 0..<s.batch {
            for ic in 0..<s.inChannels {
                let gi = ic / cg
                for ih in 0..<s.inHeight {
                    for iw in 0..<s.inWidth {
                        let xv = x[((n * s.inChannels + ic) * s.inHeight + ih) * s.inWidth + iw]
                        for o in 0..<mg {
                            let oc = gi * mg + o
                            for kh in 0..<s.kernelH {
                                let oh = ih * s.strideH - s.padTop + kh * s.dilationH
                                if oh < 0 || oh >= s.outHeight { continue }
                                for kw in 0..<s.kernelW {
                                    let ow = iw * s.strideW - s.padLeft + kw * s.dilationW
                                    if ow < 0 || ow >= s.outWidth { continue }
                                    y[((n * s.outChannels + oc) * s.outHeight + oh) * s.outWidth + ow] +=
                                        xv * weight[((ic * mg + o) * s.kernelH + kh) * s.kernelW + kw]
                                }
                            }
                        }
                    }
                }
            }
        }
        Conv2D.referenceEpilogue(y, batch: s.batch, channels: s.outChannels, plane: s.outHeight * s.outWidth,
                                 bias: bias, epilogue: epilogue)
    }
}
