// Im2ColTests: `Im2Col.im2col` against its scalar reference over random odd geometries,
// the row-by-row path (wide outputs), the padded-plane path (small output planes, as in
// convolution weight gradients) and the gather-table path (strided W), on 1 and 2 threads; and `Im2Col.packBlock`
// (the implicit-GEMM packing) against `Gemm.packB` of the reference matrix, bit for bit.
import XCTest
import TestSupport
import Kernels

final class Im2ColTests: XCTestCase {
    func testMatchesReferenceOnRandomShapes() {
        var rng = SeededRandom(seed: 0x1_2C01)
        let pool2 = ThreadPool(threads: 2)
        var padded = 0, rows = 0, gathered = 0
        var tried = 0
        while tried < 300 {
            let kh = rng.int(1, 8), kw = rng.int(1, 8)
            let sh = rng.int(1, 3), sw = [1, 1, 2][rng.int(0, 2)]
            let dh = rng.int(1, 3), dw = rng.int(1, 3)
            let pt = rng.int(0, 3), pl = rng.int(0, 3), pb = rng.int(0, 3), pr = rng.int(0, 3)
            let ih = rng.int(1, 30), iw = rng.int(1, 30)
            let ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1
            if ih + pt + pb < ekh || iw + pl + pr < ekw { continue }
            tried += 1
            let oh = (ih + pt + pb - ekh) / sh + 1, ow = (iw + pl + pr - ekw) / sw + 1
            let batch = rng.int(1, 4), cin = rng.int(1, 5)
            let s = Conv2DShape(batch: batch, inChannels: cin, inHeight: ih, inWidth: iw, outChannels: 1,
                                outHeight: oh, outWidth: ow, kernelH: kh, kernelW: kw, strideH: sh, strideW: sw,
                                padTop: pt, padLeft: pl, dilationH: dh, dilationW: dw)
            if sw == 1 && ow <= 16 && kh * kw >= 4 {
                padded += 1
            } else if sw > 1 && kh * kw * oh * ow <= 4096 {
                gathered += 1
            } else {
                rows += 1
            }
            let x = rng.floats(batch * cin * ih * iw)
            // A sub-range of images and channels, written into a wider col (extra columns stay NaN).
            let n0 = rng.int(0, batch - 1), count = rng.int(1, batch - n0)
            let c0 = rng.int(0, cin - 1), channels = rng.int(1, cin - c0)
            let ldcol = count * oh * ow + rng.int(0, 3)
            let n = channels * kh * kw * ldcol
            var want = [Float](repeating: .nan, count: n)
            x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer { cp in
                Im2Col.reference(s, x: xp.baseAddress!, n0: n0, count: count, channel0: c0, channels: channels,
                                 col: cp.baseAddress!, ldcol: ldcol)
            } }
            for pool in [ThreadPool.serial, pool2] {
                var got = [Float](repeating: .nan, count: n)
                x.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { cp in
                    Im2Col.im2col(s, x: xp.baseAddress!, n0: n0, count: count, channel0: c0, channels: channels,
                                  col: cp.baseAddress!, ldcol: ldcol, pool: pool)
                } }
                XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "\(s) n0 \(n0) count \(count) c0 \(c0) channels \(channels)")
            }
        }
        XCTAssertGreaterThan(padded, 50)
        XCTAssertGreaterThan(rows, 50)
        XCTAssertGreaterThan(gathered, 50)
    }

    /// Any block of the im2col matrix packed straight from the images equals `Gemm.packB` of the
    /// same block of the stored matrix, padding zeros included (same bits for the GEMM after it).
    func testPackBlockMatchesPackBOfTheMatrix() {
        var rng = SeededRandom(seed: 0x1_2C02)
        let pool2 = ThreadPool(threads: 2)
        var tried = 0, strided = 0
        while tried < 400 {
            let kh = rng.int(1, 5), kw = rng.int(1, 5)
            let sh = rng.int(1, 3), sw = [1, 1, 2, 3][rng.int(0, 3)]
            let dh = rng.int(1, 2), dw = rng.int(1, 2)
            let pt = rng.int(0, 3), pl = rng.int(0, 3), pb = rng.int(0, 3), pr = rng.int(0, 3)
            let ih = rng.int(1, 40), iw = rng.int(1, 40)
            let ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1
            if ih + pt + pb < ekh || iw + pl + pr < ekw { continue }
            tried += 1
            if sw > 1 { strided += 1 }
            let oh = (ih + pt + pb - ekh) / sh + 1, ow = (iw + pl + pr - ekw) / sw + 1
            let batch = rng.int(1, 3), cin = rng.int(1, 6)
            let s = Conv2DShape(batch: batch, inChannels: cin, inHeight: ih, inWidth: iw, outChannels: 1,
                                outHeight: oh, outWidth: ow, kernelH: kh, kernelW: kw, strideH: sh, strideW: sw,
                                padTop: pt, padLeft: pl, dilationH: dh, dilationW: dw)
            let x = rng.floats(batch * cin * ih * iw)
            let n0 = rng.int(0, batch - 1), count = rng.int(1, batch - n0)
            let c0 = rng.int(0, cin - 1), channels = rng.int(1, cin - c0)
            let rows = channels * kh * kw, cols = count * oh * ow
            var col = [Float](repeating: .nan, count: rows * cols)
            x.withUnsafeBufferPointer { xp in col.withUnsafeMutableBufferPointer { cp in
                Im2Col.reference(s, x: xp.baseAddress!, n0: n0, count: count, channel0: c0, channels: channels,
                                 col: cp.baseAddress!, ldcol: cols)
            } }
            // A random block no larger than one GEMM block (so packB writes a single block).
            let p0 = rng.int(0, rows - 1), kc = rng.int(1, min(rows - p0, 256))
            let j0 = rng.int(0, cols - 1), nc = rng.int(1, min(cols - j0, 1024))
            let packedCount = Gemm.packedBCount(k: kc, n: nc)
            var want = [Float](repeating: .nan, count: packedCount)
            col.withUnsafeBufferPointer { cp in
                Gemm.packB(transB: false, k: kc, n: nc, b: cp.baseAddress! + p0 * cols + j0, ldb: cols,
                           into: &want, pool: .serial)
            }
            // NaN around the block: packBlock must write all of it and nothing past it.
            var got = [Float](repeating: .nan, count: packedCount + 64)
            let planeCount = Im2Col.PaddedPlanes(s).count(images: count, channels: channels)
            var planes = [Float](repeating: .nan, count: planeCount + 64)
            x.withUnsafeBufferPointer { xp in planes.withUnsafeMutableBufferPointer { pp in got.withUnsafeMutableBufferPointer { gp in
                Im2Col.padPlanes(s, x: xp.baseAddress!, n0: n0, count: count, channel0: c0, channels: channels,
                                 planes: pp.baseAddress!, pool: tried % 2 == 0 ? .serial : pool2)
                Im2Col.packBlock(s, planes: pp.baseAddress!, channels: channels, p0: p0, kc: kc, j0: j0, nc: nc,
                                 dst: gp.baseAddress! + 32)
            } } }
            XCTAssertTrue(got[0..<32].allSatisfy(\.isNaN) && got[(packedCount + 32)...].allSatisfy(\.isNaN),
                          "wrote outside its block: \(s)")
            XCTAssertTrue(planes[planeCount...].allSatisfy(\.isNaN), "padPlanes wrote past its planes: \(s)")
            got = Array(got[32..<(packedCount + 32)])
            XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern),
                           "\(s) n0 \(n0) c0 \(c0) block rows \(p0)+\(kc) columns \(j0)+\(nc)")
        }
        XCTAssertGreaterThan(strided, 50)
    }
}
