import XCTest
import TestSupport
import Kernels

extension ConvTests {
    /// Pixel-broadcast convolutions (Conv+PixelBroadcast.swift) over odd sizes: every tile width
    /// 1–14 (rows of 1–34 pixels, flat 1×1 planes of 1–200), 16–96 output channels (a 16-channel
    /// tail, a panel of 17–31, several panels), k over one K block (3×3 × 40 = 360), pads, dilation,
    /// 1×3, 5×5 and 7×7 kernels, strides 2 on either axis or both, groups, batches up to 9 (whole
    /// images per thread on 2 threads), each with three epilogues. `check` asserts the same bits on 1 and 2 threads, with pre-packed
    /// weights, and as the col-matrix GEMM (the path it replaces), and closeness to the scalar
    /// reference.
    func testPixelBroadcastSameBitsAsGemm() {
        var rng = SeededRandom(seed: 53)
        // (cin, cout, h, w, kh, kw, pads t/l/b/r, dilation, group, batch, strides)
        let shapes: [(Int, Int, Int, Int, Int, Int, (Int, Int, Int, Int), Int, Int, Int, (Int, Int))] = [
            (40, 32, 9, 14, 3, 3, (1, 1, 1, 1), 1, 1, 1, (1, 1)), (40, 17, 5, 15, 3, 3, (1, 1, 1, 1), 1, 1, 1, (1, 1)),
            (24, 48, 7, 33, 3, 3, (0, 2, 1, 0), 1, 1, 2, (1, 1)), (8, 16, 6, 1, 3, 3, (1, 1, 1, 1), 1, 1, 1, (1, 1)),
            (12, 50, 11, 13, 3, 3, (2, 2, 2, 2), 2, 1, 1, (1, 1)), (20, 33, 8, 29, 1, 3, (0, 1, 0, 1), 1, 1, 3, (1, 1)),
            (16, 20, 9, 10, 5, 5, (2, 2, 2, 2), 1, 1, 9, (1, 1)), (64, 64, 7, 7, 1, 1, (0, 0, 0, 0), 1, 1, 1, (1, 1)),
            (300, 40, 3, 3, 1, 1, (0, 0, 0, 0), 1, 1, 2, (1, 1)), (36, 32, 10, 20, 1, 1, (0, 0, 0, 0), 1, 1, 1, (1, 1)),
            (32, 64, 2, 5, 3, 3, (1, 1, 1, 1), 1, 2, 1, (1, 1)), (48, 96, 1, 3, 1, 1, (0, 0, 0, 0), 1, 1, 1, (1, 1)),
            (3, 32, 65, 67, 3, 3, (0, 0, 0, 0), 1, 1, 1, (2, 2)), (3, 16, 40, 37, 7, 7, (3, 3, 3, 3), 1, 1, 1, (2, 2)),
            (64, 40, 21, 20, 3, 3, (1, 1, 1, 1), 1, 1, 9, (2, 2)), (48, 24, 30, 33, 3, 3, (0, 1, 1, 0), 1, 1, 1, (2, 2)),
            (40, 20, 19, 29, 3, 3, (1, 1, 1, 1), 1, 1, 1, (1, 2)), (40, 20, 29, 19, 3, 3, (1, 1, 1, 1), 1, 1, 1, (2, 1)),
            (32, 16, 25, 25, 3, 3, (2, 2, 2, 2), 2, 1, 1, (2, 2)), (64, 32, 18, 22, 1, 1, (0, 0, 0, 0), 1, 2, 2, (2, 2)),
        ]
        for (cin, cout, h, w, kh, kw, pad, dil, group, batch, stride) in shapes {
            let (pt, pl, pb, pr) = pad
            let (sH, sW) = stride
            let s = Conv2DShape(batch: batch, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout,
                                outHeight: (h + pt + pb - (kh - 1) * dil - 1) / sH + 1,
                                outWidth: (w + pl + pr - (kw - 1) * dil - 1) / sW + 1,
                                kernelH: kh, kernelW: kw, strideH: sH, strideW: sW, padTop: pt, padLeft: pl,
                                dilationH: dil, dilationW: dil, group: group)
            guard Conv2D.isPixelBroadcast(s) else {
                // Shapes the cost rule leaves to the GEMM still run the tiles when forced
                // (`allPixelBroadcast`); here they must at least be shapes the tiles can run.
                XCTAssertTrue(Conv2D.canPixelBroadcast(s), "\(s)")
                checkForcedBroadcast(s, &rng)
                continue
            }
            for e in [0, 2, 6] { check(s, transposed: false, epilogue: ConvTests.epilogues[e], &rng) }
        }
    }

    /// A shape the cost rule leaves to the GEMM, run through the tiles anyway: the same bits as
    /// `forward`'s GEMM result on 1 and 2 threads.
    func checkForcedBroadcast(_ s: Conv2DShape, _ rng: inout SeededRandom, file: StaticString = #filePath, line: UInt = #line) {
        let k = (s.inChannels / s.group) * s.kernelH * s.kernelW
        let x = rng.floats(s.batch * s.inChannels * s.inHeight * s.inWidth), w = rng.floats(s.outChannels * k)
        let bias = rng.floats(s.outChannels)
        let ops = ConvTests.epilogues[2]
        var gemm = [Float](repeating: .nan, count: s.batch * s.outChannels * s.outHeight * s.outWidth)
        var scratch = [Float](repeating: .nan, count: max(1, Conv2D.scratchCount(s, threads: 2)))
        Conv2D.forward(s, x: x, weight: w, bias: bias, y: &gemm, epilogue: ops, scratch: &scratch, pool: .serial)
        for pool in [ThreadPool.serial, ConvTests.pool2] {
            var y = [Float](repeating: .nan, count: gemm.count)
            Conv2D.forcedPixelBroadcast(s, x: x, weight: w, bias: bias, y: &y, epilogue: ops, pool: pool)
            let differ = zip(y, gemm).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differ, 0, "forced tiles differ from the GEMM in \(differ) of \(y.count): \(s)", file: file, line: line)
        }
    }

    /// The cost rule on DenseNet-121's layers at batch 1: its 128 → 32 3×3 layers (56² to 7²) and
    /// the 1×1 layers on 14² and 7² take the tiles; the 1×1 layers on 56² and 28², where the
    /// GEMM's tiles are full, stay on the GEMM; a 3×3 layer with 64 channels runs Winograd. Then
    /// stride-2 layers.
    func testPixelBroadcastRule() {
        func shape(_ cin: Int, _ cout: Int, _ hw: Int, _ k: Int) -> Conv2DShape {
            Conv2DShape(batch: 1, inChannels: cin, inHeight: hw, inWidth: hw, outChannels: cout, outHeight: hw, outWidth: hw,
                        kernelH: k, kernelW: k, padTop: k / 2, padLeft: k / 2)
        }
        for hw in [56, 28, 14, 7] { XCTAssertTrue(Conv2D.isPixelBroadcast(shape(128, 32, hw, 3)), "3×3 on \(hw)²") }
        XCTAssertTrue(Conv2D.isPixelBroadcast(shape(640, 128, 14, 1)))
        XCTAssertTrue(Conv2D.isPixelBroadcast(shape(768, 128, 7, 1)))
        XCTAssertFalse(Conv2D.isPixelBroadcast(shape(128, 128, 56, 1)))
        XCTAssertFalse(Conv2D.isPixelBroadcast(shape(320, 128, 28, 1)))
        XCTAssertFalse(Conv2D.isPixelBroadcast(shape(64, 64, 56, 3)))
        XCTAssertTrue(Conv2D.isWinograd(shape(64, 64, 56, 3)))
        // Stride 2: resnet18's 3×3 downsampling layers take the tiles; the 3 → 64 3×3 stem of
        // squeezenet (k = 27) and the critics' 256 → 512 4×4 on 4² at batch 64 (k = 4096, tiles of
        // 2 pixels) stay on the GEMM.
        func strided(_ cin: Int, _ cout: Int, _ hw: Int, _ k: Int, pad: Int, batch: Int = 1) -> Conv2DShape {
            let out = (hw + 2 * pad - k) / 2 + 1
            return Conv2DShape(batch: batch, inChannels: cin, inHeight: hw, inWidth: hw, outChannels: cout, outHeight: out,
                               outWidth: out, kernelH: k, kernelW: k, strideH: 2, strideW: 2, padTop: pad, padLeft: pad)
        }
        XCTAssertTrue(Conv2D.isPixelBroadcast(strided(64, 128, 56, 3, pad: 1)))
        XCTAssertTrue(Conv2D.isPixelBroadcast(strided(256, 512, 14, 3, pad: 1)))
        XCTAssertFalse(Conv2D.isPixelBroadcast(strided(3, 64, 224, 3, pad: 0)))
        XCTAssertFalse(Conv2D.isPixelBroadcast(strided(256, 512, 4, 4, pad: 1, batch: 64)))
    }
}
