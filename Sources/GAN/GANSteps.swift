// GANSteps: the D (critic) step and G step of every GAN recipe, as compiled training steps.
//
// Contract: `GANSteps(spec:seed:threads:)` builds the spec's generator and discriminator/critic
// (initialised from `seed`), puts their weights and BatchNorm statistics in one ParameterStore
// (`<network>/<initializer>`; each network's trained parameters one flat group), and compiles
// on demand, per batch size, the two steps the seed
// runs (seed-experiments.md §2–§5):
// - D step on a real batch: z ~ N(0,1) of the real batch size, fake = G(z[, y]) with G in
//   train mode (its BN statistics update), D(real) then D(fake) as separate passes (each with
//   its own batch statistics), the recipe's D loss (+ penalty, GANRecipe); only D's weights are
//   updated. The fake is not detached; gradients stop at D's parameters because only they are
//   asked for. Outputs are the recipe's named metrics (d_loss, scores, extras, d_grad_norm).
// - G step: z of the schedule's batch size (labels uniform for conditional), D(G(z[, y])) with
//   both in train mode, the recipe's G loss (g_loss, g_grad_norm); only G's weights are updated.
// The recipe's extra D inputs (α, the DRAGAN perturbation, BEGAN's k_t) come with `dInputs`.
// Random inputs come from RandomStream keyed by (seed, iteration, purpose); dropout masks
// (networks with Dropout layers train with them on) also by the mask's name (TrainStep.dropoutInputs).

import Core
import GraphIR
import Kernels
import Passes
import Runtime
import SpecFormat
import Training

public final class GANSteps {
    public let spec: Spec
    public let seed: UInt64
    public let store = ParameterStore()
    public let pool: ThreadPool
    public let generator: Graph
    public let discriminator: Graph
    public let generatorParameters: [String]
    public let discriminatorParameters: [String]
    /// The spec's loss recipe.
    public let recipe: GANRecipe
    /// The generator's weight average (spec `ema`; GeneratorEMA.swift); nil without one.
    public private(set) var ema: GeneratorEMA? = nil
    /// The pass pipeline each step is compiled with (set before the first step is built):
    /// `TrainStep.pipelineSynchronized` when the spec sets `sync_batchnorm`, else `TrainStep.pipeline`.
    public var passes: [Pass] = TrainStep.pipeline
    private var dSteps: [Int: TrainStep] = [:]
    private var gSteps: [[Int]: TrainStep] = [:]

    public var latentSize: Int { spec.latent?.size ?? 100 }
    /// `normal` (N(0,1)) or `uniform` (U[−1,1)), from the spec's latent section.
    public var latentDistribution: String { spec.latent?.distribution ?? "normal" }
    public var classes: Int? { spec.conditional?.classes }
    public var imageShape: [Int] { spec.dataset.imageShape }

    public init(spec: Spec, seed: UInt64? = nil, threads: Int) throws {
        self.spec = spec
        self.seed = seed ?? spec.seed
        self.pool = ThreadPool(threads: threads)
        if spec.syncBatchNorm { passes = TrainStep.pipelineSynchronized }
        let graphs = try spec.buildGraphs(seed: self.seed)
        guard let g = graphs.first(where: { $0.name == "generator" })?.graph else {
            throw GraphError("\(spec.file): the spec has no network named 'generator'")
        }
        guard let d = graphs.first(where: { $0.name == "discriminator" || $0.name == "critic" })?.graph else {
            throw GraphError("\(spec.file): the spec has no network named 'discriminator' or 'critic'")
        }
        generator = g
        discriminator = d
        recipe = try spec.loss.recipe(file: spec.file)
        func params(_ net: Graph) -> [String] {
            let listed = net.gannet.parameters ?? []
            return listed.map { "\(net.name)/\($0)" }
        }
        generatorParameters = params(g)
        discriminatorParameters = params(d)
        for net in [g, d] {
            for (v, t) in net.initializers where t.dtype == .float32 {
                try store.set("\(net.name)/\(net.name(of: v))", t)
            }
        }
        // Each network's trained parameters as one flat group before any step binds them (the
        // D step reads G's weights): each step then updates its network in one fused kernel.
        store.arrange(generatorParameters.filter(store.contains))
        store.arrange(discriminatorParameters.filter(store.contains))
        try prepareBEGAN()
        if let e = spec.ema {
            let names = g.initializers.filter { $0.value.dtype == .float32 }.keys.map { g.name(of: $0) }.sorted()
            ema = try GeneratorEMA(e, store: store, network: g.name, names: names)
        }
    }

    /// The optimizer of `network` as compiled into its steps (spec settings, overrides applied).
    public func optimizer(_ network: String) -> OptimizerChoice {
        guard let o = spec.optimizers[network] else { return .adam(AdamConfig()) }
        switch o.kind {
        case .sgd: return .sgd(SGDConfig(lr: Float(o.lr), momentum: Float(o.momentum), weightDecay: Float(o.weightDecay)))
        case .rmsprop: return .rmsprop(RMSpropConfig(lr: Float(o.lr), alpha: Float(o.alpha), eps: Float(o.eps), weightDecay: Float(o.weightDecay)))
        case .adam: return .adam(AdamConfig(lr: Float(o.lr), beta1: Float(o.beta1), beta2: Float(o.beta2), eps: Float(o.eps), weightDecay: Float(o.weightDecay)))
        }
    }

    var conditional: Bool { spec.conditional != nil }

    /// Whether the G step reads a real batch (feature matching): inputs `real` and, for
    /// conditional specs, `real_labels`.
    public var gStepNeedsRealBatch: Bool { spec.loss.featureMatching != nil }

    /// The D-step plan for a real batch of `n`.
    public func dPlan(batch n: Int) throws -> StepPlan {
        var c = GraphComposer(name: "d_step")
        let x = c.input("real", TensorType(.float32, fixed: [n] + imageShape))
        let z = c.input("z", TensorType(.float32, fixed: [n, latentSize]))
        let y = conditional ? c.input("labels", TensorType(.int64, fixed: [n])) : nil
        let labelArgs = y.map { [$0] } ?? []
        let fake = try c.call(generator, [z] + labelArgs, training: true)[0]
        let dReal = try c.call(discriminator, [x] + labelArgs, training: true)[0]
        let dFake = try c.call(discriminator, [fake] + labelArgs, training: true)[0]
        let disc = discriminator
        let step = DiscriminatorStep(real: x, fake: fake, dReal: dReal, dFake: dFake, batch: n, imageShape: imageShape,
                                     synchronizedBatchNorm: spec.syncBatchNorm,
                                     passes: Baseline.expandBeforePenalty ? nil : passes,
                                     critic: { comp, xm in try comp.call(disc, [xm] + labelArgs, training: true)[0] })
        let loss = try recipe.discriminatorLoss(&c, step)
        // The scores follow the loss: mean D(real), mean D(fake) unless the recipe names its own.
        let scores: [Metric]
        if let s = loss.scores { scores = s } else { scores = [("d_real", c.mean(dReal)), ("d_fake", c.mean(dFake))] }
        let metrics: [Metric] = [("d_loss", loss.total)] + scores + loss.extra
        c.output(metrics.map(\.value))
        return StepPlan(graph: c.graph, loss: loss.total, trainable: discriminatorParameters,
                        optimizer: optimizer(discriminator.name), assignments: c.finalState,
                        metrics: metrics, gradientNormMetric: "d_grad_norm")
    }

    /// The G-step plan for a batch of `n` (and, with feature matching, a real batch of
    /// `realBatch`, default `n`).
    /// Feature matching: D runs on the real batch (with its labels), then on G(z); the loss is
    /// ‖mean f(real) − mean f(G(z))‖² over the named D value f (the other G losses are replaced).
    public func gPlan(batch n: Int, realBatch: Int? = nil) throws -> StepPlan {
        var c = GraphComposer(name: "g_step")
        let z = c.input("z", TensorType(.float32, fixed: [n, latentSize]))
        let y = conditional ? c.input("labels", TensorType(.int64, fixed: [n])) : nil
        let labelArgs = y.map { [$0] } ?? []
        var realFeatures: ValueID? = nil
        let fm = spec.loss.featureMatching
        if let fm {
            let m = realBatch ?? n
            let real = c.input("real", TensorType(.float32, fixed: [m] + imageShape))
            let realLabels = conditional ? [c.input("real_labels", TensorType(.int64, fixed: [m]))] : []
            realFeatures = try c.call(discriminator, [real] + realLabels, training: true, returning: [fm]).internals[0]
        }
        let fake = try c.call(generator, [z] + labelArgs, training: true)[0]
        let dCall = try c.call(discriminator, [fake] + labelArgs, training: true, returning: fm.map { [$0] } ?? [])
        let dFake = dCall.outputs[0]
        let total: ValueID
        if let realFeatures {
            total = c.featureMatching(real: realFeatures, fake: dCall.internals[0])
        } else {
            total = recipe.generatorLoss(&c, fake: fake, dFake: dFake)
        }
        c.output([total])
        return StepPlan(graph: c.graph, loss: total, trainable: generatorParameters,
                        optimizer: optimizer(generator.name), assignments: c.finalState,
                        metrics: [("g_loss", total)], gradientNormMetric: "g_grad_norm")
    }

    public func dStep(batch n: Int) throws -> TrainStep {
        if let s = dSteps[n] { return s }
        let s = try TrainStep(plan: try dPlan(batch: n), store: store, inputShapes: [:], pool: pool, passes: passes)
        dSteps[n] = s
        return s
    }

    /// The latent batch sizes G steps have been compiled for so far.
    public var compiledGeneratorBatches: Set<Int> { Set(gSteps.keys.map { $0[0] }) }

    public func gStep(batch n: Int, realBatch: Int? = nil) throws -> TrainStep {
        let key = gStepNeedsRealBatch ? [n, realBatch ?? n] : [n]
        if let s = gSteps[key] { return s }
        let s = try TrainStep(plan: try gPlan(batch: n, realBatch: realBatch), store: store, inputShapes: [:], pool: pool, passes: passes)
        gSteps[key] = s
        return s
    }

    /// The random inputs of D step `iteration` for a real batch (labels: the real ones).
    /// `rows`: `real` is rows `rows` of the iteration's global batch (a data-parallel rank's
    /// shard; nil: the whole batch). Each random input of global row i (latent, α, dropout mask
    /// row) is the same numbers for any split: the streams seek to row i (RandomStream.skip).
    public func dInputs(real: Tensor, labels: Tensor?, iteration: Int, rows: Range<Int>? = nil) -> [String: Tensor] {
        let n = real.shape[0]
        let rows = rows ?? 0..<n
        var rz = RandomStream(seed: seed, step: UInt64(iteration), purpose: .latent)
        rz.skipLatents(rows.lowerBound * latentSize, distribution: latentDistribution)
        var inputs: [String: Tensor] = ["real": real, "z": Tensor(shape: [n, latentSize], floats: rz.latents(n * latentSize, distribution: latentDistribution))]
        if let labels { inputs["labels"] = labels }
        inputs.merge(recipe.discriminatorInputs(self, real: real, iteration: iteration, rows: rows)) { a, _ in a }
        if hasDropout, let step = try? dStep(batch: n) {
            inputs.merge(step.dropoutInputs(seed: seed, step: iteration, firstRow: rows.lowerBound)) { a, _ in a }
        }
        return inputs
    }

    /// Whether either network has Dropout (its steps then read per-step masks).
    var hasDropout: Bool { (generator.nodes + discriminator.nodes).contains { $0.op == .dropout } }

    /// The random inputs of the G step at `iteration` for a global batch of `n`, plus the real
    /// batch (and its labels) when the step reads one (feature matching). `rows`: this step
    /// takes rows `rows` of the n (a data-parallel rank's shard; nil: all); `real` is then the
    /// rank's rows of the real batch. Row i's latent, label and dropout mask rows are the same
    /// numbers for any split (labels are drawn for all n and sliced: rejection sampling takes a
    /// variable number of draws).
    public func gInputs(batch n: Int, iteration: Int, rows: Range<Int>? = nil, real: Tensor? = nil, realLabels: Tensor? = nil) -> [String: Tensor] {
        let rows = rows ?? 0..<n
        let m = rows.count
        var rz = RandomStream(seed: seed, step: UInt64(iteration), purpose: .generatorLatent)
        rz.skipLatents(rows.lowerBound * latentSize, distribution: latentDistribution)
        var inputs = ["z": Tensor(shape: [m, latentSize], floats: rz.latents(m * latentSize, distribution: latentDistribution))]
        if let k = classes {
            var rl = RandomStream(seed: seed, step: UInt64(iteration), purpose: .generatorLabels)
            let all = (0..<n).map { _ in Int64(rl.below(k)) }
            inputs["labels"] = Tensor(shape: [m], int64s: Array(all[rows]))
        }
        if gStepNeedsRealBatch {
            if let real { inputs["real"] = real }
            if conditional, let realLabels { inputs["real_labels"] = realLabels }
        }
        if hasDropout, let step = try? gStep(batch: m, realBatch: real?.shape[0]) {
            inputs.merge(step.dropoutInputs(seed: seed, step: iteration, firstRow: rows.lowerBound)) { a, _ in a }
        }
        return inputs
    }
}
