// Hyperparameters: the one validation of the training recipe's numbers, used by the spec reader
// (errors at the value's `file:line:column`) and by the command-line overrides (`gan-train
// --d-lr/--g-lr/--betas/--generator-frequency`, errors naming the flag), so both paths accept
// exactly the same values.
//
// Contract: a learning rate is finite, positive and at most `maxLearningRate`; Adam's betas,
// SGD's momentum and RMSprop's alpha lie in [0, 1); eps and weight decay are finite and not
// negative; the generator frequency is not negative. Values inside these bounds can still
// diverge; the trainer's non-finite guard (GAN/NonFiniteGuard) stops such runs.

/// A hyperparameter outside its bounds; `key` names the spec key (`lr`, `betas`, …).
public struct HyperparameterProblem: Equatable, Sendable {
    public var key: String
    public var message: String
}

public enum Hyperparameters {
    /// The largest accepted learning rate. Adam moves each weight by about `lr` per step, so
    /// anything near 10 already destroys weights of GAN scale (|w| ≲ 1); SGD on a classifier
    /// rarely goes past 1. Larger values are typing errors (1e30), not recipes.
    public static let maxLearningRate = 10.0

    /// Why `lr` is not a usable learning rate, or nil.
    public static func learningRateProblem(_ lr: Double) -> String? {
        guard lr.isFinite else { return "must be a finite number, got \(lr)" }
        guard lr > 0 else { return "must be positive, got \(lr)" }
        guard lr <= maxLearningRate else { return "must be at most \(maxLearningRate), got \(lr)" }
        return nil
    }

    /// Why `v` is not in [0, 1), or nil.
    static func unitIntervalProblem(_ v: Double) -> String? {
        (0..<1).contains(v) ? nil : "must be in [0, 1), got \(v)"
    }

    /// Why `v` is not a finite non-negative number, or nil.
    static func nonNegativeProblem(_ v: Double) -> String? {
        v.isFinite && v >= 0 ? nil : "must be finite and not negative, got \(v)"
    }

    /// Why `f` is not a generator frequency (G every f + 1 D steps), or nil.
    public static func generatorFrequencyProblem(_ f: Int) -> String? {
        f >= 0 ? nil : "must not be negative, got \(f)"
    }
}

extension OptimizerSpec {
    /// The first setting outside its bounds (see the file header), or nil.
    public var problem: HyperparameterProblem? {
        if let p = Hyperparameters.learningRateProblem(lr) { return .init(key: "lr", message: "lr " + p) }
        if kind == .adam {
            for (name, b) in [("beta1", beta1), ("beta2", beta2)] {
                if let p = Hyperparameters.unitIntervalProblem(b) { return .init(key: "betas", message: "betas: \(name) " + p) }
            }
        }
        if kind == .sgd, let p = Hyperparameters.unitIntervalProblem(momentum) {
            return .init(key: "momentum", message: "momentum " + p)
        }
        if kind == .rmsprop, let p = Hyperparameters.unitIntervalProblem(alpha) {
            return .init(key: "alpha", message: "alpha " + p)
        }
        if let p = Hyperparameters.nonNegativeProblem(eps) { return .init(key: "eps", message: "eps " + p) }
        if let p = Hyperparameters.nonNegativeProblem(weightDecay) { return .init(key: "weight_decay", message: "weight_decay " + p) }
        return nil
    }
}

/// A command-line override outside its bounds; the message names the flag.
public struct OverrideError: Error, CustomStringConvertible {
    public var description: String
}

extension Spec {
    /// Command-line overrides of the training recipe (gan-train --generator-frequency, --d-lr,
    /// --g-lr, --betas): `dLR` sets the discriminator's and critic's learning rate, `gLR` the
    /// generator's, `betas` every optimizer's Adam (β1, β2). Each value is checked as the spec
    /// reader checks it (`OptimizerSpec.problem`); a bad one throws an error naming its flag.
    public mutating func applyTrainingOverrides(generatorFrequency: Int? = nil, dLR: Double? = nil, gLR: Double? = nil,
                                                betas: (Double, Double)? = nil) throws {
        if let f = generatorFrequency {
            if let p = Hyperparameters.generatorFrequencyProblem(f) { throw OverrideError(description: "--generator-frequency \(p)") }
            schedule.generatorFrequency = f
        }
        var flags: [String: String] = [:]
        for (name, lr, flag) in [("generator", gLR, "--g-lr"), ("discriminator", dLR, "--d-lr"), ("critic", dLR, "--d-lr")] {
            guard let lr else { continue }
            if let p = Hyperparameters.learningRateProblem(lr) { throw OverrideError(description: "\(flag) \(p)") }
            if optimizers[name] != nil { optimizers[name]!.lr = lr; flags[name] = flag }
        }
        if let betas {
            for (name, b) in [("beta1", betas.0), ("beta2", betas.1)] {
                if let p = Hyperparameters.unitIntervalProblem(b) { throw OverrideError(description: "--betas: \(name) \(p)") }
            }
            for k in optimizers.keys { optimizers[k]!.beta1 = betas.0; optimizers[k]!.beta2 = betas.1 }
        }
        for k in optimizers.keys.sorted() {
            if let p = optimizers[k]!.problem { throw OverrideError(description: "\(flags[k] ?? "override"): \(k).\(p.message)") }
        }
    }
}
