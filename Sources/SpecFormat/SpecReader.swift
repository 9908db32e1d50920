// SpecReader: turns a composed YAML tree into a `Spec`, section by section.
//
// Contract: every reader function either returns a checked section or throws one `SpecError`
// at the offending YAML node (`file:line:column: message`). Networks are read in
// SpecReader+Network.swift; layers and init rules in Layers.swift and Initializers.swift.

import Foundation
import Yams

/// Turns the YAML tree into a `Spec`.
struct SpecReader {
    let ctx: SpecContext

    func spec(_ root: Node) throws -> Spec {
        let m = try MapReader(root, "the spec", ctx, keys: ["name", "description", "seed", "dataset", "latent", "conditional",
                                                             "init", "networks", "loss", "schedule", "optimizers", "output", "health",
                                                             "sync_batchnorm", "ema"])
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
        if loss.kind == .cwganGP && conditional == nil {
            throw ctx.error(m.keyNode("loss"), "loss: cwgan_gp needs a 'conditional' section")
        }
        var spec = Spec(file: ctx.file, name: name, description: try m.string("description") ?? "", seed: seed,
                        dataset: dataset, latent: latent, conditional: conditional, loss: loss, schedule: schedule,
                        optimizers: optimizers, output: output, networks: networks)
        spec.health = try health(m.has("health") ? m.value("health") : nil)
        spec.syncBatchNorm = try m.value("sync_batchnorm").map { try ctx.bool($0, "sync_batchnorm") } ?? false
        spec.ema = try m.value("ema").map { try ema($0) }
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
            guard let kind = LossKind(rawValue: k) else { throw ctx.error(node, "loss: unknown loss '\(k)' (expected one of: \(LossSpec.kinds.joined(separator: ", ")))") }
            return LossSpec(kind: kind, penaltyWeight: kind.hasPenalty ? 10 : nil, realLabel: 1, fakeLabel: 0)
        }
        let m = try MapReader(node, "loss", ctx, keys: ["kind", "lambda", "real_label", "fake_label", "feature_matching", "gamma", "lambda_k"])
        guard let kind = try m.choice("kind", LossKind.self) else { throw ctx.error(node, "loss: missing required key 'kind'") }
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
            guard kind != .crossEntropy else { throw ctx.error(m.keyNode("feature_matching"), "loss: 'feature_matching' applies to GAN losses only") }
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
                            loop: try m.choice("loop", TrainingLoop.self) ?? .inferno)
    }

    func optimizer(_ node: Node, _ what: String) throws -> OptimizerSpec {
        let m = try MapReader(node, what, ctx, keys: ["kind", "lr", "betas", "eps", "weight_decay", "momentum", "alpha"])
        let kind = try m.choice("kind", OptimizerKind.self) ?? .adam
        let lr = try m.requiredDouble("lr")
        var b = (0.9, 0.999)
        if let betas = m.value("betas") {
            guard kind == .adam else { throw ctx.error(m.keyNode("betas"), "\(what): 'betas' applies to adam only") }
            let v = try ctx.doubles(betas, "\(what).betas")
            guard v.count == 2 else { throw ctx.error(betas, "\(what).betas: expected [beta1, beta2] in [0, 1)") }
            b = (v[0], v[1])
        }
        let eps = try m.double("eps") ?? 1e-8
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
}
