import XCTest
import TestSupport
import Kernels

/// Conv2D with `outImageStride`: each image's channels land where the stride puts them, with
/// the dense output's bits, and nothing between images is touched (the output of a batch > 1
/// Concat's channel slice: Runtime's Lowering+ConcatViews).
final class ConvStridedOutputTests: XCTestCase {
    static let pool2 = ThreadPool(threads: 2)

    func assertStridedMatchesDense(_ dense: Conv2DShape, epilogue: [EpilogueOp], _ rng: inout SeededRandom,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(Conv2D.writesStridedImages(dense), "\(dense)", file: file, line: line)
        let image = dense.outChannels * dense.outHeight * dense.outWidth
        var s = dense
        s.outImageStride = image + 48
        let lead = 16
        let x = rng.floats(dense.batch * dense.inChannels * dense.inHeight * dense.inWidth)
        let w = rng.floats(dense.inChannels * (dense.outChannels / dense.group) * dense.kernelH * dense.kernelW)
        let bias = rng.floats(dense.outChannels)
        var scratch = [Float](repeating: .nan, count: max(1, Conv2D.scratchCount(dense, threads: 2)))
        func run(_ shape: Conv2DShape, _ count: Int, offset: Int, pool: ThreadPool) -> [Float] {
            var y = [Float](repeating: .nan, count: count)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                    Conv2D.forward(shape, x: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                   y: yp.baseAddress! + offset, epilogue: epilogue, scratch: sp.baseAddress!, pool: pool)
                }}
            }}}
            return y
        }
        let expected = run(dense, dense.batch * image, offset: 0, pool: .serial)
        for pool in [ThreadPool.serial, ConvStridedOutputTests.pool2] {
            let got = run(s, lead + dense.batch * s.outImageStride, offset: lead, pool: pool)
            for n in 0..<dense.batch {
                let at = lead + n * s.outImageStride
                XCTAssertEqual(Array(got[at..<(at + image)]).map(\.bitPattern), Array(expected[(n * image)..<((n + 1) * image)]).map(\.bitPattern),
                               "image \(n) of \(dense), \(pool.threads) thread(s)", file: file, line: line)
                let gap = n == 0 ? got[0..<lead] : got[(at - 48)..<at]
                XCTAssertTrue(gap.allSatisfy(\.isNaN), "a write between images: \(dense)", file: file, line: line)
            }
            XCTAssertTrue(got[(lead + (dense.batch - 1) * s.outImageStride + image)...].allSatisfy(\.isNaN),
                          "a write past the last image: \(dense)", file: file, line: line)
        }
    }

    func shape(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ m: Int, _ k: Int, pad: Int = 0, kw: Int? = nil, group: Int = 1) -> Conv2DShape {
        let kW = kw ?? k
        return Conv2DShape(batch: n, inChannels: c, inHeight: h, inWidth: w, outChannels: m,
                           outHeight: h + 2 * pad - k + 1, outWidth: w + 2 * pad - kW + 1, kernelH: k, kernelW: kW,
                           padTop: pad, padLeft: pad, group: group)
    }

    /// One shape per path that honours the stride, each at batch 1 and 3 (and 10 for the
    /// chunked GEMMs), with and without an epilogue.
    func testEveryPathWritesStridedImages() {
        var rng = SeededRandom(seed: 44)
        let epilogues: [[EpilogueOp]] = [[], [.bias(perRow: true), .activation(.relu)]]
        let cases: [(String, (Int) -> Conv2DShape, (Conv2DShape) -> Bool)] = [
            ("full window", { self.shape($0, 5, 4, 4, 7, 4) }, { $0.outHeight == 1 && $0.outWidth == 1 }),
            ("wide kernel", { self.shape($0, 3, 6, 20, 2, 3, kw: 17) }, { Conv2D.isWideKernel($0) }),
            ("small M", { self.shape($0, 8, 10, 10, 2, 3, pad: 1) }, { Conv2D.isSmallMDirect($0) }),
            ("Winograd", { self.shape($0, 32, 12, 12, 48, 3, pad: 1) }, { Conv2D.isWinograd($0) }),
            ("narrow", { self.shape($0, 64, 2, 2, 64, 3, pad: 1) }, { Conv2D.isNarrow($0) }),
            ("direct", { self.shape($0, 36, 21, 17, 32, 3, pad: 1) }, { Conv2D.isDirect($0) }),
            ("direct, compacted", { self.shape($0, 4, 128, 130, 16, 5, pad: 2) }, { Conv2D.isDirect($0) && Conv2D.compactsOutput($0) }),
            ("pointwise", { self.shape($0, 16, 24, 24, 32, 1) }, { !Conv2D.isDirect($0) && !Conv2D.isNarrow($0) }),
            ("chunked", { self.shape($0, 8, 6, 6, 16, 3, pad: 1) }, { !Conv2D.isDirect($0) && !Conv2D.isNarrow($0) }),
            ("grouped", { self.shape($0, 8, 9, 9, 12, 3, pad: 1, group: 2) }, { _ in true }),
        ]
        for (name, make, isPath) in cases {
            for n in name == "chunked" ? [1, 3, 10] : [1, 3] {
                let s = make(n)
                if n == 3 { XCTAssertTrue(isPath(s), "\(name): \(s)") }
                for e in epilogues { assertStridedMatchesDense(s, epilogue: e, &rng) }
            }
        }
    }

    /// The paths that write dense images say so, and `forward` refuses a stride there.
    func testDenseOnlyPaths() {
        XCTAssertFalse(Conv2D.writesStridedImages(shape(2, 8, 9, 9, 8, 3, pad: 1, group: 8)))
        let stride2 = Conv2DShape(batch: 4, inChannels: 64, inHeight: 16, inWidth: 16, outChannels: 64, outHeight: 8, outWidth: 8,
                                  kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1)
        if Conv2D.isWinogradS2(stride2) { XCTAssertFalse(Conv2D.writesStridedImages(stride2)) }
    }
}
