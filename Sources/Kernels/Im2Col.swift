// Im2Col: the data rearrangements behind GEMM-based convolution.
//
// im2col: col[(c, kh, kw), j·P + oh·outW + ow] = x[n0 + j, channel0 + c, ih, iw] with
// ih = oh·sH − padTop + kh·dH, iw = ow·sW − padLeft + kw·dW, and 0 outside the input.
// col2imPlane: the adjoint for one output plane, summing taps in a fixed (kh, kw, ih, iw) order.

public enum Im2Col {
    /// Short inline copies: rows here are often a few dozen floats, where a memcpy call costs
    /// more than the copy.
    @inline(__always)
    static func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self),
                                                        as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { dst[i] = src[i]; i += 1 }
    }

    @inline(__always)
    static func zero(_ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<Float>(repeating: 0), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { dst[i] = 0; i += 1 }
    }

    /// Fills col rows (channels·kH·kW of them, row stride `ldcol`) for images n0..<n0+count.
    public static func im2col(_ s: Conv2DShape, x: UnsafePointer<Float>, n0: Int, count: Int, channel0: Int,
                              channels: Int, col: UnsafeMutablePointer<Float>, ldcol: Int, pool: ThreadPool) {
        let khw = s.kernelH * s.kernelW
        let rows = channels * khw
        let p = s.outHeight * s.outWidth
        let pin = s.inHeight * s.inWidth
        let work = rows * count * p
        let body: (Range<Int>) -> Void = { r in
            for row in r {
                let c = row / khw
                let kh = (row % khw) / s.kernelW
                let kw = row % s.kernelW
                // Output columns whose input column is inside: ow in [owLo, owHi).
                let offW = kw * s.dilationW - s.padLeft
                let owLo = offW >= 0 ? 0 : min(s.outWidth, (-offW + s.strideW - 1) / s.strideW)
                let owHi = max(owLo, min(s.outWidth, (s.inWidth - offW + s.strideW - 1) / s.strideW))
                for j in 0..<count {
                    let src = x + ((n0 + j) * s.inChannels + channel0 + c) * pin
                    var dst = col + row * ldcol + j * p
                    for oh in 0..<s.outHeight {
                        let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                        if ih < 0 || ih >= s.inHeight {
                            zero(dst, s.outWidth)
                        } else {
                            let srow = src + ih * s.inWidth + offW
                            for ow in 0..<owLo { dst[ow] = 0 }
                            if s.strideW == 1 {
                                copy(dst + owLo, srow + owLo, owHi - owLo)
                            } else {
                                var ow = owLo
                                while ow < owHi { dst[ow] = srow[ow * s.strideW]; ow += 1 }
                            }
                            for ow in owHi..<s.outWidth { dst[ow] = 0 }
                        }
                        dst += s.outWidth
                    }
                }
            }
        }
        if work < 32768 { body(0..<rows) } else { pool.parallelFor(rows, body) }
    }

    /// y plane (outH×outW, overwritten) = Σ over (kh, kw) of the kH·kW col rows starting at `col`
    /// (row stride `ldcol`, each holding inH·inW values), scattered ConvTranspose-style.
    public static func col2imPlane(_ s: Conv2DShape, col: UnsafePointer<Float>, ldcol: Int,
                                   plane: UnsafeMutablePointer<Float>) {
        zero(plane, s.outHeight * s.outWidth)
        for kh in 0..<s.kernelH {
            for kw in 0..<s.kernelW {
                let src = col + (kh * s.kernelW + kw) * ldcol
                let offW = kw * s.dilationW - s.padLeft
                // Input columns landing inside: iw in [iwLo, iwHi).
                let iwLo = offW >= 0 ? 0 : min(s.inWidth, (-offW + s.strideW - 1) / s.strideW)
                let iwHi = max(iwLo, min(s.inWidth, (s.outWidth - offW + s.strideW - 1) / s.strideW))
                if iwLo >= iwHi { continue }
                for ih in 0..<s.inHeight {
                    let oh = ih * s.strideH - s.padTop + kh * s.dilationH
                    if oh < 0 || oh >= s.outHeight { continue }
                    let srow = src + ih * s.inWidth
                    let drow = plane + oh * s.outWidth + offW
                    if s.strideW == 1 {
                        var iw = iwLo
                        while iw + 16 <= iwHi {
                            let d = UnsafeMutableRawPointer(drow + iw)
                            d.storeBytes(of: d.loadUnaligned(as: SIMD16<Float>.self)
                                            + UnsafeRawPointer(srow + iw).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                            iw += 16
                        }
                        while iw < iwHi { drow[iw] += srow[iw]; iw += 1 }
                    } else {
                        var iw = iwLo
                        while iw < iwHi { drow[iw * s.strideW] += srow[iw]; iw += 1 }
                    }
                }
            }
        }
    }
}
