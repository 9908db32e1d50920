// Elementwise+Binary: Add, Sub, Mul, Div, Pow, PRelu and the variadic Sum, Max, Min, Mean with
// numpy broadcasting.
//
// Contract: the output has input 0's dtype and the broadcast of all input shapes (PRelu: X's
// shape; its slope must broadcast to it). Each op maps to one `BinaryOp` of the Binary kernel
// (`kernelOp`; Sum → add, Mean → add then ÷ count), its reference evaluation (a left fold over
// the inputs) and lowering. A variadic node lowers as one binary kernel only when it is a
// two-input Sum/Max/Min; ExpandVariadic (in `Pipelines.lowering`) rewrites the others first.
// Integer operands are evaluated exactly (wrapping, integer division; Pow is float only) for
// shape computations. The lowered kernel reads float operands only: an integer B must have been
// made a float constant first (CoerceIntegerOperands). Pullbacks sum each side's cotangent back
// over its broadcast axes; Max/Min route dY to the inputs equal to the output, shared equally
// among ties.

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
        case .sum, .mean: return .add
        case .max: return .max
        case .min: return .min
        case .prelu: return .prelu
        default: throw notInFamily(op)
        }
    }

    /// True for the ops of one or more inputs.
    static func isVariadic(_ op: Op) -> Bool { [.sum, .max, .min, .mean].contains(op) }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        var shape = ts[0]!.shape
        for t in ts.dropFirst() { shape = try ShapeRules.broadcast(shape, t!.shape) }
        if node.op == .prelu, shape != ts[0]!.shape {
            throw GraphError("PRelu slope \(ts[1]!) does not broadcast to X \(ts[0]!)")
        }
        return [TensorType(ts[0]!.dtype, shape)]
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let op = try kernelOp(node.op)
        var acc = x[0]!
        for b in x.dropFirst() {
            let shape = try BroadcastPlan.broadcastShape(acc.shape, b!.shape)
            var y = [Float](repeating: 0, count: shape.reduce(1, *))
            Binary.reference(op, outShape: shape, aShape: acc.shape, bShape: b!.shape, acc.floats, b!.floats, &y)
            acc = Tensor(shape: shape, floats: y)
        }
        if node.op == .mean { acc = Tensor(shape: acc.shape, floats: acc.floats.map { $0 / Float(x.count) }) }
        return [acc]
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        let op = node.op
        guard [.add, .sub, .mul, .div].contains(op) else { throw GraphError("\(op.rawValue) on \(x[0]!.dtype.rawValue) data is not supported") }
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
        if isVariadic(node.op), node.op == .mean || node.inputs.count != 2 {
            throw GraphError("internal: \(node.op.rawValue) of \(node.inputs.count) inputs reached lowering (ExpandVariadic rewrites it)")
        }
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
        case .prelu:
            return { b, n, dy, w in
                // dX = dY·(x > 0 ? 1 : slope), dSlope = dY·min(x, 0).
                let x = n.inputs[0]!, slope = n.inputs[1]!
                let s = try UnaryOps.step(b, x)
                return try binary(b, n, w, { try b.mul($0, b.add(s, b.mul(b.sub(b.scalar(1), s), slope))) },
                                  { try b.mul($0, b.sub(x, b.emit(.relu, [x]))) }, dy[0]!)
            }
        case .sum, .mean:
            return { b, n, dy, w in
                let g = op == .mean ? try b.div(dy[0]!, b.scalar(Float(n.inputs.count))) : dy[0]!
                return try n.inputs.indices.map { i in w[i] ? try b.unbroadcast(g, to: b.dims(n.inputs[i]!)) : nil }
            }
        case .max, .min:
            return { b, n, dy, w in
                guard n.inputs.count > 1 else { return [dy[0]!] }
                // mask_i = 1 where x_i equals the output; dY is shared among the tied inputs.
                let y = n.outputs[0]
                let masks = try n.inputs.map { try b.sub(b.scalar(1), UnaryOps.step(b, b.emit(.abs, [b.sub($0!, y)]))) }
                var count = masks[0]
                for m in masks.dropFirst() { count = try b.add(count, m) }
                let share = try b.div(dy[0]!, count)
                return try n.inputs.indices.map { i in w[i] ? try b.unbroadcast(b.mul(share, masks[i]), to: b.dims(n.inputs[i]!)) : nil }
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
