// Im2ColTests: `Im2Col.im2col` against its scalar reference over random odd geometries,
// both the row-by-row path (wide outputs, strided W) and the padded-plane path (small output
// planes, as in convolution weight gradients), on 1 and 2 threads.
import XCTest
import TestSupport
import Kernels

final class Im2ColTests: XCTestCase {
    func testMatchesReferenceOnRandomShapes() {
        var rng = SeededRandom(seed: 0x1_2C01)
        let pool2 = ThreadPool(threads: 2)
        var padded = 0, rows = 0
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
            if sw == 1 && ow <= 16 && kh * kw >= 4 { padded += 1 } else { rows += 1 }
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
    }
}
