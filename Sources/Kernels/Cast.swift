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
}
