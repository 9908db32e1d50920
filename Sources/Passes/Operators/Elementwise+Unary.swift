// Elementwise+Unary: the family of point-wise ops of one input — every `UnaryFunction`
// (declared whole in GraphIR/Pointwise/UnaryFunction.swift), Clip, Sign, LeakyReluGrad (the
// gradient op of Relu/LeakyRelu) and EluGrad (of Elu with alpha ≥ 0).
//
// Contract: output 0 has input 0's type. A unary function is typed, evaluated (the kernel's
// scalar reference), lowered (one `UnaryOp` kernel call) and differentiated from its
// declaration; nothing here names one. Clip's min and max (inputs 1, 2) must be constant
// scalars (absent: the lowest and the greatest finite float, as ONNX says, so ∓∞ become them);
// its kernel op carries their values. Sign, LeakyReluGrad and EluGrad
// have kernels of their own in `Grad`; the two gradient ops (dY, Y) need dY and Y of one shape
// and are linear in dY (EluGrad is also linear in Y where Y ≤ 0).

import GraphIR
import Kernels

public enum UnaryOps: OperatorFamily {
    /// The kernel function of a point-wise op (nil for Sign and the gradient ops, which have their own kernels).
    public static func kernelOp(_ node: Node, _ g: Graph) throws -> UnaryOp? {
        switch node.op {
        case .unary(let f): return try f.kernel(node.attributes)
        case .clip: return .clip(min: try clipBound(node, 1, g) ?? -.greatestFiniteMagnitude, max: try clipBound(node, 2, g) ?? .greatestFiniteMagnitude)
        case .sign, .leakyReluGrad, .eluGrad: return nil
        default: throw notInFamily(node.op)
        }
    }

    /// Clip's constant scalar bound at input `i` (nil when absent).
    static func clipBound(_ node: Node, _ i: Int, _ g: Graph) throws -> Float? {
        guard let v = node.input(i) else { return nil }
        guard let t = g.constantValue(v) else { throw GraphError("Clip \(i == 1 ? "min" : "max") ('\(g.name(of: v))') must be a constant") }
        guard t.count == 1 else { throw GraphError("Clip \(i == 1 ? "min" : "max") ('\(g.name(of: v))') must be a scalar, got shape \(t.shape)") }
        return t.dtype == .float32 ? t.floats[0] : Float(t.int64s[0])
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        if case .unary(let f) = node.op { _ = try f.kernel(node.attributes) }
        if node.op == .clip {
            for i in 1..<ts.count {
                guard let t = ts[i] else { continue }
                guard t.shape.allSatisfy({ $0 == .fixed(1) }) else {
                    throw GraphError("Clip \(i == 1 ? "min" : "max") must be a scalar, got \(t)")
                }
            }
        }
        if node.op == .leakyReluGrad || node.op == .eluGrad, ts[1]!.shape != x.shape {
            throw GraphError("dY \(x) and Y \(ts[1]!) must have the same shape")
        }
        return [x]
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let shape = outTypes[0].fixedShape ?? []
        let count = shape.reduce(1, *)
        var y = [Float](repeating: 0, count: count)
        if let op = try kernelOp(node, g) {
            Unary.reference(op, x[0]!.floats, &y, count: count)
        } else if node.op == .sign {
            Grad.signReference(x[0]!.floats, &y, count: count)
        } else if node.op == .eluGrad {
            Grad.eluGradReference(alpha: try node.attributes.float("alpha", default: 1), x[0]!.floats, x[1]!.floats, &y, count: count)
        } else {
            Grad.leakyReluGradReference(alpha: try node.attributes.float("alpha", default: 0), x[0]!.floats, x[1]!.floats, &y, count: count)
        }
        return [Tensor(shape: shape, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let count = try ctx.kernelShapes(node).y.reduce(1, *)
        if let op = try kernelOp(node, ctx.graph) { return .kernel(.unary(op, count: count), operands: 1) }
        if node.op == .sign { return .kernel(.sign(count: count)) }
        if node.op == .eluGrad { return .kernel(.eluGrad(alpha: try node.attributes.float("alpha", default: 1), count: count)) }
        return .kernel(.leakyReluGrad(alpha: try node.attributes.float("alpha", default: 0), count: count))
    }

    /// Element by element: the batch stays where it is.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        !batchAxesAligned(node, batched, graph)
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .unary(let f):
            guard let rule = f.pullback else { return nil }
            return { b, n, dy, _ in [try rule(b, n, dy[0]!)] }
        // Piecewise constant: zero almost everywhere.
        case .sign: return { _, _, _, _ in [nil] }
        case .clip:
            return { b, n, dy, wants in
                // dY where min ≤ x ≤ max; the bounds are constants (no gradient).
                let x = n.inputs[0]!
                var mask = b.scalar(1)
                if let lo = n.input(1) { mask = try b.sub(mask, b.step(b.sub(lo, x))) }
                if let hi = n.input(2) { mask = try b.sub(mask, b.step(b.sub(x, hi))) }
                return [wants[0] ? try b.mul(dy[0]!, mask) : nil] + Array(repeating: nil, count: n.inputs.count - 1)
            }
        // Linear in dY; piecewise constant in Y (zero gradient).
        case .leakyReluGrad:
            return { b, n, dy, wants in
                guard wants[0] else { return [nil, nil] }
                return [try b.emit(.leakyReluGrad, [dy[0]!, n.inputs[1]!], ["alpha": .float(try n.attributes.float("alpha", default: 0))]), nil]
            }
        // g = dY where Y > 0, else dY·(Y + alpha): linear in dY; ∂g/∂Y = dY where Y ≤ 0.
        case .eluGrad:
            return { b, n, dy, wants in
                let y = n.inputs[1]!
                let dX = wants[0] ? try b.emit(.eluGrad, [dy[0]!, y], ["alpha": .float(try n.attributes.float("alpha", default: 1))]) : nil
                let dY = wants[1] ? try b.mul(b.mul(dy[0]!, n.inputs[0]!), b.sub(b.scalar(1), b.step(y))) : nil
                return [dX, dY]
            }
        default: return nil
        }
    }
}
