// GANRecipe: each GAN loss recipe — its D (critic) loss, its G loss, the extra inputs its D
// step reads and the D step's *named* metrics — as one value of one protocol.
//
// Contract: `LossSpec.recipe(file:)` maps the spec's LossKind to its recipe (parsed once at
// load time; `cross_entropy` is a classifier loss and an error here). `discriminatorLoss`
// appends the D loss to a composed D step (G(z), D(real), D(fake) already inlined) and returns
// it with named metrics: the two score metrics (default `d_real` = mean D(real), `d_fake` =
// mean D(fake), appended after the loss) and the recipe's own (`wdist`, `gp`, `bce`, …). The
// D step reports `d_loss`, the scores, the recipe's metrics and `d_grad_norm`, each by name
// end to end (StepPlan.metrics → TrainStep.metrics), so no consumer depends on output order.
// `generatorLoss` builds the G loss from G(z) and D(G(z)); `discriminatorInputs` draws the
// D step's extra inputs (α, the DRAGAN perturbation, BEGAN's k_t) for an iteration, keyed by
// (seed, iteration, purpose) as every other random input.
// Recipes (seed-experiments.md): non-saturating GAN on logits, BCE on probabilities, LSGAN,
// hinge, WGAN-GP and conditional WGAN-GP (λ·(‖∇D(αx + (1−α)G(z))‖ − 1)²), DRAGAN (the
// penalty at x + 0.5·std(x)·u), BEGAN (BEGAN.swift).

import Core
import GraphIR
import Passes
import SpecFormat
import Training

/// A named scalar output of a step.
public typealias Metric = (name: String, value: ValueID)

/// The composed D-step values a recipe builds its loss from.
public struct DiscriminatorStep {
    /// The real batch x (N,C,H,W), G(z), D(x), D(G(z)).
    public var real: ValueID
    public var fake: ValueID
    public var dReal: ValueID
    public var dFake: ValueID
    /// The real batch size and the per-sample image shape.
    public var batch: Int
    public var imageShape: [Int]
    /// Whether the spec sets `sync_batchnorm`: penalties expand the critic's BatchNorms synchronised.
    public var synchronizedBatchNorm: Bool = false
    /// The step's training pipeline (GANSteps.passes), which penalties run before differentiating
    /// so that the BatchNorms they see are the ones the step compiles (fused unless `--no-fuse`
    /// or `sync_batchnorm`); nil: every training BatchNorm expanded.
    public var passes: [Pass]? = nil
    /// Inlines another training-mode call of D (with the step's labels) on a value: for penalties.
    public var critic: (inout GraphComposer, ValueID) throws -> ValueID
}

/// A D loss and its named metrics.
public struct DiscriminatorLoss {
    public var total: ValueID
    /// The two score metrics; nil: `d_real` = mean D(real), `d_fake` = mean D(fake).
    public var scores: [Metric]?
    /// The recipe's own metrics, reported after the scores.
    public var extra: [Metric]

    public init(total: ValueID, scores: [Metric]? = nil, extra: [Metric] = []) {
        self.total = total
        self.scores = scores
        self.extra = extra
    }
}

public protocol GANRecipe {
    var kind: LossKind { get }
    /// Appends the D (critic) loss to the composed D step.
    func discriminatorLoss(_ c: inout GraphComposer, _ d: DiscriminatorStep) throws -> DiscriminatorLoss
    /// Appends the G loss given G(z) and D(G(z)).
    func generatorLoss(_ c: inout GraphComposer, fake: ValueID, dFake: ValueID) -> ValueID
    /// The D step's inputs besides `real`, `z` and `labels` for `iteration`. `real` is rows
    /// `rows` of the iteration's global batch (a data-parallel rank's shard; all of it in one
    /// process); a per-row input gives row i the same numbers for any split.
    func discriminatorInputs(_ steps: GANSteps, real: Tensor, iteration: Int, rows: Range<Int>) -> [String: Tensor]
    /// Whether `discriminatorInputs` needs the whole global batch (a statistic over it, as
    /// DRAGAN's std): data-parallel ranks then build the whole batch and keep their rows.
    var needsWholeBatch: Bool { get }
}

extension GANRecipe {
    public func discriminatorInputs(_ steps: GANSteps, real: Tensor, iteration: Int, rows: Range<Int>) -> [String: Tensor] { [:] }
    public var needsWholeBatch: Bool { false }
}

extension LossSpec {
    /// The recipe of this loss; `cross_entropy` (classifiers) is an error naming `file`.
    public func recipe(file: String) throws -> GANRecipe {
        let real = Float(realLabel), fake = Float(fakeLabel), lambda = Float(penaltyWeight ?? 10)
        switch kind {
        case .ganBCELogits: return NonSaturatingGAN(realLabel: real, fakeLabel: fake)
        case .bceSigmoid: return BCEOnProbabilities(realLabel: real, fakeLabel: fake)
        case .lsgan: return LeastSquaresGAN(realLabel: real, fakeLabel: fake)
        case .hinge: return HingeGAN()
        case .wganGP, .cwganGP: return WGANGP(kind: kind, lambda: lambda)
        case .dragan: return DRAGAN(realLabel: real, fakeLabel: fake, lambda: lambda)
        case .began: return BEGANRecipe()
        case .crossEntropy: throw GraphError("\(file): unknown loss '\(kind.rawValue)'")
        }
    }
}

/// `gan_bce_logits`: BCEWithLogits on D's logits; G maximises log D(G(z)).
public struct NonSaturatingGAN: GANRecipe {
    public var realLabel: Float, fakeLabel: Float
    public var kind: LossKind { .ganBCELogits }
    public func discriminatorLoss(_ c: inout GraphComposer, _ d: DiscriminatorStep) throws -> DiscriminatorLoss {
        DiscriminatorLoss(total: c.add(c.bceWithLogits(d.dReal, target: realLabel), c.bceWithLogits(d.dFake, target: fakeLabel)))
    }
    public func generatorLoss(_ c: inout GraphComposer, fake: ValueID, dFake: ValueID) -> ValueID { c.bceWithLogits(dFake, target: 1) }
}

/// `bce_sigmoid`: BCE on D's probabilities (through the logits behind a final Sigmoid).
public struct BCEOnProbabilities: GANRecipe {
    public var realLabel: Float, fakeLabel: Float
    public var kind: LossKind { .bceSigmoid }
    public func discriminatorLoss(_ c: inout GraphComposer, _ d: DiscriminatorStep) throws -> DiscriminatorLoss {
        DiscriminatorLoss(total: c.add(c.bce(d.dReal, target: realLabel), c.bce(d.dFake, target: fakeLabel)))
    }
    public func generatorLoss(_ c: inout GraphComposer, fake: ValueID, dFake: ValueID) -> ValueID { c.bce(dFake, target: 1) }
}

/// `lsgan`: mean squared error against the targets.
public struct LeastSquaresGAN: GANRecipe {
    public var realLabel: Float, fakeLabel: Float
    public var kind: LossKind { .lsgan }
    public func discriminatorLoss(_ c: inout GraphComposer, _ d: DiscriminatorStep) throws -> DiscriminatorLoss {
        DiscriminatorLoss(total: c.add(c.mse(d.dReal, target: realLabel), c.mse(d.dFake, target: fakeLabel)))
    }
    public func generatorLoss(_ c: inout GraphComposer, fake: ValueID, dFake: ValueID) -> ValueID { c.mse(dFake, target: 1) }
}

/// `hinge`: mean max(0, 1 − D(x)) + mean max(0, 1 + D(G(z))); G minimises −mean D(G(z)).
public struct HingeGAN: GANRecipe {
    public var kind: LossKind { .hinge }
    public func discriminatorLoss(_ c: inout GraphComposer, _ d: DiscriminatorStep) throws -> DiscriminatorLoss {
        DiscriminatorLoss(total: c.add(c.hinge(d.dReal, real: true), c.hinge(d.dFake, real: false)))
    }
    public func generatorLoss(_ c: inout GraphComposer, fake: ValueID, dFake: ValueID) -> ValueID { c.negate(c.mean(dFake)) }
}

/// `wgan_gp` / `cwgan_gp`: critic loss mean D(G(z)) − mean D(x) (`wdist`) plus the gradient
/// penalty (`gp`) at x̂ = α·x + (1 − α)·G(z), α ~ U[0,1) per sample (input `alpha`).
public struct WGANGP: GANRecipe {
    public var kind: LossKind
    public var lambda: Float
    public func discriminatorLoss(_ c: inout GraphComposer, _ d: DiscriminatorStep) throws -> DiscriminatorLoss {
        let wdist = c.sub(c.mean(d.dFake), c.mean(d.dReal))
        let alpha = c.input("alpha", TensorType(.float32, fixed: [d.batch] + Array(repeating: 1, count: d.imageShape.count)))
        let one = c.scalar(1)
        let mix = c.add(c.apply(.mul, [alpha, d.real]), c.apply(.mul, [c.sub(one, alpha), d.fake]))
        let gp = try c.gradientPenalty(at: mix, lambda: lambda, synchronizedBatchNorm: d.synchronizedBatchNorm, passes: d.passes,
                                       critic: d.critic)
        return DiscriminatorLoss(total: c.add(wdist, gp), extra: [("wdist", wdist), ("gp", gp)])
    }
    public func generatorLoss(_ c: inout GraphComposer, fake: ValueID, dFake: ValueID) -> ValueID { c.negate(c.mean(dFake)) }
    public func discriminatorInputs(_ steps: GANSteps, real: Tensor, iteration: Int, rows: Range<Int>) -> [String: Tensor] {
        let n = real.shape[0]
        var ra = RandomStream(seed: steps.seed, step: UInt64(iteration), purpose: .alpha)
        ra.skip(words: rows.lowerBound)  // α of global row i is uniform i of the stream
        return ["alpha": Tensor(shape: [n] + Array(repeating: 1, count: steps.imageShape.count), floats: ra.uniforms(n))]
    }
}

/// `dragan`: the non-saturating BCE (`bce`) plus the gradient penalty (`gp`) at the perturbed
/// real batch x + 0.5·std(x)·u, u ~ U[0,1) per element (input `perturbed`).
public struct DRAGAN: GANRecipe {
    public var realLabel: Float, fakeLabel: Float, lambda: Float
    public var kind: LossKind { .dragan }
    public func discriminatorLoss(_ c: inout GraphComposer, _ d: DiscriminatorStep) throws -> DiscriminatorLoss {
        let bce = c.add(c.bceWithLogits(d.dReal, target: realLabel), c.bceWithLogits(d.dFake, target: fakeLabel))
        let perturbed = c.input("perturbed", TensorType(.float32, fixed: [d.batch] + d.imageShape))
        let gp = try c.gradientPenalty(at: perturbed, lambda: lambda, synchronizedBatchNorm: d.synchronizedBatchNorm,
                                       passes: d.passes, critic: d.critic)
        return DiscriminatorLoss(total: c.add(bce, gp), extra: [("bce", bce), ("gp", gp)])
    }
    public func generatorLoss(_ c: inout GraphComposer, fake: ValueID, dFake: ValueID) -> ValueID { c.bceWithLogits(dFake, target: 1) }
    /// The std is the whole batch's, so data-parallel ranks build the whole batch.
    public var needsWholeBatch: Bool { true }
    public func discriminatorInputs(_ steps: GANSteps, real: Tensor, iteration: Int, rows: Range<Int>) -> [String: Tensor] {
        let f = real.floats
        let mean = f.reduce(0, +) / Float(f.count)
        let std = (f.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(max(f.count - 1, 1))).squareRoot()
        var ru = RandomStream(seed: steps.seed, step: UInt64(iteration), purpose: .alpha)
        return ["perturbed": Tensor(shape: real.shape, floats: f.map { $0 + 0.5 * std * ru.uniform() })]
    }
}
