// RandomStream: Philox4x32-10 (Philox.swift) keyed by seed, step and purpose — training's
// random inputs, dropout masks, shuffling, and the classifier's batches.
//
// Contract: `RandomStream(seed:step:purpose:)` yields the same numbers on every machine and
// thread count; draws for (seed, step, purpose) never depend on how many numbers other
// purposes drew, so a resumed run reproduces an uninterrupted one from the counters alone.
// An optional 32-bit stream id splits (seed, step, purpose) further (one stream per dropout
// mask, keyed by the mask's name). uniform() ∈ [0,1) with 24 random bits; normal() by Box–Muller on uniforms in (0,1].
// Seeking: `skip(words:)` jumps over draws in O(1) (Philox is counter-based), and
// `skipLatents` jumps to element j of a `latents` sequence (`uniforms` and `dropoutMask` take
// one word per element: `skip(words: j)`), so element j is the same number whether a stream draws from 0 or starts at j (data-parallel ranks draw
// only their rows of a global batch's random inputs).

import Foundation

/// What a stream of numbers is for; each purpose is an independent stream.
public enum RandomPurpose: UInt32, Sendable {
    case latent = 1, labels, alpha, shuffle, dropout, initialization, sampling, generatorLatent, generatorLabels
}

public struct RandomStream {
    private let key: (UInt32, UInt32)
    private var counter: (UInt32, UInt32, UInt32, UInt32)
    private var buffer: [UInt32] = []
    private var spareNormal: Float? = nil

    public init(seed: UInt64, step: UInt64, purpose: RandomPurpose) {
        self.init(seed: seed, step: step, purpose: purpose, stream: 0)
    }

    /// One of 2³² independent streams of (seed, step, purpose) — e.g. one per dropout mask,
    /// `stream` being `RandomStream.streamID(name)`. Stream 0 is the plain stream. The stream id
    /// is XORed into the step's high counter word, so streams are distinct for steps below 2³².
    public init(seed: UInt64, step: UInt64, purpose: RandomPurpose, stream: UInt32) {
        key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        counter = (0, UInt32(truncatingIfNeeded: step), UInt32(truncatingIfNeeded: step >> 32) ^ stream, purpose.rawValue)
    }

    /// A stable 32-bit id for a name (FNV-1a over its UTF-8 bytes; never 0), the same on every
    /// machine and run (unlike `hashValue`).
    public static func streamID(_ name: String) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        return h == 0 ? 1 : h
    }

    /// Skips the next `words` 32-bit draws (as `nextUInt32` would have returned them), in O(1).
    /// Clears a pending Box–Muller normal.
    public mutating func skip(words: Int) {
        precondition(words >= 0, "RandomStream.skip: negative count \(words)")
        spareNormal = nil
        var w = words
        let buffered = min(w, buffer.count)
        buffer.removeLast(buffered)
        w -= buffered
        guard w > 0 else { return }
        // The block counter is words 0–1 as one 64-bit number (nextUInt32's carry).
        let block = (UInt64(counter.1) << 32 | UInt64(counter.0)) &+ UInt64(w / 4)
        counter.0 = UInt32(truncatingIfNeeded: block)
        counter.1 = UInt32(truncatingIfNeeded: block >> 32)
        for _ in 0..<(w % 4) { _ = nextUInt32() }
    }

    /// From a fresh stream: skips the first `count` elements of `latents(_, distribution:)`
    /// (normals come in Box–Muller pairs of two words; uniforms take one word each).
    public mutating func skipLatents(_ count: Int, distribution: String) {
        if distribution == "uniform" { return skip(words: count) }
        skip(words: 2 * (count / 2))
        if count % 2 == 1 { _ = normal() }
    }

    /// An inverted-dropout mask of `count` elements: 0 with probability `ratio`, else
    /// 1/(1 − ratio) (PyTorch's Dropout in training).
    public mutating func dropoutMask(_ count: Int, ratio: Float) -> [Float] {
        let keep = 1 / (1 - ratio)
        return (0..<count).map { _ in uniform() < ratio ? 0 : keep }
    }

    public mutating func nextUInt32() -> UInt32 {
        if buffer.isEmpty {
            let (a, b, c, d) = Philox4x32.block(counter: counter, key: key)
            buffer = [d, c, b, a]
            counter.0 &+= 1
            if counter.0 == 0 { counter.1 &+= 1 }
        }
        return buffer.removeLast()
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(nextUInt32() >> 8) * (1.0 / 16_777_216.0) }

    /// Standard normal.
    public mutating func normal() -> Float {
        if let s = spareNormal { spareNormal = nil; return s }
        let u1 = Float(Double(nextUInt32() >> 8) + 1) * (1.0 / 16_777_216.0)   // (0, 1]
        let u2 = uniform()
        let r = (-2 * logf(u1)).squareRoot()
        let t = 2 * Float.pi * u2
        spareNormal = r * sinf(t)
        return r * cosf(t)
    }

    /// A uniform integer in 0..<n (n ≥ 1), without modulo bias.
    public mutating func below(_ n: Int) -> Int {
        precondition(n >= 1)
        let bound = UInt64(n)
        while true {
            let x = UInt64(nextUInt32())
            let m = x * bound
            if UInt32(truncatingIfNeeded: m) >= UInt32(truncatingIfNeeded: (1 << 32) % bound) || bound == 1 { return Int(m >> 32) }
        }
    }

    public mutating func normals(_ count: Int) -> [Float] { (0..<count).map { _ in normal() } }
    public mutating func uniforms(_ count: Int) -> [Float] { (0..<count).map { _ in uniform() } }
    /// Latent draws: standard normals, or for `uniform` values in [−1, 1).
    public mutating func latents(_ count: Int, distribution: String) -> [Float] {
        distribution == "uniform" ? (0..<count).map { _ in 2 * uniform() - 1 } : normals(count)
    }

    /// A seeded Fisher–Yates permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, below(i + 1)) }
        return p
    }
}

