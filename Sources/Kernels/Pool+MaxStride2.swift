// Pool+MaxStride2: MaxPool with horizontal stride 2 over 2 or 3 columns (AlexNet, SqueezeNet,
// ResNet and Inception stems: 3×3 and 2×2 windows, stride 2), read from the input where it
// lies: no padded row copies.
//
// Contract: `isMaxStride2(s)`; computes what `Pool2D.reference` computes for MaxPool, bit for
// bit: each output takes its taps in (kh, kw) order with `v > acc ? v : acc` from −∞ (rows
// outside the input skipped, columns outside it −∞, which changes nothing), and is NaN when a
// tap is NaN. Work is split like `Pool2D.run` (planes, or row ranges of few planes); each output
// is computed the same way whoever runs it.
//
// Sixteen outputs ow0 … ow0 + 15 of a row read input columns b … b + 32, b = 2·ow0 − padLeft:
// three vector loads at b, b + 16 and b + 32 (masked where they leave the row: −∞ there) give
// the taps kw = 0, 1, 2 as their even lanes, odd lanes and even lanes shifted by one (one
// permute each). Up to four blocks of a row run at once (independent max chains).
//
// Why: the general kernel copied every input row into a padded row (memset and memmove: a fifth
// of its time) and branched per tap on stride, kind and block count: SqueezeNet's three
// MaxPools took 0.61 ms at batch 1, ONNX Runtime's 0.10.

import CSIMD

extension Pool2D {
    /// MaxPool shapes of `maxStride2`: horizontal stride 2, 2 or 3 columns, no column dilation.
    static func isMaxStride2(_ s: Pool2DShape) -> Bool {
        s.strideW == 2 && s.dilationW == 1 && (s.kernelW == 2 || s.kernelW == 3)
    }

    static func maxStride2(_ s: Pool2DShape, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ pool: ThreadPool) {
        let planes = s.batch * s.channels
        let (inH, inW, outH, outW) = (s.inH, s.inW, s.outH, s.outW)
        if planes == 0 || outH == 0 || outW == 0 { return }
        let (kH, kW, sH, dH) = (s.kernelH, s.kernelW, s.strideH, s.dilationH)
        let blocks = (outW + 15) / 16
        let perPlane = Swift.max(1, Swift.min(outH, (4 * pool.threads + planes - 1) / planes))
        let items = planes * perPlane
        pool.splitWork(items, work: planes * outH * outW * kH * kW) { range in
            // Per thread: the masks of each block's three loads (the same for every row).
            let masks = UnsafeMutableRawPointer(Gemm.threadBuffer(2 * blocks + 16)).bindMemory(to: UInt16.self, capacity: 3 * blocks)
            for blk in 0..<blocks {
                for i in 0..<3 {
                    let b = 32 * blk - s.padLeft + 16 * i
                    masks[3 * blk + i] = laneMask(-b, inW - b)
                }
            }
            for item in range {
                let p = item / perPlane, part = item % perPlane
                let oh0 = part * outH / perPlane, oh1 = (part + 1) * outH / perPlane
                let px = x + p * inH * inW
                for oh in oh0..<oh1 {
                    let py = y + (p * outH + oh) * outW
                    let h0 = oh * sH - s.padTop
                    var blk = 0
                    while blk < blocks {
                        let nv = Swift.min(4, blocks - blk)
                        let start = V16(repeating: -.infinity)
                        var a0 = start, a1 = start, a2 = start, a3 = start
                        var n0 = SIMDMask<SIMD16<Int32>>(repeating: false), n1 = n0, n2 = n0, n3 = n0
                        for kh in 0..<kH {
                            let h = h0 + kh * dH
                            if h < 0 || h >= inH { continue }
                            let row = px + h * inW - s.padLeft
                            /// Block blk + j's taps of this row, in kw order, into acc (NaN lanes into nan).
                            @inline(__always) func taps(_ acc: inout V16, _ nan: inout SIMDMask<SIMD16<Int32>>, _ j: Int) {
                                let m = masks + 3 * (blk + j), r = row + 32 * (blk + j)
                                let l0 = gannet_load_masked16(r, m[0], -.infinity), l1 = gannet_load_masked16(r + 16, m[1], -.infinity)
                                @inline(__always) func tap(_ v: V16) { acc.replace(with: v, where: v .> acc); nan .|= v .!= v }
                                let e = evenLanes(l0, l1)
                                tap(e)
                                tap(oddLanes(l0, l1))
                                if kW == 3 { tap(shiftIn(e, gannet_load_masked16(r + 32, m[2], -.infinity), 0)) }
                            }
                            taps(&a0, &n0, 0)
                            if nv > 1 { taps(&a1, &n1, 1) }
                            if nv > 2 { taps(&a2, &n2, 2) }
                            if nv > 3 { taps(&a3, &n3, 3) }
                        }
                        @inline(__always) func finish(_ acc: V16, _ nan: SIMDMask<SIMD16<Int32>>, _ j: Int) {
                            let o = 16 * (blk + j), n = Swift.min(16, outW - o)
                            storePartial(acc.replacing(with: .nan, where: nan), py + o, n)
                        }
                        finish(a0, n0, 0)
                        if nv > 1 { finish(a1, n1, 1) }
                        if nv > 2 { finish(a2, n2, 2) }
                        if nv > 3 { finish(a3, n3, 3) }
                        blk += nv
                    }
                }
            }
        }
    }
}
