// Philox: the one counter-based generator block of Gannet (Philox4x32-10, Salmon et al., SC'11).
//
// Contract: a pure function of a 128-bit counter and a 64-bit key; integer arithmetic only, so
// identical on every platform. Known answers: Random123's kat_vectors (Tests/TrainingTests/
// RandomTests.swift). Every random number Gannet draws at run time (training inputs, dropout
// masks, shuffling, sampling latents) comes from this block through `RandomStream` or
// `LatentStream`.

/// Philox4x32-10: 10 rounds of the Philox bijection over a 4×32-bit counter with a 2×32-bit key.
public enum Philox4x32 {
    public static let m0: UInt32 = 0xD251_1F53, m1: UInt32 = 0xCD9E_8D57
    public static let w0: UInt32 = 0x9E37_79B9, w1: UInt32 = 0xBB67_AE85

    /// The four output words for `counter` under `key`.
    @inline(__always)
    public static func block(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var (c0, c1, c2, c3) = counter
        var (k0, k1) = key
        for r in 0..<10 {
            if r > 0 { k0 &+= w0; k1 &+= w1 }
            let p0 = UInt64(m0) * UInt64(c0), p1 = UInt64(m1) * UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
        }
        return (c0, c1, c2, c3)
    }
}
