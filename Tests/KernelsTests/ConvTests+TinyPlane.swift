import XCTest
import TestSupport
import Kernels

extension ConvTests {
    /// Tiny-plane convolutions (Conv+TinyPlane.swift): one GEMM per (output pixel, tap) pair inside
    /// the input. cifar10_wgangp's critic layer (4×4 stride 2 from 4² to 2²) at a smaller batch,
    /// output channels that leave a partial 12-row panel, input channels over one K block, 3×3
    /// kernels on 2² and 3×2 planes, asymmetric pads, dilation 2, a pixel whose window is all
    /// padding, and tap counts other than 16 (the two-pass weight pack); each with three
    /// epilogues. `check` asserts the same bits on 1 and 2 threads and with pre-packed weights,
    /// closeness to the im2col GEMM path (`allowWinograd: false`) and to the scalar reference.
    func testTinyPlane() {
        var rng = SeededRandom(seed: 71)
        // (cin, cout, h, w, kh, kw, pads t/l/b/r, dilation, stride, batch)
        let shapes: [(Int, Int, Int, Int, Int, Int, (Int, Int, Int, Int), Int, Int, Int)] = [
            (256, 128, 4, 4, 4, 4, (1, 1, 1, 1), 1, 2, 16),
            (128, 70, 4, 4, 4, 4, (1, 1, 1, 1), 1, 2, 17),
            (300, 64, 4, 4, 4, 4, (1, 1, 1, 1), 1, 2, 16),
            (128, 64, 2, 2, 3, 3, (1, 1, 1, 1), 1, 1, 20),
            (130, 96, 3, 2, 3, 3, (1, 1, 1, 1), 1, 1, 16),
            (128, 64, 3, 3, 4, 4, (2, 1, 1, 2), 1, 2, 16),
            (128, 64, 4, 4, 2, 2, (1, 1, 1, 1), 2, 1, 18),
            (128, 64, 2, 2, 3, 3, (3, 1, 0, 1), 1, 1, 16),
        ]
        for (cin, cout, h, w, kh, kw, pad, dil, stride, batch) in shapes {
            let (pt, pl, pb, pr) = pad
            let s = Conv2DShape(batch: batch, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout,
                                outHeight: (h + pt + pb - (kh - 1) * dil - 1) / stride + 1,
                                outWidth: (w + pl + pr - (kw - 1) * dil - 1) / stride + 1,
                                kernelH: kh, kernelW: kw, strideH: stride, strideW: stride, padTop: pt, padLeft: pl,
                                dilationH: dil, dilationW: dil)
            XCTAssertTrue(Conv2D.isTinyPlane(s), "not tiny-plane: \(s)")
            XCTAssertFalse(Conv2D.writesStridedImages(s))
            XCTAssertEqual(Conv2D.packedWeightCount(s), 0)
            for e in [0, 2, 4] { check(s, transposed: false, epilogue: ConvTests.epilogues[e], &rng) }
        }
    }

    /// Tiny-plane transposed convolutions: cifar10_wgangp's 512 → 256 from 2² to 4² (and the input
    /// gradient of its critic's last convolution) at a smaller batch, odd channel counts, a
    /// 3-row output, stride 1 with a 3×3 kernel, output padding, and a tap count other than 16;
    /// as `testTinyPlane`, against the phased GEMM path.
    func testTinyPlaneTransposed() {
        var rng = SeededRandom(seed: 73)
        // (cin, cout, h, w, k, stride, pad, output padding, batch)
        let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
            (256, 128, 2, 2, 4, 2, 1, 0, 16), (130, 70, 2, 2, 4, 2, 1, 0, 17), (128, 64, 2, 1, 4, 2, 1, 1, 16),
            (128, 64, 2, 2, 3, 1, 1, 0, 16), (160, 64, 1, 2, 3, 2, 1, 1, 20),
        ]
        for (cin, cout, h, w, k, stride, pad, op, batch) in shapes {
            let s = Conv2DShape(batch: batch, inChannels: cin, inHeight: h, inWidth: w, outChannels: cout,
                                outHeight: (h - 1) * stride - 2 * pad + k + op, outWidth: (w - 1) * stride - 2 * pad + k + op,
                                kernelH: k, kernelW: k, strideH: stride, strideW: stride, padTop: pad, padLeft: pad)
            XCTAssertTrue(ConvTranspose2D.isTinyPlane(s), "not tiny-plane: \(s)")
            XCTAssertEqual(ConvTranspose2D.packedWeightCount(s), 0)
            for e in [0, 2, 4] { check(s, transposed: true, epilogue: ConvTests.epilogues[e], &rng) }
        }
    }

    /// The rule: cifar10_wgangp's critic layer 256 → 512 from 4² to 2² (9 of 16 taps inside) runs
    /// the tiny-plane path; its 128 → 256 layer from 8² to 4² (225 of 256) does not, nor do shapes
    /// below the channel and batch minimums or with groups.
    func testTinyPlaneRule() {
        func shape(_ cin: Int, _ cout: Int, _ h: Int, batch: Int = 64, group: Int = 1) -> Conv2DShape {
            Conv2DShape(batch: batch, inChannels: cin, inHeight: h, inWidth: h, outChannels: cout, outHeight: h / 2,
                        outWidth: h / 2, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, group: group)
        }
        XCTAssertTrue(Conv2D.isTinyPlane(shape(256, 512, 4)))
        XCTAssertFalse(Conv2D.isTinyPlane(shape(128, 256, 8)))
        XCTAssertFalse(Conv2D.isTinyPlane(shape(64, 512, 4)))
        XCTAssertFalse(Conv2D.isTinyPlane(shape(256, 32, 4)))
        XCTAssertFalse(Conv2D.isTinyPlane(shape(256, 512, 4, batch: 8)))
        XCTAssertFalse(Conv2D.isTinyPlane(shape(256, 512, 4, group: 2)))
        let t = Conv2DShape(batch: 64, inChannels: 512, inHeight: 2, inWidth: 2, outChannels: 256, outHeight: 4, outWidth: 4,
                            kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1)
        XCTAssertTrue(ConvTranspose2D.isTinyPlane(t))
        var wider = t
        (wider.inHeight, wider.inWidth, wider.outHeight, wider.outWidth) = (4, 4, 8, 8)
        XCTAssertFalse(ConvTranspose2D.isTinyPlane(wider))
    }
}
