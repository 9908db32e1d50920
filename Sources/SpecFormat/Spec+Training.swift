// Spec sections about training: the loss recipe, the schedule and each network's optimizer.
//
// Contract: plain values filled by `SpecReader` (SpecReader.swift); bounds on optimizer
// settings are checked in Hyperparameters.swift, the same checks as command-line overrides.

/// The loss recipe.
public struct LossSpec: Equatable, Sendable {
    /// gan_bce_logits, bce_sigmoid, wgan_gp, cwgan_gp, lsgan, hinge, dragan, began; cross_entropy for classifiers.
    public var kind: LossKind
    /// λ of a gradient penalty (wgan_gp, cwgan_gp, dragan).
    public var penaltyWeight: Double?
    /// Target for real samples (1; 0.9 is one-sided label smoothing).
    public var realLabel: Double
    public var fakeLabel: Double
    /// Feature matching (Salimans et al. 2016): the name of a value of the discriminator (critic);
    /// the G loss becomes ‖mean_batch f(x_real) − mean_batch f(G(z))‖² over that value's features.
    public var featureMatching: String? = nil
    /// BEGAN (`began`): the diversity ratio γ = E[L(G(z))] / E[L(x)] the k_t control aims for.
    public var gamma: Double = 0.5
    /// BEGAN: λ_k, the proportional gain of the k_t control.
    public var lambdaK: Double = 0.001

    public static let kinds = LossKind.allCases.map(\.rawValue)
    public var hasPenalty: Bool { kind.hasPenalty }
}

/// When things happen during training.
public struct ScheduleSpec: Equatable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    /// The seed's counter rule: G trains once every (generator_frequency + 1) D steps; 0 is 1:1.
    public var generatorFrequency: Int
    /// A fixed-z frame every (image_frequency + 1) iterations; nil when frames are per epoch.
    public var imageFrequency: Int?
    /// `iterations` (the counter rule above) or `epoch` (one frame per epoch).
    public var imageEvery: String
    /// TensorBoard images when iteration % log_image_frequency == 0; nil: none.
    public var logImageFrequency: Int?
    /// `inferno` (the five inferno scripts: epochs × batches + 1 D iterations, G steps on
    /// batch_size latents) or `epochs` (a plain epoch loop as in the DCGAN notebook: epochs ×
    /// batches iterations, G steps on as many latents as this iteration's real batch, per-epoch
    /// frames after the epoch's last G step).
    public var loop: TrainingLoop = .inferno
}

/// One network's optimizer.
public struct OptimizerSpec: Equatable, Sendable {
    /// adam, sgd or rmsprop.
    public var kind: OptimizerKind
    public var lr: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var weightDecay: Double
    /// SGD momentum / RMSprop smoothing constant.
    public var momentum: Double
    public var alpha: Double
}
