// Im2Col+Packed: the convolution GEMM's B operand (the im2col matrix) packed from the input
// images one GEMM block at a time, as the GEMM consumes it, so that the K×P col matrix is
// never written to memory and read back (an "implicit GEMM" convolution).
//
// Contract: `padPlanes` copies the images once into zero-padded planes split by column phase
// (`PaddedPlanes`); `packBlock` then writes exactly what `Gemm.packB(transB: false, …)` writes
// for the same block of the matrix that `im2col` fills (the same values, zeros outside the
// input and past the last column), so the GEMM after it gives the same bits.
// Layout: plane (image j, channel c, phase r) holds padded columns iwp ≡ r (mod sW) of padded
// rows ihp (= ih + padTop), at ihp·pw + iwp / sW, so the taps of one output row segment are a
// contiguous run whatever the stride; each plane row has room for a 16-float over-read.

extension Im2Col {
    /// Geometry of the padded phase planes of one convolution.
    public struct PaddedPlanes {
        /// Padded rows per plane, floats per plane row, floats per plane, planes (column phases)
        /// per channel.
        let rows: Int, width: Int, plane: Int, phases: Int

        public init(_ s: Conv2DShape) {
            rows = (s.outHeight - 1) * s.strideH + (s.kernelH - 1) * s.dilationH + 1
            let cols = (s.outWidth - 1) * s.strideW + (s.kernelW - 1) * s.dilationW + 1
            width = (cols + s.strideW - 1) / s.strideW + 16
            plane = rows * width
            phases = s.strideW
        }

        /// Floats the planes of `images` images × `channels` channels take.
        public func count(images: Int, channels: Int) -> Int {
            images * channels * phases * plane + 16
        }
    }

    /// Fills the padded phase planes (see the file header) of images n0 ..< n0 + count and channels
    /// channel0 ..< channel0 + channels into `planes` (`PaddedPlanes.count` floats). Threads split
    /// the (image, channel) pairs.
    public static func padPlanes(_ s: Conv2DShape, x: UnsafePointer<Float>, n0: Int, count: Int, channel0: Int,
                                 channels: Int, planes: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let g = PaddedPlanes(s)
        let sW = s.strideW, pin = s.inHeight * s.inWidth, inW = s.inWidth
        // Input columns whose padded column a tap can reach (the last 16 floats of each plane row
        // are slack for over-reads and stay zero).
        let lo = max(0, -s.padLeft), hi = min(inW, (g.width - 16) * sW - s.padLeft)
        let body: (Range<Int>) -> Void = { r in
            // Stride 2: one padded row, split into its two phases 32 floats at a time. Only
            // [lo, hi) + padLeft is ever written, so its padding is zeroed once.
            let padded = sW == 2 ? Gemm.threadBuffer(2 * g.width + 32) : planes
            if sW == 2 { zero(padded, 2 * g.width + 32) }
            for item in r {
                let j = item / channels, c = item % channels
                let src = x + ((n0 + j) * s.inChannels + channel0 + c) * pin
                let base = planes + item * sW * g.plane
                zero(base, sW * g.plane)
                if lo >= hi { continue }
                for ihp in 0..<g.rows {
                    let ih = ihp - s.padTop
                    if ih < 0 || ih >= s.inHeight { continue }
                    let row = src + ih * inW
                    if sW == 1 {
                        copy(base + ihp * g.width + lo + s.padLeft, row + lo, hi - lo)
                    } else if sW == 2 {
                        copy(padded + lo + s.padLeft, row + lo, hi - lo)
                        let even = UnsafeMutableRawPointer(base + ihp * g.width)
                        let odd = UnsafeMutableRawPointer(base + g.plane + ihp * g.width)
                        var u = 0
                        while 2 * u < hi + s.padLeft {
                            // u < width - 16: the 16 lanes stay inside this plane row.
                            even.storeBytes(of: loadEven16(padded + 2 * u), toByteOffset: 4 * u, as: SIMD16<Float>.self)
                            odd.storeBytes(of: loadOdd16(padded + 2 * u), toByteOffset: 4 * u, as: SIMD16<Float>.self)
                            u += 16
                        }
                    } else {
                        for iw in lo..<hi {
                            let iwp = iw + s.padLeft
                            base[(iwp % sW) * g.plane + ihp * g.width + iwp / sW] = row[iw]
                        }
                    }
                }
            }
        }
        let items = count * channels
        if items * pin < 16384 { body(0..<items) } else { pool.parallelFor(items, body) }
    }

    /// Packs rows [p0, p0 + kc) × columns [j0, j0 + nc) of the im2col matrix of the images and
    /// channels whose planes `padPlanes` filled (column j = image j / P, output pixel j % P) into
    /// `dst` in `Gemm.packB` layout: NR-wide panels, the panel of column j0 + q at dst + q·kc,
    /// row p of a panel at panel + p·NR, columns past j0 + nc zero. Writes nothing past its block.
    public static func packBlock(_ s: Conv2DShape, planes: UnsafePointer<Float>, channels: Int,
                                 p0: Int, kc: Int, j0: Int, nc: Int, dst: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        let nr = Gemm.nr
        let g = PaddedPlanes(s)
        let p = s.outHeight * s.outWidth, outW = s.outWidth
        let kH = s.kernelH, kW = s.kernelW
        let sH = s.strideH, sW = s.strideW, dH = s.dilationH, dW = s.dilationW
        let imageFloats = channels * sW * g.plane
        // Each row's tap offset in the planes, once per block (the divisions by the stride stay
        // out of the panel loop). Then, per panel, runs of panel columns that share an image and an
        // output row: (first column in the panel, length, offset of its first tap-(0, 0) value in
        // the planes).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * nr + kc) { buf in
            let runs = buf.baseAddress!, taps = runs + 3 * nr
            var c = p0 / (kH * kW), kh = (p0 / kW) % kH, kw = p0 % kW
            for row in 0..<kc {
                taps[row] = (c * sW + (kw * dW) % sW) * g.plane + kh * dH * g.width + (kw * dW) / sW
                kw += 1
                if kw == kW { kw = 0; kh += 1; if kh == kH { kh = 0; c += 1 } }
            }
            var q = 0
            while q < nc {
                let w = min(nr, nc - q)
                let panel = dst + q * kc
                var count = 0, t = 0, longest = 0
                while t < w {
                    let j = j0 + q + t
                    let img = j / p, r = j % p
                    let oh = r / outW, ow = r % outW
                    let len = min(outW - ow, w - t)
                    runs[3 * count] = t
                    runs[3 * count + 1] = len
                    runs[3 * count + 2] = img * imageFloats + oh * sH * g.width + ow
                    longest = max(longest, len)
                    count += 1
                    t += len
                }
                let lastPanel = q + nr >= nc
                // Runs go left to right in whole vectors (4 or 8 lanes when no run is longer, else
                // 16): a vector's lanes past its run land where the next run, the zero tail or the
                // next panel row writes later. The block's very last row copies exactly instead.
                for row in 0..<kc {
                    let d = panel + row * nr
                    let tap = taps[row]
                    if lastPanel && row == kc - 1 {
                        for ri in 0..<count { copy(d + runs[3 * ri], planes + runs[3 * ri + 2] + tap, runs[3 * ri + 1]) }
                    } else if longest <= 4 {
                        for ri in 0..<count {
                            let src = UnsafeRawPointer(planes + runs[3 * ri + 2] + tap)
                            UnsafeMutableRawPointer(d + runs[3 * ri]).storeBytes(of: src.loadUnaligned(as: SIMD4<Float>.self),
                                                                                as: SIMD4<Float>.self)
                        }
                    } else if longest <= 8 {
                        for ri in 0..<count {
                            let src = UnsafeRawPointer(planes + runs[3 * ri + 2] + tap)
                            UnsafeMutableRawPointer(d + runs[3 * ri]).storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self),
                                                                                as: SIMD8<Float>.self)
                        }
                    } else {
                        for ri in 0..<count {
                            let len = runs[3 * ri + 1]
                            let src = UnsafeRawPointer(planes + runs[3 * ri + 2] + tap)
                            let out = UnsafeMutableRawPointer(d + runs[3 * ri])
                            var u = 0
                            while u < len {
                                out.storeBytes(of: src.loadUnaligned(fromByteOffset: 4 * u, as: V.self), toByteOffset: 4 * u, as: V.self)
                                u += 16
                            }
                        }
                    }
                    if w < nr { zero(d + w, nr - w) }
                }
                q += nr
            }
        }
    }
}
