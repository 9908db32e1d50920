// UnaryFunction: every point-wise op of one input (y = f(x), output type = input type) declared
// in one place — its ONNX name, attributes with their defaults, its kernel and its pullback.
//
// Contract: a case here is a whole operator. `Op.unary(f)` is its `Op`; the verifier takes its
// arity (one input) and `attributeSchema` from here, the ONNX exporter `onnxSince`; Passes' `UnaryOps` family types it (the
// input's type), evaluates and lowers it through `kernel(_:)` (the `UnaryOp` of the Unary
// kernel in Kernels, whose scalar definition is the reference evaluation) and differentiates it
// through `pullback` (nil: not differentiable). Each property is an exhaustive switch, so the
// compiler lists what a new case must provide; the rest of the tree needs no edit. Pullbacks
// append standard ops through the builder (so they differentiate again); piecewise masks use
// `GraphBuilder.step` = Relu(Sign(v)). Point-wise ops that read constant operands (Clip) or
// have their own kernels (Sign, LeakyReluGrad, EluGrad) are ordinary `Op` cases of the same family.

import Kernels

/// A point-wise function of one input; raw values are the ONNX operator names.
public enum UnaryFunction: String, CaseIterable, Hashable, Sendable {
    /// max(x, 0).
    case relu = "Relu"
    /// x ≥ 0 ? x : alpha·x; alpha defaults to 0.01.
    case leakyRelu = "LeakyRelu"
    /// 1 / (1 + e^−x).
    case sigmoid = "Sigmoid"
    /// tanh(x).
    case tanh = "Tanh"
    /// ln(1 + e^x).
    case softplus = "Softplus"
    /// e^x.
    case exp = "Exp"
    /// ln x.
    case log = "Log"
    /// √x.
    case sqrt = "Sqrt"
    /// −x.
    case neg = "Neg"
    /// |x|.
    case abs = "Abs"
    /// x > 0 ? x : alpha·(e^x − 1); alpha defaults to 1.
    case elu = "Elu"
    /// gamma·(x > 0 ? x : alpha·(e^x − 1)); alpha ≈ 1.6733, gamma ≈ 1.0507 by default.
    case selu = "Selu"
    /// The Gauss error function erf(x).
    case erf = "Erf"
    /// max(0, min(1, alpha·x + beta)); alpha 0.2, beta 0.5 by default.
    case hardSigmoid = "HardSigmoid"
    /// x · max(0, min(1, x/6 + 1/2)).
    case hardSwish = "HardSwish"
    /// x·Φ(x) (`approximate` "none", the default) or 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) ("tanh"); opset 20.
    case gelu = "Gelu"
    /// 1 / x (PyTorch's dynamo exporter writes rsqrt as Reciprocal(Sqrt(x))).
    case reciprocal = "Reciprocal"

    /// The first ONNX opset that defines the op as the IR holds it (the exporter refuses lower ones).
    public var onnxSince: Int {
        switch self {
        case .relu, .leakyRelu, .sigmoid, .tanh, .softplus, .exp, .log, .sqrt, .neg, .abs, .elu, .selu, .hardSigmoid, .reciprocal: return 6
        case .erf: return 9
        case .hardSwish: return 14
        case .gelu: return 20
        }
    }

    /// Attribute name → kind ("float", "string"), as the verifier checks them.
    public var attributeSchema: [String: String] {
        switch self {
        case .relu, .sigmoid, .tanh, .softplus, .exp, .log, .sqrt, .neg, .abs, .erf, .hardSwish, .reciprocal: return [:]
        case .leakyRelu, .elu: return ["alpha": "float"]
        case .selu: return ["alpha": "float", "gamma": "float"]
        case .hardSigmoid: return ["alpha": "float", "beta": "float"]
        case .gelu: return ["approximate": "string"]
        }
    }

    /// The kernel function for a node's attributes (absent ones take their ONNX defaults); an
    /// error for an attribute value outside the op's domain.
    public func kernel(_ a: Attributes) throws -> UnaryOp {
        switch self {
        case .relu: return .relu
        case .leakyRelu: return .leakyRelu(try a.float("alpha", default: 0.01))
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
        case .reciprocal: return .reciprocal
        case .gelu:
            switch try a.string("approximate") ?? "none" {
            case "none": return .gelu
            case "tanh": return .geluTanh
            case let other: throw GraphError("Gelu approximate '\(other)' is not one of none, tanh")
            }
        }
    }

    /// dX from the forward node and dY; nil when the function is not differentiable.
    public var pullback: ((_ b: GraphBuilder, _ n: Node, _ dy: ValueID) throws -> ValueID)? {
        switch self {
        case .neg: return { b, _, dy in try b.neg(dy) }
        case .exp: return { b, n, dy in try b.mul(dy, n.outputs[0]) }
        case .log: return { b, n, dy in try b.div(dy, n.inputs[0]!) }
        case .sqrt: return { b, n, dy in try b.div(dy, b.mul(n.outputs[0], 2)) }
        case .reciprocal: return { b, n, dy in try b.neg(b.mul(dy, b.mul(n.outputs[0], n.outputs[0]))) }
        case .abs: return { b, n, dy in try b.mul(dy, b.emit(.sign, [n.inputs[0]!])) }
        case .sigmoid:
            return { b, n, dy in
                let y = n.outputs[0]
                return try b.mul(b.mul(dy, y), b.sub(b.scalar(1), y))
            }
        case .tanh:
            return { b, n, dy in
                let y = n.outputs[0]
                return try b.mul(dy, b.sub(b.scalar(1), b.mul(y, y)))
            }
        case .softplus: return { b, n, dy in try b.mul(dy, b.emit(.sigmoid, [n.inputs[0]!])) }
        case .relu: return { b, n, dy in try b.emit(.leakyReluGrad, [dy, n.outputs[0]], ["alpha": .float(0)]) }
        case .leakyRelu:
            return { b, n, dy in
                // From Y, whose sign is X's when alpha ≥ 0; a negative slope flips it, so read X.
                let alpha = try n.attributes.float("alpha", default: 0.01)
                guard alpha < 0 else { return try b.emit(.leakyReluGrad, [dy, n.outputs[0]], ["alpha": .float(alpha)]) }
                guard let x = n.inputs[0] else { throw GraphError("LeakyRelu '\(n.name)' with a negative slope needs its input for the gradient") }
                return try b.emit(.leakyReluGrad, [dy, x], ["alpha": .float(alpha)])
            }
        case .elu:
            return { b, n, dy in
                // x > 0: 1; else y + alpha. With alpha ≥ 0, y > 0 exactly where x > 0, so one
                // EluGrad(dY, Y) kernel computes it (bit for bit the same as the point-wise form).
                let alpha = try n.attributes.float("alpha", default: 1)
                if alpha >= 0 && !Baseline.eluPointwise { return try b.emit(.eluGrad, [dy, n.outputs[0]], ["alpha": .float(alpha)]) }
                let s = try b.step(n.inputs[0]!)
                return try b.mul(dy, b.add(s, b.mul(b.sub(b.scalar(1), s), b.add(n.outputs[0], b.scalar(alpha)))))
            }
        case .selu:
            return { b, n, dy in
                // x > 0: gamma; else y + gamma·alpha.
                guard case let .selu(alpha, gamma) = try Self.selu.kernel(n.attributes) else { throw GraphError("internal: Selu kernel") }
                let s = try b.step(n.inputs[0]!)
                let neg = try b.mul(b.sub(b.scalar(1), s), b.add(n.outputs[0], b.scalar(gamma * alpha)))
                return try b.mul(dy, b.add(b.mul(s, gamma), neg))
            }
        case .erf:
            return { b, n, dy in
                let x = n.inputs[0]!
                return try b.mul(dy, b.mul(b.emit(.exp, [b.neg(b.mul(x, x))]), 1.1283791670955126))
            }
        case .hardSigmoid:
            return { b, n, dy in
                let alpha = try n.attributes.float("alpha", default: 0.2)
                return try b.mul(b.mul(dy, b.interior(n.outputs[0])), alpha)
            }
        case .hardSwish:
            return { b, n, dy in
                // h + x·h'(x) with h = HardSigmoid(x; 1/6, 1/2).
                let x = n.inputs[0]!
                let h = try b.emit(.hardSigmoid, [x], ["alpha": .float(1 / 6), "beta": .float(0.5)])
                return try b.mul(dy, b.add(h, b.mul(b.mul(x, b.interior(h)), 1 / 6)))
            }
        case .gelu:
            return { b, n, dy in
                let x = n.inputs[0]!
                if case .geluTanh = try Self.gelu.kernel(n.attributes) {
                    // u = k(x + c·x³), t = tanh u: 0.5(1 + t) + 0.5·x·(1 − t²)·k(1 + 3c·x²).
                    let k: Float = 0.79788456080286536, c: Float = 0.044715
                    let x2 = try b.mul(x, x)
                    let t = try b.emit(.tanh, [b.mul(b.add(x, b.mul(b.mul(x2, x), c)), k)])
                    let du = try b.mul(b.add(b.scalar(1), b.mul(x2, 3 * c)), k)
                    let d = try b.add(b.mul(b.add(b.scalar(1), t), 0.5), b.mul(b.mul(b.mul(x, b.sub(b.scalar(1), b.mul(t, t))), du), 0.5))
                    return try b.mul(dy, d)
                }
                // Φ(x) + x·φ(x), Φ(x) = (1 + erf(x/√2))/2, φ(x) = e^{−x²/2}/√(2π).
                let phi = try b.mul(b.add(b.scalar(1), b.emit(.erf, [b.mul(x, 0.70710678118654752)])), 0.5)
                let density = try b.mul(b.emit(.exp, [b.mul(b.mul(x, x), -0.5)]), 0.3989422804014327)
                return try b.mul(dy, b.add(phi, b.mul(x, density)))
            }
        }
    }
}

extension Op {
    // The spellings the tree uses for the unary functions (`.relu` in expressions and patterns).
    public static let relu = Op.unary(.relu), leakyRelu = Op.unary(.leakyRelu), sigmoid = Op.unary(.sigmoid),
        tanh = Op.unary(.tanh), softplus = Op.unary(.softplus), exp = Op.unary(.exp), log = Op.unary(.log),
        sqrt = Op.unary(.sqrt), neg = Op.unary(.neg), abs = Op.unary(.abs), elu = Op.unary(.elu),
        selu = Op.unary(.selu), erf = Op.unary(.erf), hardSigmoid = Op.unary(.hardSigmoid),
        hardSwish = Op.unary(.hardSwish), gelu = Op.unary(.gelu), reciprocal = Op.unary(.reciprocal)
}
