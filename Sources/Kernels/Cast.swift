// Cast: rounding float32 values to the nearest IEEE binary16 (half-precision) value, the one
// numeric effect of ONNX Cast to FLOAT16 in an IR that holds every float type as float32; and
// converting integer data (held as Int64 at run time, whatever its IR type) to float32.
//
// Contract: `roundToHalf` writes y[i] = x[i] rounded to binary16 (round to nearest, ties to
// even; overflow to ±∞ at |x| ≥ 65520; subnormal halves kept; NaN stays NaN, −0 stays −0) and
// back to float32, through the hardware conversion. `referenceHalf` is the scalar definition by
// power-of-two scaling only (no Float16 arithmetic), which the tests compare against. x and y
// may alias. `IntegerCast.toFloat` writes y[i] = Float(x[i]) (round to nearest, ties to even,
// as numpy's astype), then to binary16 when `half`; `IntegerCast.reference` is its scalar
// definition. x and y must not overlap (8-byte in, 4-byte out).
// `IntegerCast.toInteger` converts float32 to an integer type held as Int64 (`IntegerTarget`):
// int64 and int32 truncate toward zero, and NaN or a value outside the type's range gives the
// type's minimum (the x86 "integer indefinite" of cvttss2si, which is what ONNX Runtime's
// static_cast gives on x86-64; ONNX leaves these cases undefined); bool is x ≠ 0 (NaN: true).
// `IntegerCast.narrow` converts between the integer types: to int32 keeps the low 32 bits
// (two's-complement wrap, as static_cast), to bool x ≠ 0, to int64 copies. Each has a scalar
// `reference` the tests compare against; x and y may alias (same element size).

public enum HalfPrecision {
    /// Largest finite binary16 value.
    public static let maxFinite: Float = 65504

    /// x rounded to the nearest binary16 value, as float32 (scalar reference).
    public static func referenceHalf(_ x: Float) -> Float {
        if x.isNaN || x.isInfinite || x == 0 { return x }
        let a = abs(x)
        if a >= 65520 { return x < 0 ? -.infinity : .infinity }
        // Quantum: 2^-24 for subnormal halves (|x| < 2^-14), else 2^(exponent − 10).
        let e = max(Int(a.exponent), -14)
        let quantum = Float(sign: .plus, exponent: e - 10, significand: 1)
        let r = (a / quantum).rounded(.toNearestOrEven) * quantum
        return x < 0 ? -r : r
    }

    /// y[i] = x[i] rounded to binary16 (see the contract), split over the pool.
    public static func roundToHalf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                                   pool: ThreadPool = .serial) {
        let chunk = 4096
        pool.splitWork((count + chunk - 1) / chunk, work: count) { range in
            for u in range {
                for i in u * chunk..<min(count, (u + 1) * chunk) { y[i] = Float(Float16(x[i])) }
            }
        }
    }
}

public enum IntegerCast {
    /// x as float32, rounded to binary16 when `half` (scalar reference).
    public static func reference(_ x: Int64, half: Bool) -> Float {
        half ? HalfPrecision.referenceHalf(Float(x)) : Float(x)
    }

    /// y[i] = x[i] as float32 (binary16-rounded when `half`), split over the pool.
    public static func toFloat(_ x: UnsafePointer<Int64>, _ y: UnsafeMutablePointer<Float>, count: Int, half: Bool,
                               pool: ThreadPool = .serial) {
        let chunk = 4096
        pool.splitWork((count + chunk - 1) / chunk, work: count) { range in
            for u in range {
                let lo = u * chunk, hi = min(count, (u + 1) * chunk)
                if half {
                    for i in lo..<hi { y[i] = Float(Float16(Float(x[i]))) }
                } else {
                    for i in lo..<hi { y[i] = Float(x[i]) }
                }
            }
        }
    }

    /// float32 x as an `IntegerTarget` value (scalar reference; see the contract).
    public static func reference(_ x: Float, to t: IntegerTarget) -> Int64 {
        switch t {
        case .bool: return x != 0 ? 1 : 0
        case .int32: return x >= -0x1p31 && x < 0x1p31 ? Int64(Int32(x)) : Int64(Int32.min)
        case .int64: return x >= -0x1p63 && x < 0x1p63 ? Int64(x) : .min
        }
    }

    /// Integer (or bool) x as an `IntegerTarget` value (scalar reference).
    public static func reference(_ x: Int64, to t: IntegerTarget) -> Int64 {
        switch t {
        case .bool: return x != 0 ? 1 : 0
        case .int32: return Int64(Int32(truncatingIfNeeded: x))
        case .int64: return x
        }
    }

    /// y[i] = reference(x[i], to: t), split over the pool.
    public static func toInteger(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Int64>, count: Int, to t: IntegerTarget,
                                 pool: ThreadPool = .serial) {
        chunked(count, pool) { i in y[i] = reference(x[i], to: t) }
    }

    /// y[i] = reference(x[i], to: t) for integer x, split over the pool.
    public static func narrow(_ x: UnsafePointer<Int64>, _ y: UnsafeMutablePointer<Int64>, count: Int, to t: IntegerTarget,
                              pool: ThreadPool = .serial) {
        chunked(count, pool) { i in y[i] = reference(x[i], to: t) }
    }

    /// body(i) for every i in 0..<count, in chunks of 4096 split over the pool.
    @inline(__always) static func chunked(_ count: Int, _ pool: ThreadPool, _ body: (Int) -> Void) {
        let chunk = 4096
        pool.splitWork((count + chunk - 1) / chunk, work: count) { range in
            for u in range {
                for i in u * chunk..<min(count, (u + 1) * chunk) { body(i) }
            }
        }
    }
}

/// The integer element types a Cast produces (held as Int64 at run time).
public enum IntegerTarget: String, Equatable, Sendable, CaseIterable {
    case int64, int32, bool
}
