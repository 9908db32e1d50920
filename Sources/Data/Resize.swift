// Resize: byte-image resizing with Pillow's algorithms, so a resized dataset matches what
// torchvision's Resize produces from a PIL image (which is what the seed experiments used).

/// Resampling filter.
public enum ResizeFilter: String, Sendable, CaseIterable {
    /// Pillow NEAREST: source pixel floor((x + 0.5) · in / out).
    case nearest
    /// Pillow BILINEAR (torchvision's default): a triangle filter, widened by the scale when
    /// shrinking (antialiased), separable, horizontal pass first, 22-bit fixed point, each pass
    /// rounded to bytes.
    case bilinear
}

/// Precomputed coefficients for resizing one H×W byte plane.
struct Resizer {
    let inH: Int, inW: Int, outH: Int, outW: Int
    let filter: ResizeFilter
    // Bilinear: per output index, first source index, tap count, and ksize fixed-point taps.
    private var hBounds: [(Int, Int)] = [], vBounds: [(Int, Int)] = []
    private var hK: [Int32] = [], vK: [Int32] = []
    private var hKsize = 0, vKsize = 0
    // Nearest: source index per output index.
    private var xin: [Int] = [], yin: [Int] = []

    static let precisionBits = 32 - 8 - 2

    init(inH: Int, inW: Int, outH: Int, outW: Int, filter: ResizeFilter) {
        (self.inH, self.inW, self.outH, self.outW, self.filter) = (inH, inW, outH, outW, filter)
        switch filter {
        case .nearest:
            xin = Resizer.nearestTable(inSize: inW, outSize: outW)
            yin = Resizer.nearestTable(inSize: inH, outSize: outH)
        case .bilinear:
            (hKsize, hBounds, hK) = Resizer.coefficients(inSize: inW, outSize: outW)
            (vKsize, vBounds, vK) = Resizer.coefficients(inSize: inH, outSize: outH)
        }
    }

    static func nearestTable(inSize: Int, outSize: Int) -> [Int] {
        let a = Double(inSize) / Double(outSize)
        var xo = a * 0.5
        var t: [Int] = []
        for _ in 0..<outSize {
            t.append(min(max(xo < 0 ? -1 : Int(xo), 0), inSize - 1))
            xo += a
        }
        return t
    }

    /// Pillow's precompute_coeffs for the bilinear filter: per output index, the first source
    /// index and the normalised weights of its taps (all ≥ 0, summing to 1).
    static func weights(inSize: Int, outSize: Int) -> [(first: Int, taps: [Double])] {
        let scale = Double(inSize) / Double(outSize)
        let filterscale = max(scale, 1.0)
        let support = 1.0 * filterscale
        var out: [(first: Int, taps: [Double])] = []
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1.0 / filterscale
            var xmin = Int(center - support + 0.5)   // C truncation toward zero
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            var k: [Double] = []
            var ww = 0.0
            for x in 0..<max(xmax, 0) {
                var t = (Double(x + xmin) - center + 0.5) * ss
                if t < 0 { t = -t }
                let w = t < 1.0 ? 1.0 - t : 0.0
                k.append(w)
                ww += w
            }
            if ww != 0 { k = k.map { $0 / ww } }
            out.append((xmin, k))
        }
        return out
    }

    /// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter.
    static func coefficients(inSize: Int, outSize: Int) -> (Int, [(Int, Int)], [Int32]) {
        let support = max(Double(inSize) / Double(outSize), 1.0)
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var bounds: [(Int, Int)] = []
        var kk = [Int32](repeating: 0, count: outSize * ksize)
        for (xx, w) in weights(inSize: inSize, outSize: outSize).enumerated() {
            for (x, k) in w.taps.enumerated() {
                let v = k * Double(1 << precisionBits)
                kk[xx * ksize + x] = Int32(k < 0 ? (-0.5 + v).rounded(.towardZero) : (0.5 + v).rounded(.towardZero))
            }
            bounds.append((w.first, w.taps.count))
        }
        return (ksize, bounds, kk)
    }

    @inline(__always) static func clip8(_ v: Int) -> UInt8 {
        if v >= (1 << precisionBits) << 8 { return 255 }
        if v <= 0 { return 0 }
        return UInt8(truncatingIfNeeded: v >> precisionBits)
    }

    /// Resizes one plane. `scratch` holds inH × outW bytes for the bilinear horizontal pass.
    func resize(_ src: UnsafePointer<UInt8>, into dst: UnsafeMutablePointer<UInt8>, scratch: inout [UInt8]) {
        switch filter {
        case .nearest:
            for y in 0..<outH {
                let row = src + yin[y] * inW
                for x in 0..<outW { dst[y * outW + x] = row[xin[x]] }
            }
        case .bilinear:
            let half = 1 << (Resizer.precisionBits - 1)
            let needH = outW != inW, needV = outH != inH
            scratch.withUnsafeMutableBufferPointer { tmpBuf in
                // Horizontal pass (inH × outW), or a copy when the width is unchanged.
                let tmp = tmpBuf.baseAddress!
                for y in 0..<inH {
                    let row = src + y * inW
                    for xx in 0..<outW {
                        if !needH { tmp[y * outW + xx] = row[xx]; continue }
                        let (xmin, n) = hBounds[xx]
                        var ss = half
                        for x in 0..<n { ss += Int(row[xmin + x]) * Int(hK[xx * hKsize + x]) }
                        tmp[y * outW + xx] = Resizer.clip8(ss)
                    }
                }
                // Vertical pass (outH × outW).
                for yy in 0..<outH {
                    if !needV {
                        for xx in 0..<outW { dst[yy * outW + xx] = tmp[yy * outW + xx] }
                        continue
                    }
                    let (ymin, n) = vBounds[yy]
                    for xx in 0..<outW {
                        var ss = half
                        for y in 0..<n { ss += Int(tmp[(ymin + y) * outW + xx]) * Int(vK[yy * vKsize + y]) }
                        dst[yy * outW + xx] = Resizer.clip8(ss)
                    }
                }
            }
        }
    }
}

/// Float image planes resized with Pillow's BILINEAR weights (antialiased when shrinking),
/// separable, horizontal pass first, without rounding. Values stay within the input's range
/// (every output is a convex combination). gan-eval uses it to bring generated images to the
/// classifier's size.
public enum FloatResize {
    /// `src` holds `planes` planes of inH × inW; returns `planes` planes of outH × outW.
    public static func bilinear(_ src: [Float], planes: Int, inH: Int, inW: Int, outH: Int, outW: Int) -> [Float] {
        let hw = Resizer.weights(inSize: inW, outSize: outW), vw = Resizer.weights(inSize: inH, outSize: outH)
        var out = [Float](repeating: 0, count: planes * outH * outW)
        var tmp = [Double](repeating: 0, count: inH * outW)
        for p in 0..<planes {
            let base = p * inH * inW
            for y in 0..<inH {
                for (xx, w) in hw.enumerated() {
                    var s = 0.0
                    for (k, t) in w.taps.enumerated() { s += Double(src[base + y * inW + w.first + k]) * t }
                    tmp[y * outW + xx] = s
                }
            }
            for (yy, w) in vw.enumerated() {
                for xx in 0..<outW {
                    var s = 0.0
                    for (k, t) in w.taps.enumerated() { s += tmp[(w.first + k) * outW + xx] * t }
                    out[(p * outH + yy) * outW + xx] = Float(s)
                }
            }
        }
        return out
    }
}
