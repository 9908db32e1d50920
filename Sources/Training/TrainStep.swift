// TrainStep: compiles one training step — forward, loss, backward, optimizer update — into a
// single memory-planned Program over a shared ParameterStore.
//
// Contract: a `StepPlan` holds a composed graph (GraphComposer) whose inputs are either fed per
// step (batches, latents, labels, α) or bound to state by name, its scalar loss value, the state
// names to train and the optimizer, and the state assignments (BatchNorm running statistics).
// `TrainStep.compile` binds the fed inputs' shapes, runs the training pipeline (`pipeline`:
// InferShapes, ExpandDropout, FuseConvTransposeBatchNorm, FuseTrainingBatchNorm,
// ExpandTrainingBatchNorm, InferShapes),
// appends the gradient of the loss with respect to the trained inputs (Autodiff), runs
// `pipelineAfterAutodiff` (CombineSharedOperandGemms, SumBeforeTranspose) on forward and backward together, lays the
// trained parameters and their optimizer state out as flat groups in the store
// (ParameterStore.arrange), and lowers everything with the optimizer updates and assignments
// as in-place state updates at the end of the program (one fused update per flat group).
// `run` feeds inputs, runs the program once (one optimizer step) and returns the graph outputs
// as scalars (the logged losses).
// Training-mode Dropout becomes a Mul by a fed mask input (`dropoutMasks`); callers feed
// `dropoutInputs(seed:step:)` with the other inputs each step.

import Core
import GraphIR
import Kernels
import Passes
import Runtime

/// An optimizer for one parameter group.
public enum OptimizerChoice: Equatable {
    case adam(AdamConfig)
    case sgd(SGDConfig)
    case rmsprop(RMSpropConfig)
}

extension OptimizerChoice {
    /// The state each parameter gets (`<param>/<suffix>`).
    public var stateSuffixes: [String] {
        switch self {
        case .adam: return StateUpdate.adamStates
        case .sgd: return StateUpdate.sgdStates
        case .rmsprop: return StateUpdate.rmspropStates
        }
    }
}

/// What one step computes and updates.
public struct StepPlan {
    public var graph: Graph
    public var loss: ValueID
    public var trainable: [String]
    public var optimizer: OptimizerChoice?
    public var assignments: [(name: String, value: ValueID)]
    /// Named scalar outputs (each a graph output), reported by name (`TrainStep.metrics`).
    public var metrics: [(name: String, value: ValueID)]
    /// The metric name of the global gradient norm the step appends.
    public var gradientNormMetric: String

    public init(graph: Graph, loss: ValueID, trainable: [String], optimizer: OptimizerChoice?,
                assignments: [(name: String, value: ValueID)], metrics: [(name: String, value: ValueID)] = [],
                gradientNormMetric: String = "grad_norm") {
        self.graph = graph
        self.loss = loss
        self.trainable = trainable
        self.optimizer = optimizer
        self.assignments = assignments
        self.metrics = metrics
        self.gradientNormMetric = gradientNormMetric
    }
}

public final class TrainStep {
    public let program: Program
    /// The compiled graph (after passes and autodiff), for printing.
    public let graph: Graph
    /// Names of the graph outputs, in order.
    public let outputNames: [String]
    /// Gradient value names per trained parameter (for tests and gradient-norm logging).
    public let gradientNames: [String: String]
    /// Each metric of the plan (then the gradient norm) with the output that holds it, by
    /// name: the pairing never depends on output order.
    public let metrics: [(name: String, output: String)]

    /// The training pipeline run before autodiff.
    public static let pipeline: [Pass] = [
        InferShapes(),
        ExpandDropout(),
        FuseConvTransposeBatchNorm(),
        FuseTrainingBatchNorm(),
        ExpandTrainingBatchNorm(),
        InferShapes(),
    ]

    /// `pipeline` without fusion: what `--no-fuse` and the fusion tests compare against.
    public static let pipelineUnfused: [Pass] = [InferShapes(), ExpandDropout(), ExpandTrainingBatchNorm(), InferShapes()]

    /// The pipeline of synchronised BatchNorm (`sync_batchnorm`): no ConvTranspose+BatchNorm
    /// fusion (its statistics are the rank's own) and ExpandTrainingBatchNorm(synchronized: true).
    public static let pipelineSynchronized: [Pass] = [InferShapes(), ExpandDropout(), ExpandTrainingBatchNorm(synchronized: true), InferShapes()]

    /// The pipeline run on the differentiated graph (forward and backward together).
    public static let pipelineAfterAutodiff: [Pass] = [CombineSharedOperandGemms(), SumBeforeTranspose()]

    /// The dropout mask inputs the step reads (ExpandDropout), fed by `dropoutInputs`.
    public let dropoutMasks: [DropoutMask]

    /// Fresh masks for step `step` of a run seeded `seed`: each from
    /// `RandomStream(seed:step:purpose: .dropout, stream: streamID("<graph name>/<mask name>"))`,
    /// so masks are reproducible (and a resumed run bit-identical) and differ per step, per mask
    /// and per step graph (a D step's masks are not a G step's).
    /// `firstRow`: this step's batch is rows firstRow… of a larger global batch (a data-parallel
    /// rank's shard); each mask (leading dimension: the batch) is then those rows of the global
    /// batch's mask, the same numbers for any split.
    public func dropoutInputs(seed: UInt64, step: Int, firstRow: Int = 0) -> [String: Tensor] {
        Self.dropoutInputs(dropoutMasks, seed: seed, step: step, scope: graph.name, firstRow: firstRow)
    }

    /// The masks `dropoutInputs` draws, for a given mask list and step-graph name.
    public static func dropoutInputs(_ masks: [DropoutMask], seed: UInt64, step: Int, scope: String, firstRow: Int = 0) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for m in masks {
            var r = RandomStream(seed: seed, step: UInt64(step), purpose: .dropout, stream: RandomStream.streamID("\(scope)/\(m.name)"))
            r.skip(words: firstRow * m.shape.dropFirst().reduce(1, *))
            out[m.name] = Tensor(shape: m.shape, floats: r.dropoutMask(m.shape.reduce(1, *), ratio: m.ratio))
        }
        return out
    }

    public init(plan: StepPlan, store: ParameterStore, inputShapes: [String: [Int]], pool: ThreadPool,
                exposeGradients: Bool = false, passes: [Pass] = TrainStep.pipeline,
                afterAutodiff: [Pass] = TrainStep.pipelineAfterAutodiff,
                afterPass: ((String, Graph) -> Void)? = nil) throws {
        for m in plan.metrics where !plan.graph.outputs.contains(m.value) {
            throw RuntimeError("metric '\(m.name)' is not an output of the step graph")
        }
        let fedNames = plan.graph.inputs.map { plan.graph.name(of: $0) }
        var shapes: [[Int]] = []
        for (v, name) in zip(plan.graph.inputs, fedNames) {
            if let e = store.entry(name) { shapes.append(e.shape) }
            else if let s = inputShapes[name] { shapes.append(s) }
            else if let s = plan.graph.type(of: v)?.fixedShape { shapes.append(s) }
            else { throw RuntimeError("step input '\(name)' needs a shape") }
        }
        var g = try Session.bind(plan.graph, shapes)
        try Pipelines.run(passes, on: &g, after: afterPass)
        self.dropoutMasks = try ExpandDropout.masks(in: g)
        let wrt = try plan.trainable.map { name -> ValueID in
            guard let v = g.inputs.first(where: { g.name(of: $0) == name }) else {
                throw RuntimeError("trained parameter '\(name)' is not an input of the step graph")
            }
            return v
        }
        let grads = try Autodiff.gradients(of: plan.loss, wrt: wrt, in: &g, createGraph: false)
        try Pipelines.run(afterAutodiff, on: &g, after: afterPass)
        // The global gradient norm √Σ‖g‖², logged as the last output.
        var squares: [ValueID] = []
        for case let grad? in grads {
            squares.append(g.add(.reduceSumSquare, grad, output: "gradnorm/\(g.name(of: grad))/sum", attributes: ["keepdims": .int(0)]))
        }
        var metrics = plan.metrics.map { (name: $0.name, output: g.name(of: $0.value)) }
        if var total = squares.first {
            for s in squares.dropFirst() { total = g.add(.add, total, s, output: "gradnorm/total#\(s.index)") }
            g.outputs.append(g.add(.sqrt, total, output: "grad_norm"))
            metrics.append((plan.gradientNormMetric, "grad_norm"))
        }
        try InferShapes().run(&g)
        var updates: [StateUpdate] = []
        var gradientNames: [String: String] = [:]
        for (name, grad) in zip(plan.trainable, grads) {
            guard let grad else { continue }
            gradientNames[name] = g.name(of: grad)
            switch plan.optimizer {
            case .adam(let c)?: updates.append(.adam(param: name, grad: grad, config: c))
            case .sgd(let c)?: updates.append(.sgd(param: name, grad: grad, config: c))
            case .rmsprop(let c)?: updates.append(.rmsprop(param: name, grad: grad, config: c))
            case nil: break
            }
        }
        // Each network's trained parameters and their optimizer state as flat groups, so the
        // program updates them with one fused kernel (Program+FusedUpdate); a no-op when already
        // flat, and left as is when another program pinned them elsewhere.
        store.arrange(plan.trainable.filter { store.contains($0) }, states: plan.optimizer?.stateSuffixes ?? [])
        if exposeGradients {
            for case let grad? in grads where !g.outputs.contains(grad) { g.outputs.append(grad) }
        }
        for (name, value) in plan.assignments { updates.append(.assign(state: name, value: value)) }
        try g.verify()
        self.graph = g
        self.outputNames = g.outputs.map { g.name(of: $0) }
        self.gradientNames = gradientNames
        self.metrics = metrics
        self.program = try Lowering.lower(g, pool: pool, store: store, updates: updates)
    }

    /// The metrics of a step's outputs `out` (from `run`) by metric name: each output's first
    /// element (NaN when missing).
    public func metricValues(_ out: [String: Tensor]) -> [String: Float] {
        var r: [String: Float] = [:]
        for m in metrics { r[m.name] = out[m.output]?.floats.first ?? .nan }
        return r
    }

    /// Feeds `inputs` (by name), runs one step and returns every output tensor by name.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        for (i, v) in program.inputs.enumerated() {
            guard let t = inputs[v.name] else { throw RuntimeError("step input '\(v.name)' was not fed") }
            try program.setInput(i, t)
        }
        try program.run()
        var out: [String: Tensor] = [:]
        for (i, name) in outputNames.enumerated() { out[name] = program.output(i) }
        return out
    }
}
