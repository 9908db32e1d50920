// Fused: the Gannet-internal ops fusion passes make — FusedConv, FusedConvTranspose, FusedGemm
// (base op + bias + activation in one kernel), FusedBatchNormalization (inference BatchNorm +
// activation in one pass) and FusedConvTransposeBatchNorm (ConvTranspose +
// training BatchNormalization statistics in the epilogue) — and the one parser of the fused
// `activation`/`activation_alpha`/`activation_beta` attributes.
//
// Contract: a fused op's type, evaluation and lowering are its base op's (`baseNode`: the node
// with the base op and without the activation attributes) followed by the activation; a
// FusedGemm's C must be a bias row when it has an activation. FusedConvTransposeBatchNorm has
// outputs (Y, Z, mean, var): Z is the ConvTranspose part (`Node.fusedConvTransposePart`), mean
// and var [C] are Z's biased batch statistics, Y the normalised, scaled, shifted, activated Z.
// Only FusedConvTransposeBatchNorm (a training fusion) is differentiable, by the rule in
// Autodiff/Pullbacks+ConvTransposeBatchNorm.swift; the inference fusions run after Autodiff.

import GraphIR
import Kernels

extension Activation {
    /// The activations a training fusion (FuseConvTransposeBatchNorm) may carry, by their ONNX op.
    /// The inference fusion also takes Clip with constant bounds, x·Sigmoid(x) (`clip`, `swish`),
    /// HardSigmoid and HardSwish.
    public static let fusableOps: [Op] = [.relu, .leakyRelu, .sigmoid, .tanh]

    /// Whether a training fusion may absorb `node`: one of `fusableOps`, and not a LeakyRelu with
    /// a negative slope, whose derivative cannot be read from its output's sign (the fused
    /// backward reads only the output).
    public static func trainingFusable(_ node: Node) throws -> Bool {
        guard fusableOps.contains(node.op) else { return false }
        guard node.op == .leakyRelu else { return true }
        return try node.attributes.float("alpha", default: 0.01) >= 0
    }

    /// The activation of a standalone activation node (nil when `node` is not one).
    public init?(node: Node) throws {
        switch node.op {
        case .relu: self = .relu
        case .leakyRelu: self = .leakyRelu(try node.attributes.float("alpha", default: 0.01))
        case .sigmoid: self = .sigmoid
        case .tanh: self = .tanh
        case .hardSigmoid:
            self = .hardSigmoid(try node.attributes.float("alpha", default: 0.2), try node.attributes.float("beta", default: 0.5))
        case .hardSwish: self = .hardSwish
        default: return nil
        }
    }

    /// The activation a fused node's `activation`/`activation_alpha` attributes name (nil when absent).
    public init?(fusedAttributesOf node: Node) throws {
        guard let name = try node.attributes.string("activation") else { return nil }
        if name == "Swish" { self = .swish; return }
        if name == "HardSwish" { self = .hardSwish; return }
        if name == "HardSigmoid" {
            self = .hardSigmoid(try node.attributes.float("activation_alpha", default: 0.2),
                                try node.attributes.float("activation_beta", default: 0.5))
            return
        }
        if name == "Clip" {
            self = .clip(try node.attributes.float("activation_alpha", default: -.infinity),
                         try node.attributes.float("activation_beta", default: .infinity))
            return
        }
        guard let op = Op(onnxName: name), Activation.fusableOps.contains(op) else {
            throw GraphError("unknown fused activation '\(name)'")
        }
        var attrs: [String: Attribute] = [:]
        if op == .leakyRelu { attrs["alpha"] = .float(try node.attributes.float("activation_alpha", default: 0.01)) }
        try self.init(node: Node(op, name: node.name, inputs: [], outputs: [], attributes: Attributes(attrs)))
    }

    /// The standalone one-input op computing this activation (nil for Clip, whose bounds are
    /// inputs, and Swish, which is two nodes).
    public var op: Op? {
        switch self {
        case .relu: return .relu
        case .leakyRelu: return .leakyRelu
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .hardSigmoid: return .hardSigmoid
        case .hardSwish: return .hardSwish
        case .clip, .swish: return nil
        }
    }

    /// The `activation` attribute's value.
    var fusedName: String {
        switch self {
        case .clip: return "Clip"
        case .swish: return "Swish"
        default: return op!.rawValue
        }
    }

    /// The attributes of the standalone op (LeakyRelu's alpha, HardSigmoid's alpha and beta).
    public var opAttributes: [String: Attribute] {
        if case .leakyRelu(let a) = self { return ["alpha": .float(a)] }
        if case let .hardSigmoid(a, b) = self { return ["alpha": .float(a), "beta": .float(b)] }
        return [:]
    }

    /// The fused-attribute form: `activation` and, for LeakyRelu, `activation_alpha`; for Clip
    /// the bounds as `activation_alpha` (min) and `activation_beta` (max); for HardSigmoid its
    /// alpha and beta as `activation_alpha` and `activation_beta`.
    public var fusedAttributes: [String: Attribute] {
        var a: [String: Attribute] = ["activation": .string(fusedName)]
        if case .leakyRelu(let alpha) = self { a["activation_alpha"] = .float(alpha) }
        if case let .clip(lo, hi) = self { a["activation_alpha"] = .float(lo); a["activation_beta"] = .float(hi) }
        if case let .hardSigmoid(al, be) = self { a["activation_alpha"] = .float(al); a["activation_beta"] = .float(be) }
        return a
    }
}

public enum FusedOps: OperatorFamily {
    /// The node with its base op and without the activation attributes.
    static func baseNode(_ node: Node) -> Node {
        var base = node
        base.op = node.op.baseOp
        base.attributes.values = node.attributes.values.filter { !$0.key.hasPrefix("activation") }
        return base
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        guard node.op == .fusedConvTransposeBatchNorm else { return try ShapeRules.infer(baseNode(node), ts, g) }
        // (Y, Z, mean, var): Y and Z are ConvTranspose's output, the statistics per channel.
        let z = try ShapeRules.infer(node.fusedConvTransposePart, Array(ts.prefix(3)), g)[0]
        guard z.rank >= 3, let c = z.shape[1].value else { throw GraphError("needs a static channel count, Z is \(z)") }
        for (i, what) in [(3, "scale"), (4, "bias")] {
            guard let t = ts[i], t.shape == [.fixed(c)] else { throw GraphError("\(what) must be f32[\(c)], got \(ts[i]?.description ?? "nothing")") }
        }
        let stat = TensorType(z.dtype, [.fixed(c)])
        return [z, z, stat, stat]
    }

    static func applyActivation(_ node: Node, _ y: inout [Float]) throws {
        guard let act = try Activation(fusedAttributesOf: node) else { return }
        for i in y.indices { y[i] = act.apply(y[i]) }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let outShape = outTypes[0].fixedShape ?? []
        if node.op == .fusedConvTransposeBatchNorm {
            let z = try ConvOps.evaluate(node.fusedConvTransposePart, Array(x.prefix(3)), [outTypes[1]], g)[0]
            let c = outShape[1]
            var y = [Float](repeating: 0, count: outShape.reduce(1, *))
            var mean = [Float](repeating: 0, count: c), variance = mean
            ConvTransposeBatchNorm.normalizeReference(z.floats, batch: outShape[0], channels: c, plane: outShape[2...].reduce(1, *),
                                                      scale: x[3]!.floats, beta: x[4]!.floats,
                                                      epsilon: try node.attributes.float("epsilon", default: 1e-5),
                                                      activation: nil, y: &y, mean: &mean, variance: &variance)
            try applyActivation(node, &y)
            return [Tensor(shape: outShape, floats: y), z, Tensor(shape: [c], floats: mean), Tensor(shape: [c], floats: variance)]
        }
        let base = baseNode(node)
        var y = try base.op.family.evaluate(base, x, outTypes, g)[0].floats
        try applyActivation(node, &y)
        return [Tensor(shape: outShape, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        _ = try ctx.kernelShapes(node)
        if node.op == .fusedConvTransposeBatchNorm {
            guard case let .kernel(.convTranspose(s, _), _) = try ConvOps.lower(node.fusedConvTransposePart, ctx) else {
                throw GraphError("internal: ConvTranspose lowering")
            }
            guard try ctx.shape(node.inputs[0]!).count == 4 else { throw GraphError("FusedConvTransposeBatchNorm supports 2-D only") }
            return .kernel(.convTransposeBatchNorm(s, epsilon: try node.attributes.float("epsilon", default: 1e-5),
                                                   activation: try Activation(fusedAttributesOf: node)))
        }
        let base = baseNode(node)
        guard case let .kernel(call, operands) = try base.op.family.lower(base, ctx) else {
            throw GraphError("internal: \(base.op.rawValue) has no kernel")
        }
        guard let act = try Activation(fusedAttributesOf: node) else { return .kernel(call, operands: operands) }
        switch call {
        case let .gemm(tA, tB, m, n, k, alpha, beta, lda, ldb, epi, batches, nil):
            return .kernel(.gemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta, lda: lda, ldb: ldb,
                                 epilogue: epi + [.activation(act)], batches: batches, fillC: nil), operands: operands)
        case let .conv(s, epi): return .kernel(.conv(s, epilogue: epi + [.activation(act)]), operands: operands)
        case let .convChannelsLast(s, epi): return .kernel(.convChannelsLast(s, epilogue: epi + [.activation(act)]), operands: operands)
        case let .convTranspose(s, epi): return .kernel(.convTranspose(s, epilogue: epi + [.activation(act)]), operands: operands)
        case let .batchNorm(n, c, sp, eps, nil):
            return .kernel(.batchNorm(batch: n, channels: c, spatial: sp, epsilon: eps, activation: act), operands: operands)
        default: throw GraphError("\(node.op.rawValue) with a general C input cannot take an activation")
        }
    }

    /// A fused op mixes what its base op mixes; ConvTranspose+BatchNorm's batch statistics mix
    /// every sample.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        switch node.op {
        case .fusedConvTransposeBatchNorm: return true
        case .fusedBatchNormalization: return batchedBeyondFirst(batched)
        default:
            let base = baseNode(node)
            return try base.op.family.mixesSamples(base, batched, graph)
        }
    }
    public static func pullback(_ op: Op) -> Pullback? {
        op == .fusedConvTransposeBatchNorm ? Pullbacks.convTransposeBatchNorm : nil
    }
}
