// Spec+Kinds: the closed choices of a spec — loss, optimizer, training loop — as enums.
//
// Contract: each raw value is the YAML spelling; the reader parses a spelling once, at load
// time, into the enum (an unknown one is a SpecError naming the file, line, column and the
// allowed spellings, in `allCases` order), so no code after loading compares strings.

/// `loss` / `loss.kind`.
public enum LossKind: String, CaseIterable, Sendable {
    case ganBCELogits = "gan_bce_logits"
    case bceSigmoid = "bce_sigmoid"
    case wganGP = "wgan_gp"
    case cwganGP = "cwgan_gp"
    case lsgan
    case hinge
    case dragan
    case began
    /// Classifier specs.
    case crossEntropy = "cross_entropy"

    /// Whether the D loss has a gradient penalty (λ, `loss.lambda`, default 10).
    public var hasPenalty: Bool { self == .wganGP || self == .cwganGP || self == .dragan }
}

/// `optimizers.<network>.kind`.
public enum OptimizerKind: String, CaseIterable, Sendable {
    case adam, sgd, rmsprop
}

/// `schedule.loop`: `inferno` (the five inferno scripts) or `epochs` (the DCGAN notebook's
/// plain epoch loop); see ScheduleSpec.loop.
public enum TrainingLoop: String, CaseIterable, Sendable {
    case inferno, epochs
}

extension MapReader {
    /// The enum case spelled by `key`'s value (nil when absent); an unknown spelling is an
    /// error listing the allowed ones.
    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws -> E? where E.RawValue == String {
        try choice(key, E.allCases.map(\.rawValue)).flatMap(E.init(rawValue:))
    }
}
