// Conv: 2-D convolution and transposed convolution over NCHW float32 tensors.
//
// Conv2D.forward: y = conv(x, w) (+ bias per output channel) then the epilogue. Lowered to GEMM
// per group: Y_g[Mg × P] = W_g[Mg × K] · col[K × P] with K = (C/group)·kH·kW, P = outH·outW.
// A 1×1 / stride 1 / no-pad convolution on large planes uses x directly as the GEMM's B.
// Otherwise images are processed in chunks of `nb` so that the GEMM has about `targetColumns`
// columns (small planes, e.g. 4×4 at batch 64, would starve the 32-wide register tile):
// im2col writes col[K × nb·P], the GEMM writes into y (nb = 1) or into a scratch block that is
// then copied plane by plane into y.
//
// ConvTranspose2D.forward: per group, col[(oc,kh,kw) × (n,ih,iw)] = W_gᵀ · X_g by GEMM (X_g
// gathered across a chunk of images when planes are small), then col2im scatters-adds each
// column into y; each output plane is owned by one thread and summed in a fixed order, then
// gets the bias and activation while in cache.
//
// Both are deterministic: the same bits for any thread count. Bias ops in the epilogue are
// per output channel whatever their `perRow` flag. Scratch comes from the caller
// (`scratchCount` floats); nothing is allocated here (GEMM packing uses per-thread buffers).

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

    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int, outHeight: Int,
                outWidth: Int, kernelH: Int, kernelW: Int, strideH: Int = 1, strideW: Int = 1, padTop: Int = 0,
                padLeft: Int = 0, dilationH: Int = 1, dilationW: Int = 1, group: Int = 1) {
        self.batch = batch; self.inChannels = inChannels; self.inHeight = inHeight; self.inWidth = inWidth
        self.outChannels = outChannels; self.outHeight = outHeight; self.outWidth = outWidth
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.dilationH = dilationH; self.dilationW = dilationW
        self.group = group
    }

    public var description: String {
        "N\(batch) \(inChannels)x\(inHeight)x\(inWidth) -> \(outChannels)x\(outHeight)x\(outWidth) "
            + "k\(kernelH)x\(kernelW) s\(strideH),\(strideW) p\(padTop),\(padLeft) d\(dilationH),\(dilationW) g\(group)"
    }
}

/// Bias ops → per-row (per output channel) bias for the GEMM's M×N layout.
@inline(__always)
func perChannelEpilogue(_ ops: [EpilogueOp]) -> [EpilogueOp] {
    ops.map { if case .bias = $0 { return .bias(perRow: true) } else { return $0 } }
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
        if isFullWindow(s) { return 0 }
        let packed = Gemm.packedACount(m: mg, k: k)
        if isPointwise(s) && p >= targetColumns / 2 { return packed }
        let nb = chunk(s)
        return packed + k * nb * p + (nb > 1 ? mg * nb * p : 0)
    }

    /// y (N, outC, outH, outW) = conv(x (N, inC, inH, inW), weight (outC, inC/group, kH, kW)),
    /// then the epilogue (bias per output channel, activations).
    public static func forward(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               epilogue: [EpilogueOp], scratch: UnsafeMutablePointer<Float>?, pool: ThreadPool) {
        let g = s.group
        let cg = s.inChannels / g, mg = s.outChannels / g
        let p = s.outHeight * s.outWidth
        let pin = s.inHeight * s.inWidth
        let k = cg * s.kernelH * s.kernelW
        let ops = perChannelEpilogue(epilogue)
        if s.batch == 0 || p == 0 || mg == 0 { return }
        if isFullWindow(s) {
            // y[n, g·mg + oc] = Σ_k x[n, g·cg·pin + k] · W[g·mg + oc, k]
            let colOps = ops.map { op -> EpilogueOp in if case .bias = op { return .bias(perRow: false) }; return op }
            for gi in 0..<g {
                Gemm.sgemm(transA: false, transB: true, m: s.batch, n: mg, k: k, alpha: 1,
                           a: x + gi * cg * pin, lda: s.inChannels * pin, b: weight + gi * mg * k, ldb: k,
                           beta: 0, c: y + gi * mg, ldc: s.outChannels,
                           bias: bias.map { $0 + gi * mg }, epilogue: colOps, pool: pool)
            }
            return
        }
        let packed = scratch!
        let packedCount = Gemm.packedACount(m: mg, k: k)
        // Weights are packed once per group and reused by every GEMM of that group
        // (tiny mg goes through plain sgemm, which has a dedicated small-M path).
        let prepack = mg >= Gemm.smallM
        func pack(_ gi: Int) {
            if prepack { Gemm.packA(transA: false, m: mg, k: k, a: weight + gi * mg * k, lda: k, into: packed, pool: pool) }
        }
        func gemm(_ gi: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ n: Int) {
            if prepack {
                Gemm.sgemmPacked(m: mg, n: n, k: k, alpha: 1, packedA: packed, transB: false, b: b, ldb: ldb,
                                 beta: 0, c: c, ldc: ldc, bias: bias.map { $0 + gi * mg }, epilogue: ops, pool: pool)
            } else {
                Gemm.sgemm(transA: false, transB: false, m: mg, n: n, k: k, alpha: 1, a: weight + gi * mg * k, lda: k,
                           b: b, ldb: ldb, beta: 0, c: c, ldc: ldc, bias: bias.map { $0 + gi * mg }, epilogue: ops, pool: pool)
            }
        }
        if isPointwise(s) && p >= targetColumns / 2 {
            for gi in 0..<g {
                pack(gi)
                for n in 0..<s.batch {
                    gemm(gi, x + (n * s.inChannels + gi * cg) * pin, pin, y + (n * s.outChannels + gi * mg) * p, p, p)
                }
            }
            return
        }
        let nb = chunk(s)
        let col = packed + packedCount
        let out = col + k * nb * p
        for gi in 0..<g {
            pack(gi)
            var n0 = 0
            while n0 < s.batch {
                let nc = min(nb, s.batch - n0)
                let cols = nc * p
                Im2Col.im2col(s, x: x, n0: n0, count: nc, channel0: gi * cg, channels: cg, col: col, ldcol: cols, pool: pool)
                if nc == 1 {
                    gemm(gi, col, cols, y + (n0 * s.outChannels + gi * mg) * p, p, cols)
                } else {
                    gemm(gi, col, cols, out, cols, cols)
                    pool.parallelFor(mg * nc) { r in
                        for idx in r {
                            let m = idx / nc, j = idx % nc
                            Im2Col.copy(y + ((n0 + j) * s.outChannels + gi * mg + m) * p, out + m * cols + j * p, p)
                        }
                    }
                }
                n0 += nc
            }
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

    /// Images per chunk.
    static func chunk(_ s: Conv2DShape) -> Int {
        let pin = s.inHeight * s.inWidth
        let m = (s.outChannels / s.group) * s.kernelH * s.kernelW
        var nb = (targetColumns + pin - 1) / max(pin, 1)
        nb = min(nb, maxColFloats / max(1, m * pin))
        return max(1, min(nb, s.batch))
    }

    /// 1×1 input, no pads/dilation, output exactly one kernel: y[n] = x[n] · W, no col2im.
    static func isFromPoint(_ s: Conv2DShape) -> Bool {
        s.inHeight == 1 && s.inWidth == 1 && s.padTop == 0 && s.padLeft == 0 && s.dilationH == 1 && s.dilationW == 1
            && s.outHeight == s.kernelH && s.outWidth == s.kernelW
    }

    /// Floats of scratch that `forward` needs.
    public static func scratchCount(_ s: Conv2DShape, threads: Int) -> Int {
        if isFromPoint(s) { return 0 }
        let pin = s.inHeight * s.inWidth
        let nb = chunk(s)
        let m = (s.outChannels / s.group) * s.kernelH * s.kernelW
        let cg = s.inChannels / s.group
        return Gemm.packedACount(m: m, k: cg) + m * nb * pin + (nb > 1 ? cg * nb * pin : 0)
    }

    /// y (N, outC, outH, outW) = convTranspose(x (N, inC, inH, inW), weight (inC, outC/group, kH, kW)),
    /// then the epilogue (bias per output channel, activations). ONNX ConvTranspose semantics:
    /// input pixel (ih, iw) and tap (kh, kw) land on output (ih·sH − padTop + kh·dH, iw·sW − padLeft + kw·dW).
    public static func forward(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                               epilogue: [EpilogueOp], scratch: UnsafeMutablePointer<Float>?, pool: ThreadPool) {
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
            return
        }
        let nb = chunk(s)
        let packed = scratch!
        let col = packed + Gemm.packedACount(m: m, k: cg)
        let xs = col + m * nb * pin
        for gi in 0..<g {
          if cg > 0 {
            Gemm.packA(transA: true, m: m, k: cg, a: weight + gi * cg * m, lda: m, into: packed, pool: pool)
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
                    }
                }
            }
            n0 += nc
          }
        }
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
