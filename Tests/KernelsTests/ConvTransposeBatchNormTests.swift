import XCTest
import TestSupport
import Kernels

/// The fused ConvTranspose + training BatchNorm + activation kernel against its scalar reference
/// (unfused definition, two-pass statistics in double), over random odd geometries covering the
/// point, phased and general ConvTranspose paths, at 1 and 2 threads.
extension ConvTests {
    func testConvTransposeBatchNormMatchesReference() {
        var rng = SeededRandom(seed: 4242)
        let acts: [Activation?] = [nil, .leakyRelu(0.01), .relu, .tanh, .sigmoid]
        var checked = 0
        var shapes: [Conv2DShape] = [
            // The seed generators' layers: 1×1 → 4×4 (point path) and 4×4 s2 p1 (phased path).
            Conv2DShape(batch: 3, inChannels: 5, inHeight: 1, inWidth: 1, outChannels: 7, outHeight: 4, outWidth: 4,
                        kernelH: 4, kernelW: 4, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, group: 1),
            Conv2DShape(batch: 2, inChannels: 6, inHeight: 7, inWidth: 7, outChannels: 5, outHeight: 14, outWidth: 14,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, group: 1),
            // DCGAN-like 4×4 s2 p1 with the channels and tiles of the Winograd path (Conv+WinogradStride2.swift),
            // whose plane statistics are taken after the whole output is written.
            Conv2DShape(batch: 4, inChannels: 128, inHeight: 8, inWidth: 8, outChannels: 128, outHeight: 16, outWidth: 16,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, group: 1),
            // cifar10_wgangp's first transposed convolution, 2² → 4² (Conv+TinyPlane.swift), at batch 16.
            Conv2DShape(batch: 16, inChannels: 128, inHeight: 2, inWidth: 2, outChannels: 64, outHeight: 4, outWidth: 4,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, group: 1),
            // mnist_gan's 128 → 64 on 7² with fewer outputs: the GEMM a block of output channels at a
            // time (ConvTranspose+Stride2Rows.swift), blocks of 3, 3 and 1, chunks of 15 and 5 images.
            Conv2DShape(batch: 20, inChannels: 128, inHeight: 7, inWidth: 7, outChannels: 7, outHeight: 14, outWidth: 14,
                        kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, group: 1),
        ]
        XCTAssertTrue(ConvTranspose2D.isWinogradS2(shapes[2]))
        XCTAssertTrue(ConvTranspose2D.isTinyPlane(shapes[3]))
        XCTAssertTrue(ConvTranspose2D.isChannelBlocked(shapes[4]) && !ConvTranspose2D.isWinogradS2(shapes[4])
                      && !ConvTranspose2D.isTinyPlane(shapes[4]))
        while shapes.count < 24 {
            if let s = randomShape(&rng, transposed: true) { shapes.append(s) }
        }
        for (k, s) in shapes.enumerated() {
            let act = acts[k % acts.count]
            let withBias = k % 3 != 1
            let xCount = s.batch * s.inChannels * s.inHeight * s.inWidth
            let yCount = s.batch * s.outChannels * s.outHeight * s.outWidth
            let wCount = s.inChannels * (s.outChannels / s.group) * s.kernelH * s.kernelW
            let x = rng.floats(xCount), w = rng.floats(wCount), bias = rng.floats(s.outChannels)
            let scale = (0..<s.outChannels).map { _ in rng.float(in: 0.5...1.5) }, beta = rng.floats(s.outChannels)
            var results: [[[Float]]] = []
            for which in 0..<3 {
                var y = [Float](repeating: .nan, count: yCount), z = y
                var mean = [Float](repeating: .nan, count: s.outChannels), variance = mean
                var scratch = [Float](repeating: .nan, count: ConvTransposeBatchNorm.scratchCount(s, threads: 2))
                bias.withUnsafeBufferPointer { bb in
                    let b = withBias ? bb.baseAddress : nil
                    if which == 2 {
                        ConvTransposeBatchNorm.reference(s, x: x, weight: w, bias: b, scale: scale, beta: beta, epsilon: 1e-3,
                                                         activation: act, y: &y, z: &z, mean: &mean, variance: &variance)
                    } else {
                        ConvTransposeBatchNorm.forward(s, x: x, weight: w, bias: b, scale: scale, beta: beta, epsilon: 1e-3,
                                                       activation: act, y: &y, z: &z, mean: &mean, variance: &variance,
                                                       scratch: &scratch, pool: which == 1 ? ConvTests.pool2 : .serial)
                    }
                }
                results.append([y, z, mean, variance])
            }
            // 1 and 2 threads: identical bits.
            XCTAssertEqual(results[0], results[1], "\(s) threads")
            for (part, name) in ["y", "z", "mean", "var"].enumerated() {
                let got = results[0][part], want = results[2][part]
                let worst = zip(got, want).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                // Winograd adds up to 4 inputs and 4 taps before it multiplies: its rounding is a few
                // times the direct sum's (2.3e-5 on z here, over 2048 terms).
                let tolerance: Float = ConvTranspose2D.isWinogradS2(s) ? 1e-4 : 2e-5
                XCTAssertLessThanOrEqual(worst, tolerance, "\(s) bias=\(withBias) act=\(String(describing: act)): \(name)")
            }
            checked += 1
        }
        XCTAssertEqual(checked, 24)
    }
}
