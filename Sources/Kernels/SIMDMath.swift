// SIMDMath: vectorised transcendental functions over SIMD16<Float>, shared by all kernels.
//
// Contract (stable API): `exp`, `log`, `tanh`, `sigmoid`, `sqrt` take and return SIMD16<Float>,
// lane-wise. `sqrt` is the correctly rounded square root, bit for bit `Float.squareRoot()` per lane
// (one vector instruction through CSIMD; Swift's own `SIMD16.squareRoot()` is sixteen scalar ones).
// Accuracy against Foundation's float functions: exp and log within ~2 ulp over the normal range;
// tanh and sigmoid within 1e-6 absolute (and a few ulp relative away from 0 for tanh).
// Special values: exp(-inf) = 0, exp(+inf) = +inf, exp underflows gracefully through the
// subnormals to 0; log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf; NaN propagates everywhere.
// Algorithms follow Cephes (expf/logf/tanhf): range reduction by ln 2 and minimax polynomials.

import CSIMD

public enum SIMDMath {
    public typealias V = SIMD16<Float>
    public typealias I = SIMD16<Int32>

    @_transparent @usableFromInline
    static func bits(_ x: V) -> I { unsafeBitCast(x, to: I.self) }
    @_transparent @usableFromInline
    static func float(_ x: I) -> V { unsafeBitCast(x, to: V.self) }

    /// e^x, lane-wise.
    @_transparent
    public static func exp(_ x: V) -> V {
        // Clamp to the range where n stays in [-150, 128] (the result finite, or 0): one vmaxps
        // and one vminps (the generic `SIMD.clamped` stayed an out-of-line generic call, 30% of
        // efficientnet_b0's forward pass through its SiLU sigmoids). A NaN lane passes through.
        var y = expCore(gannet_clip16(x, -104.0, 88.72283905206835))
        y.replace(with: V(repeating: .infinity), where: x .> V(repeating: 88.72283905206835))
        y.replace(with: x, where: x .!= x)
        return y
    }

    /// e^x for x ≤ 0 (or NaN), the same bits as `exp` but a NaN's payload: its lower clamp only
    /// (softmax's e^{x − max}).
    @_transparent
    public static func expNonPositive(_ x: V) -> V { expCore(gannet_clip16(x, -104.0, 0)) }

    /// e^x for x in [-104, 88.72] (or NaN, which propagates): `exp` without its clamps and
    /// special cases.
    @_transparent @usableFromInline
    static func expCore(_ xc: V) -> V {
        // n = round(x / ln2) with the 1.5·2^23 trick: the integer lands in the low mantissa bits.
        let magic = V(repeating: 12582912.0)
        let t = magic.addingProduct(xc, V(repeating: 1.44269504088896341))
        let n = t - magic
        // r = x - n·ln2 in two parts (Cody–Waite), each one fused multiply-add.
        var r = xc.addingProduct(n, V(repeating: -0.693359375))
        r = r.addingProduct(n, V(repeating: 2.12194440e-4))
        let z = r * r
        // Horner steps as fused multiply-adds (a separate multiply and add doubled the
        // instruction count and the rounding).
        var p = V(repeating: 1.3981999507E-3).addingProduct(V(repeating: 1.9875691500E-4), r)
        p = V(repeating: 8.3334519073E-3).addingProduct(p, r)
        p = V(repeating: 4.1665795894E-2).addingProduct(p, r)
        p = V(repeating: 1.6666665459E-1).addingProduct(p, r)
        p = V(repeating: 5.0000001201E-1).addingProduct(p, r)
        p = r.addingProduct(p, z) + V(repeating: 1.0)
        // Scale by 2^n, n in [-150, 128], rounding once (`vscalefps`): the same bits as two
        // exact power-of-two factors whose second product rounds, without the integer work.
        return gannet_scale2n16(p, n)
    }

    /// Natural logarithm, lane-wise.
    @_transparent
    public static func log(_ x: V) -> V {
        // Scale subnormals into the normal range first.
        let tiny = x .< V(repeating: Float.leastNormalMagnitude)
        let xs = x.replacing(with: x * V(repeating: 8388608.0), where: tiny)   // · 2^23
        let ib = bits(xs)
        var e = ((ib &>> 23) & I(repeating: 0xFF)) &- I(repeating: 126)
        e.replace(with: e &- I(repeating: 23), where: tiny)
        // Mantissa in [0.5, 1).
        var m = float((ib & I(repeating: 0x007F_FFFF)) | I(repeating: 0x3F00_0000))
        let small = m .< V(repeating: 0.707106781186547524)
        e.replace(with: e &- I(repeating: 1), where: small)
        m = m.replacing(with: m + m, where: small) - V(repeating: 1.0)
        let ef = gannet_int_to_float16(e)
        let z = m * m
        var y = V(repeating: 7.0376836292E-2)
        y = y * m + V(repeating: -1.1514610310E-1)
        y = y * m + V(repeating: 1.1676998740E-1)
        y = y * m + V(repeating: -1.2420140846E-1)
        y = y * m + V(repeating: 1.4249322787E-1)
        y = y * m + V(repeating: -1.6668057665E-1)
        y = y * m + V(repeating: 2.0000714765E-1)
        y = y * m + V(repeating: -2.4999993993E-1)
        y = y * m + V(repeating: 3.3333331174E-1)
        y = y * m * z
        y = y + ef * V(repeating: -2.12194440e-4)
        y = y - z * V(repeating: 0.5)
        var r = m + y
        r = r + ef * V(repeating: 0.693359375)
        r.replace(with: V(repeating: -.infinity), where: x .== V(repeating: 0))
        r.replace(with: V(repeating: .infinity), where: x .== V(repeating: .infinity))
        r.replace(with: V(repeating: .nan), where: x .< V(repeating: 0))
        r.replace(with: x, where: x .!= x)
        return r
    }

    /// Hyperbolic tangent, lane-wise.
    @_transparent
    public static func tanh(_ x: V) -> V {
        let ax = x.replacing(with: -x, where: x .< V(repeating: 0))
        // |x| < 0.625: odd minimax polynomial (Cephes tanhf).
        let z = x * x
        var p = V(repeating: -5.70498872745E-3)
        p = p * z + V(repeating: 2.06390887954E-2)
        p = p * z + V(repeating: -5.37397155531E-2)
        p = p * z + V(repeating: 1.33314422036E-1)
        p = p * z + V(repeating: -3.33332819422E-1)
        let small = p * z * x + x
        // Otherwise 1 - 2 / (e^{2|x|} + 1), with the sign restored.
        let e = exp(ax + ax)
        var big = V(repeating: 1.0) - V(repeating: 2.0) / (e + V(repeating: 1.0))
        big.replace(with: -big, where: x .< V(repeating: 0))
        var r = big.replacing(with: small, where: ax .< V(repeating: 0.625))
        r.replace(with: x, where: x .!= x)
        return r
    }

    /// Logistic sigmoid 1 / (1 + e^{-x}), lane-wise.
    @_transparent
    public static func sigmoid(_ x: V) -> V {
        // 1 / d for d = 1 + e^{-x}: the reciprocal estimate and one Newton step (error ~2^-28
        // relative before rounding) instead of a division, which bound the loop (37 cycles per
        // vector in efficientnet_b0's swish epilogues). -x is capped at 87 so that d stays
        // finite (the estimate of +inf is 0 and the Newton step would make NaN); those lanes
        // are set to 0 after. The step gives exactly 1 when d = 1.
        let one = V(repeating: 1.0)
        let nx = -x
        let tiny = nx .> V(repeating: 87)
        // -x in [-104, 87] (NaN passes through): `exp` without its clamps and special cases,
        // which this range does not reach.
        let d = one + expCore(gannet_clip16(nx, -104, 87))
        var r = gannet_recip_estimate16(d)
        r = r.addingProduct(r, one.addingProduct(-d, r))
        r.replace(with: 0, where: tiny)
        return r
    }

    /// Square root, lane-wise and correctly rounded: the same bits as `Float.squareRoot()`.
    @_transparent
    public static func sqrt(_ x: V) -> V { gannet_sqrt16(x) }
}
