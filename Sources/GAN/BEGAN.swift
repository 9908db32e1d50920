// BEGAN: the boundary equilibrium GAN (Berthelot, Schumm, Metz 2017) as `loss: began`.
//
// Contract: the discriminator is an autoencoder D: image → image (same shape). With the
// autoencoder loss L(v) = mean |v − D(v)| (over every element of the batch):
// - D step: L_D = L(x) − k_t·L(G(z)); its outputs are [L_D, L(x), L(G(z))] (metrics d_loss,
//   l_real, l_fake); k_t is the step's runtime input `k` (f32[1]).
// - G step: L_G = L(G(z)).
// - After each D step the control advances, in float32:
//   k_{t+1} = clip(k_t + λ_k·(γ·L(x) − L(G(z))), 0, 1), with L(x), L(G(z)) of that D step, and
//   the convergence measure M_global = L(x) + |γ·L(x) − L(G(z))| is reported with the k_t the
//   step used. k_t lives in the ParameterStore as `began/k_t` (f32[1], starts at 0), so
//   checkpoints carry it and a resumed run stays bit-identical.

import GraphIR
import Runtime
import SpecFormat
import Training

extension GraphComposer {
    /// BEGAN's autoencoder loss L(v) = mean |v − D(v)| as f32[1]; `reconstruction` is D(v).
    public mutating func autoencoderLoss(_ v: ValueID, reconstruction: ValueID) -> ValueID {
        mean(apply(.abs, [apply(.sub, [v, reconstruction], name: "began/diff")], name: "began/abs"))
    }
}

/// The k_t control and convergence measure of BEGAN (eq. 4 and §3.4.1 of the paper).
public enum BEGANControl {
    /// The store name of k_t.
    public static let stateName = "began/k_t"

    /// k_{t+1} = clip(k_t + λ_k·(γ·L(x) − L(G(z))), 0, 1), in float32 in this order.
    public static func next(k: Float, lossReal: Float, lossFake: Float, gamma: Float, lambdaK: Float) -> Float {
        let balance = gamma * lossReal - lossFake
        return min(max(k + lambdaK * balance, 0), 1)
    }

    /// M_global = L(x) + |γ·L(x) − L(G(z))|.
    public static func convergence(lossReal: Float, lossFake: Float, gamma: Float) -> Float {
        lossReal + abs(gamma * lossReal - lossFake)
    }
}

extension GANSteps {
    public var isBEGAN: Bool { spec.loss.kind == .began }

    /// The current k_t (0 before the first D step; nil for other losses).
    public var beganK: Float? { isBEGAN ? store.tensor(BEGANControl.stateName)?.floats.first ?? 0 : nil }

    /// Creates k_t = 0 in the store and checks that D maps images to images.
    func prepareBEGAN() throws {
        guard isBEGAN else { return }
        if !store.contains(BEGANControl.stateName) { try store.set(BEGANControl.stateName, Tensor(shape: [1], floats: [0])) }
        let out = discriminator.outputs.first.flatMap { discriminator.type(of: $0) }
        let perSample = out.map { Array($0.shape.dropFirst()).map(\.value) }
        guard let perSample, perSample == imageShape.map(Optional.some) else {
            throw GraphError("\(spec.file): loss began needs an autoencoder discriminator whose output has the image shape \(imageShape), '\(discriminator.name)' outputs \(out.map { "\($0)" } ?? "nothing")")
        }
    }

    /// Advances k_t after a D step with outputs `l_real`, `l_fake`; returns the k_t the step
    /// used and M_global, as `k_t` and `m_global`.
    public func advanceBEGAN(_ d: [String: Float]) throws -> [String: Float] {
        guard isBEGAN, let k = beganK, let lr = d["l_real"], let lf = d["l_fake"] else { return [:] }
        let gamma = Float(spec.loss.gamma)
        let next = BEGANControl.next(k: k, lossReal: lr, lossFake: lf, gamma: gamma, lambdaK: Float(spec.loss.lambdaK))
        try store.set(BEGANControl.stateName, Tensor(shape: [1], floats: [next]))
        return ["k_t": k, "m_global": BEGANControl.convergence(lossReal: lr, lossFake: lf, gamma: gamma)]
    }
}

/// `began`: the D step's loss L(x) − k_t·L(G(z)) with scores `l_real` = L(x), `l_fake` =
/// L(G(z)), reading the runtime input `k` (f32[1], fed from the store's k_t); G's loss L(G(z)).
public struct BEGANRecipe: GANRecipe {
    public var kind: LossKind { .began }
    public func discriminatorLoss(_ c: inout GraphComposer, _ d: DiscriminatorStep) throws -> DiscriminatorLoss {
        let k = c.input("k", TensorType(.float32, fixed: [1]))
        let lReal = c.autoencoderLoss(d.real, reconstruction: d.dReal)
        let lFake = c.autoencoderLoss(d.fake, reconstruction: d.dFake)
        let total = c.sub(lReal, c.apply(.mul, [k, lFake], name: "began/k_times_fake"))
        return DiscriminatorLoss(total: total, scores: [("l_real", lReal), ("l_fake", lFake)])
    }
    public func generatorLoss(_ c: inout GraphComposer, fake: ValueID, dFake: ValueID) -> ValueID {
        c.autoencoderLoss(fake, reconstruction: dFake)
    }
    public func discriminatorInputs(_ steps: GANSteps, real: Tensor, iteration: Int, rows: Range<Int>) -> [String: Tensor] {
        steps.beganK.map { ["k": Tensor(shape: [1], floats: [$0])] } ?? [:]
    }
}
