// Spec: a GAN experiment as data (networks, dataset, loss, schedule, optimizers, latent space,
// conditioning, outputs), read from YAML. The format is documented in Specs/README.md.
//
// Contract: `Spec.parse`/`Spec.load` read a whole spec or throw one `SpecError` whose text is
// `file:line:column: message` (unknown keys, wrong types, missing required fields, unknown
// layer kinds, references to unknown values, and shape mismatches, found by a shape walk of
// every network). Parsing draws no random numbers; `buildGraph` does (see Builder.swift).

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
    /// The networks, in spec order.
    public var networks: [NetworkSpec]

    /// The network names, in spec order.
    public var networkNames: [String] { networks.map(\.name) }

    /// The network called `name`.
    public func network(_ name: String) -> NetworkSpec? { networks.first { $0.name == name } }

    /// The first network with this role.
    public func network(role: NetworkRole) -> NetworkSpec? { networks.first { $0.role == role } }
}

/// What a network is for.
public enum NetworkRole: String, Sendable, CaseIterable {
    case generator, discriminator, critic, classifier, encoder, other
}

/// The training data.
public struct DatasetSpec: Equatable, Sendable {
    /// `fashion-mnist`, `mnist`, `cifar10` or `folder`.
    public var name: String
    /// Datasets that may replace `name` (same shape and labels), e.g. `mnist` for `fashion-mnist`.
    public var alternatives: [String]
    /// Where the files are; nil: the dataset's usual place.
    public var path: String?
    public var split: String
    /// Pixel range after loading: (0, 1) or (−1, 1).
    public var range: (low: Double, high: Double)
    /// Channels, height, width as stored.
    public var shape: [Int]
    /// Square size to resize to (bilinear), if any.
    public var resize: Int?
    /// Image folders: a center square of crop × crop pixels is cut before resizing.
    public var crop: Int? = nil
    /// Image folders: skip unreadable, corrupt or truncated files (with a count) instead of failing.
    public var skipBadImages = false
    /// Whether the label of each sample is used.
    public var labels: Bool
    public var shuffle: Bool
    public var dropLast: Bool

    /// The shape the networks see: (C, resize, resize), else (C, crop, crop), else `shape`.
    public var imageShape: [Int] { (resize ?? crop).map { [shape[0], $0, $0] } ?? shape }

    public static func == (a: DatasetSpec, b: DatasetSpec) -> Bool {
        a.name == b.name && a.alternatives == b.alternatives && a.path == b.path && a.split == b.split
            && a.range == b.range && a.shape == b.shape && a.resize == b.resize && a.labels == b.labels
            && a.shuffle == b.shuffle && a.dropLast == b.dropLast && a.crop == b.crop && a.skipBadImages == b.skipBadImages
    }
}

/// The latent space of the generator.
public struct LatentSpec: Equatable, Sendable {
    public var size: Int
    /// `normal` (N(0,1)) or `uniform` (U(−1,1)).
    public var distribution: String

    public init(size: Int, distribution: String = "normal") {
        self.size = size
        self.distribution = distribution
    }
}

/// Class conditioning.
public struct ConditionalSpec: Equatable, Sendable {
    public var classes: Int
    public var embedding: Int

    public init(classes: Int, embedding: Int) {
        self.classes = classes
        self.embedding = embedding
    }
}

/// The loss recipe.
public struct LossSpec: Equatable, Sendable {
    /// gan_bce_logits, bce_sigmoid, wgan_gp, cwgan_gp, lsgan, hinge, dragan; cross_entropy for classifiers.
    public var kind: String
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

    public static let kinds = ["gan_bce_logits", "bce_sigmoid", "wgan_gp", "cwgan_gp", "lsgan", "hinge", "dragan", "began", "cross_entropy"]
    public var hasPenalty: Bool { ["wgan_gp", "cwgan_gp", "dragan"].contains(kind) }
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
    public var loop: String = "inferno"
}

/// One network's optimizer.
public struct OptimizerSpec: Equatable, Sendable {
    /// adam, sgd or rmsprop.
    public var kind: String
    public var lr: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var weightDecay: Double
    /// SGD momentum / RMSprop smoothing constant.
    public var momentum: Double
    public var alpha: Double
}

/// What a run writes.
public struct OutputSpec: Equatable, Sendable {
    public var directory: String
    /// Number of fixed latent samples in each frame.
    public var fixedSamples: Int
    /// Rows of the frame grid (nil: ⌊√fixed_samples⌋).
    public var gridRows: Int?
    public var frames: Bool
    /// Video frame rate and x264 CRF; nil: no video.
    public var videoFPS: Int?
    public var videoCRF: Int
    /// `auto` (MP4 when ffmpeg is installed, else GIF), `mp4` or `gif`.
    public var videoFormat: String = "auto"
    public var tensorboard: Bool
    /// Checkpoints: `epoch` (once per epoch) or `never`.
    public var checkpoint: String
}

/// A graph input of a network.
public struct InputSpec: Equatable, Sendable {
    /// `latent` (f32[N, latent.size]), `label` (i64[N]), `image` (f32[N, C, H, W] of the dataset)
    /// or `tensor` (explicit shape and dtype).
    public var kind: String
    public var name: String
    /// Per-sample shape (the batch dim N is prepended).
    public var shape: [Int]
    public var dtype: String
    public var position: SpecPosition
}

/// One network: its inputs and a layer list (a DAG through named values).
public struct NetworkSpec: Equatable, Sendable {
    public var name: String
    public var role: NetworkRole
    public var inputs: [InputSpec]
    public var layers: [LayerSpec]
    /// Output value names (default: the last layer's output).
    public var outputs: [String]
    public var initRule: InitRule
    public var position: SpecPosition
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
        let root: Node
        try YAMLDepth.check(yaml, file: file)
        do {
            guard let r = try Yams.compose(yaml: yaml) else {
                throw SpecError(file: file, line: 1, column: 1, message: "the spec is empty")
            }
            root = r
        } catch let e as YamlError {
            throw yamlError(e, file)
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
        for n in networks { _ = try GraphBuilder.build(self, n, seed: seed, materialize: false) }
    }
}

/// Turns the YAML tree into a `Spec`.
struct SpecReader {
    let ctx: SpecContext

    func spec(_ root: Node) throws -> Spec {
        let m = try MapReader(root, "the spec", ctx, keys: ["name", "description", "seed", "dataset", "latent", "conditional",
                                                             "init", "networks", "loss", "schedule", "optimizers", "output", "health",
                                                             "sync_batchnorm"])
        let name = try m.string("name") ?? ""
        let seed: UInt64
        if let s = m.value("seed") {
            guard let plain = ctx.plainScalar(s), let v = UInt64(plain) else {
                throw ctx.error(s, "seed: expected a non-negative integer, got \(ctx.describe(s))")
            }
            seed = v
        } else {
            seed = 0
        }
        let dataset = try self.dataset(try m.required("dataset"))
        let latent = try m.value("latent").map { try self.latent($0) }
        let conditional = try m.value("conditional").map { try self.conditional($0) }
        let rule = try m.value("init").map { try ctx.initRule($0, "init", base: .seed) } ?? .seed
        let loss = try self.loss(try m.required("loss"))
        let schedule = try self.schedule(try m.required("schedule"))
        let output = try self.output(m.value("output"), name: name)

        let netsNode = try m.required("networks")
        let nets = try MapReader(netsNode, "networks", ctx, keys: nil)
        guard !nets.entries.isEmpty else { throw ctx.error(netsNode, "networks: a spec needs at least one network") }
        var networks: [NetworkSpec] = []
        for e in nets.entries {
            guard ctx.isIdentifier(e.key) else { throw ctx.error(e.keyNode, "networks: '\(e.key)' is not a valid network name") }
            networks.append(try network(e.key, e.value, e.keyNode, rule: rule, dataset: dataset, latent: latent,
                                        conditional: conditional, latentNode: m.keyNode("latent"),
                                        conditionalNode: m.keyNode("conditional")))
        }

        var optimizers: [String: OptimizerSpec] = [:]
        let optNode = try m.required("optimizers")
        let opts = try MapReader(optNode, "optimizers", ctx, keys: networks.map(\.name) + ["default"])
        var fallback: OptimizerSpec? = nil
        if let d = opts.value("default") { fallback = try optimizer(d, "optimizers.default") }
        for n in networks {
            if let v = opts.value(n.name) {
                optimizers[n.name] = try optimizer(v, "optimizers.\(n.name)")
            } else if let f = fallback {
                optimizers[n.name] = f
            } else {
                throw ctx.error(optNode, "optimizers: missing settings for network '\(n.name)'")
            }
        }
        if let f = loss.featureMatching {
            // The named value must be a layer (or input) of the discriminator/critic.
            let node = try MapReader(try m.required("loss"), "loss", ctx, keys: nil).value("feature_matching")!
            guard let d = networks.first(where: { $0.name == "discriminator" || $0.name == "critic" }) else {
                throw ctx.error(node, "loss.feature_matching: the spec has no network named 'discriminator' or 'critic'")
            }
            let names = d.layers.compactMap(\.name) + d.inputs.map(\.name)
            guard names.contains(f) else {
                throw ctx.error(node, "loss.feature_matching: '\(f)' is not a named layer of '\(d.name)' (named: \(names.joined(separator: ", ")))")
            }
        }
        if loss.kind == "cwgan_gp" && conditional == nil {
            throw ctx.error(m.keyNode("loss"), "loss: cwgan_gp needs a 'conditional' section")
        }
        var spec = Spec(file: ctx.file, name: name, description: try m.string("description") ?? "", seed: seed,
                        dataset: dataset, latent: latent, conditional: conditional, loss: loss, schedule: schedule,
                        optimizers: optimizers, output: output, networks: networks)
        spec.health = try health(m.has("health") ? m.value("health") : nil)
        spec.syncBatchNorm = try m.value("sync_batchnorm").map { try ctx.bool($0, "sync_batchnorm") } ?? false
        return spec
    }

    func dataset(_ node: Node) throws -> DatasetSpec {
        let names = ["fashion-mnist", "mnist", "cifar10", "folder"]
        let m = try MapReader(node, "dataset", ctx, keys: ["name", "alternatives", "path", "split", "range", "shape",
                                                            "resize", "crop", "skip_bad_images", "labels", "shuffle", "drop_last"])
        let name = try m.choice("name", names) ?? "fashion-mnist"
        var alternatives: [String] = []
        if let a = m.value("alternatives") {
            for n in try ctx.list(a, "dataset.alternatives") {
                let s = try ctx.string(n, "dataset.alternatives element")
                guard names.contains(s) else { throw ctx.error(n, "dataset.alternatives: unknown dataset '\(s)' (expected one of: \(names.joined(separator: ", ")))") }
                alternatives.append(s)
            }
        } else if name == "fashion-mnist" {
            alternatives = ["mnist"]
        }
        var range = (low: 0.0, high: 1.0)
        if let r = m.value("range") {
            let v = try ctx.doubles(r, "dataset.range")
            guard v == [0, 1] || v == [-1, 1] else { throw ctx.error(r, "dataset.range: expected [0, 1] or [-1, 1], got \(v)") }
            range = (v[0], v[1])
        }
        let defaultShape = name == "cifar10" ? [3, 32, 32] : [1, 28, 28]
        var shape = defaultShape
        if let s = m.value("shape") {
            shape = try ctx.ints(s, "dataset.shape")
            guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else { throw ctx.error(s, "dataset.shape: expected [channels, height, width], got \(shape)") }
            if name != "folder" && shape != defaultShape {
                throw ctx.error(s, "dataset.shape: \(name) images are \(defaultShape), not \(shape)")
            }
        }
        var d = DatasetSpec(name: name, alternatives: alternatives, path: try m.string("path"), split: try m.choice("split", ["train", "test"]) ?? "train",
                            range: range, shape: shape, resize: try m.positive("resize"), labels: try m.bool("labels") ?? false,
                            shuffle: try m.bool("shuffle") ?? true, dropLast: try m.bool("drop_last") ?? false)
        for key in ["crop", "skip_bad_images"] where m.has(key) && name != "folder" {
            throw ctx.error(m.keyNode(key)!, "dataset: '\(key)' applies to folder datasets only")
        }
        d.crop = try m.positive("crop")
        d.skipBadImages = try m.bool("skip_bad_images") ?? false
        return d
    }

    func latent(_ node: Node) throws -> LatentSpec {
        let m = try MapReader(node, "latent", ctx, keys: ["size", "distribution"])
        return LatentSpec(size: try m.requiredPositive("size"), distribution: try m.choice("distribution", ["normal", "uniform"]) ?? "normal")
    }

    func conditional(_ node: Node) throws -> ConditionalSpec {
        let m = try MapReader(node, "conditional", ctx, keys: ["classes", "embedding"])
        return ConditionalSpec(classes: try m.requiredPositive("classes"), embedding: try m.requiredPositive("embedding"))
    }

    func loss(_ node: Node) throws -> LossSpec {
        if case .scalar = node {
            let k = try ctx.string(node, "loss")
            guard LossSpec.kinds.contains(k) else { throw ctx.error(node, "loss: unknown loss '\(k)' (expected one of: \(LossSpec.kinds.joined(separator: ", ")))") }
            return LossSpec(kind: k, penaltyWeight: ["wgan_gp", "cwgan_gp", "dragan"].contains(k) ? 10 : nil, realLabel: 1, fakeLabel: 0)
        }
        let m = try MapReader(node, "loss", ctx, keys: ["kind", "lambda", "real_label", "fake_label", "feature_matching", "gamma", "lambda_k"])
        guard let kind = try m.choice("kind", LossSpec.kinds) else { throw ctx.error(node, "loss: missing required key 'kind'") }
        var l = LossSpec(kind: kind, penaltyWeight: nil, realLabel: try m.double("real_label") ?? 1, fakeLabel: try m.double("fake_label") ?? 0)
        if let lam = m.value("lambda") {
            guard l.hasPenalty else { throw ctx.error(m.keyNode("lambda"), "loss: 'lambda' applies to wgan_gp, cwgan_gp and dragan only") }
            let v = try ctx.double(lam, "loss.lambda")
            guard v >= 0 else { throw ctx.error(lam, "loss.lambda must not be negative") }
            l.penaltyWeight = v
        } else if l.hasPenalty {
            l.penaltyWeight = 10
        }
        if let f = m.value("feature_matching") {
            guard kind != "cross_entropy" else { throw ctx.error(m.keyNode("feature_matching"), "loss: 'feature_matching' applies to GAN losses only") }
            l.featureMatching = try ctx.string(f, "loss.feature_matching")
        }
        try beganOptions(m, into: &l)
        return l
    }

    func schedule(_ node: Node) throws -> ScheduleSpec {
        let m = try MapReader(node, "schedule", ctx, keys: ["epochs", "batch_size", "generator_frequency", "image_frequency", "log_image_frequency", "loop"])
        var imageFrequency: Int? = 10
        var imageEvery = "iterations"
        if let f = m.value("image_frequency") {
            if ctx.plainScalar(f) == "epoch" {
                imageFrequency = nil
                imageEvery = "epoch"
            } else {
                imageFrequency = try ctx.nonNegative(f, "schedule.image_frequency")
            }
        }
        return ScheduleSpec(epochs: try m.requiredPositive("epochs"), batchSize: try m.requiredPositive("batch_size"),
                            generatorFrequency: try m.nonNegative("generator_frequency") ?? 0,
                            imageFrequency: imageFrequency, imageEvery: imageEvery,
                            logImageFrequency: try m.positive("log_image_frequency"),
                            loop: try m.choice("loop", ["inferno", "epochs"]) ?? "inferno")
    }

    func optimizer(_ node: Node, _ what: String) throws -> OptimizerSpec {
        let m = try MapReader(node, what, ctx, keys: ["kind", "lr", "betas", "eps", "weight_decay", "momentum", "alpha"])
        let kind = try m.choice("kind", ["adam", "sgd", "rmsprop"]) ?? "adam"
        let lr = try m.requiredDouble("lr")
        var b = (0.9, 0.999)
        if let betas = m.value("betas") {
            guard kind == "adam" else { throw ctx.error(m.keyNode("betas"), "\(what): 'betas' applies to adam only") }
            let v = try ctx.doubles(betas, "\(what).betas")
            guard v.count == 2 else { throw ctx.error(betas, "\(what).betas: expected [beta1, beta2] in [0, 1)") }
            b = (v[0], v[1])
        }
        let eps = try m.double("eps") ?? (kind == "rmsprop" ? 1e-8 : 1e-8)
        let o = OptimizerSpec(kind: kind, lr: lr, beta1: b.0, beta2: b.1, eps: eps, weightDecay: try m.double("weight_decay") ?? 0,
                              momentum: try m.double("momentum") ?? 0, alpha: try m.double("alpha") ?? 0.99)
        // The same bounds as the command-line overrides (Hyperparameters.swift).
        if let p = o.problem { throw ctx.error(m.value(p.key) ?? node, "\(what).\(p.message)") }
        return o
    }

    func output(_ node: Node?, name: String) throws -> OutputSpec {
        var o = OutputSpec(directory: "output/\(name.isEmpty ? "run" : name)", fixedSamples: 100, gridRows: nil, frames: true,
                           videoFPS: 60, videoCRF: 25, tensorboard: true, checkpoint: "epoch")
        guard let node else { return o }
        let m = try MapReader(node, "output", ctx, keys: ["directory", "fixed_samples", "grid_rows", "frames", "video", "tensorboard", "checkpoint"])
        if let d = try m.string("directory") { o.directory = d }
        if let n = try m.positive("fixed_samples") { o.fixedSamples = n }
        o.gridRows = try m.positive("grid_rows")
        if let f = try m.bool("frames") { o.frames = f }
        if m.has("video") {
            if let v = m.value("video") {
                if ctx.plainScalar(v) == "false" || ctx.plainScalar(v) == "off" {
                    o.videoFPS = nil
                } else {
                    let r = try MapReader(v, "output.video", ctx, keys: ["fps", "crf", "format"])
                    o.videoFPS = try r.positive("fps") ?? 60
                    o.videoCRF = try r.nonNegative("crf") ?? 25
                    o.videoFormat = try r.choice("format", ["auto", "mp4", "gif"]) ?? "auto"
                }
            } else {
                o.videoFPS = nil
            }
        }
        if let t = try m.bool("tensorboard") { o.tensorboard = t }
        if let c = try m.choice("checkpoint", ["epoch", "never"]) { o.checkpoint = c }
        return o
    }

    func network(_ name: String, _ node: Node, _ keyNode: Node, rule: InitRule, dataset: DatasetSpec, latent: LatentSpec?,
                 conditional: ConditionalSpec?, latentNode: Node?, conditionalNode: Node?) throws -> NetworkSpec {
        let what = "networks.\(name)"
        let m = try MapReader(node, what, ctx, keys: ["role", "inputs", "layers", "output", "init"])
        let roleName = try m.choice("role", NetworkRole.allCases.map(\.rawValue))
        let role = roleName.flatMap(NetworkRole.init(rawValue:)) ?? NetworkRole(rawValue: name) ?? .other
        let netRule = try m.value("init").map { try ctx.initRule($0, "\(what).init", base: rule) } ?? rule

        let inputsNode = try m.required("inputs")
        let im = try MapReader(inputsNode, "\(what).inputs", ctx, keys: nil)
        guard !im.entries.isEmpty else { throw ctx.error(inputsNode, "\(what).inputs: a network needs at least one input") }
        var inputs: [InputSpec] = []
        for e in im.entries {
            let w = "\(what).inputs.\(e.key)"
            guard ctx.isIdentifier(e.key) else { throw ctx.error(e.keyNode, "\(w): '\(e.key)' is not a valid value name") }
            let pos = ctx.position(e.keyNode)
            var input = InputSpec(kind: "tensor", name: e.key, shape: [], dtype: "f32", position: pos)
            if case .scalar = e.value {
                let k = try ctx.string(e.value, w)
                switch k {
                case "latent":
                    guard let latent else { throw ctx.error(e.value, "\(w): a latent input needs a 'latent' section") }
                    input.kind = k
                    input.shape = [latent.size]
                case "label":
                    guard conditional != nil else { throw ctx.error(e.value, "\(w): a label input needs a 'conditional' section") }
                    input.kind = k
                    input.dtype = "i64"
                case "image":
                    input.kind = k
                    input.shape = dataset.imageShape
                default:
                    throw ctx.error(e.value, "\(w): unknown input kind '\(k)' (expected latent, label, image, or a mapping with shape and dtype)")
                }
            } else {
                let r = try MapReader(e.value, w, ctx, keys: ["shape", "dtype"])
                input.shape = try ctx.ints(try r.required("shape"), "\(w).shape")
                if input.shape.contains(where: { $0 <= 0 }) { throw ctx.error(r.value("shape")!, "\(w).shape: sizes must be positive") }
                input.dtype = try r.choice("dtype", ["f32", "i64"]) ?? "f32"
            }
            inputs.append(input)
        }

        let layersNode = try m.required("layers")
        let items = try ctx.list(layersNode, "\(what).layers")
        guard !items.isEmpty else { throw ctx.error(layersNode, "\(what).layers: a network needs at least one layer") }
        var layers: [LayerSpec] = []
        for (i, item) in items.enumerated() {
            layers.append(try ctx.layer(item, "\(what).layers[\(i)]"))
        }
        var outputs: [String] = []
        if let o = m.value("output") {
            if case .sequence = o {
                outputs = try ctx.list(o, "\(what).output").map { try ctx.string($0, "\(what).output element") }
            } else {
                outputs = [try ctx.string(o, "\(what).output")]
            }
        }
        return NetworkSpec(name: name, role: role, inputs: inputs, layers: layers, outputs: outputs,
                           initRule: netRule, position: ctx.position(keyNode))
    }
}
