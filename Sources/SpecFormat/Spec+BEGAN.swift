// Spec+BEGAN: the `began` loss's options in a spec's `loss` section.
//
// Contract: `gamma` (γ, the target ratio E[L(G(z))] / E[L(x)], in (0, 1]; default 0.5) and
// `lambda_k` (λ_k, the gain of the k_t control, ≥ 0; default 0.001) apply to `kind: began`
// only; either key on another loss, a value out of range, or `feature_matching` with began is
// an error at the key. The discriminator of a began spec must be an autoencoder (its output the
// shape of its image input); GANSteps checks that when it builds the steps.

import Yams

extension SpecReader {
    func beganOptions(_ m: MapReader, into l: inout LossSpec) throws {
        let isBEGAN = l.kind == .began
        for key in ["gamma", "lambda_k"] where m.has(key) && !isBEGAN {
            throw ctx.error(m.keyNode(key)!, "loss: '\(key)' applies to began only")
        }
        guard isBEGAN else { return }
        if m.has("feature_matching") {
            throw ctx.error(m.keyNode("feature_matching")!, "loss: 'feature_matching' does not apply to began (its G loss is the autoencoder loss of G(z))")
        }
        if let g = try m.double("gamma") {
            guard g > 0 && g <= 1 else { throw ctx.error(m.value("gamma")!, "loss.gamma must be in (0, 1], got \(g)") }
            l.gamma = g
        }
        if let k = try m.double("lambda_k") {
            guard k >= 0 && k.isFinite else { throw ctx.error(m.value("lambda_k")!, "loss.lambda_k must not be negative, got \(k)") }
            l.lambdaK = k
        }
    }
}
