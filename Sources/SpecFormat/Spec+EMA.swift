// Spec+EMA: the spec's `ema` section — an exponential moving average of the generator's weights,
// the generator gan-train exports (GAN/GeneratorEMA.swift).
//
// Contract: `ema: {decay: β, start: s}`; `decay` is required, in (0, 1); `start` (default 0)
// is the number of G steps during which the average is a plain copy of the weights (G starts
// as noise). `ema: 0.999` is short for `{decay: 0.999}`. No `ema` key: no average, gan-train
// exports the trained weights. Errors name the key.

import Yams

/// Settings of the generator's weight average.
public struct EMASpec: Equatable, Sendable {
    /// β in avg ← β·avg + (1−β)·w after each G step.
    public var decay: Double
    /// G steps during which the average follows the weights exactly.
    public var start: Int = 0

    public init(decay: Double, start: Int = 0) {
        self.decay = decay
        self.start = start
    }
}

extension SpecReader {
    func ema(_ node: Node) throws -> EMASpec {
        func decay(_ n: Node, _ what: String) throws -> Double {
            guard let plain = ctx.plainScalar(n), let v = Double(plain), v > 0, v < 1 else {
                throw ctx.error(n, "\(what) must be a number in (0, 1) (e.g. 0.999), got \(ctx.describe(n))")
            }
            return v
        }
        if case .scalar = node { return EMASpec(decay: try decay(node, "ema")) }
        let m = try MapReader(node, "ema", ctx, keys: ["decay", "start"])
        guard let d = m.value("decay") else { throw ctx.error(node, "ema: missing 'decay' (a number in (0, 1), e.g. 0.999)") }
        return EMASpec(decay: try decay(d, "ema.decay"), start: try m.nonNegative("start") ?? 0)
    }
}
