// BinaryFunction: every point-wise op of two inputs with numpy broadcasting declared in one
// place — its ONNX name, attributes, how its shapes broadcast, its kernel, its exact integer
// evaluation and its pullback.
//
// Contract: a case here is a whole operator. `Op.binary(f)` is its `Op`; the verifier takes its
// arity (two inputs) and `attributeSchema` from here, the ONNX importer (which normalises the
// legacy `broadcast`/`axis` attributes of every multidirectional function) and exporter
// `onnxSince`; Passes' `BinaryOps` family types it (the
// broadcast of the input shapes — or, when `unidirectional`, input 0's shape, which input 1
// must broadcast to — with input 0's dtype), evaluates and lowers it through `kernel` (the
// `BinaryOp` of the Binary kernel in Kernels, whose scalar definition is the reference
// evaluation), evaluates integer operands through `integer` (shape computations; nil: float
// only) and differentiates it through `pullback` (nil: not differentiable). Each property is an
// exhaustive switch, so the compiler lists what a new case must provide; the rest of the tree
// needs no edit. Pullbacks return one cotangent per side, summed back over its broadcast axes
// (`GraphBuilder.sides`). The variadic element-wise ops (Sum, Max, Min, Mean) are ordinary
// `Op` cases of the same family.

import Kernels

/// A point-wise function of two broadcast inputs; raw values are the ONNX operator names.
public enum BinaryFunction: String, CaseIterable, Hashable, Sendable {
    /// A + B.
    case add = "Add"
    /// A − B.
    case sub = "Sub"
    /// A · B.
    case mul = "Mul"
    /// A / B.
    case div = "Div"
    /// A ^ B.
    case pow = "Pow"
    /// x < 0 ? slope·x : x; slope broadcasts to x (unidirectionally).
    case prelu = "PRelu"

    /// The first ONNX opset that defines the op as the IR holds it (numpy broadcasting; the
    /// exporter refuses lower ones).
    public var onnxSince: Int {
        switch self {
        case .add, .sub, .mul, .div, .pow, .prelu: return 7
        }
    }

    /// Attribute name → kind, as the verifier checks them.
    public var attributeSchema: [String: String] {
        switch self {
        case .add, .sub, .mul, .div, .pow, .prelu: return [:]
        }
    }

    /// True when the output has input 0's shape and input 1 must broadcast to it.
    public var unidirectional: Bool {
        switch self {
        case .add, .sub, .mul, .div, .pow: return false
        case .prelu: return true
        }
    }

    /// The kernel function (float operands).
    public var kernel: BinaryOp {
        switch self {
        case .add: return .add
        case .sub: return .sub
        case .mul: return .mul
        case .div: return .div
        case .pow: return .pow
        case .prelu: return .prelu
        }
    }

    /// The exact result on integer operands (wrapping; integer division), or nil when the
    /// function is float only.
    public var integer: ((Int64, Int64) throws -> Int64)? {
        switch self {
        case .add: return { $0 &+ $1 }
        case .sub: return { $0 &- $1 }
        case .mul: return { $0 &* $1 }
        case .div:
            return { u, v in
                guard v != 0 else { throw GraphError("integer division by zero") }
                return u.dividedReportingOverflow(by: v).partialValue  // Int64.min / -1 wraps
            }
        case .pow, .prelu: return nil
        }
    }

    /// (dA, dB) from the forward node, dY and which inputs want a gradient; nil when the
    /// function is not differentiable.
    public var pullback: ((_ b: GraphBuilder, _ n: Node, _ dy: ValueID, _ wants: [Bool]) throws -> [ValueID?])? {
        switch self {
        case .add: return { b, n, dy, w in try b.sides(n, w, dy, { $0 }, { $0 }) }
        case .sub: return { b, n, dy, w in try b.sides(n, w, dy, { $0 }, { try b.neg($0) }) }
        case .mul:
            return { b, n, dy, w in
                try b.sides(n, w, dy, { try b.mul($0, n.inputs[1]!) }, { try b.mul($0, n.inputs[0]!) })
            }
        case .div:
            return { b, n, dy, w in
                try b.sides(n, w, dy, { try b.div($0, n.inputs[1]!) },
                            { try b.neg(b.div(b.mul($0, n.outputs[0]), n.inputs[1]!)) })
            }
        case .pow:
            return { b, n, dy, w in
                let a = n.inputs[0]!, e = n.inputs[1]!
                return try b.sides(n, w, dy, { try b.mul($0, b.mul(e, b.emit(.pow, [a, b.sub(e, b.scalar(1))]))) },
                                   { try b.mul($0, b.mul(n.outputs[0], b.emit(.log, [a]))) })
            }
        case .prelu:
            return { b, n, dy, w in
                // dX = dY·(x > 0 ? 1 : slope), dSlope = dY·min(x, 0).
                let x = n.inputs[0]!, slope = n.inputs[1]!
                let s = try b.step(x)
                return try b.sides(n, w, dy, { try b.mul($0, b.add(s, b.mul(b.sub(b.scalar(1), s), slope))) },
                                   { try b.mul($0, b.sub(x, b.emit(.relu, [x]))) })
            }
        }
    }
}

extension Op {
    // The spellings the tree uses for the binary functions (`.add` in expressions and patterns).
    public static let add = Op.binary(.add), sub = Op.binary(.sub), mul = Op.binary(.mul), div = Op.binary(.div),
        pow = Op.binary(.pow), prelu = Op.binary(.prelu)
}
