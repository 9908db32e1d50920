// Elementwise+Binary: Add, Sub, Mul, Div and Pow with numpy broadcasting.
//
// Contract: the output has input 0's dtype and the broadcast of both shapes. Each op maps to
// one `BinaryOp` of the Binary kernel (`kernelOp`), its reference evaluation and lowering.
// Integer operands are evaluated exactly (wrapping, integer division; Pow is float only) for
// shape computations. The lowered kernel reads float operands only: an integer B must have been
// made a float constant first (CoerceIntegerOperands). Pullbacks sum each side's cotangent back
// over its broadcast axes.

import GraphIR
import Kernels

public enum BinaryOps: OperatorFamily {
    static func kernelOp(_ op: Op) throws -> BinaryOp {
        switch op {
        case .add: return .add
        case .sub: return .sub
        case .mul: return .mul
        case .div: return .div
        case .pow: return .pow
        default: throw notInFamily(op)
        }
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        [TensorType(ts[0]!.dtype, try ShapeRules.broadcast(ts[0]!.shape, ts[1]!.shape))]
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let shape = outTypes[0].fixedShape ?? []
        var y = [Float](repeating: 0, count: shape.reduce(1, *))
        Binary.reference(try kernelOp(node.op), outShape: shape, aShape: x[0]!.shape, bShape: x[1]!.shape, x[0]!.floats, x[1]!.floats, &y)
        return [Tensor(shape: shape, floats: y)]
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        let op = node.op
        guard op != .pow else { throw GraphError("\(op.rawValue) on \(x[0]!.dtype.rawValue) data is not supported") }
        let a = x[0]!.int64s, b = x[1]!.int64s
        let ia = IntegerIndexing(outShape, x[0]!.shape), ib = IntegerIndexing(outShape, x[1]!.shape)
        return try IntegerIndexing.generate(outShape, dtype) { i in
            let u = a[ia.broadcastIndex(i)], v = b[ib.broadcastIndex(i)]
            switch op {
            case .add: return u &+ v
            case .sub: return u &- v
            case .mul: return u &* v
            default:
                guard v != 0 else { throw GraphError("integer division by zero") }
                return u / v
            }
        }
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let (x, y) = try ctx.kernelShapes(node)
        return .kernel(.binary(try kernelOp(node.op), try BroadcastPlan(outShape: y, aShape: x, bShape: try ctx.shape(node.inputs[1]!))))
    }

    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .add: return { b, n, dy, w in try binary(b, n, w, { $0 }, { $0 }, dy[0]!) }
        case .sub: return { b, n, dy, w in try binary(b, n, w, { $0 }, { try b.neg($0) }, dy[0]!) }
        case .mul:
            return { b, n, dy, w in
                try binary(b, n, w, { try b.mul($0, n.inputs[1]!) }, { try b.mul($0, n.inputs[0]!) }, dy[0]!)
            }
        case .div:
            return { b, n, dy, w in
                try binary(b, n, w, { try b.div($0, n.inputs[1]!) },
                           { try b.neg(b.div(b.mul($0, n.outputs[0]), n.inputs[1]!)) }, dy[0]!)
            }
        case .pow:
            return { b, n, dy, w in
                let a = n.inputs[0]!, e = n.inputs[1]!
                return try binary(b, n, w, { try b.mul($0, b.mul(e, b.emit(.pow, [a, b.sub(e, b.scalar(1))]))) },
                                  { try b.mul($0, b.mul(n.outputs[0], b.emit(.log, [a]))) }, dy[0]!)
            }
        default: return nil
        }
    }

    /// The cotangent through each side, summed back over broadcast axes.
    static func binary(_ b: GradientBuilder, _ n: Node, _ wants: [Bool], _ da: (ValueID) throws -> ValueID,
                       _ db: (ValueID) throws -> ValueID, _ dy: ValueID) throws -> [ValueID?] {
        [wants[0] ? try b.unbroadcast(da(dy), to: b.dims(n.inputs[0]!)) : nil,
         wants[1] ? try b.unbroadcast(db(dy), to: b.dims(n.inputs[1]!)) : nil]
    }
}
