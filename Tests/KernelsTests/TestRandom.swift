// TestRandom: seeded randomness shared by the Kernels property tests.

/// SplitMix64: a tiny seeded generator for reproducible property tests.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in lo...hi.
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    /// Uniform in the range.
    mutating func float(in r: ClosedRange<Float>) -> Float {
        r.lowerBound + (r.upperBound - r.lowerBound) * (Float(next() >> 40) / Float(1 << 24))
    }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
    mutating func bool() -> Bool { next() & 1 == 1 }
}

/// n floats uniform in `range`, reproducible from `seed`.
func randomFloats(_ n: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<n).map { _ in g.float(in: range) }
}
