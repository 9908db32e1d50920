// CounterHash: the per-element hash behind weight initialisation (SpecFormat's Initializers).
//
// Contract: element i of a parameter is mix(key + (i+1)·γ) with key = mix(seed + mix(fnv1a(name)))
// and mix the SplitMix64 finaliser, so it depends only on (seed, parameter name, i): adding,
// removing or reordering other parameters never changes it, and a whole tensor is filled in
// one pass without per-element state. It is the only non-Philox generator in Gannet and it
// draws only initial weights: every committed PyTorch training fixture (Tests/Fixtures/train)
// and every shipped model's starting point was drawn from it, so it stays bit-for-bit.
// Uniform draws use 24 random bits (exactly representable floats in [0,1)); normal draws use
// Box–Muller on two counters.

import Foundation

/// The initializers' counter hash keyed by (seed, parameter name): draw i is a pure function of
/// the key and i (SplitMix64's finaliser over key + (i+1)·γ).
public struct CounterHash: Sendable, Equatable {
    public let key: UInt64

    public init(seed: UInt64, stream: String) {
        key = CounterHash.mix(seed &+ CounterHash.mix(CounterHash.fnv1a(stream)))
    }

    /// The SplitMix64 finaliser.
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// FNV-1a over the UTF-8 bytes.
    public static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// 64 random bits for counter i.
    @inline(__always)
    public func bits(_ i: UInt64) -> UInt64 { CounterHash.mix(key &+ i &* 0x9E37_79B9_7F4A_7C15) }

    /// Uniform in [0, 1) for counter i, 24 bits.
    @inline(__always)
    public func unit(_ i: UInt64) -> Float { Float(bits(i) >> 40) * (1.0 / 16_777_216.0) }

    /// `count` draws uniform in [lo, hi).
    public func uniform(count: Int, _ lo: Float, _ hi: Float) -> [Float] {
        let k = key
        let scale = (hi - lo) * (1.0 / 16_777_216.0)
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            var c = k
            for i in 0..<count {
                c &+= 0x9E37_79B9_7F4A_7C15
                var z = c  // = key + (i+1)·γ, the same as bits(i)
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                buf[i] = lo + scale * Float(z >> 40)
            }
            n = count
        }
    }

    /// `count` draws from N(mean, std²) (Box–Muller over counter pairs).
    public func normal(count: Int, mean: Float, std: Float) -> [Float] {
        let u = uniform(count: count + (count & 1), 0, 1)
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            var i = 0
            while i < count {
                let u1 = Double(1 - u[i])  // (0, 1]
                let u2 = Double(u[i + 1])
                let r = (-2 * Foundation.log(u1)).squareRoot()
                let t = 2 * Double.pi * u2
                buf[i] = mean + std * Float(r * Foundation.cos(t))
                if i + 1 < count { buf[i + 1] = mean + std * Float(r * Foundation.sin(t)) }
                i += 2
            }
            n = count
        }
    }
}
