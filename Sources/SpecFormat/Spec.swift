// Spec: a GAN experiment as data (networks, dataset, loss, schedule, optimizers, latent space,
// conditioning, outputs), read from YAML. The format is documented in Specs/README.md.
//
// Contract: `Spec.parse`/`Spec.load` read a whole spec or throw one `SpecError` whose text is
// `file:line:column: message` (unknown keys, wrong types, missing required fields, unknown
// layer kinds, references to unknown values, and shape mismatches, found by a shape walk of
// every network). Parsing draws no random numbers; `buildGraph` does (see Builder.swift).
// The sections live in Spec+Data.swift, Spec+Training.swift, Spec+Output.swift and
// NetworkSpec.swift; the YAML reader in SpecReader.swift and SpecReader+Network.swift.

import Core
import Foundation
import Yams

/// A parsed experiment spec.
public struct Spec: Sendable {
    /// The file it was read from (as given), for messages.
    public var file: String
    public var name: String
    public var description: String
    /// The default seed of `buildGraph` and of training.
    public var seed: UInt64
    public var dataset: DatasetSpec
    public var latent: LatentSpec?
    public var conditional: ConditionalSpec?
    public var loss: LossSpec
    public var schedule: ScheduleSpec
    /// Optimizer settings keyed by network name.
    public var optimizers: [String: OptimizerSpec]
    public var output: OutputSpec
    /// gan-train's training-health monitor (Spec+Health.swift).
    public var health = HealthSpec()
    /// `sync_batchnorm`: data-parallel training reduces BatchNorm batch statistics over the
    /// ranks (SyncBatchNorm); false (default): each rank normalises with its own shard's.
    public var syncBatchNorm = false
    /// `ema`: a moving average of the generator's weights, exported in their place (Spec+EMA.swift).
    public var ema: EMASpec? = nil
    /// The networks, in spec order.
    public var networks: [NetworkSpec]

    /// The network names, in spec order.
    public var networkNames: [String] { networks.map(\.name) }

    /// The network called `name`.
    public func network(_ name: String) -> NetworkSpec? { networks.first { $0.name == name } }

    /// The first network with this role.
    public func network(role: NetworkRole) -> NetworkSpec? { networks.first { $0.role == role } }
}

extension Spec {
    /// Reads and checks the spec at `path`.
    public static func load(path: String) throws -> Spec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SpecError(file: path, line: 1, column: 1, message: "cannot read the spec: \(error.localizedDescription)")
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses and checks a spec; `file` names it in errors.
    public static func parse(yaml: String, file: String = "<spec>") throws -> Spec {
        let ctx = SpecContext(file: file)
        try YAMLDepth.check(yaml, file: file)
        let root: Node = try rethrowing(YamlError.self, as: { yamlError($0, file) }) {
            guard let r = try Yams.compose(yaml: yaml) else {
                throw SpecError(file: file, line: 1, column: 1, message: "the spec is empty")
            }
            return r
        }
        var spec = try SpecReader(ctx: ctx).spec(root)
        spec.file = file
        try spec.checkShapes()
        return spec
    }

    static func yamlError(_ e: YamlError, _ file: String) -> SpecError {
        switch e {
        case .scanner(let c, let problem, let m, _), .parser(let c, let problem, let m, _), .composer(let c, let problem, let m, _):
            let ctxText = c.map { " \($0.text)" } ?? ""
            return SpecError(file: file, line: m.line, column: m.column, message: "invalid YAML: \(problem)\(ctxText)")
        case .reader(let problem, _, _, _):
            return SpecError(file: file, line: 1, column: 1, message: "invalid YAML: \(problem)")
        default:
            return SpecError(file: file, line: 1, column: 1, message: "invalid YAML: \(e)")
        }
    }

    /// Builds every network without drawing weights, so shape errors surface at parse time.
    func checkShapes() throws {
        for n in networks { _ = try NetworkBuilder.build(self, n, seed: seed, materialize: false) }
    }
}
