// Logic: comparisons (Equal, Less, LessOrEqual, Greater, GreaterOrEqual), boolean connectives
// (And, Or, Xor, Not) and selection (Where) on runtime values.
//
// Contract: the IR types a truth value `bool` (ONNX BOOL, exported as such); the runtime holds
// it, like every integer, as Int64 0/1 (`Lowering.runtimeBytes`), so a comparison writes an
// Int64 buffer and a bool graph input or output is read and written as Int64 0/1. Comparisons
// take two operands of one element type (float32, or any integer type or bool: compared as
// Int64) and give bool with the numpy broadcast of the shapes; And/Or/Xor take two bool operands,
// Not one. Where (condition: bool, X, Y) gives X's element type (X and Y of one type; float32 or
// integer) over the broadcast of the three shapes. Constant evaluation uses the kernels'
// scalar definitions (`CompareOp.holds`, `Where.reference`); each op lowers to one kernel
// call (`compare`, `not`, `where`). Pullbacks: Where sends dY to X where the condition holds
// and to Y elsewhere (each summed back over its broadcast axes; the condition gets none); the
// comparisons and connectives are not differentiable (piecewise constant).

import GraphIR
import Kernels

public enum LogicOps: OperatorFamily {
    /// The kernel predicate of a comparison or connective.
    static func predicate(_ op: Op) throws -> CompareOp {
        switch op {
        case .equal: return .equal
        case .less: return .less
        case .lessOrEqual: return .lessOrEqual
        case .greater: return .greater
        case .greaterOrEqual: return .greaterOrEqual
        case .and: return .and
        case .or: return .or
        case .xor: return .xor
        default: throw notInFamily(op)
        }
    }

    static func isConnective(_ op: Op) -> Bool { op == .and || op == .or || op == .xor || op == .not }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let a = ts[0]!
        switch node.op {
        case .not:
            guard a.dtype == .bool else { throw GraphError("Not needs a bool input, got \(a)") }
            return [a]
        case .where:
            let x = ts[1]!, y = ts[2]!
            guard a.dtype == .bool else { throw GraphError("Where's condition must be bool, got \(a)") }
            guard x.dtype == y.dtype else { throw GraphError("Where's X \(x) and Y \(y) must have one element type") }
            return [TensorType(x.dtype, try ShapeRules.broadcast(ShapeRules.broadcast(a.shape, x.shape), y.shape))]
        default:
            _ = try predicate(node.op)
            let b = ts[1]!
            if isConnective(node.op) {
                guard a.dtype == .bool, b.dtype == .bool else { throw GraphError("\(node.op.rawValue) needs bool inputs, got \(a) and \(b)") }
            } else {
                guard (a.dtype == .float32) == (b.dtype == .float32) else {
                    throw GraphError("\(node.op.rawValue) compares operands of one element type, got \(a) and \(b)")
                }
            }
            return [TensorType(.bool, try ShapeRules.broadcast(a.shape, b.shape))]
        }
    }

    /// The comparison of two constants (float32 operands compared as floats, others as Int64).
    static func compare(_ node: Node, _ a: Tensor, _ b: Tensor, _ outShape: [Int]) throws -> Tensor {
        let op = try predicate(node.op)
        let bits = a.dtype == .float32
            ? Compare.reference(op, outShape: outShape, aShape: a.shape, bShape: b.shape, a.floats, b.floats)
            : Compare.reference(op, outShape: outShape, aShape: a.shape, bShape: b.shape, a.int64s, b.int64s)
        return Tensor(shape: outShape, int64s: bits, dtype: .bool)
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        [try evaluateIntegers(node, x, outTypes[0].fixedShape ?? [], outTypes[0].dtype, g)]
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        let a = x[0]!
        switch node.op {
        case .not:
            return Tensor(shape: a.shape, int64s: a.int64s.map { $0 == 0 ? 1 : 0 }, dtype: .bool)
        case .where:
            let (t, f) = (x[1]!, x[2]!)
            let shapes = (outShape: outShape, condShape: a.shape, xShape: t.shape, yShape: f.shape)
            if dtype == .float32 {
                return Tensor(shape: outShape, floats: Where.reference(outShape: shapes.outShape, condShape: shapes.condShape, xShape: shapes.xShape,
                                                                       yShape: shapes.yShape, a.int64s, t.floats, f.floats))
            }
            return Tensor(shape: outShape, int64s: Where.reference(outShape: shapes.outShape, condShape: shapes.condShape, xShape: shapes.xShape,
                                                                   yShape: shapes.yShape, a.int64s, t.int64s, f.int64s), dtype: dtype)
        default:
            return try compare(node, a, x[1]!, outShape)
        }
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let out = try ctx.shape(node.outputs[0])
        let a = try ctx.shape(node.inputs[0]!)
        switch node.op {
        case .not:
            return .kernel(.not(count: out.reduce(1, *)))
        case .where:
            let plan = try WherePlan(outShape: out, condShape: a, xShape: try ctx.shape(node.inputs[1]!), yShape: try ctx.shape(node.inputs[2]!))
            return .kernel(.where(plan, integer: ctx.graph.type(of: node.outputs[0])?.dtype != .float32))
        default:
            let plan = try BroadcastPlan(outShape: out, aShape: a, bShape: try ctx.shape(node.inputs[1]!))
            return .kernel(.compare(try predicate(node.op), plan, integer: ctx.graph.type(of: node.inputs[0]!)?.dtype != .float32))
        }
    }

    /// Element by element with broadcasting (Where's three operands too).
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        !batchAxesAligned(node, batched, graph)
    }
    public static func pullback(_ op: Op) -> Pullback? {
        guard op == .where else { return nil }
        return { b, n, dy, w in
            guard let g = dy[0] else { return [nil, nil, nil] }
            let c = n.inputs[0]!, zero = b.scalar(0)
            return [nil,
                    w[1] ? try b.unbroadcast(b.emit(.where, [c, g, zero]), to: b.dims(n.inputs[1]!)) : nil,
                    w[2] ? try b.unbroadcast(b.emit(.where, [c, zero, g]), to: b.dims(n.inputs[2]!)) : nil]
        }
    }
}
