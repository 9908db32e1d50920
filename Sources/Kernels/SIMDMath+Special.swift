// SIMDMath+Special: erf, erfc, expm1 and Gelu over SIMD16<Float>, lane-wise, for the Erf, Elu,
// Selu and Gelu kernels.
//
// Contract: erfc(|x|) uses the Chebyshev fit of Numerical Recipes' `erfcc` (fractional error
// < 1.2e-7 everywhere) evaluated with `SIMDMath.exp`; erf uses its Taylor series to x^11 for
// |x| < 0.5 (relative error < 1e-7, so tiny inputs keep their relative accuracy) and
// ±(1 − erfc(|x|)) beyond. expm1 is exact at ±0 and keeps relative accuracy near 0 (Kahan's
// (u − 1)·x / log u); it returns −1 for large negative x. Gelu's exact form is
// x/2·(1 + erf(x/√2)) with 1 + erf computed as erfc(|z|) for negative z (no cancellation); the
// tanh form is x·sigmoid(2u), u = √(2/π)(x + 0.044715x³). NaN propagates everywhere.

extension SIMDMath {
    /// erfc(z) for z ≥ 0 (NaN for NaN), relative error about 1e-7 plus exp's.
    @_transparent
    public static func erfcNonNegative(_ z: V) -> V {
        let t = 1 / (1 + 0.5 * z)
        var p = V(repeating: 0.17087277)
        for c: Float in [-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223] {
            p = p * t + c
        }
        return t * exp(p - z * z)
    }

    /// The Taylor series of erf to x^11 (accurate for |x| < 0.5).
    @_transparent @usableFromInline
    static func erfSmall(_ x: V) -> V {
        let c0: Float = 1.1283791670955126
        let x2 = x * x
        var p = V(repeating: -c0 / 1320)
        for c: Float in [c0 / 216, -c0 / 42, c0 / 10, -c0 / 3, c0] { p = p * x2 + c }
        return x * p
    }

    /// erf(x), lane-wise.
    @_transparent
    public static func erf(_ x: V) -> V {
        let ax = x.replacing(with: -x, where: x .< 0)
        let big = 1 - erfcNonNegative(ax)
        return erfSmall(x).replacing(with: big.replacing(with: -big, where: x .< 0), where: .!(ax .< 0.5))
    }

    /// e^x − 1, lane-wise.
    @_transparent
    public static func expm1(_ x: V) -> V {
        let u = exp(x)
        let kahan = ((u - 1) * x / log(u)).replacing(with: x, where: u .== 1)
        return kahan.replacing(with: u - 1, where: .!(x .> -0.5) .| .!(x .< 0.5))
    }

    /// x·Φ(x) = x/2·(1 + erf(x/√2)), lane-wise.
    @_transparent
    public static func gelu(_ x: V) -> V {
        let z = x * 0.70710678118654752
        let az = z.replacing(with: -z, where: z .< 0)
        let w = erfcNonNegative(az)
        var onePlusErf = (2 - w).replacing(with: w, where: z .< 0)
        onePlusErf.replace(with: 1 + erfSmall(z), where: az .< 0.5)
        return 0.5 * x * onePlusErf
    }

    /// 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) = x·sigmoid(2u), lane-wise.
    @_transparent
    public static func geluTanh(_ x: V) -> V {
        let u = 0.79788456080286536 * (x + 0.044715 * x * x * x)
        return x * sigmoid(u + u)
    }
}
