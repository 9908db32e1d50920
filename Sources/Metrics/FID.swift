// FID: Fréchet distance between Gaussians fitted to two feature sets (gan-metrics.md §1).
//
// Contract: `FeatureStatistics(features:count:dimension:)` computes the mean and the UNBIASED
// covariance (divides by N − 1, as np.cov(rowvar=False)) in Double from row-major Float
// features. `FID.distance(a, b)` = ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2·Tr((Σ₁Σ₂)^{1/2}), the trace
// term by the symmetric-eigen route: Σ₁ = V diag(λ) Vᵀ, A = V diag(√max(λ,0)) Vᵀ, then
// Tr((Σ₁Σ₂)^{1/2}) = Σ √max(eig(A Σ₂ A), 0). No complex arithmetic, no eps fallback.

import Foundation
import Kernels

/// Mean and unbiased covariance of a feature set.
public struct FeatureStatistics: Equatable, Sendable {
    public let dimension: Int
    public let count: Int
    public let mean: [Double]
    /// Row-major d×d unbiased covariance.
    public let covariance: [Double]

    public init(mean: [Double], covariance: [Double], count: Int) {
        precondition(covariance.count == mean.count * mean.count, "covariance must be d×d for a mean of d")
        self.dimension = mean.count
        self.count = count
        self.mean = mean
        self.covariance = covariance
    }

    /// Statistics of `count` row-major feature vectors of `dimension` floats.
    public init(features: [Float], count n: Int, dimension d: Int, pool: ThreadPool = .serial) {
        self.init(features: features.map(Double.init), count: n, dimension: d, pool: pool)
    }

    /// Statistics of `count` row-major Double feature vectors of `dimension` values.
    public init(features: [Double], count n: Int, dimension d: Int, pool: ThreadPool = .serial) {
        precondition(features.count == n * d, "features have \(features.count) values, expected \(n)×\(d)")
        var mu = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { mu[j] += features[r * d + j] } }
        if n > 0 { for j in 0..<d { mu[j] /= Double(n) } }
        var cov = [Double](repeating: 0, count: d * d)
        // Centered rows in Double, then the upper triangle row by row (parallel over rows i),
        // over blocks of 64 samples so a block stays in cache while every row i reads it; each
        // entry still sums its samples in order r = 0, 1, ….
        var centered = [Double](repeating: 0, count: n * d)
        for r in 0..<n { for j in 0..<d { centered[r * d + j] = features[r * d + j] - mu[j] } }
        let denom = Double(max(n - 1, 1))
        let block = 64
        centered.withUnsafeBufferPointer { xb in
            cov.withUnsafeMutableBufferPointer { cb in
                let x = xb.baseAddress!, c = cb.baseAddress!
                for r0 in stride(from: 0, to: n, by: block) {
                    let r1 = min(r0 + block, n)
                    pool.parallelFor(d) { rows in
                        for i in rows {
                            let ci = c + i * d
                            for r in r0..<r1 {
                                let xr = x + r * d
                                let xi = xr[i]
                                if xi == 0 { continue }
                                for j in i..<d { ci[j] += xi * xr[j] }
                            }
                        }
                    }
                }
                for i in 0..<d { for j in i..<d { c[i * d + j] /= denom } }
                for i in 0..<d { for j in 0..<i { c[i * d + j] = c[j * d + i] } }
            }
        }
        self.init(mean: mu, covariance: cov, count: n)
    }
}

public enum FID {
    /// Σ₁^{1/2} = V diag(√max(λ, 0)) Vᵀ of a symmetric PSD row-major d×d matrix.
    public static func sqrtPSD(_ s: [Double], dimension d: Int, pool: ThreadPool = .serial) -> [Double] {
        let (lam, v) = SymmetricEigen.decompose(s, n: d, pool: pool)
        var vs = v
        for r in 0..<d { for k in 0..<d { vs[r * d + k] *= max(lam[k], 0).squareRoot() } }
        return matmul(vs, transpose(v, d), d, pool)
    }

    /// Tr((Σ₁Σ₂)^{1/2}) = Σ √max(eig(A Σ₂ A), 0) given A = Σ₁^{1/2} (`sqrtPSD`).
    public static func traceSqrtProduct(sqrt1 a: [Double], _ s2: [Double], dimension d: Int, pool: ThreadPool = .serial) -> Double {
        let m = matmul(matmul(a, s2, d, pool), a, d, pool)
        let mu = SymmetricEigen.eigenvalues(m, n: d, pool: pool)
        return mu.reduce(0) { $0 + max($1, 0).squareRoot() }
    }

    /// Tr((Σ₁Σ₂)^{1/2}) by the symmetric-eigen route.
    public static func traceSqrtProduct(_ s1: [Double], _ s2: [Double], dimension d: Int, pool: ThreadPool = .serial) -> Double {
        traceSqrtProduct(sqrt1: sqrtPSD(s1, dimension: d, pool: pool), s2, dimension: d, pool: pool)
    }

    /// A reference set's statistics with Σ^{1/2} computed once, for scoring several sets
    /// against it (gan-eval: the model and the baseline).
    public struct Reference: Sendable {
        public let statistics: FeatureStatistics
        public let sqrtCovariance: [Double]
        public init(_ statistics: FeatureStatistics, pool: ThreadPool = .serial) {
            self.statistics = statistics
            sqrtCovariance = FID.sqrtPSD(statistics.covariance, dimension: statistics.dimension, pool: pool)
        }
    }

    /// The Fréchet distance between `reference` (as Σ₁) and `b`; equals `distance(reference.statistics, b)`.
    public static func distance(_ reference: Reference, _ b: FeatureStatistics, pool: ThreadPool = .serial) -> Double {
        let a = reference.statistics
        precondition(a.dimension == b.dimension, "feature widths differ: \(a.dimension) vs \(b.dimension)")
        let d = a.dimension
        var diff = 0.0
        for j in 0..<d { let t = a.mean[j] - b.mean[j]; diff += t * t }
        var tr1 = 0.0, tr2 = 0.0
        for j in 0..<d { tr1 += a.covariance[j * d + j]; tr2 += b.covariance[j * d + j] }
        return diff + tr1 + tr2 - 2 * traceSqrtProduct(sqrt1: reference.sqrtCovariance, b.covariance, dimension: d, pool: pool)
    }

    /// The Fréchet distance between two fitted Gaussians.
    public static func distance(_ a: FeatureStatistics, _ b: FeatureStatistics, pool: ThreadPool = .serial) -> Double {
        precondition(a.dimension == b.dimension, "feature widths differ: \(a.dimension) vs \(b.dimension)")
        return distance(Reference(a, pool: pool), b, pool: pool)
    }

    /// FID of two row-major feature sets.
    public static func distance(real: [Float], fake: [Float], dimension d: Int, pool: ThreadPool = .serial) -> Double {
        distance(FeatureStatistics(features: real, count: real.count / d, dimension: d, pool: pool),
                 FeatureStatistics(features: fake, count: fake.count / d, dimension: d, pool: pool), pool: pool)
    }

    static func transpose(_ x: [Double], _ d: Int) -> [Double] {
        var t = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { t[j * d + i] = x[i * d + j] } }
        return t
    }

    /// Row-major d×d product, rows of the result split over `pool` (each row summed in the same
    /// order whatever the split).
    static func matmul(_ x: [Double], _ y: [Double], _ d: Int, _ pool: ThreadPool = .serial) -> [Double] {
        var c = [Double](repeating: 0, count: d * d)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeBufferPointer { yb in
                c.withUnsafeMutableBufferPointer { cb in
                    let x = xb.baseAddress!, y = yb.baseAddress!, c = cb.baseAddress!
                    pool.parallelFor(d) { rows in
                        for i in rows {
                            let ci = c + i * d
                            for k in 0..<d {
                                let xik = x[i * d + k]
                                if xik == 0 { continue }
                                let yk = y + k * d
                                for j in 0..<d { ci[j] += xik * yk[j] }
                            }
                        }
                    }
                }
            }
        }
        return c
    }
}
