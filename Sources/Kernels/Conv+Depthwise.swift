// Conv+Depthwise: direct 2-D convolution for one input channel per group (depthwise and
// channel-multiplier convolutions: MobileNet, EfficientNet, ShuffleNet), any kernel, stride,
// dilation and pads.
//
// Contract: `Conv2D.isDepthwise(s)` (group > 1, inChannels == group) selects it; `depthwise`
// computes what `Conv2D.forward` promises (bias per output channel, then the epilogue) with no
// caller scratch (per-thread buffers). Threads split the N·outC output planes; each plane is
// computed the same way whoever runs it, so the bits do not depend on the thread count.
//
// Per plane: the input channel is copied once into sH·sW zero-padded phase planes, phase
// (ry, rx) holding padded input (j·sH + ry, i·sW + rx) at row j, column i, each PW = outW +
// ⌊(kW−1)·dW / sW⌋ wide. Output (oh, ow) with tap (kh, kw) reads padded (oh·sH + kh·dH,
// ow·sW + kw·dW), i.e. phase ((kh·dH) mod sH, (kw·dW) mod sW) at row oh + ⌊kh·dH / sH⌋, column
// ow + ⌊kw·dW / sW⌋: one flat offset from q = oh·PW + ow. So each tap is a contiguous
// multiply-add of a shifted phase plane over the flat range of outH·PW positions (the PW − outW
// extra columns per row are computed and dropped), 16 lanes at a time; each output sums its
// taps in (kh, kw) order, one fused multiply-add each, from +0.
// (Per group, the GEMM path did an im2col and a 1-row GEMM per group and per chunk of images,
// with two parallel hand-offs each: hundreds of loops per layer.)

extension Conv2D {
    /// One input channel per group, more than one group: the direct depthwise kernel.
    static func isDepthwise(_ s: Conv2DShape) -> Bool {
        s.group > 1 && s.inChannels == s.group && s.outChannels % s.group == 0 && !isFullWindow(s)
    }

    /// Phase-plane geometry of `depthwise`: phase width and height, floats per phase plane.
    static func depthwiseGeometry(_ s: Conv2DShape) -> (pw: Int, ph: Int, plane: Int) {
        let pw = s.outWidth + (s.kernelW - 1) * s.dilationW / s.strideW
        let ph = s.outHeight + (s.kernelH - 1) * s.dilationH / s.strideH
        // Slack: the flat loop rounds its range up to whole vectors and shifts it by up to
        // ⌊(kW−1)·dW / sW⌋ columns past the last row.
        return (pw, ph, ph * pw + (s.kernelW - 1) * s.dilationW / s.strideW + 32)
    }

    /// y = conv(x, w) for `isDepthwise` shapes (see the file header).
    static func depthwise(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                          pool: ThreadPool) {
        let mg = s.outChannels / s.group
        let kH = s.kernelH, kW = s.kernelW, sH = s.strideH, sW = s.strideW, dH = s.dilationH, dW = s.dilationW
        let outH = s.outHeight, outW = s.outWidth, p = outH * outW
        let inH = s.inHeight, inW = s.inWidth, pin = inH * inW
        let (pw, ph, phasePlane) = depthwiseGeometry(s)
        let phases = sH * sW
        let flat = outH * pw
        let flatRounded = (flat + 15) / 16 * 16
        // Per thread: the phase planes, then the flat output.
        let bufCount = phases * phasePlane + flatRounded + 16
        pool.parallelFor(s.batch * s.outChannels) { range in
            let buf = Gemm.threadBuffer(bufCount)
            let out = buf + phases * phasePlane
            var lastInput = -1
            for idx in range {
                let n = idx / s.outChannels, oc = idx % s.outChannels
                let ic = oc / mg
                let input = n * s.inChannels + ic
                if input != lastInput {
                    fillPhases(x + input * pin, inH: inH, inW: inW, s: s, pw: pw, ph: ph, phasePlane: phasePlane, into: buf)
                    lastInput = input
                }
                let w = weight + oc * kH * kW
                var q = 0
                while q + 64 <= flatRounded {
                    var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
                    for kh in 0..<kH {
                        let rh = kh * dH
                        let rowBase = buf + (rh % sH) * sW * phasePlane + (rh / sH) * pw + q
                        for kw in 0..<kW {
                            let rw = kw * dW
                            let src = UnsafeRawPointer(rowBase + (rw % sW) * phasePlane + rw / sW)
                            let wv = V16(repeating: w[kh * kW + kw])
                            a0.addProduct(wv, src.loadUnaligned(as: V16.self))
                            a1.addProduct(wv, src.loadUnaligned(fromByteOffset: 64, as: V16.self))
                            a2.addProduct(wv, src.loadUnaligned(fromByteOffset: 128, as: V16.self))
                            a3.addProduct(wv, src.loadUnaligned(fromByteOffset: 192, as: V16.self))
                        }
                    }
                    store16(a0, out + q); store16(a1, out + q + 16); store16(a2, out + q + 32); store16(a3, out + q + 48)
                    q += 64
                }
                while q < flatRounded {
                    var a0 = V16()
                    for kh in 0..<kH {
                        let rh = kh * dH
                        let rowBase = buf + (rh % sH) * sW * phasePlane + (rh / sH) * pw + q
                        for kw in 0..<kW {
                            let rw = kw * dW
                            a0.addProduct(V16(repeating: w[kh * kW + kw]), load16(rowBase + (rw % sW) * phasePlane + rw / sW))
                        }
                    }
                    store16(a0, out + q)
                    q += 16
                }
                let plane = y + idx * p
                for oh in 0..<outH { Im2Col.copy(plane + oh * outW, out + oh * pw, outW) }
                if !ops.isEmpty {
                    EpilogueApply.applyRows(c: plane - oc * p, ldc: p, rows: oc..<(oc + 1), cols: 0..<p, bias: bias, ops: ops)
                }
            }
        }
    }

    /// Writes the sH·sW zero-padded phase planes of one input plane (see the file header): phase
    /// (ry, rx) at `into + (ry·sW + rx)·phasePlane`, `ph` rows of `pw`, then zeros to the end.
    static func fillPhases(_ src: UnsafePointer<Float>, inH: Int, inW: Int, s: Conv2DShape, pw: Int, ph: Int,
                           phasePlane: Int, into buf: UnsafeMutablePointer<Float>) {
        let sH = s.strideH, sW = s.strideW
        for ry in 0..<sH {
            for rx in 0..<sW {
                let dst = buf + (ry * sW + rx) * phasePlane
                // Columns i with 0 ≤ i·sW + rx − padLeft < inW, i.e. i in lo..<hi.
                let lo = max(0, (s.padLeft - rx + sW - 1) / sW)
                let hi = min(pw, max(lo, (inW + s.padLeft - rx + sW - 1) / sW))
                for j in 0..<ph {
                    let row = dst + j * pw
                    let ih = j * sH + ry - s.padTop
                    if ih < 0 || ih >= inH || hi <= lo {
                        Im2Col.zero(row, pw)
                        continue
                    }
                    Im2Col.zero(row, lo)
                    let srow = src + ih * inW + lo * sW + rx - s.padLeft
                    if sW == 1 {
                        Im2Col.copy(row + lo, srow, hi - lo)
                    } else {
                        for i in 0..<(hi - lo) { row[lo + i] = srow[i * sW] }
                    }
                    Im2Col.zero(row + hi, pw - hi)
                }
                Im2Col.zero(dst + ph * pw, phasePlane - ph * pw)
            }
        }
    }
}
