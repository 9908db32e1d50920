// Elementwise+Unary: y[i] = f(x[i]) over `count` contiguous floats.
//
// Contract: `x` and `y` are either disjoint or identical (in-place). Every element goes through
// the same SIMD16 code path (tails use a partial vector), so the result does not depend on the
// thread count or on where a chunk starts. `reference` is the scalar definition (Foundation's
// float functions); the fast kernel matches it within the accuracy of `SIMDMath` (exact for
// relu, leakyRelu, sqrt, neg, abs, identity, reciprocal, clip). The references of erf, gelu,
// elu and selu evaluate in Double (erfc, expm1), so they are correctly rounded references.
import Foundation
import CSIMD

/// A point-wise function of one input.
public enum UnaryOp: Equatable, Sendable, CustomStringConvertible {
    case relu
    /// x < 0 ? alpha·x : x
    case leakyRelu(Float)
    case sigmoid
    case tanh
    /// ln(1 + e^x), computed stably as max(x, 0) + log1p(e^{-|x|}).
    case softplus
    case exp
    case log
    case sqrt
    case neg
    case abs
    case identity
    case reciprocal
    /// x > 0 ? x : alpha·(e^x − 1)
    case elu(Float)
    /// gamma·(x > 0 ? x : alpha·(e^x − 1))
    case selu(alpha: Float, gamma: Float)
    /// erf(x)
    case erf
    /// max(0, min(1, alpha·x + beta))
    case hardSigmoid(alpha: Float, beta: Float)
    /// x·max(0, min(1, x/6 + 1/2))
    case hardSwish
    /// x·Φ(x), Φ the standard normal CDF.
    case gelu
    /// 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))
    case geluTanh
    /// min(max(x, min), max); NaN stays NaN.
    case clip(min: Float, max: Float)

    public var description: String {
        switch self {
        case .leakyRelu(let a): return "leakyRelu(\(a))"
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softplus: return "softplus"
        case .exp: return "exp"
        case .log: return "log"
        case .sqrt: return "sqrt"
        case .neg: return "neg"
        case .abs: return "abs"
        case .identity: return "identity"
        case .reciprocal: return "reciprocal"
        case .elu(let a): return "elu(\(a))"
        case let .selu(a, g): return "selu(\(a), \(g))"
        case .erf: return "erf"
        case let .hardSigmoid(a, b): return "hardSigmoid(\(a), \(b))"
        case .hardSwish: return "hardSwish"
        case .gelu: return "gelu"
        case .geluTanh: return "geluTanh"
        case let .clip(lo, hi): return "clip(\(lo), \(hi))"
        }
    }
}

public enum Unary {
    /// The scalar definition of `op`.
    @inlinable
    public static func scalar(_ op: UnaryOp, _ x: Float) -> Float {
        switch op {
        case .relu: return x < 0 ? 0 : x
        case .leakyRelu(let a): return x < 0 ? a * x : x
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .softplus: return (x < 0 ? 0 : x) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .sqrt: return x.squareRoot()
        case .neg: return -x
        case .abs: return Swift.abs(x)
        case .identity: return x
        case .reciprocal: return 1 / x
        case .elu(let a): return x > 0 ? x : a * Float(Foundation.expm1(Double(x)))
        case let .selu(a, g): return x > 0 ? g * x : Float(Double(g) * Double(a) * Foundation.expm1(Double(x)))
        case .erf: return Float(Foundation.erf(Double(x)))
        case let .hardSigmoid(a, b): return hardSigmoidScalar(a, b, x)
        case .hardSwish: return x * hardSigmoidScalar(1 / 6, 0.5, x)
        case .gelu: return Float(0.5 * Double(x) * Foundation.erfc(-Double(x) / 2.0.squareRoot()))
        case .geluTanh:
            let d = Double(x), u = (2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)
            return Float(d / (1 + Foundation.exp(-2 * u)))
        case let .clip(lo, hi):
            let v = x < lo ? lo : x
            return v > hi ? hi : v
        }
    }

    /// max(0, min(1, a·x + b)); NaN stays NaN.
    @inlinable
    static func hardSigmoidScalar(_ a: Float, _ b: Float, _ x: Float) -> Float {
        let v = a * x + b
        return v < 0 ? 0 : (v > 1 ? 1 : v)
    }

    /// max(0, min(1, a·x + b)) on 16 lanes; NaN stays NaN.
    @_transparent @usableFromInline
    static func hardSigmoid(_ a: Float, _ b: Float, _ x: SIMD16<Float>) -> SIMD16<Float> {
        gannet_clip16(a * x + b, 0, 1)
    }

    /// min(max(x, lo), hi) on 16 lanes (hi wins when lo > hi); NaN stays NaN.
    @_transparent @usableFromInline
    static func clip(_ lo: Float, _ hi: Float, _ x: SIMD16<Float>) -> SIMD16<Float> { gannet_clip16(x, lo, hi) }

    /// alpha·(e^x − 1) where x ≤ 0 (or NaN), x elsewhere.
    @_transparent @usableFromInline
    static func elu(_ a: Float, _ x: SIMD16<Float>) -> SIMD16<Float> {
        (a * SIMDMath.expm1(x)).replacing(with: x, where: x .> 0)
    }

    /// `op` on 16 lanes (the fast definition). Transparent: inlined into every loop.
    @_transparent
    public static func apply(_ op: UnaryOp, _ x: SIMD16<Float>) -> SIMD16<Float> {
        switch op {
        case .relu: return x.replacing(with: 0, where: x .< 0)
        case .leakyRelu(let a): return x.replacing(with: a * x, where: x .< 0)
        case .sigmoid: return SIMDMath.sigmoid(x)
        case .tanh: return SIMDMath.tanh(x)
        case .softplus: return softplus(x)
        case .exp: return SIMDMath.exp(x)
        case .log: return SIMDMath.log(x)
        case .sqrt: return SIMDMath.sqrt(x)
        case .neg: return negate(x)
        case .abs: return absolute(x)
        case .identity: return x
        case .reciprocal: return 1 / x
        case .elu(let a): return elu(a, x)
        case let .selu(a, g): return g * elu(a, x)
        case .erf: return SIMDMath.erf(x)
        case let .hardSigmoid(a, b): return hardSigmoid(a, b, x)
        case .hardSwish: return x * hardSigmoid(1 / 6, 0.5, x)
        case .gelu: return SIMDMath.gelu(x)
        case .geluTanh: return SIMDMath.geluTanh(x)
        case let .clip(lo, hi): return clip(lo, hi, x)
        }
    }

    /// Exact sign flip (SIMD prefix minus is 0 − x, which maps +0 to +0).
    @_transparent @usableFromInline
    static func negate(_ x: SIMD16<Float>) -> SIMD16<Float> { x * SIMD16<Float>(repeating: -1) }

    /// Clears the sign bit.
    @_transparent @usableFromInline
    static func absolute(_ x: SIMD16<Float>) -> SIMD16<Float> {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
    }

    /// max(x, 0) + log1p(t), t = e^{-|x|}; log1p(t) = log(u)·t/(u − 1), u = 1 + t (exact when u == 1).
    @_transparent @usableFromInline
    static func softplus(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let m = x.replacing(with: 0, where: x .< 0)
        let t = SIMDMath.exp(-absolute(x))
        let u = 1 + t
        let l = (SIMDMath.log(u) * (t / (u - 1))).replacing(with: t, where: u .== 1)
        return m + l
    }

    /// y[i] = op(x[i]) for i in 0..<count. `x == y` is allowed.
    public static func run(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           count: Int, pool: ThreadPool = .serial) {
        let vectors = (count + 15) / 16
        pool.splitWork(vectors, work: count) { range in
            runRange(op, x, y, range.lowerBound * 16, min(count, range.upperBound * 16))
        }
    }

    /// y[i] = op(x[i]) for i in start..<end (start a multiple of 16; a partial last vector is
    /// padded with zeros), through `apply`. One loop with the op's switch inside, which the
    /// branch predictor absorbs: a loop per op through a closure-taking `map` left some closures
    /// called per vector (Swift's function merging turned their specialisations into one with an
    /// indirect call).
    static func runRange(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ start: Int, _ end: Int) {
        if case .identity = op {
            if UnsafePointer(y) != x { (y + start).update(from: x + start, count: end - start) }
            return
        }
        var i = start
        while i + 16 <= end {
            store16(apply(op, load16(x + i)), y + i)
            i += 16
        }
        if i < end { storePartial(apply(op, loadPartial(x + i, end - i)), y + i, end - i) }
    }

    /// Scalar reference: y[i] = scalar(op, x[i]).
    public static func reference(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = scalar(op, x[i]) }
    }

    /// y[i] = f(x[i]) for i in start..<end, sixteen lanes at a time (start a multiple of 16).
    @inline(__always)
    static func map<F: LaneOp1>(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ start: Int, _ end: Int, _ f: F) {
        var i = start
        while i + 16 <= end {
            store16(f(load16(x + i)), y + i)
            i += 16
        }
        if i < end { storePartial(f(loadPartial(x + i, end - i)), y + i, end - i) }
    }
}
