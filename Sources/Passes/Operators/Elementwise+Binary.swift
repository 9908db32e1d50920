// Elementwise+Binary: the family of point-wise ops with numpy broadcasting — every
// `BinaryFunction` (declared whole in GraphIR/Pointwise/BinaryFunction.swift) and the variadic
// Sum, Max, Min, Mean.
//
// Contract: the output has input 0's dtype and the broadcast of all input shapes (a
// `unidirectional` function: input 0's shape, which input 1 must broadcast to). Each op maps to
// one `BinaryOp` of the Binary kernel (`kernelOp`: a function's declared kernel; Sum → add,
// Mean → add then ÷ count), its reference evaluation (a left fold over the inputs) and
// lowering; a binary function's integer evaluation and pullback come from its declaration. A variadic node lowers as one binary kernel only when it is a
// two-input Sum/Max/Min; ExpandVariadic (in `Pipelines.lowering`) rewrites the others first.
// Integer operands are evaluated exactly (the function's `integer`) for shape computations. The lowered kernel reads float operands only: an integer B must have been
// made a float constant first (CoerceIntegerOperands). Pullbacks sum each side's cotangent back
// over its broadcast axes; Max/Min route dY to the inputs equal to the output, shared equally
// among ties.

import GraphIR
import Kernels

public enum BinaryOps: OperatorFamily {
    static func kernelOp(_ op: Op) throws -> BinaryOp {
        switch op {
        case .binary(let f): return f.kernel
        case .sum, .mean: return .add
        case .max: return .max
        case .min: return .min
        default: throw notInFamily(op)
        }
    }

    /// True for the ops of one or more inputs.
    static func isVariadic(_ op: Op) -> Bool { [.sum, .max, .min, .mean].contains(op) }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        var shape = ts[0]!.shape
        for t in ts.dropFirst() { shape = try ShapeRules.broadcast(shape, t!.shape) }
        if case .binary(let f) = node.op, f.unidirectional, shape != ts[0]!.shape {
            throw GraphError("\(f.rawValue) input 1 \(ts[1]!) does not broadcast to X (input 0) \(ts[0]!)")
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
        guard case .binary(let function) = node.op, let f = function.integer else {
            throw GraphError("\(node.op.rawValue) on \(x[0]!.dtype.rawValue) data is not supported")
        }
        let a = x[0]!.int64s, b = x[1]!.int64s
        let ia = IntegerIndexing(outShape, x[0]!.shape), ib = IntegerIndexing(outShape, x[1]!.shape)
        return try IntegerIndexing.generate(outShape, dtype) { i in try f(a[ia.broadcastIndex(i)], b[ib.broadcastIndex(i)]) }
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let (x, y) = try ctx.kernelShapes(node)
        if isVariadic(node.op), node.op == .mean || node.inputs.count != 2 {
            throw GraphError("internal: \(node.op.rawValue) of \(node.inputs.count) inputs reached lowering (ExpandVariadic rewrites it)")
        }
        return .kernel(.binary(try kernelOp(node.op), try BroadcastPlan(outShape: y, aShape: x, bShape: try ctx.shape(node.inputs[1]!))))
    }

    /// Element by element with broadcasting: samples stay apart when every batched operand has
    /// the output's rank (its axis 0 is the output's).
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        !batchAxesAligned(node, batched, graph)
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .binary(let f):
            guard let rule = f.pullback else { return nil }
            return { b, n, dy, w in try rule(b, n, dy[0]!, w) }
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
                let masks = try n.inputs.map { try b.sub(b.scalar(1), b.step(b.emit(.abs, [b.sub($0!, y)]))) }
                var count = masks[0]
                for m in masks.dropFirst() { count = try b.add(count, m) }
                let share = try b.div(dy[0]!, count)
                return try n.inputs.indices.map { i in w[i] ? try b.unbroadcast(b.mul(share, masks[i]), to: b.dims(n.inputs[i]!)) : nil }
            }
        default: return nil
        }
    }
}
