// Spec+Health: the spec's `health` section — gan-train's live training-health monitor
// (GAN/HealthMonitor.swift): on by default; `health: false` turns it off, a mapping tunes it.
//
// Contract: every key is optional; defaults are documented in Specs/README.md and were
// calibrated on recorded mnist_gan / fashion_dcgan traces (Tests/Fixtures/health). Values are
// checked at the key (positive counts, thresholds ≥ 0, ratios > 0).

import Yams

/// Settings of the training-health monitor.
public struct HealthSpec: Equatable, Sendable {
    public var enabled = true
    /// Iterations between checks.
    public var every = 50
    /// No collapse, oscillation or dominating-D warning before this iteration (G starts as noise).
    public var warmup = 200
    /// Mode collapse: frame diversity per pixel (mean pairwise L2 distance of the fixed-latent
    /// samples, pixels in [0, 1], divided by √(pixels per sample)) below this.
    public var collapseDiversity = 0.15
    /// Oscillation: frame-to-frame change per pixel (mean L2 distance of a sample from itself in
    /// the previous frame, / √pixels) at least `oscillationChange` and not below
    /// `oscillationRatio` × its value `oscillationLookback` iterations earlier.
    public var oscillationChange = 0.06
    public var oscillationRatio = 1.0
    public var oscillationLookback = 1000
    /// Dominating D: mean D(real) − mean D(fake) above `dominatingGap` (nil: the loss's default,
    /// see `defaultDominatingGap`) while G's gradient norm is below `vanishingRatio` × its
    /// running median.
    public var dominatingGap: Double? = nil
    public var vanishingRatio = 0.1
    /// Divergence: a non-finite loss or score, or |loss|, |score| or a gradient norm above
    /// `divergenceFactor` × its running median (and above 1).
    public var divergenceFactor = 100.0

    public init() {}

    /// The score gap above which D dominates, by loss: logit losses 12 (D's sigmoid ≈ 0.999994
    /// on real, 0.000006 on fake), probabilities (bce_sigmoid) 0.98; nil (off) for critics and
    /// BEGAN, whose scores have no fixed scale.
    public static func defaultDominatingGap(loss: LossKind) -> Double? {
        switch loss {
        case .ganBCELogits, .lsgan, .hinge, .dragan: return 12
        case .bceSigmoid: return 0.98
        case .wganGP, .cwganGP, .began, .crossEntropy: return nil
        }
    }
}

extension SpecReader {
    func health(_ node: Node?) throws -> HealthSpec {
        var h = HealthSpec()
        guard let node else { return h }
        if case .scalar = node {
            h.enabled = try ctx.bool(node, "health")
            return h
        }
        let m = try MapReader(node, "health", ctx, keys: ["enabled", "every", "warmup", "collapse_diversity", "oscillation_change",
                                                         "oscillation_ratio", "oscillation_lookback", "dominating_gap",
                                                         "vanishing_ratio", "divergence_factor"])
        if let e = try m.bool("enabled") { h.enabled = e }
        if let v = try m.positive("every") { h.every = v }
        if let v = try m.nonNegative("warmup") { h.warmup = v }
        if let v = try m.positive("oscillation_lookback") { h.oscillationLookback = v }
        func nonNegative(_ key: String, _ target: inout Double) throws {
            guard let v = try m.double(key) else { return }
            guard v >= 0, v.isFinite else { throw ctx.error(m.value(key)!, "health.\(key) must be a non-negative number, got \(v)") }
            target = v
        }
        try nonNegative("collapse_diversity", &h.collapseDiversity)
        try nonNegative("oscillation_change", &h.oscillationChange)
        try nonNegative("oscillation_ratio", &h.oscillationRatio)
        try nonNegative("vanishing_ratio", &h.vanishingRatio)
        try nonNegative("divergence_factor", &h.divergenceFactor)
        if m.value("dominating_gap") != nil {
            var gap = 0.0
            try nonNegative("dominating_gap", &gap)
            h.dominatingGap = gap
        }
        return h
    }
}
