// SeededRandom: reproducible random test data for every test target, drawn from Core's
// Philox4x32-10 (`RandomStream`) — the test suites keep no generator of their own.
//
// Contract: `SeededRandom(seed:)` gives the same sequence on every machine; `next()` is 64
// bits from two consecutive 32-bit draws of RandomStream(seed, step 0, purpose .sampling,
// stream "tests"). The helpers are plain mappings of `next()`: `int` is modulo (a bias of at
// most 2⁻⁵⁰ for test ranges), floats carry 24 random bits.

import Core
import GraphIR

public struct SeededRandom {
    private var stream: RandomStream

    public init(seed: UInt64) {
        stream = RandomStream(seed: seed, step: 0, purpose: .sampling, stream: RandomStream.streamID("tests"))
    }

    /// 64 random bits.
    public mutating func next() -> UInt64 {
        let hi = UInt64(stream.nextUInt32()), lo = UInt64(stream.nextUInt32())
        return hi << 32 | lo
    }

    /// Uniform in lo...hi.
    public mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    /// Uniform in the range.
    public mutating func int(_ r: ClosedRange<Int>) -> Int { int(r.lowerBound, r.upperBound) }
    public mutating func bool() -> Bool { next() & 1 == 1 }
    public mutating func pick<T>(_ a: [T]) -> T { a[int(0, a.count - 1)] }

    /// Uniform in [-1, 1).
    public mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    /// Uniform in the range.
    public mutating func float(in r: ClosedRange<Float>) -> Float {
        r.lowerBound + (r.upperBound - r.lowerBound) * (Float(next() >> 40) / Float(1 << 24))
    }
    /// `n` floats uniform in [-1, 1).
    public mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }

    /// A float tensor uniform in `r`.
    public mutating func tensor(_ shape: [Int], _ r: ClosedRange<Float> = -1...1) -> Tensor {
        Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in float(in: r) })
    }

    /// Values in ±[lo, hi]: away from zero, for kinked ops.
    public mutating func awayFromZero(_ shape: [Int], _ lo: Float = 0.2, _ hi: Float = 1.5) -> Tensor {
        Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in
            let v = float(in: lo...hi); return next() & 1 == 0 ? v : -v })
    }
}

/// `n` floats uniform in `range`, reproducible from `seed`.
public func randomFloats(_ n: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    var g = SeededRandom(seed: seed)
    return (0..<n).map { _ in g.float(in: range) }
}
