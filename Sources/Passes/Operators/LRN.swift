// LRN: local response normalisation across channels (ONNX LRN) over (N, C, spatial…).
//
// Contract: input rank ≥ 3, float32; `size` (required, ≥ 1), alpha (1e-4), beta (0.75),
// bias (1). The output has the input's type. Evaluation is `LRN.reference`, lowering one
// `.lrn` kernel call over (N, C, product of spatial dims). Not differentiable (inference
// models only: AlexNet, GoogLeNet, ZFNet).

import GraphIR
import Kernels

public enum LRNOps: OperatorFamily {
    static func lrnShape(_ node: Node, _ x: [Int]) throws -> LRNShape {
        let a = node.attributes
        guard let size = try a.int("size") else { throw GraphError("LRN needs the 'size' attribute") }
        guard size >= 1 else { throw GraphError("LRN size must be at least 1, got \(size)") }
        return LRNShape(batch: x[0], channels: x[1], spatial: x[2...].reduce(1, *), size: size,
                        alpha: try a.float("alpha", default: 1e-4), beta: try a.float("beta", default: 0.75),
                        bias: try a.float("bias", default: 1))
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        guard node.op == .lrn else { throw notInFamily(node.op) }
        let x = ts[0]!
        guard x.rank >= 3 else { throw GraphError("LRN input must have rank >= 3 (N, C, spatial…), got \(x)") }
        guard x.dtype == .float32 else { throw GraphError("LRN input must be float, got \(x)") }
        guard let size = try node.attributes.int("size") else { throw GraphError("LRN needs the 'size' attribute") }
        guard size >= 1 else { throw GraphError("LRN size must be at least 1, got \(size)") }
        return [x]
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let xs = x[0]!.shape
        var y = [Float](repeating: 0, count: xs.reduce(1, *))
        LRN.reference(try lrnShape(node, xs), x[0]!.floats, &y)
        return [Tensor(shape: xs, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        .kernel(.lrn(try lrnShape(node, try ctx.kernelShapes(node).x)))
    }

    public static func pullback(_ op: Op) -> Pullback? { nil }
}
