// Normalization: inference BatchNormalization, Y = (X − mean)/√(var + epsilon)·scale + B per
// channel (axis 1).
//
// Contract: X has rank ≥ 2, the four parameters are [C]; the optional training outputs (mean,
// var, saved mean/var) are typed [C] but only the inference form lowers and differentiates:
// training mode is rewritten first (ExpandTrainingBatchNorm, or fused by FuseTrainingBatchNorm
// or FuseConvTransposeBatchNorm; Normalization+Training.swift). The pullback gives all five input gradients.

import GraphIR
import Kernels

public enum NormalizationOps: OperatorFamily {
    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        guard x.rank >= 2 else { throw GraphError("input must have rank >= 2, got \(x)") }
        for k in 1..<5 {
            if let t = ts[k], t.rank != 1 || (t.shape[0] != x.shape[1] && x.shape[1].value != nil) {
                throw GraphError("parameter \(k) has type \(t), expected [\(x.shape[1])]")
            }
        }
        let c = TensorType(.float32, [x.shape[1]])
        return [x, c, c, c, c].prefix(node.outputs.count).map { $0 }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let outShape = outTypes[0].fixedShape ?? []
        var y = [Float](repeating: 0, count: outShape.reduce(1, *))
        let xs = x[0]!.shape
        BatchNormInference.reference(x[0]!.floats, &y, scale: x[1]!.floats, bias: x[2]!.floats, mean: x[3]!.floats, variance: x[4]!.floats,
                                     epsilon: try node.attributes.float("epsilon", default: 1e-5), batch: xs[0], channels: xs[1],
                                     spatial: xs[2...].reduce(1, *))
        return [Tensor(shape: outShape, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let x = try ctx.kernelShapes(node).x
        if try node.attributes.int("training_mode", default: 0) != 0 || node.outputs.count > 1 {
            throw GraphError("training-mode BatchNormalization is not supported by the inference runtime")
        }
        return .kernel(.batchNorm(batch: x[0], channels: x[1], spatial: x[2...].reduce(1, *),
                                  epsilon: try node.attributes.float("epsilon", default: 1e-5), activation: nil))
    }

    /// Inference statistics: per channel, the same for every sample unless they are data.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        let training = try node.attributes.int("training_mode", default: 0) != 0
        return training || batchedBeyondFirst(batched) || node.outputs.count > 1
    }
    public static func pullback(_ op: Op) -> Pullback? { op == .batchNormalization ? batchNorm : nil }

    /// Y = (X − mean)·scale/√(var + eps) + B per channel.
    static func batchNorm(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        guard try n.attributes.int("training_mode", default: 0) == 0, n.outputs.count == 1 else {
            throw GraphError("training-mode BatchNormalization has no pullback; run ExpandTrainingBatchNorm first")
        }
        let x = n.inputs[0]!, scale = n.inputs[1]!, mean = n.inputs[3]!, variance = n.inputs[4]!, dy = dys[0]!
        let eps = try n.attributes.float("epsilon", default: 1e-5)
        let xd = try b.dims(x)
        guard let c = xd[1].value else { throw GraphError("BatchNormalization gradients need a static channel count") }
        let bshape = [Dim.fixed(1), .fixed(c)] + Array(repeating: Dim.fixed(1), count: xd.count - 2)
        func perChannel(_ v: ValueID) throws -> ValueID { try b.reshape(v, to: bshape) }
        let axes = [0] + Array(2..<xd.count)
        let inv = try b.div(b.scalar(1), b.emit(.sqrt, [b.add(variance, b.scalar(eps))]))   // [C]
        var out: [ValueID?] = [nil, nil, nil, nil, nil]
        if wants[0] { out[0] = try b.mul(dy, perChannel(b.mul(scale, inv))) }
        let needCentered = wants[1] || wants[4]
        let centered = needCentered ? try b.mul(dy, b.sub(x, perChannel(mean))) : nil   // dY·(X − mean)
        if wants[1] { out[1] = try b.mul(b.reduceSum(centered!, axes: axes, keepdims: false), inv) }
        if wants[2] || wants[3] {
            let sum = try b.reduceSum(dy, axes: axes, keepdims: false)
            if wants[2] { out[2] = sum }
            if wants[3] { out[3] = try b.neg(b.mul(sum, b.mul(scale, inv))) }
        }
        if wants[4] {
            // d/dvar of (var + eps)^(−1/2) = −½·inv³.
            let inv3 = try b.mul(inv, b.mul(inv, inv))
            out[4] = try b.mul(b.mul(b.reduceSum(centered!, axes: axes, keepdims: false), scale), b.mul(inv3, -0.5))
        }
        return out
    }
}
