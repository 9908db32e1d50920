import XCTest
import TestSupport
import Kernels

final class ConvTests: XCTestCase {
    static let pool2 = ThreadPool(threads: 2)
    static let epilogues: [[EpilogueOp]] = [[], [.bias(perRow: true)], [.bias(perRow: false), .activation(.leakyRelu(0.2))],
                                            [.activation(.relu)], [.bias(perRow: true), .activation(.tanh)], [.bias(perRow: true), .activation(.clip(0, 0.5))],
                                            [.bias(perRow: true), .activation(.swish)],
                                            [.bias(perRow: true), .activation(.sigmoid)]]

    /// Random Conv2D geometry (valid output size), or nil to retry.
    func randomShape(_ rng: inout SeededRandom, transposed: Bool, big: Bool = false) -> Conv2DShape? {
        let group = [1, 1, 1, 2, 3][rng.int(0, 4)]
        let cin = group * rng.int(1, big ? 12 : 4), cout = group * rng.int(1, big ? 12 : 4)
        let kh = rng.int(1, 4), kw = rng.int(1, 4)
        let sh = rng.int(1, 3), sw = rng.int(1, 3)
        let dh = rng.int(1, 2), dw = rng.int(1, 2)
        let pt = rng.int(0, 2), pl = rng.int(0, 2), pb = rng.int(0, 2), pr = rng.int(0, 2)
        let ih = rng.int(1, big ? 20 : 9), iw = rng.int(1, big ? 20 : 9)
        let ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1
        let oh: Int, ow: Int
        if transposed {
            let oph = rng.int(0, max(sh, dh) - 1), opw = rng.int(0, max(sw, dw) - 1)
            oh = sh * (ih - 1) + oph + ekh - pt - pb
            ow = sw * (iw - 1) + opw + ekw - pl - pr
        } else {
            if ih + pt + pb < ekh || iw + pl + pr < ekw { return nil }
            oh = (ih + pt + pb - ekh) / sh + 1
            ow = (iw + pl + pr - ekw) / sw + 1
        }
        if oh < 1 || ow < 1 { return nil }
        return Conv2DShape(batch: [1, 2, 3][rng.int(0, 2)], inChannels: cin, inHeight: ih, inWidth: iw,
                           outChannels: cout, outHeight: oh, outWidth: ow, kernelH: kh, kernelW: kw,
                           strideH: sh, strideW: sw, padTop: pt, padLeft: pl, dilationH: dh, dilationW: dw, group: group)
    }

    func check(_ s: Conv2DShape, transposed: Bool, epilogue: [EpilogueOp], _ rng: inout SeededRandom,
               file: StaticString = #filePath, line: UInt = #line) {
        let xCount = s.batch * s.inChannels * s.inHeight * s.inWidth
        let yCount = s.batch * s.outChannels * s.outHeight * s.outWidth
        let wCount = s.inChannels * (s.outChannels / s.group) * s.kernelH * s.kernelW
        let x = rng.floats(xCount), w = rng.floats(wCount), bias = rng.floats(s.outChannels)
        let scratchN = transposed ? ConvTranspose2D.scratchCount(s, threads: 2) : Conv2D.scratchCount(s, threads: 2)
        var scratch = [Float](repeating: .nan, count: max(1, scratchN))
        var outs: [[Float]] = []
        for which in 0..<3 {
            var y = [Float](repeating: .nan, count: yCount)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                    let pool: ThreadPool = which == 1 ? ConvTests.pool2 : .serial
                    switch (transposed, which) {
                    case (false, 2): Conv2D.reference(s, x: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                                      y: yp.baseAddress!, epilogue: epilogue)
                    case (true, 2): ConvTranspose2D.reference(s, x: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                                              y: yp.baseAddress!, epilogue: epilogue)
                    case (false, _): Conv2D.forward(s, x: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                                    y: yp.baseAddress!, epilogue: epilogue, scratch: sp.baseAddress!, pool: pool)
                    case (true, _): ConvTranspose2D.forward(s, x: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                                            y: yp.baseAddress!, epilogue: epilogue, scratch: sp.baseAddress!, pool: pool)
                    }
                }}
            }}}
            outs.append(y)
        }
        let what = "\(transposed ? "ConvT" : "Conv") \(s) \(epilogue)"
        XCTAssertEqual(outs[0], outs[1], "1 vs 2 threads differ: \(what)", file: file, line: line)
        XCTAssertEqual(prepackedForward(s, transposed: transposed, x: x, w: w, bias: bias, epilogue: epilogue).map(\.bitPattern),
                       outs[0].map(\.bitPattern), "pre-packed weights differ: \(what)", file: file, line: line)
        let k = Float((s.inChannels / s.group) * s.kernelH * s.kernelW)
        if !transposed {
            // The GEMM paths' result: `forward`'s own unless it ran Winograd or the tiny-plane GEMMs (other bits).
            var gemm = outs[0]
            if Conv2D.isWinograd(s) || Conv2D.isWinogradS2(s) || Conv2D.isWinogradWeightGrad(s) || Conv2D.isTinyPlane(s) {
                Conv2D.forward(s, x: x, weight: w, bias: bias, y: &gemm, epilogue: epilogue, scratch: &scratch,
                               pool: ConvTests.pool2, allowWinograd: false)
                assertClose(outs[0], gemm, tol: 8e-6, scale: k + 4, "Winograd or tiny-plane and GEMM differ: \(what)", file: file, line: line)
            }
            var explicit = [Float](repeating: .nan, count: yCount)
            Conv2D.forward(s, x: x, weight: w, bias: bias, y: &explicit, epilogue: epilogue, scratch: &scratch,
                           pool: ConvTests.pool2, allowImplicit: false)
            XCTAssertEqual(explicit.map(\.bitPattern), gemm.map(\.bitPattern),
                           "col matrix and implicit GEMM differ: \(what)", file: file, line: line)
            if Conv2D.isDirect(s) {
                var implicit = [Float](repeating: .nan, count: yCount)
                Conv2D.forward(s, x: x, weight: w, bias: bias, y: &implicit, epilogue: epilogue, scratch: &scratch,
                               pool: .serial, allowDirect: false)
                XCTAssertEqual(implicit.map(\.bitPattern), gemm.map(\.bitPattern),
                               "direct and implicit GEMM differ: \(what)", file: file, line: line)
            }
        }
        if transposed && (ConvTranspose2D.isStride1Conv(s) || ConvTranspose2D.isSingleChannelStride1(s)) {
            var phased = [Float](repeating: .nan, count: yCount)
            ConvTranspose2D.forward(s, x: x, weight: w, bias: bias, y: &phased, epilogue: epilogue, scratch: &scratch,
                                    pool: ConvTests.pool2, allowStride1Conv: false)
            if ConvTranspose2D.isSingleChannelStride1(s) {
                XCTAssertEqual(outs[0].map(\.bitPattern), phased.map(\.bitPattern), "single-channel stride 1 and phased GEMM differ: \(what)",
                               file: file, line: line)
            } else {
                assertClose(outs[0], phased, tol: 8e-6, scale: k + 4, "stride-1 Conv and phased GEMM differ: \(what)", file: file, line: line)
            }
        }
        if transposed && (ConvTranspose2D.isWinogradS2(s) || ConvTranspose2D.isTinyPlane(s)) {
            var phased = [Float](repeating: .nan, count: yCount)
            ConvTranspose2D.forward(s, x: x, weight: w, bias: bias, y: &phased, epilogue: epilogue, scratch: &scratch,
                                    pool: ConvTests.pool2, allowWinograd: false)
            assertClose(outs[0], phased, tol: 8e-6, scale: k + 4, "Winograd or tiny-plane and phased GEMM differ: \(what)", file: file, line: line)
        }
        let winograd = transposed ? ConvTranspose2D.isWinogradS2(s)
            || (ConvTranspose2D.isStride1Conv(s) && Conv2D.isWinograd(ConvTranspose2D.stride1Conv(s)))
            : Conv2D.isWinograd(s) || Conv2D.isWinogradS2(s) || Conv2D.isWinogradWeightGrad(s)
        assertClose(outs[0], outs[2], tol: winograd ? 8e-6 : 2e-6, scale: k + 4, what, file: file, line: line)
    }

    /// `forward` on 2 threads with the weights packed beforehand by `packWeights` (as Runtime does
    /// for constant weights), scratch filled with NaN so that nothing reads a per-call pack.
    func prepackedForward(_ s: Conv2DShape, transposed: Bool, x: [Float], w: [Float], bias: [Float],
                          epilogue: [EpilogueOp]) -> [Float] {
        let count = transposed ? ConvTranspose2D.packedWeightCount(s) : Conv2D.packedWeightCount(s)
        var packed = [Float](repeating: .nan, count: max(1, count))
        var scratch = [Float](repeating: .nan, count: max(1, transposed ? ConvTranspose2D.scratchCount(s, threads: 2)
                                                                        : Conv2D.scratchCount(s, threads: 2)))
        var y = [Float](repeating: .nan, count: s.batch * s.outChannels * s.outHeight * s.outWidth)
        if transposed {
            ConvTranspose2D.packWeights(s, weight: w, into: &packed, pool: ConvTests.pool2)
        } else {
            Conv2D.packWeights(s, weight: w, into: &packed, pool: ConvTests.pool2)
        }
        packed.withUnsafeBufferPointer { pp in
            let pw = count > 0 ? pp.baseAddress : nil
            if transposed {
                ConvTranspose2D.forward(s, x: x, weight: w, bias: bias, y: &y, epilogue: epilogue, scratch: &scratch,
                                        pool: ConvTests.pool2, packedWeights: pw)
            } else {
                Conv2D.forward(s, x: x, weight: w, bias: bias, y: &y, epilogue: epilogue, scratch: &scratch,
                               pool: ConvTests.pool2, packedWeights: pw)
            }
        }
        return y
    }

    func testConvRandomSmall() {
        var rng = SeededRandom(seed: 11)
        var done = 0
        while done < 300 {
            guard let s = randomShape(&rng, transposed: false) else { continue }
            check(s, transposed: false, epilogue: ConvTests.epilogues[rng.int(0, 5)], &rng)
            done += 1
        }
    }

    /// Stride-1 shapes that run the direct GEMM (Conv+Direct.swift): odd channel counts (all three
    /// row kernels), planes whose virtual rows split register tiles at every offset, dilation,
    /// asymmetric and zero pads (no dropped columns: the GEMM writes y itself), groups and
    /// batches, on 1 and 2 threads and with pre-packed weights, bit-identical to the implicit
    /// and col-matrix GEMMs and close to the scalar reference (`check`).
    func testConvDirect() {
        var rng = SeededRandom(seed: 19)
        let shapes: [(cin: Int, cout: Int, h: Int, w: Int, k: Int, pad: (Int, Int, Int, Int), dil: Int, group: Int, batch: Int)] = [
            (40, 13, 11, 29, 3, (1, 1, 1, 1), 1, 1, 1),
            (36, 32, 21, 17, 3, (1, 1, 1, 1), 1, 1, 2),
            (30, 37, 9, 33, 3, (0, 2, 1, 0), 1, 1, 1),
            (24, 20, 13, 13, 3, (2, 2, 2, 2), 2, 1, 1),
            (32, 16, 15, 19, 1, (0, 0, 0, 0), 1, 1, 1),
            (28, 24, 12, 35, 2, (0, 0, 1, 1), 1, 2, 2),
            (20, 5, 17, 16, 5, (2, 2, 2, 2), 1, 1, 1),
            (64, 8, 7, 7, 3, (1, 1, 1, 1), 1, 1, 3),
        ]
        for t in shapes {
            let (pt, pl, pb, pr) = t.pad
            let ek = (t.k - 1) * t.dil + 1
            let s = Conv2DShape(batch: t.batch, inChannels: t.cin, inHeight: t.h, inWidth: t.w, outChannels: t.cout,
                                outHeight: t.h + pt + pb - ek + 1, outWidth: t.w + pl + pr - ek + 1,
                                kernelH: t.k, kernelW: t.k, padTop: pt, padLeft: pl,
                                dilationH: t.dil, dilationW: t.dil, group: t.group)
            XCTAssertTrue(Conv2D.isDirect(s), "not direct: \(s)")
            for e in [0, 2, 5] { check(s, transposed: false, epilogue: ConvTests.epilogues[e], &rng) }
        }
    }

    /// kH × 1 kernels drop no columns on the direct path, which `isDirect` prices against the
    /// implicit GEMM's dearer per-row packing (`implicitPackUnits`): Inception's 160 → 160, 7×1
    /// layer on 17² runs direct at batch 32 as at batch 1, and a small one (5 images, 7×1 and
    /// 3×1) matches the implicit GEMM bit for bit (`check`).
    func testTallKernelsRunDirect() {
        var rng = SeededRandom(seed: 46)
        for batch in [1, 32] {
            let inception = Conv2DShape(batch: batch, inChannels: 160, inHeight: 17, inWidth: 17, outChannels: 160,
                                        outHeight: 17, outWidth: 17, kernelH: 7, kernelW: 1, padTop: 3, padLeft: 0)
            XCTAssertTrue(Conv2D.isDirect(inception), "not direct: \(inception)")
        }
        for kh in [7, 3] {
            let s = Conv2DShape(batch: 5, inChannels: 24, inHeight: 11, inWidth: 13, outChannels: 20, outHeight: 11,
                                outWidth: 13, kernelH: kh, kernelW: 1, padTop: kh / 2, padLeft: 0)
            XCTAssertTrue(Conv2D.isDirect(s), "not direct: \(s)")
            check(s, transposed: false, epilogue: ConvTests.epilogues[4], &rng)
        }
    }

    /// Stride-2 convolutions on stride phase planes (Conv+Direct.swift): 3×3 and 7×7 stems (few
    /// input channels), 3×3 with many, odd and even sizes (a phase one column shorter than the
    /// other), asymmetric pads, stride 2 on one axis only, dilation 2, a group of 2, two images.
    /// `check` compares each with the implicit GEMM bit for bit, and on 1 and 2 threads.
    func testConvDirectStride2() {
        var rng = SeededRandom(seed: 29)
        // (cin, cout, h, w, kernel, pads t/l/b/r, strideH, strideW, dilation, group, batch)
        let shapes: [(Int, Int, Int, Int, Int, (Int, Int, Int, Int), Int, Int, Int, Int, Int)] = [
            (3, 32, 65, 67, 3, (0, 0, 0, 0), 2, 2, 1, 1, 1), (3, 16, 40, 37, 7, (3, 3, 3, 3), 2, 2, 1, 1, 1),
            (64, 40, 21, 20, 3, (1, 1, 1, 1), 2, 2, 1, 1, 2), (48, 24, 30, 33, 3, (0, 1, 1, 0), 2, 2, 1, 1, 1),
            (40, 20, 19, 29, 3, (1, 1, 1, 1), 1, 2, 1, 1, 1), (40, 20, 29, 19, 3, (1, 1, 1, 1), 2, 1, 1, 1, 1),
            (32, 16, 25, 25, 3, (2, 2, 2, 2), 2, 2, 2, 1, 1), (64, 32, 18, 22, 3, (1, 1, 1, 1), 2, 2, 1, 2, 1),
        ]
        var direct = 0
        for (cin, cout, h, w, k, pad, sH, sW, dil, group, batch) in shapes {
            let (pt, pl, pb, pr) = pad
            let ek = (k - 1) * dil + 1
            let s = Conv2DShape(batch: batch, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout,
                                outHeight: (h + pt + pb - ek) / sH + 1, outWidth: (w + pl + pr - ek) / sW + 1,
                                kernelH: k, kernelW: k, strideH: sH, strideW: sW, padTop: pt, padLeft: pl,
                                dilationH: dil, dilationW: dil, group: group)
            if Conv2D.isDirect(s) { direct += 1 }
            for e in [0, 2, 5] { check(s, transposed: false, epilogue: ConvTests.epilogues[e], &rng) }
        }
        XCTAssertGreaterThanOrEqual(direct, 5, "too few stride-2 shapes run direct")
    }

    /// Direct convolutions whose GEMM stores y without the dropped columns
    /// (`Conv2D.compactsOutput`: one K block, at least 256 Ki floats of output per image): a
    /// 3 → 16, 3×3 stride-2 stem of 256² images (one image; eight, which 2 threads run whole)
    /// and a 4 → 16, 5×5 stride-1 one on 128×130 (two images). `check` compares each with the
    /// implicit GEMM bit for bit, on 1 and 2 threads and with pre-packed weights.
    func testDirectConvCompactedOutput() {
        var rng = SeededRandom(seed: 47)
        let shapes = [
            Conv2DShape(batch: 1, inChannels: 3, inHeight: 256, inWidth: 256, outChannels: 16, outHeight: 128, outWidth: 128,
                        kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 8, inChannels: 3, inHeight: 256, inWidth: 256, outChannels: 16, outHeight: 128, outWidth: 128,
                        kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 2, inChannels: 4, inHeight: 128, inWidth: 130, outChannels: 16, outHeight: 128, outWidth: 130,
                        kernelH: 5, kernelW: 5, padTop: 2, padLeft: 2),
        ]
        for s in shapes {
            XCTAssertTrue(Conv2D.isDirect(s) && Conv2D.compactsOutput(s), "not a compacted direct convolution: \(s)")
            check(s, transposed: false, epilogue: ConvTests.epilogues[2], &rng)
        }
    }

    /// 3×3 stride-1 shapes that run Winograd's F(2×2, 3×3) (Conv+Winograd.swift): odd and even
    /// output sizes (tiles cut by the last row and column), tile rows wider and narrower than 16,
    /// a narrow shape (batch 1, 14², 72 output channels: its GEMM paths run narrow),
    /// pads 0–2 on any side, groups, chunks of several images and more images than a chunk,
    /// more than one K block of input channels, on 1 and 2 threads and with pre-packed weights;
    /// close to the scalar reference and the GEMM paths (`check`), the same bits on 1 and 2
    /// threads and pre-packed.
    func testConvWinograd() {
        var rng = SeededRandom(seed: 23)
        let shapes: [(cin: Int, cout: Int, h: Int, w: Int, pad: (Int, Int, Int, Int), group: Int, batch: Int)] = [
            (32, 48, 9, 13, (1, 1, 1, 1), 1, 1),
            (33, 50, 21, 17, (1, 1, 1, 1), 1, 2),
            (35, 49, 40, 37, (0, 2, 1, 0), 1, 1),
            (32, 48, 6, 12, (2, 2, 2, 2), 1, 40),
            (96, 98, 13, 35, (0, 0, 0, 0), 2, 2),
            (300, 48, 5, 14, (1, 1, 1, 1), 1, 3),
            (32, 300, 14, 13, (1, 0, 1, 2), 1, 3),
            (64, 72, 14, 14, (1, 1, 1, 1), 1, 1),
        ]
        for t in shapes {
            let (pt, pl, pb, pr) = t.pad
            let s = Conv2DShape(batch: t.batch, inChannels: t.cin, inHeight: t.h, inWidth: t.w, outChannels: t.cout,
                                outHeight: t.h + pt + pb - 2, outWidth: t.w + pl + pr - 2, kernelH: 3, kernelW: 3,
                                padTop: pt, padLeft: pl, group: t.group)
            XCTAssertTrue(Conv2D.isWinograd(s), "not Winograd: \(s)")
            for e in [0, 2, 5] { check(s, transposed: false, epilogue: ConvTests.epilogues[e], &rng) }
        }
    }

    /// 4×4 stride-2 Winograd layers whose images have fewer tile rows than a vector of 16 tiles
    /// spans transform the chunk's tile rows stacked across images: the same bits as image by
    /// image, on 1 and 2 threads, with pads on either side, odd sizes, a chunk that ends inside an
    /// image (ConvTranspose, 24 images of 3 × 4 tiles in chunks of 64 tile rows) and an epilogue;
    /// and close to the scalar reference (`check`). Shapes whose images fill whole vectors are not
    /// stacked.
    func testWinogradStride2StackedRowsSameBits() {
        var rng = SeededRandom(seed: 41)
        // (transposed, cin, cout, h, w, pads top/left/bottom/right, output padding, batch).
        let shapes: [(Bool, Int, Int, Int, Int, (Int, Int, Int, Int), Int, Int)] = [
            (true, 256, 256, 4, 4, (1, 1, 1, 1), 0, 20),
            (true, 200, 96, 5, 8, (2, 2, 2, 2), 1, 24),
            (true, 256, 256, 3, 3, (0, 1, 2, 0), 0, 33),
            (false, 128, 256, 8, 8, (1, 1, 1, 1), 0, 17),
            (false, 130, 256, 7, 9, (1, 0, 2, 1), 0, 21),
        ]
        for (transposed, cin, cout, h, w, (pt, pl, pb, pr), op, batch) in shapes {
            let s = transposed
                ? Conv2DShape(batch: batch, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout,
                              outHeight: 2 * (h - 1) + op + 4 - pt - pb, outWidth: 2 * (w - 1) + op + 4 - pl - pr,
                              kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: pt, padLeft: pl)
                : Conv2DShape(batch: batch, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout,
                              outHeight: (h + pt + pb - 4) / 2 + 1, outWidth: (w + pl + pr - 4) / 2 + 1, kernelH: 4, kernelW: 4,
                              strideH: 2, strideW: 2, padTop: pt, padLeft: pl)
            XCTAssertTrue(transposed ? ConvTranspose2D.isWinogradS2(s) : Conv2D.isWinogradS2(s), "not Winograd: \(s)")
            let x = rng.floats(s.batch * s.inChannels * s.inHeight * s.inWidth)
            let wts = rng.floats(s.inChannels * s.outChannels * 16), bias = rng.floats(s.outChannels)
            let epilogue = ConvTests.epilogues[2]
            var scratch = [Float](repeating: .nan, count: transposed ? ConvTranspose2D.scratchCount(s, threads: 2)
                                                                     : Conv2D.scratchCount(s, threads: 2))
            var outs: [[UInt32]] = []
            for (stacked, pool) in [(true, ThreadPool.serial), (true, ConvTests.pool2), (false, ThreadPool.serial)] {
                var y = [Float](repeating: .nan, count: s.batch * s.outChannels * s.outHeight * s.outWidth)
                if transposed {
                    ConvTranspose2D.forward(s, x: x, weight: wts, bias: bias, y: &y, epilogue: epilogue, scratch: &scratch,
                                            pool: pool, stackWinogradRows: stacked)
                } else {
                    Conv2D.forward(s, x: x, weight: wts, bias: bias, y: &y, epilogue: epilogue, scratch: &scratch,
                                   pool: pool, stackWinogradRows: stacked)
                }
                outs.append(y.map(\.bitPattern))
            }
            XCTAssertTrue(outs[0] == outs[1], "1 vs 2 threads differ: \(s)")
            let differ = zip(outs[0], outs[2]).filter { $0 != $1 }.count
            XCTAssertEqual(differ, 0, "stacked and image-by-image rows differ in \(differ) outputs: \(s)")
            check(s, transposed: transposed, epilogue: epilogue, &rng)
        }
    }


    /// The weight-gradient convolution of a 4×4 stride-2 layer in its own Conv's terms (`batch`
    /// input channels of the layer, `images` as channels, a kh × kw kernel of output gradients
    /// dilated by 2, a 4×4 output), asserted to take the Winograd weight-gradient path.
    static func weightGradShape(batch: Int, images: Int, outChannels: Int, kernelH kh: Int, kernelW kw: Int,
                                pads: (Int, Int, Int, Int), file: StaticString = #filePath, line: UInt = #line) -> Conv2DShape {
        let (pt, pl, pb, pr) = pads
        let s = Conv2DShape(batch: batch, inChannels: images, inHeight: 2 * kh + 2 - pt - pb, inWidth: 2 * kw + 2 - pl - pr,
                            outChannels: outChannels, outHeight: 4, outWidth: 4, kernelH: kh, kernelW: kw,
                            padTop: pt, padLeft: pl, dilationH: 2, dilationW: 2)
        XCTAssertTrue(Conv2D.isWinogradWeightGrad(s), "not Winograd: \(s)", file: file, line: line)
        return s
    }

    /// Winograd weight gradients whose kernel blocks are stacked across a chunk's images (kernels
    /// of 1–2 block rows and 2 block columns, fewer rows than a vector of 16 blocks spans:
    /// cifar10_wgangp's critic conv3 gradient, 4×4 over 8²
    /// at batch 128): the same bits as image by image, on 1 and 2 threads, over several k chunks
    /// (300 images, 128 a chunk) and a partial last vector; and close to the reference (`check`).
    func testWinogradWeightGradStackedBlocksSameBits() {
        var rng = SeededRandom(seed: 43)
        // (batch, images, output channels, kernel h, w, pads top/left/bottom/right).
        let shapes: [(Int, Int, Int, Int, Int, (Int, Int, Int, Int))] = [
            (64, 300, 64, 4, 4, (1, 1, 1, 1)),
            (48, 70, 96, 2, 4, (2, 1, 0, 1)),
            (70, 64, 128, 4, 4, (0, 2, 2, 0)),
        ]
        for (batch, n, o, kh, kw, pads) in shapes {
            let s = ConvTests.weightGradShape(batch: batch, images: n, outChannels: o, kernelH: kh, kernelW: kw, pads: pads)
            let x = rng.floats(s.batch * s.inChannels * s.inHeight * s.inWidth)
            let w = rng.floats(s.outChannels * s.inChannels * kh * kw), bias = rng.floats(o)
            var scratch = [Float](repeating: .nan, count: Conv2D.scratchCount(s, threads: 2))
            var outs: [[UInt32]] = []
            for (stacked, pool) in [(true, ThreadPool.serial), (true, ConvTests.pool2), (false, ThreadPool.serial)] {
                var y = [Float](repeating: .nan, count: s.batch * s.outChannels * 16)
                Conv2D.forward(s, x: x, weight: w, bias: bias, y: &y, epilogue: ConvTests.epilogues[1], scratch: &scratch,
                               pool: pool, stackWinogradRows: stacked)
                outs.append(y.map(\.bitPattern))
            }
            XCTAssertTrue(outs[0] == outs[1], "1 vs 2 threads differ: \(s)")
            let differ = zip(outs[0], outs[2]).filter { $0 != $1 }.count
            XCTAssertEqual(differ, 0, "stacked and image-by-image blocks differ in \(differ) outputs: \(s)")
            check(s, transposed: false, epilogue: ConvTests.epilogues[0], &rng)
        }
    }

    /// 4×4 stride-2 convolutions and transposed convolutions that run F(2×2, 2×2) on their stride
    /// phases (Conv+WinogradStride2.swift): DCGAN's and pix2pix's pads of 1 and pads 0 and 2,
    /// odd and even sizes (tiles cut by the last rows and columns), output_padding, tile rows of
    /// 2, 4, 8 (packed 16 lanes to a vector) and other widths, groups, chunks of several images
    /// and more images than a chunk, more than one K block; close to the scalar reference and the
    /// GEMM paths, the same bits on 1 and 2 threads and with pre-packed weights (`check`). Then
    /// weight gradients of such convolutions (Conv+WinogradWeightGrad.swift). And shapes where
    /// it would not pay (`WinogradS2.pays`) stay on the GEMM paths.
    func testWinogradStride2() {
        var rng = SeededRandom(seed: 29)
        // Conv: (cin, cout, h, w, pads top/left/bottom/right, group, batch).
        let convShapes: [(Int, Int, Int, Int, (Int, Int, Int, Int), Int, Int)] = [
            (32, 128, 16, 16, (1, 1, 1, 1), 1, 4),
            (40, 140, 19, 23, (1, 1, 1, 1), 1, 3),
            (17, 64, 40, 37, (0, 2, 1, 0), 1, 1),
            (32, 128, 16, 18, (2, 2, 2, 2), 1, 40),
            (96, 80, 17, 35, (0, 0, 0, 0), 2, 2),
            (300, 80, 16, 16, (1, 1, 1, 1), 1, 4),
            (64, 256, 8, 8, (1, 1, 1, 1), 1, 16),
            // mnist_gan's critic layer: image-by-image rows, several images a chunk (each image's
            // planes zeroed only to the slack its tiles read).
            (64, 128, 14, 14, (1, 1, 1, 1), 1, 20),
        ]
        for (cin, cout, h, w, (pt, pl, pb, pr), group, batch) in convShapes {
            let s = Conv2DShape(batch: batch, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout,
                                outHeight: (h + pt + pb - 4) / 2 + 1, outWidth: (w + pl + pr - 4) / 2 + 1, kernelH: 4, kernelW: 4,
                                strideH: 2, strideW: 2, padTop: pt, padLeft: pl, group: group)
            XCTAssertTrue(Conv2D.isWinogradS2(s), "not Winograd: \(s)")
            for e in [0, 2, 5] { check(s, transposed: false, epilogue: ConvTests.epilogues[e], &rng) }
        }
        // ConvTranspose: (cin, cout, h, w, pads top/left/bottom/right, output_padding, group, batch).
        let transposedShapes: [(Int, Int, Int, Int, (Int, Int, Int, Int), Int, Int, Int)] = [
            (128, 128, 8, 8, (1, 1, 1, 1), 0, 1, 4),
            (144, 132, 8, 9, (1, 1, 1, 1), 0, 1, 4),
            (160, 140, 7, 11, (0, 2, 1, 0), 1, 1, 3),
            (128, 128, 5, 8, (2, 2, 2, 2), 1, 1, 8),
            (128, 128, 9, 17, (1, 0, 0, 1), 0, 2, 2),
            (300, 96, 4, 8, (1, 1, 1, 1), 0, 1, 8),
            (64, 64, 16, 16, (1, 1, 1, 1), 0, 1, 1),
            (256, 256, 4, 4, (1, 1, 1, 1), 0, 1, 16),
            (128, 128, 7, 7, (1, 1, 1, 1), 0, 1, 12),
        ]
        for (cin, cout, h, w, (pt, pl, pb, pr), op, group, batch) in transposedShapes {
            let s = Conv2DShape(batch: batch, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout,
                                outHeight: 2 * (h - 1) + op + 4 - pt - pb, outWidth: 2 * (w - 1) + op + 4 - pl - pr,
                                kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: pt, padLeft: pl, group: group)
            XCTAssertTrue(ConvTranspose2D.isWinogradS2(s), "not Winograd: \(s)")
            for e in [0, 2, 5] { check(s, transposed: true, epilogue: ConvTests.epilogues[e], &rng) }
        }
        // Weight gradients (Conv+WinogradWeightGrad.swift), in their Conv's terms: (batch, input
        // channels, output channels, kernel h, w, pads top/left/bottom/right). Kernels of unequal
        // sides, U kept whole or M kept whole, two chunks of k (600 images of 1 block), two blocks
        // of b. (Fewer than 128 images × blocks, odd kernels, and batch·O/(batch + O) < 32 stay
        // on the GEMM paths.)
        let gradientShapes: [(Int, Int, Int, Int, Int, (Int, Int, Int, Int))] = [
            (64, 8, 64, 8, 8, (1, 1, 1, 1)),
            (64, 11, 70, 6, 8, (1, 1, 1, 1)),
            (72, 32, 64, 4, 4, (0, 2, 2, 0)),
            (65, 64, 64, 2, 4, (2, 1, 0, 1)),
            (64, 600, 64, 2, 2, (1, 1, 1, 1)),
            (100, 128, 600, 2, 2, (1, 1, 1, 1)),
        ]
        for (batch, n, o, kh, kw, pads) in gradientShapes {
            let s = ConvTests.weightGradShape(batch: batch, images: n, outChannels: o, kernelH: kh, kernelW: kw, pads: pads)
            check(s, transposed: false, epilogue: ConvTests.epilogues[[0, 1][batch % 2]], &rng)
        }
        // Batch 1 (4 tiles), few channels, rows of one tile: the GEMM paths.
        let small = Conv2DShape(batch: 1, inChannels: 1024, inHeight: 4, inWidth: 4, outChannels: 512, outHeight: 8,
                                outWidth: 8, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1)
        XCTAssertFalse(ConvTranspose2D.isWinogradS2(small))
        var few = small
        few.batch = 64; few.inChannels = 64; few.outChannels = 32; few.inHeight = 16; few.inWidth = 16
        few.outHeight = 32; few.outWidth = 32
        XCTAssertFalse(ConvTranspose2D.isWinogradS2(few))
        var mnist = few
        mnist.inChannels = 128; mnist.outChannels = 64; mnist.inHeight = 7; mnist.inWidth = 7
        mnist.outHeight = 14; mnist.outWidth = 14
        XCTAssertFalse(ConvTranspose2D.isWinogradS2(mnist))
        var narrow = small
        narrow.batch = 64; narrow.inHeight = 2; narrow.inWidth = 2; narrow.outHeight = 4; narrow.outWidth = 4
        XCTAssertFalse(ConvTranspose2D.isWinogradS2(narrow))
        let shallow = Conv2DShape(batch: 256, inChannels: 64, inHeight: 4, inWidth: 4, outChannels: 512, outHeight: 4,
                                  outWidth: 4, kernelH: 2, kernelW: 2, padTop: 1, padLeft: 1, dilationH: 2, dilationW: 2)
        XCTAssertFalse(Conv2D.isWinogradWeightGrad(shallow))
        // The 28×28 critics' 64 → 128 layer (14² → 7²): a 7×7 kernel, and one odd side.
        for (kh, kw) in [(7, 7), (4, 7), (5, 4)] {
            let odd = Conv2DShape(batch: 64, inChannels: 64, inHeight: 2 * kh, inWidth: 2 * kw, outChannels: 128,
                                  outHeight: 4, outWidth: 4, kernelH: kh, kernelW: kw, padTop: 1, padLeft: 1,
                                  dilationH: 2, dilationW: 2)
            XCTAssertFalse(Conv2D.isWinogradWeightGrad(odd), "odd kernel on Winograd: \(odd)")
        }
        // mnist_gan's generator deconv2 (ConvTranspose 64 → 32, 14² → 28²): 32 images to 64
        // channels, h = 21.
        let fewImages = Conv2DShape(batch: 32, inChannels: 64, inHeight: 28, inWidth: 28, outChannels: 64,
                                    outHeight: 4, outWidth: 4, kernelH: 14, kernelW: 14, padTop: 1, padLeft: 1,
                                    dilationH: 2, dilationW: 2)
        XCTAssertFalse(Conv2D.isWinogradWeightGrad(fewImages))
    }

    func testConvTransposeRandomSmall() {
        var rng = SeededRandom(seed: 12)
        var done = 0
        while done < 300 {
            guard let s = randomShape(&rng, transposed: true) else { continue }
            check(s, transposed: true, epilogue: ConvTests.epilogues[rng.int(0, 5)], &rng)
            done += 1
        }
    }

    /// A stride-1 ConvTranspose from one input channel sums an output row's taps in registers
    /// only for finite weights (∞·0 would be NaN on lanes past the input's edge); with an infinite
    /// weight and NaN inputs it gives the phased GEMM's bits, NaN and infinity positions included.
    func testSingleChannelStride1NonFiniteWeights() {
        var rng = SeededRandom(seed: 62)
        let s = Conv2DShape(batch: 2, inChannels: 1, inHeight: 7, inWidth: 20, outChannels: 3, outHeight: 9, outWidth: 22,
                            kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, group: 1)
        XCTAssertTrue(ConvTranspose2D.isSingleChannelStride1(s))
        var x = rng.floats(2 * 7 * 20), w = rng.floats(27)
        w[4] = .infinity
        x[25] = .nan
        var scratch = [Float](repeating: .nan, count: max(1, ConvTranspose2D.scratchCount(s, threads: 2)))
        var fast = [Float](repeating: .nan, count: 2 * 3 * 9 * 22), phased = fast
        ConvTranspose2D.forward(s, x: x, weight: w, bias: nil, y: &fast, epilogue: [], scratch: &scratch, pool: ConvTests.pool2)
        ConvTranspose2D.forward(s, x: x, weight: w, bias: nil, y: &phased, epilogue: [], scratch: &scratch, pool: ConvTests.pool2,
                                allowStride1Conv: false)
        XCTAssertEqual(fast.map(\.bitPattern), phased.map(\.bitPattern))
        XCTAssertTrue(fast.contains { $0.isNaN } && fast.contains { $0.isInfinite } && fast.contains { $0.isFinite })
    }

    /// Stride-1 ConvTranspose as the Conv it equals (ConvTranspose+Stride1.swift): 1 to 64 input
    /// channels, kernels 1–5 (3×3 with ≥ 16 channels reaches the Conv's Winograd), pads 0 to
    /// kernel − 1 and asymmetric end pads, output_padding, groups; and the wide-kernel direct Conv
    /// (Conv+WideKernel.swift) of a few-output-channel layer's weight gradient: kernels 16–32 wide,
    /// outputs 1–15 wide, 1–3 output channels per group. Each against the scalar reference, across
    /// thread counts, with pre-packed weights, and (stride 1) against the phased GEMM (`check`).
    func testStride1ConvTransposeAndWideKernel() {
        var rng = SeededRandom(seed: 61)
        let fixed: [Conv2DShape] = [
            // mnist_gan's generator: the input gradient of its last 3×3 conv to 1 channel.
            Conv2DShape(batch: 3, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 32, outHeight: 28, outWidth: 28,
                        kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, group: 1),
            Conv2DShape(batch: 2, inChannels: 40, inHeight: 14, inWidth: 14, outChannels: 50, outHeight: 16, outWidth: 16,
                        kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, group: 1),
            // Three 16-column chunks, taps past both edges of the input, an extra output row.
            Conv2DShape(batch: 1, inChannels: 2, inHeight: 6, inWidth: 41, outChannels: 6, outHeight: 9, outWidth: 37,
                        kernelH: 5, kernelW: 5, strideH: 1, strideW: 1, padTop: 3, padLeft: 4, group: 2),
        ]
        XCTAssertTrue(Conv2D.isWinograd(ConvTranspose2D.stride1Conv(fixed[1])))
        XCTAssertTrue(ConvTranspose2D.isSingleChannelStride1(fixed[0]))
        var shapes = fixed
        while shapes.count < 40 {
            let k = rng.int(1, 5), kw = rng.int(1, 5), group = [1, 1, 2][rng.int(0, 2)]
            let ih = rng.int(1, 9), iw = rng.int(1, 13)
            let pt = rng.int(0, k - 1), pb = rng.int(0, k - 1), pl = rng.int(0, kw - 1), pr = rng.int(0, kw - 1)
            let oh = ih - 1 + k - pt - pb + rng.int(0, 1), ow = iw - 1 + kw - pl - pr
            if oh < 1 || ow < 1 { continue }
            let s = Conv2DShape(batch: rng.int(1, 3), inChannels: group * rng.int(1, 6), inHeight: ih, inWidth: iw,
                                outChannels: group * rng.int(1, 5), outHeight: oh, outWidth: ow, kernelH: k, kernelW: kw,
                                strideH: 1, strideW: 1, padTop: pt, padLeft: pl, group: group)
            if ConvTranspose2D.isStride1Conv(s) || ConvTranspose2D.isSingleChannelStride1(s) { shapes.append(s) }
        }
        XCTAssertGreaterThanOrEqual(shapes.filter(ConvTranspose2D.isSingleChannelStride1).count, 4)
        for s in shapes {
            XCTAssertTrue(ConvTranspose2D.isStride1Conv(s) || ConvTranspose2D.isSingleChannelStride1(s), "\(s)")
            check(s, transposed: true, epilogue: ConvTests.epilogues[rng.int(0, 5)], &rng)
        }
        var wide: [Conv2DShape] = [
            // mnist_gan's generator: the weight gradient of its last conv (32 input channels as images).
            Conv2DShape(batch: 4, inChannels: 64, inHeight: 28, inWidth: 28, outChannels: 1, outHeight: 3, outWidth: 3,
                        kernelH: 28, kernelW: 28, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, group: 1),
        ]
        while wide.count < 20 {
            let kw = rng.int(16, 32), k = rng.int(1, 20), group = [1, 1, 2][rng.int(0, 2)]
            let ow = rng.int(1, 15), oh = rng.int(1, 6), pt = rng.int(0, 2), pl = rng.int(0, 3)
            let ih = oh - 1 + k - pt - rng.int(0, 1), iw = ow - 1 + kw - pl - rng.int(0, 2)
            if ih < 1 || iw < 1 { continue }
            wide.append(Conv2DShape(batch: rng.int(1, 3), inChannels: group * rng.int(1, 5), inHeight: ih, inWidth: iw,
                                    outChannels: group * rng.int(1, 3), outHeight: oh, outWidth: ow, kernelH: k, kernelW: kw,
                                    strideH: 1, strideW: 1, padTop: pt, padLeft: pl, group: group))
        }
        for s in wide {
            XCTAssertTrue(Conv2D.isWideKernel(s), "\(s)")
            check(s, transposed: false, epilogue: ConvTests.epilogues[rng.int(0, 5)], &rng)
        }
    }

    /// Phased ConvTranspose on the small planes where its GEMM skips the grid padding: 1×1 to 4×4
    /// inputs (odd sizes included), strides 1–3, kernels 1–4, pads and output_padding, groups:
    /// against the scalar reference and across thread counts (`check`), and bit-identical to the
    /// padded-grid variant (baseline `convTPadded`).
    func testConvTransposeSmallPlanes() {
        var rng = SeededRandom(seed: 16)
        var done = 0
        for ih in 1...4 {
            for iw in [1, 2, 3, 4] {
                for stride in 1...3 {
                    let sw = rng.int(1, 3)
                    let k = rng.int(1, 4), kw = rng.int(1, 4)
                    let group = [1, 1, 2][rng.int(0, 2)]
                    let pt = rng.int(0, min(2, k - 1)), pb = rng.int(0, min(2, k - 1))
                    let pl = rng.int(0, min(2, kw - 1)), pr = rng.int(0, min(2, kw - 1))
                    let oph = rng.int(0, stride - 1), opw = rng.int(0, sw - 1)
                    let oh = stride * (ih - 1) + oph + k - pt - pb
                    let ow = sw * (iw - 1) + opw + kw - pl - pr
                    let s = Conv2DShape(batch: [1, 3, 5][rng.int(0, 2)], inChannels: group * rng.int(1, 6), inHeight: ih,
                                        inWidth: iw, outChannels: group * rng.int(1, 5), outHeight: oh, outWidth: ow,
                                        kernelH: k, kernelW: kw, strideH: stride, strideW: sw,
                                        padTop: pt, padLeft: pl, group: group)
                    if oh < 1 || ow < 1 { continue }
                    let epilogue = ConvTests.epilogues[rng.int(0, 5)]
                    check(s, transposed: true, epilogue: epilogue, &rng)
                    checkPaddedGridSame(s, epilogue: epilogue, &rng)
                    done += 1
                }
            }
        }
        XCTAssertGreaterThan(done, 40)
        // A seed-like layer at 2×2 and 4×4 planes with enough columns for several GEMM tiles.
        for ih in [2, 4] {
            let s = Conv2DShape(batch: 33, inChannels: 24, inHeight: ih, inWidth: ih, outChannels: 10, outHeight: 2 * ih,
                                outWidth: 2 * ih, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1)
            check(s, transposed: true, epilogue: [.bias(perRow: true), .activation(.relu)], &rng)
            checkPaddedGridSame(s, epilogue: [.bias(perRow: true), .activation(.relu)], &rng)
        }
    }

    /// Column-stride-2 ConvTranspose (the row-by-row col2im of ConvTranspose+Stride2Rows.swift):
    /// widths 1–40 (rows of one, two and three 32-float blocks, odd widths), row strides 1–3,
    /// kernels 1–7 wide (4: the two-tap fast path), pads, output padding, groups, narrow GEMMs,
    /// every epilogue (ReLU/LeakyReLU/Clip in registers, the others per plane), with and without a
    /// bias, planes above the staging size: against the scalar reference, across thread counts,
    /// with packed weights (`check`), and bit-identical to the phase-grid col2im (`convTGrid`).
    func testConvTransposeStride2Rows() {
        var rng = SeededRandom(seed: 2002)
        var shapes: [Conv2DShape] = [
            // mnist_gan's and cifar10_wgangp's layers at small batches, and a plane past the staging size.
            Conv2DShape(batch: 3, inChannels: 16, inHeight: 7, inWidth: 7, outChannels: 8, outHeight: 14, outWidth: 14,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 2, inChannels: 130, inHeight: 2, inWidth: 2, outChannels: 6, outHeight: 4, outWidth: 4,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 2, inChannels: 3, inHeight: 35, inWidth: 35, outChannels: 2, outHeight: 70, outWidth: 70,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            // Channel blocks (`forwardChannelBlocked`) of 3, 3, 3 and 1 output channels over chunks
            // of 15, 15 and 10 images; and of 3 and 2 channels over chunks of 3, 3 and 1 images.
            Conv2DShape(batch: 40, inChannels: 128, inHeight: 7, inWidth: 7, outChannels: 10, outHeight: 14, outWidth: 14,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 7, inChannels: 130, inHeight: 14, inWidth: 14, outChannels: 5, outHeight: 28, outWidth: 28,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            // One image of a 2×2 input: a narrow GEMM.
            Conv2DShape(batch: 1, inChannels: 8, inHeight: 2, inWidth: 2, outChannels: 16, outHeight: 4, outWidth: 4,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            // 1×1 inputs (pix2pix's bottleneck) at batches 1–3: narrow GEMMs of 1–3 columns, padded to 4 rows.
            Conv2DShape(batch: 1, inChannels: 24, inHeight: 1, inWidth: 1, outChannels: 20, outHeight: 2, outWidth: 2,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 2, inChannels: 24, inHeight: 1, inWidth: 1, outChannels: 20, outHeight: 2, outWidth: 2,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 3, inChannels: 9, inHeight: 1, inWidth: 1, outChannels: 12, outHeight: 2, outWidth: 2,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
        ]
        while shapes.count < 60 {
            let kw = rng.int(1, 7), kh = rng.int(1, 5), sh = rng.int(1, 3)
            let iw = [rng.int(1, 9), rng.int(10, 20), rng.int(21, 40)][rng.int(0, 2)], ih = rng.int(1, 6)
            let group = [1, 1, 2][rng.int(0, 2)]
            let pt = rng.int(0, kh - 1), pb = rng.int(0, kh - 1), pl = rng.int(0, kw - 1), pr = rng.int(0, kw - 1)
            let oph = rng.int(0, sh - 1), opw = rng.int(0, 1)
            let oh = sh * (ih - 1) + oph + kh - pt - pb, ow = 2 * (iw - 1) + opw + kw - pl - pr
            if oh < 1 || ow < 1 { continue }
            shapes.append(Conv2DShape(batch: rng.int(1, 4), inChannels: group * rng.int(1, 6), inHeight: ih, inWidth: iw,
                                      outChannels: group * rng.int(1, 4), outHeight: oh, outWidth: ow, kernelH: kh,
                                      kernelW: kw, strideH: sh, strideW: 2, padTop: pt, padLeft: pl, group: group))
        }
        XCTAssertTrue(shapes.contains { $0.outWidth > 64 })
        for b in 1...3 { XCTAssertTrue(shapes.contains { $0.batch == b && $0.inHeight * $0.inWidth == 1 && ConvTranspose2D.isNarrow($0) }) }
        XCTAssertEqual(ConvTranspose2D.channelBlock(shapes[3]), 3)
        XCTAssertEqual(ConvTranspose2D.blockedChunk(shapes[3]), 15)
        XCTAssertEqual(ConvTranspose2D.blockedChunk(shapes[4]), 3)
        XCTAssertTrue(ConvTranspose2D.isChannelBlocked(shapes[3]) && ConvTranspose2D.isChannelBlocked(shapes[4]))
        for (i, s) in shapes.enumerated() {
            XCTAssertTrue(ConvTranspose2D.isStride2Rows(s), "\(s)")
            let epilogue = ConvTests.epilogues[i % ConvTests.epilogues.count]
            check(s, transposed: true, epilogue: epilogue, &rng)
            checkPaddedGridSame(s, epilogue: epilogue, &rng)
            checkPaddedGridSame(s, epilogue: epilogue, withBias: false, &rng)
        }
    }

    /// ConvTranspose2D.forward with and without `paddedGrid` (2 threads) give the same bits.
    /// With `withBias: false` a nil bias (any bias op is then skipped).
    func checkPaddedGridSame(_ s: Conv2DShape, epilogue: [EpilogueOp], withBias: Bool = true, _ rng: inout SeededRandom,
                             file: StaticString = #filePath, line: UInt = #line) {
        let x = rng.floats(s.batch * s.inChannels * s.inHeight * s.inWidth)
        let w = rng.floats(s.inChannels * (s.outChannels / s.group) * s.kernelH * s.kernelW)
        let bias: [Float]? = withBias ? rng.floats(s.outChannels) : nil
        var scratch = [Float](repeating: .nan, count: max(1, ConvTranspose2D.scratchCount(s, threads: 2)))
        var outs: [[Float]] = []
        for padded in [false, true] {
            var y = [Float](repeating: .nan, count: s.batch * s.outChannels * s.outHeight * s.outWidth)
            (bias ?? []).withUnsafeBufferPointer { b in
                ConvTranspose2D.forward(s, x: x, weight: w, bias: bias == nil ? nil : b.baseAddress, y: &y, epilogue: epilogue,
                                        scratch: &scratch, pool: ConvTests.pool2, paddedGrid: padded, allowWinograd: false,
                                        allowStride1Conv: false)
            }
            outs.append(y)
        }
        XCTAssertEqual(outs[0].map(\.bitPattern), outs[1].map(\.bitPattern), "padded grid differs: \(s) \(epilogue) bias \(withBias)",
                       file: file, line: line)
    }

    /// Depthwise and channel-multiplier convolutions (one input channel per group: the direct
    /// kernel of Conv+Depthwise.swift): odd heights 1–23, widths odd 1–23 or any 1–80 (past one
    /// and several 64-float blocks), kernels 1–5, strides 1–3, dilations 1–2, pads 0–3 on each
    /// side, 1–2 output channels per group; against the scalar reference, across thread counts
    /// and with pre-packed weights (`check`).
    func testDepthwiseOddSizes() {
        var rng = SeededRandom(seed: 17)
        var done = 0
        while done < 200 {
            let c = rng.int(2, 9), mult = rng.int(1, 2)
            let kh = rng.int(1, 5), kw = rng.int(1, 5), sh = rng.int(1, 3), sw = rng.int(1, 3)
            let dh = rng.int(1, 2), dw = rng.int(1, 2)
            let pt = rng.int(0, 3), pb = rng.int(0, 3), pl = rng.int(0, 3), pr = rng.int(0, 3)
            let ih = 2 * rng.int(0, 11) + 1, iw = [2 * rng.int(0, 11) + 1, rng.int(1, 80)][rng.int(0, 1)]
            let ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1
            if ih + pt + pb < ekh || iw + pl + pr < ekw { continue }
            let s = Conv2DShape(batch: rng.int(1, 3), inChannels: c, inHeight: ih, inWidth: iw, outChannels: c * mult,
                                outHeight: (ih + pt + pb - ekh) / sh + 1, outWidth: (iw + pl + pr - ekw) / sw + 1,
                                kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padTop: pt, padLeft: pl,
                                dilationH: dh, dilationW: dw, group: c)
            check(s, transposed: false, epilogue: ConvTests.epilogues[rng.int(0, 5)], &rng)
            done += 1
        }
        // MobileNet/EfficientNet-like layers: 3×3 stride 1 and 2 at 56×56, 5×5 at 7×7 to 30×30
        // (four rows at a time from 28 columns on), batch 2.
        for (size, k, stride) in [(56, 3, 1), (56, 3, 2), (7, 5, 1), (14, 5, 2), (28, 5, 1), (30, 5, 1)] {
            let out = (size + 2 * (k / 2) - k) / stride + 1
            check(Conv2DShape(batch: 2, inChannels: 16, inHeight: size, inWidth: size, outChannels: 16, outHeight: out,
                              outWidth: out, kernelH: k, kernelW: k, strideH: stride, strideW: stride, padTop: k / 2,
                              padLeft: k / 2, group: 16),
                  transposed: false, epilogue: [.bias(perRow: true), .activation(.relu)], &rng)
        }
    }

    /// Horizontal-stride-2 depthwise convolutions read the input where it lies
    /// (Conv+DepthwiseStride2.swift): the same bits as the phase-plane kernel (`allowDirect: false`)
    /// on 1 and 2 threads, for 3- and 5-column kernels (the three-load path) and others (one
    /// pair of loads per tap), dilations 1–2, vertical strides 1–3, pads 0–3, widths 1–80 (one to
    /// three 16-output blocks, masked at both ends), 1–2 output channels per group, every epilogue;
    /// and against the reference (`check`).
    func testDepthwiseStride2SameBitsAsPhasePlanes() {
        var rng = SeededRandom(seed: 23)
        var done = 0
        while done < 150 {
            let c = rng.int(2, 7), mult = rng.int(1, 2)
            let kh = rng.int(1, 5), kw = [3, 5, rng.int(1, 7)][rng.int(0, 2)], sh = rng.int(1, 3)
            let dh = rng.int(1, 2), dw = [1, 1, 2][rng.int(0, 2)]
            let pt = rng.int(0, 3), pb = rng.int(0, 3), pl = rng.int(0, 3), pr = rng.int(0, 3)
            let ih = rng.int(1, 20), iw = rng.int(1, 80)
            let ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1
            if ih + pt + pb < ekh || iw + pl + pr < ekw { continue }
            let s = Conv2DShape(batch: rng.int(1, 2), inChannels: c, inHeight: ih, inWidth: iw, outChannels: c * mult,
                                outHeight: (ih + pt + pb - ekh) / sh + 1, outWidth: (iw + pl + pr - ekw) / 2 + 1,
                                kernelH: kh, kernelW: kw, strideH: sh, strideW: 2, padTop: pt, padLeft: pl,
                                dilationH: dh, dilationW: dw, group: c)
            let epilogue = ConvTests.epilogues[done % ConvTests.epilogues.count]
            let x = rng.floats(s.batch * c * ih * iw), w = rng.floats(c * mult * kh * kw), bias = rng.floats(c * mult)
            var outs: [[UInt32]] = []
            for (direct, pool) in [(false, ThreadPool.serial), (true, .serial), (true, ConvTests.pool2)] {
                var y = [Float](repeating: .nan, count: s.batch * s.outChannels * s.outHeight * s.outWidth)
                Conv2D.forward(s, x: x, weight: w, bias: bias, y: &y, epilogue: epilogue, scratch: nil, pool: pool, allowDirect: direct)
                outs.append(y.map(\.bitPattern))
            }
            XCTAssertEqual(outs[1], outs[0], "direct differs from phase planes: \(s) \(epilogue)")
            XCTAssertEqual(outs[2], outs[0], "2 threads differ: \(s) \(epilogue)")
            if done % 5 == 0 { check(s, transposed: false, epilogue: epilogue, &rng) }
            done += 1
        }
    }

    /// The depthwise kernels apply a bias and ReLU, LeakyReLU, Clip, swish or HardSwish in
    /// registers as they store (Conv2D.RegisterActivation): the same bits as the convolution
    /// without epilogue followed by `EpilogueApply` over the output, for stride 1 (phase planes)
    /// and horizontal stride 2 (direct), 3×3 and 5×5, inputs scaled so that the activations see
    /// large, small and saturating values.
    func testDepthwiseRegisterEpilogueSameBitsAsEpilogueApply() {
        var rng = SeededRandom(seed: 29)
        let acts: [Activation] = [.relu, .leakyRelu(0.1), .clip(0, 6), .swish, .hardSwish, .sigmoid, .tanh]
        for (i, act) in acts.enumerated() {
            for (k, stride) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
                let c = 5, size = 13 + i
                let out = (size + 2 * (k / 2) - k) / stride + 1
                let s = Conv2DShape(batch: 2, inChannels: c, inHeight: size, inWidth: size, outChannels: c, outHeight: out,
                                    outWidth: out, kernelH: k, kernelW: k, strideH: stride, strideW: stride, padTop: k / 2,
                                    padLeft: k / 2, group: c)
                let x = rng.floats(2 * c * size * size).map { $0 * 30 }, w = rng.floats(c * k * k), bias = rng.floats(c)
                let ops: [EpilogueOp] = [.bias(perRow: true), .activation(act)]
                var fused = [Float](repeating: .nan, count: 2 * c * out * out), plain = fused
                Conv2D.forward(s, x: x, weight: w, bias: bias, y: &fused, epilogue: ops, scratch: nil, pool: .serial)
                Conv2D.forward(s, x: x, weight: w, bias: bias, y: &plain, epilogue: [], scratch: nil, pool: .serial)
                EpilogueApply.applyNCHW(y: &plain, batch: 2, channels: c, plane: out * out, bias: bias, ops: ops, pool: .serial)
                XCTAssertEqual(fused.map(\.bitPattern), plain.map(\.bitPattern), "\(act) k \(k) stride \(stride)")
            }
        }
    }

    /// Direct convolutions (Conv+Direct.swift) with at least 4 images per thread run whole images
    /// per thread, each in its own planes (`Conv2D.isImageParallel`): stride 1 and 2, with and
    /// without dropped columns, a group of 2, more images than an even share; `check` compares 1
    /// and 2 threads bit for bit, the implicit GEMM bit for bit and the scalar reference.
    func testDirectConvWholeImagesPerThread() {
        var rng = SeededRandom(seed: 43)
        /// A square-kernel shape with its output size worked out.
        func shape(_ n: Int, _ cin: Int, _ h: Int, _ w: Int, _ cout: Int, k: Int, stride: Int, pad: Int, group: Int = 1) -> Conv2DShape {
            Conv2DShape(batch: n, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout,
                        outHeight: (h + 2 * pad - k) / stride + 1, outWidth: (w + 2 * pad - k) / stride + 1,
                        kernelH: k, kernelW: k, strideH: stride, strideW: stride, padTop: pad, padLeft: pad, group: group)
        }
        let shapes = [
            // mnist_gan's generator gradient: 32 → 64, 4×4 stride 2 on 28² (here 18², 9 images).
            shape(9, 32, 18, 18, 20, k: 4, stride: 2, pad: 1),
            shape(11, 36, 13, 17, 29, k: 5, stride: 1, pad: 2),
            shape(8, 40, 12, 35, 24, k: 2, stride: 1, pad: 1, group: 2),
        ]
        for s in shapes {
            XCTAssertTrue(Conv2D.isDirect(s) && !Conv2D.isWinograd(s) && !Conv2D.isWinogradS2(s), "not direct: \(s)")
            XCTAssertTrue(Conv2D.isImageParallel(s, threads: 2), "not whole images per thread: \(s)")
        }
        checkEach(shapes, epilogues: [0, 2, 5], &rng)
    }

    /// `check` on every shape with each of `ConvTests.epilogues[epilogues]`.
    func checkEach(_ shapes: [Conv2DShape], epilogues: [Int], _ rng: inout SeededRandom,
                   file: StaticString = #filePath, line: UInt = #line) {
        for s in shapes {
            for e in epilogues { check(s, transposed: false, epilogue: ConvTests.epilogues[e], &rng, file: file, line: line) }
        }
    }

    /// Convolutions with many image chunks run whole chunks per thread (`Conv2D.isChunkParallel`):
    /// the same bits as one thread and the reference's values, with one image per chunk (32²
    /// output) and several (16², the last chunk partial), implicit and explicit im2col, shallow
    /// (k ≤ 64) and deep GEMMs, and 1×1 layers (one GEMM per image).
    func testConvWholeChunksPerThread() {
        var rng = SeededRandom(seed: 41)
        let shapes = [
            Conv2DShape(batch: 9, inChannels: 1, inHeight: 64, inWidth: 64, outChannels: 24, outHeight: 32, outWidth: 32,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 33, inChannels: 3, inHeight: 32, inWidth: 32, outChannels: 20, outHeight: 16, outWidth: 16,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 50, inChannels: 2, inHeight: 30, inWidth: 26, outChannels: 17, outHeight: 15, outWidth: 13,
                        kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            // Deep (k = 144), on planes 3 columns wide (the direct path would drop 2 columns of 5):
            // 9 chunks of 11 images.
            Conv2DShape(batch: 90, inChannels: 16, inHeight: 32, inWidth: 3, outChannels: 19, outHeight: 32, outWidth: 3,
                        kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1),
            // 1×1 (pointwise, one GEMM per image), grouped.
            Conv2DShape(batch: 9, inChannels: 32, inHeight: 24, inWidth: 23, outChannels: 26, outHeight: 24, outWidth: 23,
                        kernelH: 1, kernelW: 1, group: 2),
        ]
        for s in shapes {
            XCTAssertTrue(Conv2D.isChunkParallel(s, chunks: s.batch, threads: 2), "\(s)")
            if s.inChannels > 4 && s.kernelH > 1 {
                XCTAssertFalse(Conv2D.isDirect(s) || Conv2D.isWinograd(s), "not a chunked GEMM: \(s)")
            }
        }
        checkEach(shapes, epilogues: [0, 2, 4], &rng)
    }

    /// Narrow GEMMs (Conv+Narrow.swift: fewer than 32 GEMM columns, batch 1–3 on 1×1–5×5 planes):
    /// the same bits as the wide orientation, on 1 and 2 threads, also with K over one K block
    /// (k > 256) and Conv2D's zero-padded 1–3 columns; and against the reference (`check`).
    func testNarrowSameBitsAsWide() {
        var rng = SeededRandom(seed: 18)
        var shapes: [(Conv2DShape, Bool)] = [
            // Conv 4 s2 p1 down to 1×1 and 2×2 (U-Net bottleneck), 3×3 s1 p1 on 3×3, grouped 1×1 on 3×3.
            (Conv2DShape(batch: 1, inChannels: 40, inHeight: 2, inWidth: 2, outChannels: 13, outHeight: 1, outWidth: 1,
                         kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1), false),
            (Conv2DShape(batch: 3, inChannels: 20, inHeight: 4, inWidth: 4, outChannels: 30, outHeight: 2, outWidth: 2,
                         kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1), false),
            (Conv2DShape(batch: 2, inChannels: 33, inHeight: 3, inWidth: 3, outChannels: 70, outHeight: 3, outWidth: 3,
                         kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, group: 1), false),
            (Conv2DShape(batch: 1, inChannels: 12, inHeight: 3, inWidth: 3, outChannels: 80, outHeight: 3, outWidth: 3,
                         kernelH: 1, kernelW: 1, group: 2), false),
            // 64+ output channels on 7×7–14×14 planes (32–255 GEMM columns): 3×3 p1, 1×1 with k over
            // one K block, batch 2, groups.
            (Conv2DShape(batch: 1, inChannels: 40, inHeight: 7, inWidth: 7, outChannels: 96, outHeight: 7, outWidth: 7,
                         kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1), false),
            (Conv2DShape(batch: 1, inChannels: 300, inHeight: 9, inWidth: 9, outChannels: 64, outHeight: 9, outWidth: 9,
                         kernelH: 1, kernelW: 1), false),
            (Conv2DShape(batch: 2, inChannels: 20, inHeight: 7, inWidth: 7, outChannels: 130, outHeight: 7, outWidth: 7,
                         kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1), false),
            (Conv2DShape(batch: 1, inChannels: 48, inHeight: 14, inWidth: 14, outChannels: 192, outHeight: 14, outWidth: 14,
                         kernelH: 1, kernelW: 1, group: 2), false),
            // ConvTranspose 4 s2 p1 from 2×2 and 1×2, k over one block, groups, 3×3 s1 p1 on 2×3.
            (Conv2DShape(batch: 1, inChannels: 300, inHeight: 2, inWidth: 2, outChannels: 5, outHeight: 4, outWidth: 4,
                         kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1), true),
            (Conv2DShape(batch: 3, inChannels: 16, inHeight: 2, inWidth: 2, outChannels: 10, outHeight: 4, outWidth: 4,
                         kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, group: 2), true),
            (Conv2DShape(batch: 2, inChannels: 6, inHeight: 1, inWidth: 2, outChannels: 4, outHeight: 2, outWidth: 4,
                         kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1), true),
            (Conv2DShape(batch: 1, inChannels: 10, inHeight: 2, inWidth: 3, outChannels: 3, outHeight: 2, outWidth: 3,
                         kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1), true),
        ]
        for _ in 0..<40 {
            let t = rng.bool()
            if let s = randomShape(&rng, transposed: t, big: true) { shapes.append((s, t)) }
        }
        var narrow = 0
        for (s, t) in shapes {
            let isNarrow = t ? ConvTranspose2D.isNarrow(s) : Conv2D.isNarrow(s)
            if !isNarrow { continue }
            narrow += 1
            let epilogue = ConvTests.epilogues[rng.int(0, 5)]
            check(s, transposed: t, epilogue: epilogue, &rng)
            let x = rng.floats(s.batch * s.inChannels * s.inHeight * s.inWidth)
            let w = rng.floats(s.inChannels * (s.outChannels / s.group) * s.kernelH * s.kernelW)
            let bias = rng.floats(s.outChannels)
            var scratch = [Float](repeating: .nan, count: max(1, t ? ConvTranspose2D.scratchCount(s, threads: 2)
                                                                     : Conv2D.scratchCount(s, threads: 2)))
            var outs: [[UInt32]] = []
            for (allow, pool) in [(true, ThreadPool.serial), (false, ThreadPool.serial), (true, ConvTests.pool2), (false, ConvTests.pool2)] {
                var y = [Float](repeating: .nan, count: s.batch * s.outChannels * s.outHeight * s.outWidth)
                if t {
                    ConvTranspose2D.forward(s, x: x, weight: w, bias: bias, y: &y, epilogue: epilogue, scratch: &scratch,
                                            pool: pool, allowNarrow: allow)
                } else {
                    Conv2D.forward(s, x: x, weight: w, bias: bias, y: &y, epilogue: epilogue, scratch: &scratch,
                                   pool: pool, allowNarrow: allow)
                }
                outs.append(y.map(\.bitPattern))
            }
            for o in outs.dropFirst() { XCTAssertEqual(o, outs[0], "narrow vs wide: \(t ? "ConvT" : "Conv") \(s)") }
        }
        XCTAssertGreaterThanOrEqual(narrow, 12)
    }

    func testRandomLarger() {
        var rng = SeededRandom(seed: 13)
        var done = 0
        while done < 30 {
            let t = done % 2 == 1
            guard let s = randomShape(&rng, transposed: t, big: true) else { continue }
            check(s, transposed: t, epilogue: ConvTests.epilogues[rng.int(0, 5)], &rng)
            done += 1
        }
    }

    func testPointwiseAndSeedLikeLayers() {
        var rng = SeededRandom(seed: 14)
        // 1×1 stride 1 on a large plane (direct GEMM path), grouped and not.
        check(Conv2DShape(batch: 2, inChannels: 6, inHeight: 24, inWidth: 25, outChannels: 4, outHeight: 24, outWidth: 25,
                          kernelH: 1, kernelW: 1, group: 2), transposed: false, epilogue: [.bias(perRow: true)], &rng)
        check(Conv2DShape(batch: 3, inChannels: 5, inHeight: 3, inWidth: 3, outChannels: 7, outHeight: 3, outWidth: 3,
                          kernelH: 1, kernelW: 1), transposed: false, epilogue: [.activation(.relu)], &rng)
        // Shrunk seed layers: k4 s2 p1 down/up, k3 s1 p1, ConvT from 1×1, Conv to 1×1.
        var layers: [(Conv2DShape, Bool)] = [
            (Conv2DShape(batch: 5, inChannels: 16, inHeight: 7, inWidth: 7, outChannels: 8, outHeight: 14, outWidth: 14,
                         kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1), true),
            (Conv2DShape(batch: 3, inChannels: 8, inHeight: 28, inWidth: 28, outChannels: 1, outHeight: 28, outWidth: 28,
                         kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1), false),
            (Conv2DShape(batch: 4, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 16, outHeight: 14, outWidth: 14,
                         kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1), false),
            (Conv2DShape(batch: 70, inChannels: 10, inHeight: 1, inWidth: 1, outChannels: 12, outHeight: 4, outWidth: 4,
                         kernelH: 4, kernelW: 4), true),
            (Conv2DShape(batch: 67, inChannels: 24, inHeight: 4, inWidth: 4, outChannels: 1, outHeight: 1, outWidth: 1,
                         kernelH: 4, kernelW: 4), false),
            (Conv2DShape(batch: 65, inChannels: 40, inHeight: 2, inWidth: 2, outChannels: 20, outHeight: 4, outWidth: 4,
                         kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1), true),
        ]
        // Grouped variants of the no-im2col paths (full-window conv, ConvT from a 1×1 input).
        layers.append((Conv2DShape(batch: 9, inChannels: 6, inHeight: 3, inWidth: 2, outChannels: 9, outHeight: 1, outWidth: 1,
                                   kernelH: 3, kernelW: 2, group: 3), false))
        layers.append((Conv2DShape(batch: 9, inChannels: 6, inHeight: 1, inWidth: 1, outChannels: 4, outHeight: 3, outWidth: 2,
                                   kernelH: 3, kernelW: 2, group: 2), true))
        layers.append((Conv2DShape(batch: 3, inChannels: 5, inHeight: 30, inWidth: 31, outChannels: 3, outHeight: 30, outWidth: 31,
                                   kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1), false))
        // Implicit-GEMM shapes (≥ 4 output channels, padded planes no larger than the col matrix):
        // ResNet-like 3×3 at stride 1 and 2, a D-like 4×4 stride 2, dilation, wide rows, one image.
        layers.append((Conv2DShape(batch: 2, inChannels: 16, inHeight: 30, inWidth: 33, outChannels: 24, outHeight: 30,
                                   outWidth: 33, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1), false))
        layers.append((Conv2DShape(batch: 1, inChannels: 8, inHeight: 29, inWidth: 29, outChannels: 12, outHeight: 15,
                                   outWidth: 15, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1), false))
        layers.append((Conv2DShape(batch: 5, inChannels: 12, inHeight: 14, inWidth: 14, outChannels: 16, outHeight: 7,
                                   outWidth: 7, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1), false))
        layers.append((Conv2DShape(batch: 3, inChannels: 5, inHeight: 12, inWidth: 70, outChannels: 7, outHeight: 8,
                                   outWidth: 66, kernelH: 3, kernelW: 3, padTop: 0, padLeft: 0, dilationH: 2, dilationW: 2), false))
        for (s, t) in layers {
            check(s, transposed: t, epilogue: [.bias(perRow: true), .activation(.leakyRelu(0.2))], &rng)
        }
    }

    /// 1×1 convolutions whose GEMM reads the input planes where they lie (`isPointwiseDirect`, one
    /// image): planes of whole register tiles and with a partial last tile (packed as usual),
    /// under and over `targetColumns / 2`, a K block and more, groups; several images (packed).
    /// `check` compares them bit for bit with the packed path (`allowImplicit: false`) and on 1
    /// and 2 threads; a wrong plane offset or a dropped tail fails it.
    func testPointwiseReadInPlace() {
        var rng = SeededRandom(seed: 23)
        let shapes: [(cin: Int, cout: Int, h: Int, w: Int, group: Int, batch: Int)] = [
            (70, 16, 8, 8, 1, 1), (128, 5, 13, 13, 1, 1), (300, 24, 9, 37, 1, 1), (96, 40, 23, 23, 1, 2),
            (24, 64, 11, 11, 2, 1), (144, 24, 24, 25, 1, 3), (100, 13, 32, 33, 1, 1), (260, 64, 13, 13, 1, 4),
        ]
        for t in shapes {
            let s = Conv2DShape(batch: t.batch, inChannels: t.cin, inHeight: t.h, inWidth: t.w, outChannels: t.cout,
                                outHeight: t.h, outWidth: t.w, kernelH: 1, kernelW: 1, group: t.group)
            XCTAssertEqual(Conv2D.isPointwiseDirect(s), t.batch == 1, "read in place: \(s)")
            for e in [1, 2, 5] { check(s, transposed: false, epilogue: ConvTests.epilogues[e], &rng) }
        }
    }

    /// Direct small-M convolution (1–3 output channels per group, stride 1): odd widths, one and
    /// two vector pairs, heights not a multiple of the row group, asymmetric pads, groups, and
    /// widths over 64 (GEMM fallback).
    func testDirectSmallMConv() {
        var rng = SeededRandom(seed: 15)
        let shapes: [Conv2DShape] = [
            Conv2DShape(batch: 5, inChannels: 32, inHeight: 28, inWidth: 28, outChannels: 1, outHeight: 28, outWidth: 28,
                        kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 3, inChannels: 7, inHeight: 13, inWidth: 37, outChannels: 2, outHeight: 11, outWidth: 35,
                        kernelH: 3, kernelW: 3),
            Conv2DShape(batch: 2, inChannels: 6, inHeight: 9, inWidth: 61, outChannels: 3, outHeight: 12, outWidth: 64,
                        kernelH: 5, kernelW: 2, padTop: 2, padLeft: 1, group: 1),
            Conv2DShape(batch: 3, inChannels: 6, inHeight: 5, inWidth: 1, outChannels: 4, outHeight: 7, outWidth: 3,
                        kernelH: 1, kernelW: 1, padTop: 1, padLeft: 1, group: 2),
            Conv2DShape(batch: 2, inChannels: 3, inHeight: 6, inWidth: 70, outChannels: 1, outHeight: 6, outWidth: 70,
                        kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1),
        ]
        for (i, sh) in shapes.enumerated() {
            check(sh, transposed: false, epilogue: ConvTests.epilogues[i % ConvTests.epilogues.count], &rng)
        }
    }

    /// The one-output-channel 3×3 path of `Conv2D.directSmallM` (each input row loaded once for
    /// the output rows that read it; padding zeroed once per thread, each image copying only its
    /// inputs): bit for bit the (c, kh, kw)-ordered fused multiply-add sum from +0, then the
    /// bias and ReLU, over random heights, widths (one and two vector pairs), pads, groups and
    /// batches, on 1 and 2 threads.
    func testDirectSmallMThreeByThreeExact() {
        var rng = SeededRandom(seed: 0x3_3001)
        var done = 0
        while done < 40 {
            let group = rng.int(1, 3), cg = rng.int(1, 9)
            let ih = rng.int(1, 13), iw = rng.int(1, 64)
            let pt = rng.int(0, 2), pl = rng.int(0, 2), pb = rng.int(0, 2), pr = rng.int(0, 2)
            let oh = ih + pt + pb - 2, ow = iw + pl + pr - 2
            if oh < 1 || ow < 1 || ow > 64 { continue }
            let s = Conv2DShape(batch: rng.int(1, 6), inChannels: group * cg, inHeight: ih, inWidth: iw, outChannels: group,
                                outHeight: oh, outWidth: ow, kernelH: 3, kernelW: 3, padTop: pt, padLeft: pl, group: group)
            XCTAssertTrue(Conv2D.isSmallMDirect(s), "\(s)")
            let x = rng.floats(s.batch * s.inChannels * ih * iw), w = rng.floats(group * cg * 9), bias = rng.floats(group)
            var want = [Float](repeating: 0, count: s.batch * group * oh * ow)
            for n in 0..<s.batch {
                for o in 0..<group {
                    for r in 0..<oh {
                        for q in 0..<ow {
                            var acc: Float = 0
                            for c in 0..<cg {
                                for kh in 0..<3 {
                                    for kw in 0..<3 {
                                        let y = r - pt + kh, z = q - pl + kw
                                        let v = y >= 0 && y < ih && z >= 0 && z < iw ? x[((n * s.inChannels + o * cg + c) * ih + y) * iw + z] : 0
                                        acc = acc.addingProduct(w[(o * cg + c) * 9 + kh * 3 + kw], v)
                                    }
                                }
                            }
                            acc += bias[o]
                            want[((n * group + o) * oh + r) * ow + q] = acc < 0 ? 0 : acc
                        }
                    }
                }
            }
            for pool in [ThreadPool.serial, ConvTests.pool2] {
                var y = [Float](repeating: .nan, count: want.count)
                Conv2D.forward(s, x: x, weight: w, bias: bias, y: &y, epilogue: [.bias(perRow: true), .activation(.relu)],
                               scratch: nil, pool: pool)
                XCTAssertEqual(y.map(\.bitPattern), want.map(\.bitPattern), "\(s)")
            }
            done += 1
        }
    }

    /// Phase (sub-pixel) ConvTranspose: the seed layers at reduced channels, odd sizes, stride 3,
    /// output padding, kernels smaller than the stride, asymmetric pads, chunks of many images.
    func testPhasedConvTranspose() {
        var rng = SeededRandom(seed: 16)
        let shapes: [Conv2DShape] = [
            Conv2DShape(batch: 23, inChannels: 16, inHeight: 7, inWidth: 7, outChannels: 8, outHeight: 14, outWidth: 14,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 6, inChannels: 8, inHeight: 14, inWidth: 14, outChannels: 4, outHeight: 28, outWidth: 28,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1),
            Conv2DShape(batch: 3, inChannels: 5, inHeight: 5, inWidth: 9, outChannels: 3, outHeight: 17, outWidth: 27,
                        kernelH: 3, kernelW: 4, strideH: 3, strideW: 3, padTop: 0, padLeft: 1),
            Conv2DShape(batch: 2, inChannels: 4, inHeight: 6, inWidth: 5, outChannels: 2, outHeight: 12, outWidth: 10,
                        kernelH: 1, kernelW: 1, strideH: 2, strideW: 2),
            Conv2DShape(batch: 2, inChannels: 3, inHeight: 4, inWidth: 6, outChannels: 6, outHeight: 8, outWidth: 6,
                        kernelH: 3, kernelW: 3, strideH: 2, strideW: 1, padTop: 0, padLeft: 2, group: 3),
        ]
        for (i, sh) in shapes.enumerated() {
            check(sh, transposed: true, epilogue: ConvTests.epilogues[i % ConvTests.epilogues.count], &rng)
        }
    }
}
