import XCTest
import TestSupport
import Kernels

final class PoolTests: XCTestCase {
    func run(_ s: Pool2DShape, _ x: [Float], average: Bool, pool: ThreadPool?) -> [Float] {
        var y = [Float](repeating: .nan, count: s.batch * s.channels * s.outH * s.outW)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
            if let pool { if average { Pool2D.average(s, xp.baseAddress!, $0.baseAddress!, pool: pool) } else { Pool2D.max(s, xp.baseAddress!, $0.baseAddress!, pool: pool) } }
            else { Pool2D.reference(s, xp.baseAddress!, $0.baseAddress!, average: average) }
        } }
        return y
    }

    func randomShape(_ g: inout SeededRandom, big: Bool) -> Pool2DShape? {
        let kH = g.int(1, 4), kW = g.int(1, 4), sH = g.int(1, 3), sW = g.int(1, 3)
        let dH = g.int(0, 3) == 0 ? 2 : 1, dW = g.int(0, 3) == 0 ? 2 : 1
        let inH = g.int(1, big ? 40 : 12), inW = g.int(1, big ? 90 : 40)
        let (pt, pb, pl, pr) = (g.int(0, kH - 1), g.int(0, kH - 1), g.int(0, kW - 1), g.int(0, kW - 1))
        let ceil = g.bool()
        let outH = Pool2DShape.outputSize(input: inH, kernel: kH, stride: sH, padBegin: pt, padEnd: pb, dilation: dH, ceilMode: ceil)
        let outW = Pool2DShape.outputSize(input: inW, kernel: kW, stride: sW, padBegin: pl, padEnd: pr, dilation: dW, ceilMode: ceil)
        guard outH > 0 && outW > 0 else { return nil }
        return Pool2DShape(batch: g.int(1, 3), channels: g.int(1, big ? 16 : 4), inH: inH, inW: inW, outH: outH, outW: outW,
                           kernelH: kH, kernelW: kW, strideH: sH, strideW: sW, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr,
                           dilationH: dH, dilationW: dW, countIncludePad: g.bool())
    }

    func testMaxAndAverageMatchReference() {
        var g = SeededRandom(seed: 51)
        var tested = 0
        for t in 0..<600 {
            guard let s = randomShape(&g, big: t % 10 == 0) else { continue }
            let x = randomFloats(s.batch * s.channels * s.inH * s.inW, seed: UInt64(t), range: -4...4)
            for average in [false, true] {
                let want = run(s, x, average: average, pool: nil)
                for pool in KCheck.pools { KCheck.bitwise(run(s, x, average: average, pool: pool), want, "\(average ? "avg" : "max") \(s)") }
            }
            tested += 1
        }
        XCTAssertGreaterThan(tested, 300)
    }

    /// NaN, ±∞ and −0 anywhere, including next to the padding: same bits (NaN for NaN) as the
    /// reference, also when few planes are split into row ranges (batch 1, channel 1).
    func testSpecialValuesAndRowSplitsMatchReference() {
        var g = SeededRandom(seed: 52)
        let specials: [Float] = [.nan, .infinity, -.infinity, -0.0, 0]
        var tested = 0
        for t in 0..<200 {
            guard var s = randomShape(&g, big: true) else { continue }
            if t % 2 == 0 { s.batch = 1; s.channels = 1 }
            var x = randomFloats(s.batch * s.channels * s.inH * s.inW, seed: UInt64(1000 + t), range: -4...4)
            for i in x.indices where g.int(0, 7) == 0 { x[i] = specials[g.int(0, specials.count - 1)] }
            for average in [false, true] {
                let want = run(s, x, average: average, pool: nil)
                for pool in KCheck.pools { KCheck.bitwise(run(s, x, average: average, pool: pool), want, "\(average ? "avg" : "max") \(s)") }
            }
            tested += 1
        }
        XCTAssertGreaterThan(tested, 100)
    }

    /// Stride-1 AveragePool as wide as its input (Pool+AverageStride1.swift: taps read in place
    /// through lane masks): 3×3 with padding 1 as Inception has it, 5×5, 1×3, 3×1, dilation 2,
    /// asymmetric pads, planes of 1–35 columns (1², 8², 17², 35², one row, one column), both
    /// count_include_pad settings, NaN, ±∞ and −0 next to the borders: the reference's bits, on
    /// 1 and 2 threads.
    func testAverageStride1ReadInPlace() {
        var g = SeededRandom(seed: 53)
        let specials: [Float] = [.nan, .infinity, -.infinity, -0.0]
        // (kH, kW, padTop, padBottom, padLeft, padRight, dilation)
        let windows = [(3, 3, 1, 1, 1, 1, 1), (5, 5, 2, 2, 2, 2, 1), (1, 3, 0, 0, 1, 1, 1), (3, 1, 1, 1, 0, 0, 1),
                       (3, 3, 2, 2, 2, 2, 2), (3, 3, 0, 2, 2, 0, 1), (2, 2, 1, 0, 0, 1, 1)]
        let planes = [(1, 1), (8, 8), (17, 17), (35, 35), (1, 29), (23, 1), (5, 13)]
        var inPlace = 0
        for (wi, w) in windows.enumerated() {
            for (pi, pl) in planes.enumerated() {
                let (kH, kW, pt, pb, pL, pR, d) = w
                let outH = Pool2DShape.outputSize(input: pl.0, kernel: kH, stride: 1, padBegin: pt, padEnd: pb, dilation: d, ceilMode: false)
                guard outH > 0 else { continue }
                let s = Pool2DShape(batch: 2, channels: 3, inH: pl.0, inW: pl.1, outH: outH, outW: pl.1, kernelH: kH, kernelW: kW,
                                    padTop: pt, padLeft: pL, padBottom: pb, padRight: pR, dilationH: d, dilationW: d,
                                    countIncludePad: (wi + pi) % 2 == 0)
                // Full mantissas (randomFloats' values are multiples of 2⁻²¹ whose sums rarely
                // round), so a different tap order changes bits.
                var x = randomFloats(s.batch * s.channels * s.inH * s.inW, seed: UInt64(100 * wi + pi), range: -4...4)
                    .map { $0 * 0.318309886 }
                for i in x.indices where g.int(0, 9) == 0 { x[i] = specials[g.int(0, specials.count - 1)] }
                let want = run(s, x, average: true, pool: nil)
                for pool in KCheck.pools { KCheck.bitwise(run(s, x, average: true, pool: pool), want, "avg \(s)") }
                if Pool2D.isAverageStride1(s, threads: 2) { inPlace += 1 }
            }
        }
        XCTAssertGreaterThan(inPlace, 40)
    }

    func testKnownValues() {
        let x: [Float] = (0..<16).map(Float.init)   // 4×4
        var s = Pool2DShape(batch: 1, channels: 1, inH: 4, inW: 4, outH: 2, outW: 2, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)
        XCTAssertEqual(run(s, x, average: false, pool: .serial), [5, 7, 13, 15])
        XCTAssertEqual(run(s, x, average: true, pool: .serial), [2.5, 4.5, 10.5, 12.5])
        // 3×3, pad 1, stride 1: the corner sees 4 cells; with count_include_pad it divides by 9.
        s = Pool2DShape(batch: 1, channels: 1, inH: 4, inW: 4, outH: 4, outW: 4, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1)
        XCTAssertEqual(run(s, x, average: true, pool: .serial)[0], (0 + 1 + 4 + 5) / 4)
        XCTAssertEqual(run(s, x, average: false, pool: .serial)[0], 5)
        s.countIncludePad = true
        XCTAssertEqual(run(s, x, average: true, pool: .serial)[0], (0 + 1 + 4 + 5) / 9)
        // A NaN in a max window is the window's max (PyTorch's max_pool2d), whatever its position.
        let n = Pool2DShape(batch: 1, channels: 1, inH: 2, inW: 18, outH: 1, outW: 17, kernelH: 2, kernelW: 2)
        var xn = [Float](repeating: 1, count: 36)
        xn[20] = .nan
        for pool in KCheck.pools {
            let y = run(n, xn, average: false, pool: pool)
            XCTAssertTrue(y[1].isNaN && y[2].isNaN && !y[0].isNaN && !y[3].isNaN, "\(y)")
        }
        XCTAssertEqual(Pool2DShape.outputSize(input: 5, kernel: 2, stride: 2, padBegin: 0, padEnd: 0, ceilMode: false), 2)
        XCTAssertEqual(Pool2DShape.outputSize(input: 5, kernel: 2, stride: 2, padBegin: 0, padEnd: 0, ceilMode: true), 3)
        XCTAssertEqual(Pool2DShape.outputSize(input: 4, kernel: 3, stride: 1, padBegin: 1, padEnd: 1), 4)
    }

    func testGlobalAverage() {
        for (planes, spatial) in [(1, 1), (3, 15), (5, 49), (64, 1024), (7, 33), (130, 257)] {
            let x = randomFloats(planes * spatial, seed: UInt64(spatial))
            var want = [Float](repeating: 0, count: planes)
            x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer {
                Pool2D.referenceGlobalAverage(xp.baseAddress!, $0.baseAddress!, planes: planes, spatial: spatial) } }
            var got: [[Float]] = []
            for pool in KCheck.pools {
                var y = [Float](repeating: .nan, count: planes)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                    Pool2D.globalAverage(xp.baseAddress!, $0.baseAddress!, planes: planes, spatial: spatial, pool: pool) } }
                got.append(y)
            }
            KCheck.bitwise(got[1], got[0], "global avg threads")
            KCheck.near(got[0], want, rel: 0, abs: 1e-6, "global avg \(planes)×\(spatial)")
        }
        var y: [Float] = [0]
        let x: [Float] = [1, 2, 3, 6]
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Pool2D.globalAverage(xp.baseAddress!, $0.baseAddress!, planes: 1, spatial: 4) } }
        XCTAssertEqual(y, [3])
    }
}
