// Elementwise+Unary: the point-wise ops of one input (activations, Exp, Log, Sqrt, Neg, Abs,
// Sign, Elu, Selu, Erf, HardSigmoid, HardSwish, Gelu, Clip) and LeakyReluGrad, the gradient op
// of Relu/LeakyRelu.
//
// Contract: output 0 has input 0's type. Each op maps to one `UnaryOp` of the Unary kernel
// (`kernelOp`), which is both its reference evaluation and its lowering; Sign and
// LeakyReluGrad have kernels of their own in `Grad`. A new point-wise op is: its `Op` case
// with arity and attributes (GraphIR/Op.swift), its route to this family (`Op.family`), a case
// here in `kernelOp` and `pullback`, and its `UnaryOp` case in Kernels; the compiler asks for
// the first two, the structural tests for the rest.
// LeakyReluGrad (dY, Y) needs dY and Y of one shape and is linear in dY. Clip's min and max
// (inputs 1, 2) must be constant scalars (absent: ∓∞); its kernel op carries their values.
// Pullbacks of piecewise ops build their masks from standard ops: step(v) = Relu(Sign(v)) is 1
// where v > 0, else 0.

import GraphIR
import Kernels

public enum UnaryOps: OperatorFamily {
    /// The kernel function of a point-wise op (nil for Sign and LeakyReluGrad, which have their own kernels).
    public static func kernelOp(_ node: Node, _ g: Graph) throws -> UnaryOp? {
        let a = node.attributes
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
        case .elu: return .elu(try a.float("alpha", default: 1))
        case .selu: return .selu(alpha: try a.float("alpha", default: 1.67326319217681884765625),
                                 gamma: try a.float("gamma", default: 1.05070102214813232421875))
        case .erf: return .erf
        case .hardSigmoid: return .hardSigmoid(alpha: try a.float("alpha", default: 0.2), beta: try a.float("beta", default: 0.5))
        case .hardSwish: return .hardSwish
        case .gelu:
            switch try a.string("approximate") ?? "none" {
            case "none": return .gelu
            case "tanh": return .geluTanh
            case let other: throw GraphError("Gelu approximate '\(other)' is not one of none, tanh")
            }
        case .clip: return .clip(min: try clipBound(node, 1, g) ?? -.infinity, max: try clipBound(node, 2, g) ?? .infinity)
        case .sign, .leakyReluGrad: return nil
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
        if node.op == .gelu { _ = try kernelOp(node, g) }
        if node.op == .clip {
            for i in 1..<ts.count {
                guard let t = ts[i] else { continue }
                guard t.shape.allSatisfy({ $0 == .fixed(1) }) else {
                    throw GraphError("Clip \(i == 1 ? "min" : "max") must be a scalar, got \(t)")
                }
            }
        }
        if node.op == .leakyReluGrad, ts[1]!.shape != x.shape {
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
        } else {
            Grad.leakyReluGradReference(alpha: try node.attributes.float("alpha", default: 0), x[0]!.floats, x[1]!.floats, &y, count: count)
        }
        return [Tensor(shape: shape, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let count = try ctx.kernelShapes(node).y.reduce(1, *)
        if let op = try kernelOp(node, ctx.graph) { return .kernel(.unary(op, count: count), operands: 1) }
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
        case .elu:
            return { b, n, dy, _ in
                // x > 0: 1; else y + alpha.
                let alpha = try n.attributes.float("alpha", default: 1)
                let s = try step(b, n.inputs[0]!)
                return [try b.mul(dy[0]!, b.add(s, b.mul(b.sub(b.scalar(1), s), b.add(n.outputs[0], b.scalar(alpha)))))]
            }
        case .selu:
            return { b, n, dy, _ in
                // x > 0: gamma; else y + gamma·alpha.
                guard case let .selu(alpha, gamma)? = try kernelOp(n, b.graph) else { return [nil] }
                let s = try step(b, n.inputs[0]!)
                let neg = try b.mul(b.sub(b.scalar(1), s), b.add(n.outputs[0], b.scalar(gamma * alpha)))
                return [try b.mul(dy[0]!, b.add(b.mul(s, gamma), neg))]
            }
        case .erf:
            return { b, n, dy, _ in
                let x = n.inputs[0]!
                return [try b.mul(dy[0]!, b.mul(b.emit(.exp, [b.neg(b.mul(x, x))]), 1.1283791670955126))]
            }
        case .hardSigmoid:
            return { b, n, dy, _ in
                let alpha = try n.attributes.float("alpha", default: 0.2)
                return [try b.mul(b.mul(dy[0]!, interior(b, n.outputs[0])), alpha)]
            }
        case .hardSwish:
            return { b, n, dy, _ in
                // h + x·h'(x) with h = HardSigmoid(x; 1/6, 1/2).
                let x = n.inputs[0]!
                let h = try b.emit(.hardSigmoid, [x], ["alpha": .float(1 / 6), "beta": .float(0.5)])
                return [try b.mul(dy[0]!, b.add(h, b.mul(b.mul(x, interior(b, h)), 1 / 6)))]
            }
        case .gelu:
            return { b, n, dy, _ in
                let x = n.inputs[0]!
                if case .geluTanh? = try kernelOp(n, b.graph) {
                    // u = k(x + c·x³), t = tanh u: 0.5(1 + t) + 0.5·x·(1 − t²)·k(1 + 3c·x²).
                    let k: Float = 0.79788456080286536, c: Float = 0.044715
                    let x2 = try b.mul(x, x)
                    let t = try b.emit(.tanh, [b.mul(b.add(x, b.mul(b.mul(x2, x), c)), k)])
                    let du = try b.mul(b.add(b.scalar(1), b.mul(x2, 3 * c)), k)
                    let d = try b.add(b.mul(b.add(b.scalar(1), t), 0.5), b.mul(b.mul(b.mul(x, b.sub(b.scalar(1), b.mul(t, t))), du), 0.5))
                    return [try b.mul(dy[0]!, d)]
                }
                // Φ(x) + x·φ(x), Φ(x) = (1 + erf(x/√2))/2, φ(x) = e^{−x²/2}/√(2π).
                let phi = try b.mul(b.add(b.scalar(1), b.emit(.erf, [b.mul(x, 0.70710678118654752)])), 0.5)
                let density = try b.mul(b.emit(.exp, [b.mul(b.mul(x, x), -0.5)]), 0.3989422804014327)
                return [try b.mul(dy[0]!, b.add(phi, b.mul(x, density)))]
            }
        case .clip:
            return { b, n, dy, wants in
                // dY where min ≤ x ≤ max; the bounds are constants (no gradient).
                let x = n.inputs[0]!
                var mask = b.scalar(1)
                if let lo = n.input(1) { mask = try b.sub(mask, step(b, b.sub(lo, x))) }
                if let hi = n.input(2) { mask = try b.sub(mask, step(b, b.sub(x, hi))) }
                return [wants[0] ? try b.mul(dy[0]!, mask) : nil] + Array(repeating: nil, count: n.inputs.count - 1)
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

    /// 1 where v > 0, else 0 (Relu(Sign(v))).
    static func step(_ b: GradientBuilder, _ v: ValueID) throws -> ValueID {
        try b.emit(.relu, [b.emit(.sign, [v])])
    }

    /// 1 where 0 < h < 1, else 0 (the interior of a clamp to [0, 1]).
    static func interior(_ b: GradientBuilder, _ h: ValueID) throws -> ValueID {
        try b.mul(step(b, h), step(b, b.sub(b.scalar(1), h)))
    }
}
