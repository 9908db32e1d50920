// Im2Col: the data rearrangements behind GEMM-based convolution.
//
// im2col: col[(c, kh, kw), j·P + oh·outW + ow] = x[n0 + j, channel0 + c, ih, iw] with
// ih = oh·sH − padTop + kh·dH, iw = ow·sW − padLeft + kw·dW, and 0 outside the input
// (`reference` is the scalar definition). Large output rows are filled row by row; small
// output planes (weight gradients) through a zero-padded copy of each input plane.
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
        // The tail as one masked load and store (element by element, a 28-float row took a
        // 16-float vector and three 4-float ones).
        if i < count { storePartial(loadPartial(src + i, count - i), dst + i, count - i) }
    }

    @inline(__always)
    static func zero(_ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<Float>(repeating: 0), as: SIMD16<Float>.self)
            i += 16
        }
        if i < count { storePartial(SIMD16<Float>(repeating: 0), dst + i, count - i) }
    }

    /// Fills col rows (channels·kH·kW of them, row stride `ldcol`) for images n0..<n0+count.
    /// Small output planes with unit stride along W (weight gradients: a 4×4 output from a 7×7
    /// dilated window) go plane by plane through a zero-padded copy (`im2colPadded`); the result
    /// is the same either way (pure copies).
    public static func im2col(_ s: Conv2DShape, x: UnsafePointer<Float>, n0: Int, count: Int, channel0: Int,
                              channels: Int, col: UnsafeMutablePointer<Float>, ldcol: Int, pool: ThreadPool) {
        if usesPaddedPlanes(s) {
            im2colPadded(s, x: x, n0: n0, count: count, channel0: channel0, channels: channels, col: col, ldcol: ldcol, pool: pool)
        } else if usesGatherTable(s) {
            im2colGather(s, x: x, n0: n0, count: count, channel0: channel0, channels: channels, col: col, ldcol: ldcol, pool: pool)
        } else {
            im2colRows(s, x: x, n0: n0, count: count, channel0: channel0, channels: channels, col: col, ldcol: ldcol, pool: pool)
        }
    }

    /// Whether `im2col` goes through padded planes: output rows of at most 16 floats (the row
    /// path then spends its time on per-row bounds logic), unit stride along W, and a padded
    /// plane of at most 64 Ki floats.
    static func usesPaddedPlanes(_ s: Conv2DShape) -> Bool {
        !Baseline.im2colRows && s.strideW == 1 && s.outWidth <= 16 && s.kernelH * s.kernelW >= 4
            && paddedHeight(s) * paddedWidth(s) <= 65536
    }

    /// Rows and columns of the padded plane: every input row/column a window reaches.
    static func paddedHeight(_ s: Conv2DShape) -> Int { (s.outHeight - 1) * s.strideH + (s.kernelH - 1) * s.dilationH + 1 }
    static func paddedWidth(_ s: Conv2DShape) -> Int { (s.outWidth - 1) * s.strideW + (s.kernelW - 1) * s.dilationW + 1 }

    /// Copies `count` (≤ 16) floats with one vector move when the count is 4, 8 or 16.
    @inline(__always)
    static func copySmall(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
        let d = UnsafeMutableRawPointer(dst), sp = UnsafeRawPointer(src)
        switch count {
        case 4: d.storeBytes(of: sp.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
        case 8: d.storeBytes(of: sp.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
        case 16: d.storeBytes(of: sp.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
        default: for i in 0..<count { dst[i] = src[i] }
        }
    }

    /// `im2col` for `usesPaddedPlanes` shapes: each (image, channel) plane is copied once into a
    /// zero-padded per-thread buffer covering every position a window reaches, then each of its
    /// kH·kW col rows is outH straight copies of outW floats (no bounds tests). Threads split
    /// the planes.
    static func im2colPadded(_ s: Conv2DShape, x: UnsafePointer<Float>, n0: Int, count: Int, channel0: Int,
                             channels: Int, col: UnsafeMutablePointer<Float>, ldcol: Int, pool: ThreadPool) {
        let khw = s.kernelH * s.kernelW
        let p = s.outHeight * s.outWidth
        let pin = s.inHeight * s.inWidth
        let ph = paddedHeight(s), pw = paddedWidth(s)
        // The input rows/columns that land inside the padded plane.
        let ihHi = min(s.inHeight, ph - s.padTop), iwHi = min(s.inWidth, pw - s.padLeft)
        let rowLo = max(0, -s.padTop), colLo = max(0, -s.padLeft)
        let body: (Range<Int>) -> Void = { r in
            let buf = Gemm.threadBuffer(ph * pw + 16)
            for item in r {
                let j = item / channels, c = item % channels
                let src = x + ((n0 + j) * s.inChannels + channel0 + c) * pin
                zero(buf, ph * pw)
                if rowLo < ihHi && colLo < iwHi {
                    for ih in rowLo..<ihHi {
                        copy(buf + (ih + s.padTop) * pw + colLo + s.padLeft, src + ih * s.inWidth + colLo, iwHi - colLo)
                    }
                }
                for kh in 0..<s.kernelH {
                    for kw in 0..<s.kernelW {
                        var dst = col + (c * khw + kh * s.kernelW + kw) * ldcol + j * p
                        var from = UnsafePointer(buf) + kh * s.dilationH * pw + kw * s.dilationW
                        for _ in 0..<s.outHeight {
                            copySmall(dst, from, s.outWidth)
                            dst += s.outWidth
                            from += s.strideH * pw
                        }
                    }
                }
            }
        }
        let planes = count * channels
        if planes * khw * p < 32768 { body(0..<planes) } else { pool.parallelFor(planes, body) }
    }

    /// Whether `im2col` gathers through an index table: strided along W (the row path copies
    /// one float at a time there, with bounds logic per output row) and at most 4096 col entries
    /// per plane (kH·kW·outH·outW) and 4096 input floats.
    static func usesGatherTable(_ s: Conv2DShape) -> Bool {
        !Baseline.im2colRows && !Baseline.im2colNoGather && s.strideW > 1 && s.kernelH * s.kernelW * s.outHeight * s.outWidth <= 4096
            && s.inHeight * s.inWidth <= 4096
    }

    /// `im2col` for `usesGatherTable` shapes: each (image, channel) plane is copied once into a
    /// per-thread buffer followed by a zero, and col entry (tap, position) is read from the
    /// buffer at a precomputed index (the zero for a position in the padding). Threads split
    /// the planes.
    static func im2colGather(_ s: Conv2DShape, x: UnsafePointer<Float>, n0: Int, count: Int, channel0: Int,
                             channels: Int, col: UnsafeMutablePointer<Float>, ldcol: Int, pool: ThreadPool) {
        let khw = s.kernelH * s.kernelW, p = s.outHeight * s.outWidth, pin = s.inHeight * s.inWidth
        var table = [Int32](repeating: Int32(pin), count: khw * p)
        for kh in 0..<s.kernelH {
            for kw in 0..<s.kernelW {
                for oh in 0..<s.outHeight {
                    let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                    if ih < 0 || ih >= s.inHeight { continue }
                    for ow in 0..<s.outWidth {
                        let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                        if iw >= 0 && iw < s.inWidth { table[(kh * s.kernelW + kw) * p + oh * s.outWidth + ow] = Int32(ih * s.inWidth + iw) }
                    }
                }
            }
        }
        table.withUnsafeBufferPointer { tb in
            let index = tb.baseAddress!
            let body: (Range<Int>) -> Void = { r in
                let buf = Gemm.threadBuffer(pin + 16)
                for item in r {
                    let j = item / channels, c = item % channels
                    copy(buf, x + ((n0 + j) * s.inChannels + channel0 + c) * pin, pin)
                    buf[pin] = 0
                    var t = index
                    for tap in 0..<khw {
                        let dst = col + (c * khw + tap) * ldcol + j * p
                        for q in 0..<p { dst[q] = buf[Int(t[q])] }
                        t += p
                    }
                }
            }
            let planes = count * channels
            if planes * khw * p < 32768 { body(0..<planes) } else { pool.parallelFor(planes, body) }
        }
    }

    /// Scalar reference of `im2col` (same contract), for tests.
    public static func reference(_ s: Conv2DShape, x: UnsafePointer<Float>, n0: Int, count: Int, channel0: Int,
                                 channels: Int, col: UnsafeMutablePointer<Float>, ldcol: Int) {
        let khw = s.kernelH * s.kernelW, p = s.outHeight * s.outWidth
        for c in 0..<channels {
            for kh in 0..<s.kernelH {
                for kw in 0..<s.kernelW {
                    for j in 0..<count {
                        for oh in 0..<s.outHeight {
                            for ow in 0..<s.outWidth {
                                let ih = oh * s.strideH - s.padTop + kh * s.dilationH
                                let iw = ow * s.strideW - s.padLeft + kw * s.dilationW
                                let inside = ih >= 0 && ih < s.inHeight && iw >= 0 && iw < s.inWidth
                                col[(c * khw + kh * s.kernelW + kw) * ldcol + j * p + oh * s.outWidth + ow] =
                                    inside ? x[(((n0 + j) * s.inChannels + channel0 + c) * s.inHeight + ih) * s.inWidth + iw] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// `im2col` row by row (each col row filled for every image, with the bounds worked out per row).
    static func im2colRows(_ s: Conv2DShape, x: UnsafePointer<Float>, n0: Int, count: Int, channel0: Int,
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
