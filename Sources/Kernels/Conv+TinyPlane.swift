// Conv+TinyPlane: convolutions and transposed convolutions on planes so small that most of the
// kernel's taps fall in the padding. cifar10_wgangp's critic ends in a 256 → 512, 4×4 stride-2
// convolution from 4² to 2², where each output pixel sees 9 of its 16 taps; its input gradient
// and the generator's first layer are the 512 → 256 transposed convolution from 2² to 4², whose
// GEMM + col2im path computes 16 taps per input pixel and crops 7 of them. The im2col and col2im
// paths multiply those zeros like any other input; this one runs one GEMM per (output pixel,
// tap) pair that reads the input, and skips the rest (9/16 of the products here).
//
// Contract: `Conv2D.isTinyPlane(s)` / `ConvTranspose2D.isTinyPlane(s)` select the shapes
// (`TinyPlane.fits`: one group, at most 16 output and 64 input pixels, at least 4 taps, 128
// input channels (each GEMM's depth), 64 output channels and 16 images, and at most
// `TinyPlane.maxValid` of the GEMM paths' products inside); the forwards compute what
// `Conv2D.forward` / `ConvTranspose2D.forward` promise (with `planeStats` too), to float
// rounding of the direct sum, with the same bits for any thread count. With xᵀ_p = x[·][·][p]
// (C × N, input pixel p) and W_t the O × C matrix of tap t (Conv: w[o][c][t]; ConvTranspose:
// w[c][o][t]):
//   Y_q = Σ over the pairs (t, p) of output pixel q: W_t · xᵀ_p,
// where Conv's pairs are the taps whose input pixel p lies inside and ConvTranspose's the input
// pixels that land on q through tap t; summed in (kh, kw) order (GEMM beta 1), then the bias and
// activation on Y_q and y[n][o][q] = Y_q[o][n]. Scratch (`TinyPlane.scratch`): every tap's W_t
// packed as GEMM A panels, xᵀ (inH·inW × C × N), Y (outH·outW × O × N) and, for tap counts
// other than 16, every W_t unpacked. Weights are packed on every call (the shapes are training
// steps' and pix2pix's innermost layers); `packedWeightCount` is 0 for them.
// Not taken with 64 input channels: the critic's weight gradient (a 2×2 dilation-2 kernel on 4²
// at batch 256, 36 GEMMs of depth 64 and a 2M-float output scatter) ran 1.07× the im2col GEMM's
// time (6 interleaved pairs, 1 thread).

extension Conv2D {
    /// The shape runs `forwardTinyPlane` (see the file header).
    public static func isTinyPlane(_ s: Conv2DShape) -> Bool {
        !Baseline.noTinyPlane && !isFullWindow(s) && TinyPlane.fits(s, transposed: false)
    }

    static func forwardTinyPlane(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                                 scratch: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        TinyPlane.run(s, transposed: false, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch, pool: pool,
                      planeStats: nil)
    }
}

extension ConvTranspose2D {
    /// The shape runs `forwardTinyPlane` (see the file header).
    public static func isTinyPlane(_ s: Conv2DShape) -> Bool {
        !Baseline.noTinyPlane && !isFromPoint(s) && TinyPlane.fits(s, transposed: true)
    }

    static func forwardTinyPlane(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                                 scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, planeStats: UnsafeMutablePointer<Double>?) {
        TinyPlane.run(s, transposed: true, x: x, weight: weight, bias: bias, y: y, ops: ops, scratch: scratch, pool: pool,
                      planeStats: planeStats)
    }
}

/// The shared machinery of both forwards (`transposed`: ConvTranspose2D's geometry and weight
/// layout (C, O, kH, kW); else Conv2D's, (O, C, kH, kW)).
enum TinyPlane {
    /// Largest share of the GEMM paths' (pixel, tap) products that may be inside the input.
    static let maxValid = 0.75

    /// A tap (kh·kW + kw) and the input pixel (u·inW + v) it reads for one output pixel.
    typealias Pair = (tap: Int, pixel: Int)

    /// One spatial axis of a shape (rows or columns).
    struct Axis {
        let input: Int, output: Int, kernel: Int, stride: Int, dilation: Int, pad: Int

        static func rows(_ s: Conv2DShape) -> Axis {
            Axis(input: s.inHeight, output: s.outHeight, kernel: s.kernelH, stride: s.strideH, dilation: s.dilationH, pad: s.padTop)
        }
        static func columns(_ s: Conv2DShape) -> Axis {
            Axis(input: s.inWidth, output: s.outWidth, kernel: s.kernelW, stride: s.strideW, dilation: s.dilationW, pad: s.padLeft)
        }

        /// The input index that output index i reads through kernel index k, or nil (padding,
        /// or for a ConvTranspose no input lands there).
        func source(_ i: Int, _ k: Int, transposed: Bool) -> Int? {
            if transposed {
                let num = i + pad - k * dilation
                guard num >= 0 && num % stride == 0 && num / stride < input else { return nil }
                return num / stride
            }
            let u = i * stride + k * dilation - pad
            return u >= 0 && u < input ? u : nil
        }

        /// (output index, kernel index) pairs with a source.
        func inside(transposed: Bool) -> Int {
            var n = 0
            for i in 0..<output { for k in 0..<kernel where source(i, k, transposed: transposed) != nil { n += 1 } }
            return n
        }
    }

    /// One group, at most 16 output and 64 input pixels, at least 4 taps, 128 input channels (each
    /// GEMM's depth), 64 output channels and 16 images, and at most `maxValid` of the GEMM paths'
    /// products (Conv: output pixels × taps; ConvTranspose: input pixels × taps) inside. The
    /// inside pairs are the product of each axis's (the axes are independent).
    static func fits(_ s: Conv2DShape, transposed: Bool) -> Bool {
        let outP = s.outHeight * s.outWidth, inP = s.inHeight * s.inWidth, taps = s.kernelH * s.kernelW
        guard s.group == 1, outP >= 1, outP <= 16, inP >= 1, inP <= 64, taps >= 4,
              s.inChannels >= 128, s.outChannels >= 64, s.batch >= 16 else { return false }
        let valid = Axis.rows(s).inside(transposed: transposed) * Axis.columns(s).inside(transposed: transposed)
        return Double(valid) <= maxValid * Double((transposed ? inP : outP) * taps)
    }

    /// For each output pixel q (row-major), its pairs in (kh, kw) order.
    static func pairs(_ s: Conv2DShape, transposed: Bool) -> [[Pair]] {
        let rows = Axis.rows(s), columns = Axis.columns(s)
        var all: [[Pair]] = []
        for i in 0..<s.outHeight {
            for j in 0..<s.outWidth {
                var q: [Pair] = []
                for kh in 0..<s.kernelH {
                    guard let u = rows.source(i, kh, transposed: transposed) else { continue }
                    for kw in 0..<s.kernelW {
                        guard let v = columns.source(j, kw, transposed: transposed) else { continue }
                        q.append((kh * s.kernelW + kw, u * s.inWidth + v))
                    }
                }
                all.append(q)
            }
        }
        return all
    }

    /// Floats of scratch `run` needs.
    static func scratch(_ s: Conv2DShape) -> Int {
        let c = s.inChannels, o = s.outChannels, n = s.batch, taps = s.kernelH * s.kernelW
        return taps * (Gemm.packedACount(m: o, k: c) + (taps == 16 ? 0 : o * c)) + s.inHeight * s.inWidth * c * n
            + s.outHeight * s.outWidth * o * n
    }

    /// See the file header. `ops` are per-channel (bias per row).
    static func run(_ s: Conv2DShape, transposed: Bool, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                    scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, planeStats: UnsafeMutablePointer<Double>?) {
        let c = s.inChannels, o = s.outChannels, n = s.batch
        let taps = s.kernelH * s.kernelW, inP = s.inHeight * s.inWidth, outP = s.outHeight * s.outWidth
        let perTap = Gemm.packedACount(m: o, k: c)
        let packed = scratch, xt = scratch + taps * perTap, yt = xt + inP * c * n, work = yt + outP * o * n
        packTapPanels(weight, outChannels: o, depth: c, taps: taps, byInput: transposed, work: work, into: packed, pool: pool)
        // xᵀ_p[c][n] = x[n][c][p].
        pool.parallelFor(n) { r in
            for img in r {
                for ch in 0..<c {
                    let src = x + (img * c + ch) * inP
                    for p in 0..<inP { xt[(p * c + ch) * n + img] = src[p] }
                }
            }
        }
        for (q, list) in pairs(s, transposed: transposed).enumerated() {
            let yq = yt + q * o * n
            if list.isEmpty { yq.initialize(repeating: 0, count: o * n) }
            for (k, pair) in list.enumerated() {
                Gemm.sgemmPacked(m: o, n: n, k: c, alpha: 1, packedA: packed + pair.tap * perTap, transB: false,
                                 b: xt + pair.pixel * c * n, ldb: n, beta: k == 0 ? 0 : 1, c: yq, ldc: n, pool: pool)
            }
        }
        // Bias and activation per Y_q (rows are channels), then y[n][o][q] = Y_q[o][n].
        pool.parallelFor(outP) { r in
            for q in r { EpilogueApply.applyRows(c: yt + q * o * n, ldc: n, rows: 0..<o, cols: 0..<n, bias: bias, ops: ops) }
        }
        pool.parallelFor(n) { r in
            for img in r {
                for ch in 0..<o {
                    let dst = y + (img * o + ch) * outP
                    for q in 0..<outP { dst[q] = yt[(q * o + ch) * n + img] }
                    if let planeStats { ConvTransposeBatchNorm.storePlaneSums(dst, outP, into: planeStats + 2 * (img * o + ch)) }
                }
            }
        }
    }

    /// Packs W_t (outChannels × depth: w[o][ch][t], or w[ch][o][t] `byInput`) for every
    /// tap as `Gemm.packA` packs it, tap t at t·`Gemm.packedACount(m: outChannels, k: depth)`.
    /// 16 taps: one pass over w, each panel's 12 rows × 16 taps of one depth step transposed in
    /// registers and stored as 12 floats in each tap's panel. Other tap counts: every W_t
    /// row-major into `work` (taps·outChannels·depth floats), then `Gemm.packA` on each.
    /// (Scattering each weight row's taps straight into the panels took 29% of the layer's time;
    /// the two passes 18%.)
    static func packTapPanels(_ w: UnsafePointer<Float>, outChannels o: Int, depth c: Int, taps: Int, byInput: Bool,
                              work: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        // Floats from weight row (o, ch) to the next row and to the next depth step.
        let rowStride = byInput ? taps : c * taps, depthStride = byInput ? o * taps : taps
        let perTap = Gemm.packedACount(m: o, k: c)
        if taps == 16 {
            let mr = Gemm.mr, mPad = (o + mr - 1) / mr * mr
            pool.parallelFor(mPad / mr) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 512) { buffer in
                    let tmp = buffer.baseAddress!
                    for panel in range {
                        let i0 = panel * mr, h = min(mr, o - i0)
                        tmp.initialize(repeating: 0, count: 256)
                        var pc = 0
                        while pc < c {
                            let kcb = min(Gemm.kcBlock, c - pc)
                            let base = pc * mPad + i0 * kcb
                            for kk in 0..<kcb {
                                let src = w + i0 * rowStride + (pc + kk) * depthStride
                                for r in 0..<h { store16(load16(src + r * rowStride), tmp + r * 16) }
                                Gemm.transpose16(tmp, 16, tmp + 256, 16)
                                for t in 0..<16 {
                                    let from = UnsafeRawPointer(tmp + 256 + t * 16)
                                    let to = UnsafeMutableRawPointer(dst + t * perTap + base + kk * mr)
                                    to.storeBytes(of: from.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                                    to.storeBytes(of: from.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self),
                                                  toByteOffset: 32, as: SIMD4<Float>.self)
                                }
                            }
                            pc += kcb
                        }
                    }
                }
            }
            return
        }
        let plane = o * c
        pool.parallelFor(o) { range in
            for row in range {
                let src = w + row * rowStride
                for t in 0..<taps {
                    let d = work + t * plane + row * c
                    for ch in 0..<c { d[ch] = src[ch * depthStride + t] }
                }
            }
        }
        for t in 0..<taps {
            Gemm.packA(transA: false, m: o, k: c, a: work + t * plane, lda: c, into: dst + t * perTap, pool: pool)
        }
    }
}
