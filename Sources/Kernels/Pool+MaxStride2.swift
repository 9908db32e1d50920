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
        let (outH, outW) = (s.outH, s.outW)
        if planes == 0 || outH == 0 || outW == 0 { return }
        let perPlane = Swift.max(1, Swift.min(outH, (4 * pool.threads + planes - 1) / planes))
        let items = planes * perPlane
        pool.splitWork(items, work: planes * outH * outW * s.kernelH * s.kernelW) { range in
            maxStride2Items(range, s, x, y, perPlane: perPlane)
        }
    }

    /// Items `range` of `maxStride2` (item = plane · perPlane + part). A function of its own, not
    /// the loop's closure: inside a closure handed to the pool, the taps below were not inlined.
    static func maxStride2Items(_ range: Range<Int>, _ s: Pool2DShape, _ x: UnsafePointer<Float>,
                                _ y: UnsafeMutablePointer<Float>, perPlane: Int) {
        let (inH, inW, outH, outW) = (s.inH, s.inW, s.outH, s.outW)
        let (kH, kW, sH, dH) = (s.kernelH, s.kernelW, s.strideH, s.dilationH)
        let blocks = (outW + 15) / 16
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
                for blk in stride(from: 0, to: blocks, by: 4) {
                    let nv = Swift.min(4, blocks - blk)
                    let start = V16(repeating: -.infinity)
                    var a0 = start, a1 = start, a2 = start, a3 = start
                    var n0 = SIMDMask<SIMD16<Int32>>(repeating: false), n1 = n0, n2 = n0, n3 = n0
                    let m = UnsafePointer(masks + 3 * blk)
                    for kh in 0..<kH {
                        let h = h0 + kh * dH
                        if h < 0 || h >= inH { continue }
                        let row = px + h * inW - s.padLeft + 32 * blk
                        maxTaps(&a0, &n0, row, m, kW == 3)
                        if nv > 1 { maxTaps(&a1, &n1, row + 32, m + 3, kW == 3) }
                        if nv > 2 { maxTaps(&a2, &n2, row + 64, m + 6, kW == 3) }
                        if nv > 3 { maxTaps(&a3, &n3, row + 96, m + 9, kW == 3) }
                    }
                    let o = py + 16 * blk, left = outW - 16 * blk
                    storePartial(a0.replacing(with: .nan, where: n0), o, Swift.min(16, left))
                    if nv > 1 { storePartial(a1.replacing(with: .nan, where: n1), o + 16, Swift.min(16, left - 16)) }
                    if nv > 2 { storePartial(a2.replacing(with: .nan, where: n2), o + 32, Swift.min(16, left - 32)) }
                    if nv > 3 { storePartial(a3.replacing(with: .nan, where: n3), o + 48, Swift.min(16, left - 48)) }
                }
            }
        }
    }

    /// One input row's taps of a block of 16 outputs, in kw order, into acc (NaN lanes into nan):
    /// `row` is the block's first column (2·ow0 − padLeft), `m` its three load masks. A plain
    /// function, not a closure over the loop's variables: a parallel loop's body then allocates
    /// no capture boxes.
    @_transparent
    static func maxTaps(_ acc: inout V16, _ nan: inout SIMDMask<SIMD16<Int32>>, _ row: UnsafePointer<Float>,
                        _ m: UnsafePointer<UInt16>, _ three: Bool) {
        let l0 = gannet_load_masked16(row, m[0], -.infinity), l1 = gannet_load_masked16(row + 16, m[1], -.infinity)
        let e = evenLanes(l0, l1), o = oddLanes(l0, l1)
        acc.replace(with: e, where: e .> acc); nan .|= e .!= e
        acc.replace(with: o, where: o .> acc); nan .|= o .!= o
        if three {
            let t = shiftIn(e, gannet_load_masked16(row + 32, m[2], -.infinity), 0)
            acc.replace(with: t, where: t .> acc); nan .|= t .!= t
        }
    }
}
