// Latents: the sampling latents of Gannet — a Philox4x32-10 stream per (seed, index), seed
// lists, truncation. gan-sample, gan-interpolate, gan-eval and the training loop's fixed frame
// grid all draw latents here, so latent i of seed S is the same vector everywhere.
//
// Contract:
// - `LatentStream(seed:, index:)` keys Philox by `seed` and puts `index` in counter words 2–3;
//   block b (words 0–1) yields four 32-bit words → two 53-bit uniforms in (0, 1) → two
//   standard normals by Box-Muller (computed in Double, rounded to Float); a `uniform` latent
//   (the spec's latent.distribution, ONNX metadata gannet.latent_distribution) maps the same
//   two uniforms to 2u − 1 in (−1, 1) instead. Stream (S, i) is latent i of
//   `--seed S`; `--seeds K` uses stream (K, 0), so `--seed K` tile 0 equals `--seeds K`.
//   gan-train's fixed frame grid is latents 0..<fixed_samples of the run's seed, so tile i of a
//   run's frames is `gan-sample --seed <seed>` tile i.
// - Truncation ψ resamples: each coordinate takes the next normal of its stream with |v| ≤ ψ
//   (the BigGAN truncated normal). ψ = nil means no truncation. ψ must be at least
//   `minTruncation` (0.01: about 125 draws per coordinate on average; smaller ψ takes time
//   ∝ 1/ψ and is refused by the tools); below it `vector` uses `minTruncation`.
// - `parseSeeds` gives at most `maxSeeds` seeds (65536, gan-sample's largest --n).

import Foundation

/// An endless stream of standard normals (or uniforms) keyed by (seed, index).
public struct LatentStream {
    public let seed: UInt64
    public let index: UInt64
    private var block: UInt64 = 0
    private var pending: [Double] = []
    private var pendingUniform: [Double] = []

    public init(seed: UInt64, index: UInt64) {
        self.seed = seed
        self.index = index
    }

    /// The next block's two uniforms in (0, 1): words (0,1) and (2,3) combined to 53 bits each.
    private mutating func nextUniformPair() -> (Double, Double) {
        let out = Philox4x32.block(
            counter: (UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: block >> 32),
                      UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32)),
            key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
        block &+= 1
        let u1 = (Double(UInt64(out.0) << 21 ^ UInt64(out.1 >> 11)) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = (Double(UInt64(out.2) << 21 ^ UInt64(out.3 >> 11)) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
        return (u1, u2)
    }

    /// The next standard normal.
    public mutating func nextNormal() -> Double {
        if pending.isEmpty {
            let (u1, u2) = nextUniformPair()
            let r = (-2 * Foundation.log(u1)).squareRoot()
            let theta = 2 * Double.pi * u2
            pending = [r * Foundation.sin(theta), r * Foundation.cos(theta)]
        }
        return pending.removeLast()
    }

    /// The next uniform in (−1, 1).
    public mutating func nextSymmetricUniform() -> Double {
        if pendingUniform.isEmpty {
            let (u1, u2) = nextUniformPair()
            pendingUniform = [2 * u2 - 1, 2 * u1 - 1]
        }
        return pendingUniform.removeLast()
    }
}

public enum Latents {
    /// A latent of `size` standard normals (`distribution` "uniform": uniforms in (−1, 1)) for
    /// stream (seed, index); with `truncation` ψ each coordinate is resampled (next draw of the
    /// stream) until |v| ≤ ψ.
    public static func vector(seed: UInt64, index: UInt64, size: Int, truncation: Double? = nil,
                              distribution: String = "normal") -> [Float] {
        let truncation = truncation.map { $0.isNaN ? minTruncation : max($0, minTruncation) }
        var s = LatentStream(seed: seed, index: index)
        let uniform = distribution == "uniform"
        func draw() -> Double { uniform ? s.nextSymmetricUniform() : s.nextNormal() }
        var out = [Float]()
        out.reserveCapacity(size)
        for _ in 0..<size {
            var v = draw()
            if let psi = truncation {
                while abs(v) > psi { v = draw() }
            }
            out.append(Float(v))
        }
        return out
    }

    /// The smallest truncation ψ the tools accept.
    public static let minTruncation = 0.01
    /// The most seeds one seed list may give.
    public static let maxSeeds = 65536

    /// Parses a seed list: `7`, `0-63`, `1,5,9`, or a mix (`0-3,10`). Ranges are inclusive;
    /// at most `maxSeeds` seeds in all.
    public static func parseSeeds(_ text: String) throws -> [UInt64] {
        var seeds: [UInt64] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let p = part.trimmingCharacters(in: .whitespaces)
            let bounds = p.split(separator: "-", omittingEmptySubsequences: false)
            if bounds.count == 1, let v = UInt64(p) {
                guard seeds.count < maxSeeds else { throw Failure("--seeds \(text): gives more than \(maxSeeds) seeds") }
                seeds.append(v)
            } else if bounds.count == 2, let a = UInt64(bounds[0]), let b = UInt64(bounds[1]), a <= b {
                guard b - a < UInt64(maxSeeds - seeds.count) else { throw Failure("--seeds \(text): gives more than \(maxSeeds) seeds") }
                seeds += Array(a...b)
            } else {
                throw Failure("--seeds \(text): '\(p)' is not a seed, a range a-b (a ≤ b) or a comma list")
            }
        }
        return seeds
    }
}
