// Losses: GAN and classifier losses built as graph nodes on a GraphComposer.
//
// Contract: each builder appends standard ops reading the given values and returns a scalar
// (f32[1]) value: the batch mean, as PyTorch's default reduction. Logits are (N,) or (N,1).
// BCE on probabilities uses the logits behind a final Sigmoid when there is one, also behind
// shape-only ops (the stable form, equal in exact arithmetic), else −(t·log p + (1−t)·log(1−p)).

import GraphIR
import Passes

extension GraphComposer {
    /// Appends `op` and returns its (single) output, named `<prefix>/<op>` uniquely.
    public mutating func apply(_ op: Op, _ inputs: [ValueID?], _ attributes: [String: Attribute] = [:], name: String? = nil) -> ValueID {
        let base = name ?? "loss/\(op.rawValue)"
        return graphAddNode(op, inputs, base, attributes)
    }

    /// A constant f32 tensor.
    public mutating func constant(_ values: [Float], shape: [Int], name: String = "const") -> ValueID {
        addConstant(Tensor(shape: shape, floats: values), name: name)
    }

    public mutating func scalar(_ v: Float) -> ValueID { constant([v], shape: [1], name: "scalar") }

    /// A constant int64 axes list (the reductions' input 1).
    public mutating func axes(_ a: [Int], name: String = "axes") -> ValueID {
        addConstant(Tensor(shape: [a.count], int64s: a.map(Int64.init)), name: name)
    }

    /// mean over all elements, as f32[1].
    public mutating func mean(_ x: ValueID) -> ValueID {
        let m = apply(.reduceMean, [x], ["keepdims": .int(0)], name: "loss/mean")
        return apply(.reshape, [m, addConstant(Tensor(shape: [1], int64s: [1]), name: "shape1")], name: "loss/mean1")
    }

    /// mean(softplus(x) − t·x): BCEWithLogits against a constant target t.
    public mutating func bceWithLogits(_ logits: ValueID, target: Float) -> ValueID {
        let sp = apply(.softplus, [logits])
        if target == 0 { return mean(sp) }
        let tx = target == 1 ? logits : apply(.mul, [logits, scalar(target)])
        return mean(apply(.sub, [sp, tx]))
    }

    /// BCE on probabilities p against a constant target.
    /// The Sigmoid may sit behind shape-only ops (the seed DCGAN's `sigmoid` then `reshape [-1]`):
    /// they are replayed on the logits. Without this, saturated probabilities (p = 0 in float32)
    /// give log 0 = −inf and NaN gradients (PyTorch's BCELoss clamps the log at −100 instead).
    public mutating func bce(_ p: ValueID, target: Float) -> ValueID {
        var chain: [Node] = []
        var v = p
        while let producer = graph.nodes.last(where: { $0.outputs.contains(v) }) {
            if producer.op == .sigmoid {
                var logits = producer.inputs[0]!
                for node in chain.reversed() {
                    logits = apply(node.op, [logits] + node.inputs.dropFirst(), node.attributes.values, name: "loss/logits_\(node.op.rawValue)")
                }
                return bceWithLogits(logits, target: target)
            }
            guard [.reshape, .flatten, .squeeze, .unsqueeze, .identity].contains(producer.op), let x = producer.inputs[0] else { break }
            chain.append(producer)
            v = x
        }
        let logp = apply(.log, [p])
        let log1mp = apply(.log, [apply(.sub, [scalar(1), p])])
        let s = apply(.add, [apply(.mul, [logp, scalar(target)]), apply(.mul, [log1mp, scalar(1 - target)])])
        return apply(.neg, [mean(s)])
    }

    /// mean((x − t)²) (LSGAN).
    public mutating func mse(_ x: ValueID, target: Float) -> ValueID {
        let d = apply(.sub, [x, scalar(target)])
        return mean(apply(.mul, [d, d]))
    }

    /// mean(max(0, 1 − s·x)) with s = +1 for real and −1 for fake (hinge, discriminator side).
    public mutating func hinge(_ x: ValueID, real: Bool) -> ValueID {
        let margin = real ? apply(.sub, [scalar(1), x]) : apply(.add, [scalar(1), x])
        return mean(apply(.relu, [margin]))
    }

    /// Feature matching (Salimans et al. 2016): ‖mean_batch f_real − mean_batch f_fake‖², the
    /// means over axis 0 (the batch sizes may differ) and the squared L2 norm over every other
    /// axis, as f32[1].
    public mutating func featureMatching(real: ValueID, fake: ValueID) -> ValueID {
        let mr = apply(.reduceMean, [real, axes([0], name: "fm/axes")], ["keepdims": .int(0)], name: "fm/mean_real")
        let mf = apply(.reduceMean, [fake, axes([0], name: "fm/axes")], ["keepdims": .int(0)], name: "fm/mean_fake")
        let d = apply(.sub, [mr, mf], name: "fm/diff")
        let ss = apply(.reduceSum, [apply(.mul, [d, d], name: "fm/square")], ["keepdims": .int(0)], name: "fm/sum")
        return apply(.reshape, [ss, addConstant(Tensor(shape: [1], int64s: [1]), name: "shape1")], name: "fm/loss")
    }

    /// a + b for scalars.
    public mutating func add(_ a: ValueID, _ b: ValueID) -> ValueID { apply(.add, [a, b]) }
    public mutating func sub(_ a: ValueID, _ b: ValueID) -> ValueID { apply(.sub, [a, b]) }
    public mutating func scale(_ a: ValueID, _ s: Float) -> ValueID { apply(.mul, [a, scalar(s)]) }
    public mutating func negate(_ a: ValueID) -> ValueID { apply(.neg, [a]) }

    /// Cross-entropy of logits (N, K) against integer labels (N,): mean(−log softmax[label]).
    public mutating func crossEntropy(_ logits: ValueID, labels: ValueID, classes: Int) -> ValueID {
        let logp = apply(.logSoftmax, [logits], ["axis": .int(1)])
        let eye = constant((0..<(classes * classes)).map { $0 / classes == $0 % classes ? 1 : 0 }, shape: [classes, classes], name: "eye")
        let onehot = apply(.gather, [eye, labels], ["axis": .int(0)])
        let picked = apply(.reduceSum, [apply(.mul, [logp, onehot]), axes([1])], ["keepdims": .int(0)])
        return apply(.neg, [mean(picked)])
    }

    /// The WGAN-GP (or DRAGAN) penalty λ·mean((‖∇ₓD(x)‖₂ − 1)²) at `x` (N,C,H,W), the norm over
    /// C,H,W per sample with no epsilon, as the seed. `critic` maps x to logits (N,). Before
    /// differentiating, the graph goes through `passes`, the step's own training pipeline
    /// (TrainStep.pipeline: the generator's and critic's training BatchNorms fused, whose
    /// pullbacks emit ordinary, twice-differentiable ops), or when nil through the expansion
    /// of every training BatchNorm into primitive ops (synchronised with `synchronizedBatchNorm`).
    /// `synchronizedBatchNorm` (data-parallel `sync_batchnorm`, whose pipeline expands the
    /// BatchNorms synchronised): ∇ₓ is taken of mean(D(x)) times the (static) local batch size N rather
    /// than of sum(D(x)) — equal in value, but a mean is a loss in the share-weighted convention
    /// AllReduce's pullback assumes, so each rank's ∇ₓ is the global batch's even over uneven shards.
    public mutating func gradientPenalty(at x: ValueID, lambda: Float, synchronizedBatchNorm: Bool = false,
                                         passes: [Pass]? = nil,
                                         critic: (inout GraphComposer, ValueID) throws -> ValueID) throws -> ValueID {
        let y = try critic(&self, x)
        let total = synchronizedBatchNorm ? apply(.reduceMean, [y], ["keepdims": .int(0)], name: "gp/mean")
            : apply(.reduceSum, [y], ["keepdims": .int(0)], name: "gp/sum")
        var g = graph
        try Pipelines.run(passes ?? [InferShapes(), ExpandDropout(), ExpandTrainingBatchNorm(synchronized: synchronizedBatchNorm), InferShapes()],
                          on: &g)
        guard var grad = try Autodiff.gradients(of: total, wrt: [x], in: &g)[0] else {
            throw GraphError("gradient penalty: the critic output does not depend on its input")
        }
        builder.replaceGraph(g)
        if synchronizedBatchNorm {
            guard let n = graph.type(of: x)?.shape.first?.value else {
                throw GraphError("gradient penalty: synchronised BatchNorm needs a static batch size")
            }
            grad = apply(.mul, [grad, scalar(Float(n))], name: "gp/grad_sum")
        }
        let sq = apply(.mul, [grad, grad], name: "gp/square")
        let rank = graph.type(of: x)?.rank ?? 4
        let ss = apply(.reduceSum, [sq, axes(Array(1..<rank), name: "gp/axes")], ["keepdims": .int(0)], name: "gp/sumsq")
        let norm = apply(.sqrt, [ss], name: "gp/norm")
        let d = apply(.sub, [norm, scalar(1)], name: "gp/minus1")
        let p = mean(apply(.mul, [d, d], name: "gp/square2"))
        return scale(p, lambda)
    }
}
