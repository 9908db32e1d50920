// Elementwise+Unary: the point-wise ops of one input (activations, Exp, Log, Sqrt, Neg, Abs,
// Sign) and LeakyReluGrad, the gradient op of Relu/LeakyRelu.
//
// Contract: output 0 has input 0's type. Each op maps to one `UnaryOp` of the Unary kernel
// (`kernelOp`), which is both its reference evaluation and its lowering; Sign and
// LeakyReluGrad have kernels of their own in `Grad`. A new point-wise op is a case here in
// `kernelOp` and `pullback` plus its `UnaryOp` case in Kernels (and the `Op` case).
// LeakyReluGrad (dY, Y) needs dY and Y of one shape and is linear in dY.

import GraphIR
import Kernels

public enum UnaryOps: OperatorFamily {
    /// The kernel function of a point-wise op (nil for Sign and LeakyReluGrad, which have their own kernels).
    public static func kernelOp(_ node: Node) throws -> UnaryOp? {
        switch node.op {
        case .relu: return .relu
        case .leakyRelu: return .leakyRelu(try node.attributes.float("alpha", default: 0.01))
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .softplus: return .softplus
        case .exp: return .exp
        case .log: return .log
        case .sqrt: return .sqrt
        case .neg: return .neg
        case .abs: return .abs
        case .sign, .leakyReluGrad: return nil
        default: throw notInFamily(node.op)
        }
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        if node.op == .leakyReluGrad, ts[1]!.shape != x.shape {
            throw GraphError("dY \(x) and Y \(ts[1]!) must have the same shape")
        }
        return [x]
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let shape = outTypes[0].fixedShape ?? []
        let count = shape.reduce(1, *)
        var y = [Float](repeating: 0, count: count)
        if let op = try kernelOp(node) {
            Unary.reference(op, x[0]!.floats, &y, count: count)
        } else if node.op == .sign {
            Grad.signReference(x[0]!.floats, &y, count: count)
        } else {
            Grad.leakyReluGradReference(alpha: try node.attributes.float("alpha", default: 0), x[0]!.floats, x[1]!.floats, &y, count: count)
        }
        return [Tensor(shape: shape, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let count = try ctx.kernelShapes(node).y.reduce(1, *)
        if let op = try kernelOp(node) { return .kernel(.unary(op, count: count)) }
        if node.op == .sign { return .kernel(.sign(count: count)) }
        return .kernel(.leakyReluGrad(alpha: try node.attributes.float("alpha", default: 0), count: count))
    }

    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .neg: return { b, _, dy, _ in [try b.neg(dy[0]!)] }
        case .exp: return { b, n, dy, _ in [try b.mul(dy[0]!, n.outputs[0])] }
        case .log: return { b, n, dy, _ in [try b.div(dy[0]!, n.inputs[0]!)] }
        case .sqrt: return { b, n, dy, _ in [try b.div(dy[0]!, b.mul(n.outputs[0], 2))] }
        case .abs: return { b, n, dy, _ in [try b.mul(dy[0]!, b.emit(.sign, [n.inputs[0]!]))] }
        // Piecewise constant: zero almost everywhere.
        case .sign: return { _, _, _, _ in [nil] }
        case .sigmoid:
            return { b, n, dy, _ in
                let y = n.outputs[0]
                return [try b.mul(b.mul(dy[0]!, y), b.sub(b.scalar(1), y))]
            }
        case .tanh:
            return { b, n, dy, _ in
                let y = n.outputs[0]
                return [try b.mul(dy[0]!, b.sub(b.scalar(1), b.mul(y, y)))]
            }
        case .softplus: return { b, n, dy, _ in [try b.mul(dy[0]!, b.emit(.sigmoid, [n.inputs[0]!]))] }
        case .relu: return { b, n, dy, _ in [try b.emit(.leakyReluGrad, [dy[0]!, n.outputs[0]], ["alpha": .float(0)])] }
        case .leakyRelu:
            return { b, n, dy, _ in
                let alpha = try n.attributes.float("alpha", default: 0.01)
                return [try b.emit(.leakyReluGrad, [dy[0]!, n.outputs[0]], ["alpha": .float(alpha)])]
            }
        // Linear in dY; piecewise constant in Y (zero gradient).
        case .leakyReluGrad:
            return { b, n, dy, wants in
                guard wants[0] else { return [nil, nil] }
                return [try b.emit(.leakyReluGrad, [dy[0]!, n.inputs[1]!], ["alpha": .float(try n.attributes.float("alpha", default: 0))]), nil]
            }
        default: return nil
        }
    }
}
