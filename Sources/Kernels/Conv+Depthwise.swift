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
// taps in (kh, kw) order, one fused multiply-add each, from +0. A 3×3 kernel with stride and
// dilation 1 down the rows computes four output rows per pass (each shifted input vector loaded
// once for the up to three rows that use it, the nine weights in registers), in the same order.
// Horizontal stride 2 reads the input where it lies instead (Conv+DepthwiseStride2.swift, the
// same bits). (Per group, the GEMM path did an im2col and a 1-row GEMM per group and per chunk
// of images, with two parallel hand-offs each: hundreds of loops per layer.)

import CSIMD

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

    /// y = conv(x, w) for `isDepthwise` shapes (see the file header). `directStride2: false` keeps
    /// horizontal stride 2 on the phase planes too (tests compare the two).
    static func depthwise(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ops: [EpilogueOp],
                          pool: ThreadPool, directStride2: Bool = true) {
        if s.strideW == 2 && directStride2 {
            depthwiseStride2(s, x: x, weight: weight, bias: bias, y: y, ops: ops, pool: pool)
            return
        }
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
        // A bias then at most one `RegisterActivation` (the usual fused epilogue) is applied as the
        // rows are copied out; any other epilogue through `EpilogueApply` over the flat output.
        let (addBias, act, simple) = registerEpilogue(ops, hasBias: bias != nil)
        // Each tap's flat offset into the phase planes (the divisions stay out of the loops).
        let taps = kH * kW
        withUnsafeTemporaryAllocation(of: Int.self, capacity: taps) { offsets in
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let rh = kh * dH, rw = kw * dW
                    offsets[kh * kW + kw] = ((rh % sH) * sW + rw % sW) * phasePlane + (rh / sH) * pw + rw / sW
                }
            }
            let off = UnsafePointer(offsets.baseAddress!)
            // 3×3 with stride 1 and dilation 1 down the rows: output row oh + 1 reads exactly one
            // phase-plane row (pw floats) further than row oh, tap for tap (tap (kh, kw) at off[kw] + kh·pw).
            let rowBlocked = kH == 3 && kW == 3 && sH == 1 && dH == 1 && outH >= 4
            // 5×5 row by row only on rows of at least 28 (narrower ones waste most of their second
            // vector; the flat loop runs them contiguously: 144 × 14² took 0.061 ms this way, 0.052 flat).
            let rowBlocked5 = kH == 5 && kW == 5 && sH == 1 && dH == 1 && outH >= 4 && pw >= 28
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
                    let w = weight + oc * taps
                    var q = 0
                    if rowBlocked {
                        // 3×3, four output rows at once: input row oh + i serves output rows oh + i − kh,
                        // so each shifted input vector is loaded once for up to three rows, and the nine
                        // weights stay in registers. Each row still sums its taps in (kh, kw) order.
                        let w0 = V16(repeating: w[0]), w1 = V16(repeating: w[1]), w2 = V16(repeating: w[2])
                        let w3 = V16(repeating: w[3]), w4 = V16(repeating: w[4]), w5 = V16(repeating: w[5])
                        let w6 = V16(repeating: w[6]), w7 = V16(repeating: w[7]), w8 = V16(repeating: w[8])
                        let c0 = off[0], c1 = off[1], c2 = off[2]
                        var oh = 0
                        while oh + 4 <= outH {
                            var c = 0
                            while c < pw {
                                let base = UnsafePointer(buf + oh * pw + c)
                                @inline(__always) func taps(_ i: Int, _ acc: inout V16, _ wa: V16, _ wb: V16, _ wc: V16) {
                                    let r = base + i * pw
                                    acc.addProduct(wa, load16(r + c0)); acc.addProduct(wb, load16(r + c1)); acc.addProduct(wc, load16(r + c2))
                                }
                                var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
                                taps(0, &a0, w0, w1, w2)
                                taps(1, &a0, w3, w4, w5); taps(1, &a1, w0, w1, w2)
                                taps(2, &a0, w6, w7, w8); taps(2, &a1, w3, w4, w5); taps(2, &a2, w0, w1, w2)
                                taps(3, &a1, w6, w7, w8); taps(3, &a2, w3, w4, w5); taps(3, &a3, w0, w1, w2)
                                taps(4, &a2, w6, w7, w8); taps(4, &a3, w3, w4, w5)
                                taps(5, &a3, w6, w7, w8)
                                let o = out + oh * pw + c
                                store16(a0, o); store16(a1, o + pw); store16(a2, o + 2 * pw); store16(a3, o + 3 * pw)
                                c += 16
                            }
                            oh += 4
                        }
                        q = oh * pw
                    } else if rowBlocked5 {
                        // 5×5 the same way: eight input rows serve four output rows, each input
                        // vector loaded once for the up to four rows that use it.
                        let c0 = off[0], c1 = off[1], c2 = off[2], c3 = off[3], c4 = off[4]
                        var oh = 0
                        while oh + 4 <= outH {
                            var c = 0
                            while c < pw {
                                let base = UnsafePointer(buf + oh * pw + c)
                                var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
                                for i in 0..<8 {
                                    let r = base + i * pw
                                    let x0 = load16(r + c0), x1 = load16(r + c1), x2 = load16(r + c2), x3 = load16(r + c3), x4 = load16(r + c4)
                                    /// Kernel row kh of one output row.
                                    @inline(__always) func taps(_ acc: inout V16, _ kh: Int) {
                                        let wr = w + 5 * kh
                                        acc.addProduct(V16(repeating: wr[0]), x0); acc.addProduct(V16(repeating: wr[1]), x1)
                                        acc.addProduct(V16(repeating: wr[2]), x2); acc.addProduct(V16(repeating: wr[3]), x3)
                                        acc.addProduct(V16(repeating: wr[4]), x4)
                                    }
                                    // Input row oh + i is kernel row i − j of output row oh + j.
                                    if i < 5 { taps(&a0, i) }
                                    if i >= 1 && i < 6 { taps(&a1, i - 1) }
                                    if i >= 2 && i < 7 { taps(&a2, i - 2) }
                                    if i >= 3 { taps(&a3, i - 3) }
                                }
                                let o = out + oh * pw + c
                                store16(a0, o); store16(a1, o + pw); store16(a2, o + 2 * pw); store16(a3, o + 3 * pw)
                                c += 16
                            }
                            oh += 4
                        }
                        q = oh * pw
                    }
                    while q + 64 <= flatRounded {
                        var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
                        for t in 0..<taps {
                            let src = UnsafeRawPointer(buf + q + off[t])
                            let wv = V16(repeating: w[t])
                            a0.addProduct(wv, src.loadUnaligned(as: V16.self))
                            a1.addProduct(wv, src.loadUnaligned(fromByteOffset: 64, as: V16.self))
                            a2.addProduct(wv, src.loadUnaligned(fromByteOffset: 128, as: V16.self))
                            a3.addProduct(wv, src.loadUnaligned(fromByteOffset: 192, as: V16.self))
                        }
                        store16(a0, out + q); store16(a1, out + q + 16); store16(a2, out + q + 32); store16(a3, out + q + 48)
                        q += 64
                    }
                    while q < flatRounded {
                        var a0 = V16()
                        for t in 0..<taps { a0.addProduct(V16(repeating: w[t]), load16(buf + q + off[t])) }
                        store16(a0, out + q)
                        q += 16
                    }
                    // A simple epilogue runs as the rows are copied out; any other on the whole
                    // flat output first (dropped columns too: whole vectors).
                    if !simple && !ops.isEmpty {
                        EpilogueApply.applyRows(c: out, ldc: 0, rows: oc..<(oc + 1), cols: 0..<flatRounded, bias: bias, ops: ops)
                    }
                    let fin = RowEpilogue(simple ? act : nil, bias: simple && addBias ? bias![oc] : nil)
                    // Rows in order, in whole vectors while they end inside the plane (the lanes
                    // past a row are rewritten by the rows after it); the last ones exactly.
                    let plane = y + idx * p
                    for oh in 0..<outH {
                        let d = plane + oh * outW, src = out + oh * pw
                        var i = 0
                        while i < outW && oh * outW + i + 16 <= p { store16(fin.apply(load16(src + i)), d + i); i += 16 }
                        if i < outW { storePartial(fin.apply(loadPartial(src + i, outW - i)), d + i, outW - i) }
                    }
                }
            }
        }
    }

    /// Whether `ops` is a bias (first, applied when `hasBias`) then at most one activation that
    /// `RegisterActivation` applies, the epilogue that direct kernels apply to vectors in
    /// registers (`simple`), and its parts. Other epilogues run through `EpilogueApply` on
    /// finished output.
    static func registerEpilogue(_ ops: [EpilogueOp], hasBias: Bool) -> (addBias: Bool, act: Activation?, simple: Bool) {
        var addBias = false, act: Activation? = nil, simple = true
        for (i, op) in ops.enumerated() {
            switch op {
            case .bias: if i == 0 { addBias = hasBias } else { simple = false }
            case .activation(let a):
                if act == nil && RegisterActivation(a) != nil { act = a } else { simple = false }
            }
        }
        return (addBias, act, simple)
    }

    /// ReLU, LeakyReLU, Clip, swish or HardSwish on one vector in registers, or nothing: the
    /// arithmetic of `EpilogueApply.applyRows` (ReLU as a clamp to [0, +inf], which gives the
    /// same bits, NaN and -0 included; the others by `Activation.apply`'s lane functions), in a
    /// plain struct that inlines into any loop without a call.
    struct RegisterActivation {
        enum Kind { case clamp, leaky, swish, hardSwish }
        let kind: Kind, lo: Float, hi: Float, slope: Float
        /// Nil for the activations it does not apply (sigmoid, tanh, HardSigmoid).
        init?(_ act: Activation?) {
            var kind = Kind.clamp, lo = -Float.infinity, hi = Float.infinity, slope: Float = 0
            switch act {
            case nil: break
            case .relu?: lo = 0
            case let .clip(l, h)?: lo = l; hi = h
            case let .leakyRelu(a)?: kind = .leaky; slope = a
            case .swish?: kind = .swish
            case .hardSwish?: kind = .hardSwish
            default: return nil
            }
            self.kind = kind; self.lo = lo; self.hi = hi; self.slope = slope
        }
        @_transparent
        func apply(_ t: V16) -> V16 {
            switch kind {
            case .clamp: return gannet_clip16(t, lo, hi)
            case .leaky: return t.replacing(with: t * slope, where: t .< 0)
            case .swish: return t * SIMDMath.sigmoid(t)
            case .hardSwish: return t * Unary.hardSigmoid(1 / 6, 0.5, t)
            }
        }
    }

    /// A bias then a `RegisterActivation` (or nothing) on one vector, in registers.
    struct RowEpilogue {
        let bias: Float, hasBias: Bool, act: RegisterActivation
        /// `act` must be one that `RegisterActivation` applies (or nil).
        init(_ act: Activation?, bias b: Float?) {
            bias = b ?? 0; hasBias = b != nil
            self.act = RegisterActivation(act)!
        }
        @_transparent
        func apply(_ v: V16) -> V16 {
            act.apply(hasBias ? v + V16(repeating: bias) : v)
        }
    }

    /// Writes the sH·sW zero-padded phase planes of one input plane (see the file header): phase
    /// (ry, rx) at `into + (ry·sW + rx)·phasePlane`, `ph` rows of `pw`, then zeros to `filled`
    /// floats of the plane (nil: to its end, `phasePlane`). Rows are written in order in whole
    /// vectors: a vector's lanes past its part of a row land in the next rows, which are
    /// rewritten after it, or in the plane's slack (at least 16 floats), which is zeroed last.
    /// Input reads stay inside the input plane.
    static func fillPhases(_ src: UnsafePointer<Float>, inH: Int, inW: Int, s: Conv2DShape, pw: Int, ph: Int,
                           phasePlane: Int, filled: Int? = nil, into buf: UnsafeMutablePointer<Float>) {
        let sH = s.strideH, sW = s.strideW
        /// Zeros [p, p + count) in whole vectors (up to 15 floats past it).
        @inline(__always) func zeroSpilling(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
            var i = 0
            while i < count { store16(V16(), p + i); i += 16 }
        }
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
                        zeroSpilling(row, pw)
                        continue
                    }
                    zeroSpilling(row, lo)
                    let srow = src + ih * inW + lo * sW + rx - s.padLeft
                    let n = hi - lo
                    var i = 0
                    if sW == 1 {
                        while i + 16 <= n { store16(load16(srow + i), row + lo + i); i += 16 }
                        // The tail by a masked load; the whole vector is stored (spilling, as above).
                        if i < n { store16(loadPartial(srow + i, n - i), row + lo + i) }
                    } else {
                        // Stride 2: sixteen columns from two loads while they stay in the row.
                        let left = inW - (lo * sW + rx - s.padLeft)
                        if sW == 2 { while 2 * i + 32 <= left && i + 16 <= n { store16(loadEven16(srow + 2 * i), row + lo + i); i += 16 } }
                        while i < n { row[lo + i] = srow[i * sW]; i += 1 }
                    }
                    zeroSpilling(row + hi, pw - hi)
                }
                Im2Col.zero(dst + ph * pw, (filled ?? phasePlane) - ph * pw)
            }
        }
    }
}
