// Conv+WideKernel: convolutions with few output channels, outputs narrower than a vector and a
// kernel 16–32 wide — the weight gradient of a layer with few output channels (autodiff's Conv
// with dyᵀ as its weight, e.g. a generator's last 3×3 conv to 1 channel: 32 "images" of 64
// channels, a 28×28 kernel, 3×3 outputs). Vectorising along the output width
// (`directSmallM`) used 3 of 32 lanes there; im2col would copy the input once per output.
//
// Contract: y = conv(x, w) (+ the per-channel epilogue) for `isWideKernel` shapes. Each output
// is Σ over (c, kh) of a dot product of weight row w[oc, c, kh, 0..<kW] with the input window
// row starting at (oh + kh − padTop, ow − padLeft), as two 16-lane vectors, the second masked
// past kW; lanes are summed at the end. Each image's group channels are copied once into a
// zero-padded per-thread buffer, the weights once per call into rows padded to 32 (scratch). The
// summation order per element is fixed, so threads (which split images) do not change the bits.
// `GANNET_BASELINE=wideKernel` keeps `directSmallM`.

extension Conv2D {
    public static func isWideKernel(_ s: Conv2DShape) -> Bool {
        let mg = s.outChannels / s.group
        return !Baseline.noWideKernel && !isFullWindow(s) && mg >= 1 && mg < Gemm.smallM && s.strideH == 1 && s.strideW == 1
            && s.dilationH == 1 && s.dilationW == 1 && s.outWidth < 16 && s.kernelW >= 16 && s.kernelW <= 32
            && s.inChannels / s.group >= 1
    }

    /// Floats of scratch: the weight rows padded to 32.
    static func wideKernelScratch(_ s: Conv2DShape) -> Int { s.outChannels * (s.inChannels / s.group) * s.kernelH * 32 }

    static func directWideKernel(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                                 scratch wpad: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        typealias V = SIMD16<Float>
        let g = s.group, cg = s.inChannels / g, mg = s.outChannels / g
        let kH = s.kernelH, kW = s.kernelW
        let outW = s.outWidth, outH = s.outHeight, p = outH * outW, pin = s.inHeight * s.inWidth
        let ow4 = (outW + 3) / 4 * 4
        // Reads reach column ow4 − 1 + 31 and row outH − 1 + kH − 1.
        let pw = max(s.padLeft + s.inWidth, ow4 + 32)
        let ph = max(s.padTop + s.inHeight, outH - 1 + kH)
        let bufCount = cg * ph * pw
        // Weight rows padded to 32 floats (zeros past kW).
        let rows = s.outChannels * cg * kH
        for r in 0..<rows {
            let d = wpad + r * 32
            for t in 0..<32 { d[t] = t < kW ? weight[r * kW + t] : 0 }
        }
        var lanes = V()
        for l in 0..<16 { lanes[l] = Float(l) }
        // Input lanes of the second vector past kW are zeroed (they may hold ±∞ or NaN).
        let keep = lanes .< V(repeating: Float(kW - 16))
        let zero = V()
        pool.parallelFor(s.batch) { range in
            let buf = Gemm.threadBuffer(bufCount + 64)
            for n in range {
                for gi in 0..<g {
                    padCopy(s, x + (n * s.inChannels + gi * cg) * pin, channels: cg, into: buf, ph: ph, pw: pw)
                    for o in 0..<mg {
                        let oc = gi * mg + o
                        let wbase = UnsafeRawPointer(wpad + oc * cg * kH * 32)
                        let plane = y + s.outPlane(n, oc)
                        for oh in 0..<outH {
                            var ow = 0
                            while ow < outW {
                                var a0 = V(), a1 = V(), a2 = V(), a3 = V(), b0 = V(), b1 = V(), b2 = V(), b3 = V()
                                for c in 0..<cg {
                                    let rc = UnsafeRawPointer(buf + c * ph * pw + oh * pw + ow)
                                    let wc = wbase + c * kH * 128
                                    for kh in 0..<kH {
                                        let w0 = wc.loadUnaligned(fromByteOffset: kh * 128, as: V.self)
                                        let w1 = wc.loadUnaligned(fromByteOffset: kh * 128 + 64, as: V.self)
                                        let r = rc + kh * pw * 4
                                        a0.addProduct(w0, r.loadUnaligned(as: V.self))
                                        a1.addProduct(w0, r.loadUnaligned(fromByteOffset: 4, as: V.self))
                                        a2.addProduct(w0, r.loadUnaligned(fromByteOffset: 8, as: V.self))
                                        a3.addProduct(w0, r.loadUnaligned(fromByteOffset: 12, as: V.self))
                                        b0.addProduct(w1, zero.replacing(with: r.loadUnaligned(fromByteOffset: 64, as: V.self), where: keep))
                                        b1.addProduct(w1, zero.replacing(with: r.loadUnaligned(fromByteOffset: 68, as: V.self), where: keep))
                                        b2.addProduct(w1, zero.replacing(with: r.loadUnaligned(fromByteOffset: 72, as: V.self), where: keep))
                                        b3.addProduct(w1, zero.replacing(with: r.loadUnaligned(fromByteOffset: 76, as: V.self), where: keep))
                                    }
                                }
                                let sums = ((a0 + b0).sum(), (a1 + b1).sum(), (a2 + b2).sum(), (a3 + b3).sum())
                                let d = plane + oh * outW + ow
                                let w = min(4, outW - ow)
                                d[0] = sums.0
                                if w > 1 { d[1] = sums.1 }
                                if w > 2 { d[2] = sums.2 }
                                if w > 3 { d[3] = sums.3 }
                                ow += 4
                            }
                        }
                        if !ops.isEmpty {
                            EpilogueApply.applyRows(c: plane - oc * p, ldc: p, rows: oc..<(oc + 1), cols: 0..<p, bias: bias, ops: ops)
                        }
                    }
                }
            }
        }
    }

    /// Copies `channels` planes of `src` (s.inHeight × s.inWidth each) into `dst` with padTop rows
    /// and padLeft columns of zeros before the data and zeros after it, `ph` rows of `pw` floats
    /// per channel. With `bordersZero` only the inputs are copied: the other floats of `dst` must
    /// be zero already (an earlier fill of the same geometry, or a zeroed buffer).
    static func padCopy(_ s: Conv2DShape, _ src: UnsafePointer<Float>, channels: Int, into dst: UnsafeMutablePointer<Float>,
                        ph: Int, pw: Int, bordersZero: Bool = false) {
        let pin = s.inHeight * s.inWidth
        if bordersZero {
            // Only the inputs: the zeros around them are still there from an earlier fill.
            for c in 0..<channels {
                for ih in 0..<s.inHeight {
                    Im2Col.copy(dst + c * ph * pw + (s.padTop + ih) * pw + s.padLeft, src + c * pin + ih * s.inWidth, s.inWidth)
                }
            }
            return
        }
        for c in 0..<channels {
            let from = src + c * pin
            let to = dst + c * ph * pw
            Im2Col.zero(to, s.padTop * pw)
            for ih in 0..<s.inHeight {
                let row = to + (s.padTop + ih) * pw
                Im2Col.zero(row, s.padLeft)
                Im2Col.copy(row + s.padLeft, from + ih * s.inWidth, s.inWidth)
                Im2Col.zero(row + s.padLeft + s.inWidth, pw - s.padLeft - s.inWidth)
            }
            let used = s.padTop + s.inHeight
            Im2Col.zero(to + used * pw, (ph - used) * pw)
        }
    }
}
