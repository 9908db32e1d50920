// ConvChannelsLastTests: the channels-last depthwise kernel (Conv+ChannelsLast.swift) over odd
// sizes — channel counts below, at and past one 16-lane block and one 128-channel task chunk
// (the overlapping last block), planes 1×1 to 15×17 (border groups, the overlapping last column
// group, widths under 4), kernels 1–5, strides 1–3, dilations 1–2, pads 0–2 — against its
// scalar reference bit for bit (ReLU, Clip and no activation: the in-register epilogue; other
// activations within the SIMD activation's tolerance), on 1 and 2 threads, with and without
// pre-packed weights; and the reference against the NCHW reference through transposes.

import XCTest
import Kernels
import TestSupport

final class ConvChannelsLastTests: XCTestCase {
    static let pool1 = ThreadPool(threads: 1), pool2 = ThreadPool(threads: 2)

    /// NCHW ↔ NHWC for (n, c, h, w) data.
    static func nhwc(_ x: [Float], n: Int, c: Int, h: Int, w: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for i in 0..<n { for ch in 0..<c { for r in 0..<h { for col in 0..<w {
            y[((i * h + r) * w + col) * c + ch] = x[((i * c + ch) * h + r) * w + col]
        } } } }
        return y
    }

    func check(_ s: Conv2DShape, epilogue: [EpilogueOp], _ rng: inout SeededRandom, file: StaticString = #filePath, line: UInt = #line) {
        let c = s.outChannels
        let xc = rng.floats(s.batch * c * s.inHeight * s.inWidth), w = rng.floats(c * s.kernelH * s.kernelW), bias = rng.floats(c)
        let x = Self.nhwc(xc, n: s.batch, c: c, h: s.inHeight, w: s.inWidth)
        let count = s.batch * c * s.outHeight * s.outWidth
        var want = [Float](repeating: .nan, count: count)
        Conv2D.channelsLastReference(s, x: x, weight: w, bias: bias, y: &want, epilogue: epilogue)
        // The NCHW reference, transposed, agrees to rounding (it adds w·0 for padded taps and
        // its own summation order).
        var first = [Float](repeating: .nan, count: count)
        Conv2D.reference(s, x: xc, weight: w, bias: bias, y: &first, epilogue: epilogue.map {
            if case .bias = $0 { return .bias(perRow: true) } else { return $0 }
        })
        let firstLast = Self.nhwc(first, n: s.batch, c: c, h: s.outHeight, w: s.outWidth)
        for (a, b) in zip(want, firstLast) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(s)", file: file, line: line) }
        var packed = [Float](repeating: 0, count: Conv2D.channelsLastWeightCount(s))
        Conv2D.packChannelsLastWeights(s, weight: w, into: &packed)
        let exact = epilogue.allSatisfy {
            if case .activation(let a) = $0 { if case .relu = a { return true }; if case .clip = a { return true }; return false }
            return true
        }
        for pool in [Self.pool1, Self.pool2] {
            for usePacked in [false, true] {
                var y = [Float](repeating: .nan, count: count)
                var scratch = [Float](repeating: .nan, count: Conv2D.channelsLastWeightCount(s))
                packed.withUnsafeBufferPointer { pw in
                    Conv2D.depthwiseChannelsLast(s, x: x, weight: w, bias: bias, y: &y, epilogue: epilogue,
                                                 packedWeights: usePacked ? pw.baseAddress : nil, scratch: &scratch, pool: pool)
                }
                if exact {
                    XCTAssertEqual(y.map(\.bitPattern), want.map(\.bitPattern), "\(s) \(epilogue) threads \(pool.threads)", file: file, line: line)
                } else {
                    for (a, b) in zip(y, want) { XCTAssertEqual(a, b, accuracy: 2e-6 * max(1, abs(b)), "\(s) \(epilogue)", file: file, line: line) }
                }
            }
        }
    }

    func testOddSizes() {
        var rng = SeededRandom(seed: 29)
        let epilogues: [[EpilogueOp]] = [[], [.bias(perRow: false)], [.bias(perRow: false), .activation(.relu)],
                                         [.bias(perRow: false), .activation(.clip(0, 6))], [.activation(.clip(-0.25, 0.5))],
                                         [.bias(perRow: false), .activation(.leakyRelu(0.1))], [.bias(perRow: false), .activation(.swish)],
                                         [.activation(.relu), .activation(.sigmoid)]]
        var done = 0
        while done < 160 {
            let c = [3, 15, 16, 17, 40, 88, 130, 144][rng.int(0, 7)]
            let kh = rng.int(1, 5), kw = rng.int(1, 5), sh = rng.int(1, 3), sw = rng.int(1, 3)
            let dh = rng.int(1, 2), dw = rng.int(1, 2)
            let pt = rng.int(0, 2), pb = rng.int(0, 2), pl = rng.int(0, 2), pr = rng.int(0, 2)
            let ih = rng.int(1, 15), iw = rng.int(1, 17)
            let ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1
            if ih + pt + pb < ekh || iw + pl + pr < ekw { continue }
            let s = Conv2DShape(batch: rng.int(1, 2), inChannels: c, inHeight: ih, inWidth: iw, outChannels: c,
                                outHeight: (ih + pt + pb - ekh) / sh + 1, outWidth: (iw + pl + pr - ekw) / sw + 1,
                                kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padTop: pt, padLeft: pl,
                                dilationH: dh, dilationW: dw, group: c)
            check(s, epilogue: epilogues[rng.int(0, epilogues.count - 1)], &rng)
            done += 1
        }
        // MobileNet/EfficientNet layers: 3×3 stride 1 and 2 and 5×5 stride 1 (the register-reuse
        // paths; 16 columns leave interior groups for 5×5), 5×5 stride 2.
        for (size, k, stride, c) in [(14, 3, 1, 96), (14, 3, 2, 144), (7, 5, 1, 40), (14, 5, 2, 72), (9, 3, 1, 160), (16, 5, 1, 48)] {
            let out = (size + 2 * (k / 2) - k) / stride + 1
            check(Conv2DShape(batch: 2, inChannels: c, inHeight: size, inWidth: size, outChannels: c, outHeight: out,
                              outWidth: out, kernelH: k, kernelW: k, strideH: stride, strideW: stride, padTop: k / 2,
                              padLeft: k / 2, group: c),
                  epilogue: [.bias(perRow: false), .activation(.clip(0, 6))], &rng)
        }
    }
}
