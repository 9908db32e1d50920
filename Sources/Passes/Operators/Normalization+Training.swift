// Normalization+Training: the Gannet-internal training BatchNorm ops — BatchNormTraining
// (statistics, normalisation and activation in one kernel, made by FuseTrainingBatchNorm) and
// BatchNormTrainingGrad (its backward, made by Autodiff without `createGraph`).
//
// Contract: BatchNormTraining has inputs (X rank ≥ 2 with a static channel count C, scale [C],
// bias [C]) and outputs (Y like X, mean [C], var [C]); BatchNormTrainingGrad has inputs
// (dY like X, X, mean, var, scale, bias) and outputs (dX like X, dscale [C], dbias [C]). The semantics are BatchNorm+Training.swift's (Kernels), whose references the
// evaluator runs. BatchNormTraining's rule is Pullbacks+BatchNorm.swift's; BatchNormTrainingGrad
// is not differentiable (a gradient that will be differentiated again is built with
// `createGraph`, which never emits it).

import GraphIR
import Kernels

public enum TrainingBatchNormOps: OperatorFamily {
    /// (N, C, spatial) of a node's X, whose channel count must be static.
    static func dims(_ x: [Int]) -> (n: Int, c: Int, spatial: Int) { (x[0], x[1], x[2...].reduce(1, *)) }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let xi = node.op == .batchNormTraining ? 0 : 1
        guard let x = ts[xi], x.rank >= 2, let c = x.shape[1].value else {
            throw GraphError("X must have rank >= 2 and a static channel count, got \(ts[xi]?.description ?? "nothing")")
        }
        let stat = TensorType(x.dtype, [.fixed(c)])
        let params: [(Int, String)] = node.op == .batchNormTraining ? [(1, "scale"), (2, "bias")]
            : [(2, "mean"), (3, "var"), (4, "scale"), (5, "bias")]
        for (i, what) in params {
            guard let t = ts[i], t.shape == stat.shape else { throw GraphError("\(what) must be f32[\(c)], got \(ts[i]?.description ?? "nothing")") }
        }
        if node.op == .batchNormTrainingGrad, ts[0]?.shape != x.shape {
            throw GraphError("dY must have X's shape \(x), got \(ts[0]?.description ?? "nothing")")
        }
        return [x, stat, stat]
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let eps = try node.attributes.float("epsilon", default: 1e-5)
        let act = try Activation(fusedAttributesOf: node)
        let shape = outTypes[0].fixedShape ?? []
        let (n, c, sp) = dims(shape)
        var y = [Float](repeating: 0, count: shape.reduce(1, *))
        var s1 = [Float](repeating: 0, count: c), s2 = s1
        switch node.op {
        case .batchNormTraining:
            BatchNormTraining.forwardReference(x[0]!.floats, &y, scale: x[1]!.floats, bias: x[2]!.floats, epsilon: eps,
                                               mean: &s1, variance: &s2, batch: n, channels: c, spatial: sp, activation: act)
        case .batchNormTrainingGrad:
            guard BatchNormTraining.hasBackward(act) else { throw GraphError("no backward for the activation \(act!)") }
            BatchNormTraining.backwardReference(dy: x[0]!.floats, x: x[1]!.floats, mean: x[2]!.floats, variance: x[3]!.floats,
                                                scale: x[4]!.floats, bias: x[5]!.floats, epsilon: eps, activation: act,
                                                dx: &y, dscale: &s1, dbias: &s2, batch: n, channels: c, spatial: sp)
        default: throw notInFamily(node.op)
        }
        return [Tensor(shape: shape, floats: y), Tensor(shape: [c], floats: s1), Tensor(shape: [c], floats: s2)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let eps = try node.attributes.float("epsilon", default: 1e-5)
        let act = try Activation(fusedAttributesOf: node)
        let (n, c, sp) = dims(try ctx.shape(node.outputs[0]))
        switch node.op {
        case .batchNormTraining:
            _ = try ctx.kernelShapes(node)
            return .kernel(.batchNormTraining(batch: n, channels: c, spatial: sp, epsilon: eps, activation: act))
        case .batchNormTrainingGrad:
            guard BatchNormTraining.hasBackward(act) else { throw GraphError("no backward for the activation \(act!)") }
            return .kernel(.batchNormTrainingGrad(batch: n, channels: c, spatial: sp, epsilon: eps, activation: act))
        default: throw notInFamily(node.op)
        }
    }

    /// Batch statistics combine every sample.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool { true }
    public static func pullback(_ op: Op) -> Pullback? { op == .batchNormTraining ? batchNormTraining : nil }

    /// Cotangents of (X, scale, bias) from those of (Y, mean, var).
    static func batchNormTraining(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let x = n.inputs[0]!, y = n.outputs[0], mean = n.outputs[1], variance = n.outputs[2]
        var out: [ValueID?] = [nil, nil, nil]
        var gx: ValueID?
        if let gy = dys[0] {
            let r = try Pullbacks.throughOutput(b, n, x: x, y: y, mean: mean, variance: variance, scale: n.inputs[1]!, bias: n.inputs[2]!, gy: gy,
                                                wants: (wants[0], wants[1], wants[2]))
            (gx, out[1], out[2]) = (r.x, r.scale, r.bias)
        }
        if wants[0], let g = try Pullbacks.throughStatistics(b, x: x, mean: mean, gmean: dys[1], gvar: dys[2]) {
            gx = try gx.map { try b.add($0, g) } ?? g
        }
        out[0] = gx
        return out
    }
}
