// ShapeOf: Shape and Size — int64 facts about a tensor's static shape — and ConstantOfShape,
// a tensor made from such facts.
//
// Contract: Shape gives dims start..<end of input 0 as a 1-D int64 tensor (`start` 0 and `end`
// the rank by default; negative values count from the end; both clamped to [0, rank]; an empty
// range gives shape [0]); Size gives the element count as an int64 scalar. Input 0 may have any
// element type. The output type has fixed dims even over a symbolic batch (Shape's length is
// the range's length). Both lower to a constant computed from the bound shape (no kernel),
// evaluate from the constant input's shape, and have no pullback (integer outputs).
// ConstantOfShape takes a 1-D int64 (or int32) input whose values InferShapes must know
// (`ShapeRules.constantInts`: a constant, or shape arithmetic on Shape/Size of a value with fixed
// dims — known once a Session binds the batch) and gives that shape filled with the one element of
// its `value` tensor attribute (default float32 0; a float32, int64, int32 or bool tensor of one
// element), of the attribute's element type; a negative dim is an error. It evaluates from those
// values, lowers to the constant (no kernel) and has no pullback (it depends on no float input).

import GraphIR
import Kernels

public enum ShapeOfOps: OperatorFamily {
    /// Shape's clamped [start, end) over a rank.
    static func range(_ node: Node, rank: Int) throws -> Range<Int> {
        func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + rank : v, 0), rank) }
        let start = clamp(try node.attributes.int("start", default: 0))
        let end = clamp(try node.attributes.int("end", default: rank))
        return start..<Swift.max(start, end)
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        switch node.op {
        case .shape: return [TensorType(.int64, fixed: [try range(node, rank: x.rank).count])]
        case .size: return [TensorType(.int64, fixed: [])]
        case .constantOfShape:
            guard x.dtype == .int64 || x.dtype == .int32, x.rank == 1 else {
                throw GraphError("ConstantOfShape's shape must be a 1-D int64 tensor, got \(x)")
            }
            let dims = try ShapeRules.constantInts(node, 0, g, "ConstantOfShape's shape")!
            guard dims.allSatisfy({ $0 >= 0 }) else { throw GraphError("ConstantOfShape's shape \(dims) has a negative dim") }
            return [TensorType(try fillValue(node).dtype, fixed: dims)]
        default: throw notInFamily(node.op)
        }
    }

    /// ConstantOfShape's one-element `value` (float32 0 when absent).
    static func fillValue(_ node: Node) throws -> Tensor {
        guard let v = try node.attributes.tensor("value") else { return Tensor(shape: [], floats: [0]) }
        guard v.count == 1 else { throw GraphError("ConstantOfShape's value must hold one element, got shape \(v.shape)") }
        return v
    }

    /// ConstantOfShape's output for a (checked) output shape.
    static func fill(_ node: Node, _ shape: [Int]) throws -> Tensor {
        let v = try fillValue(node)
        try Limits.checkTensor(shape, v.dtype, "ConstantOfShape output")
        let count = shape.reduce(1, *)
        switch v.storage {
        case .float(let f): return Tensor(shape: shape, floats: [Float](repeating: f[0], count: count))
        case .int64(let i): return Tensor(shape: shape, int64s: [Int64](repeating: i[0], count: count), dtype: v.dtype)
        }
    }

    /// The output for an input of the given concrete shape.
    static func value(_ node: Node, _ shape: [Int]) throws -> Tensor {
        switch node.op {
        case .shape:
            let dims = shape[try range(node, rank: shape.count)].map(Int64.init)
            return Tensor(shape: [dims.count], int64s: dims)
        case .size:
            return Tensor(shape: [], int64s: [Int64(try Limits.elementCount(shape, "Size input"))])
        default: throw notInFamily(node.op)
        }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        guard node.op != .constantOfShape else { throw GraphError("ConstantOfShape's shape must be int64, got \(x[0]!.dtype.rawValue)") }
        return [try value(node, x[0]!.shape)]
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        if node.op == .constantOfShape { return try fill(node, x[0]!.int64s.map { Int(clamping: $0) }) }
        return try value(node, x[0]!.shape)
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        if node.op == .constantOfShape { return .constant([try fill(node, try ctx.shape(node.outputs[0]))]) }
        return .constant([try value(node, try ctx.shape(node.inputs[0]!))])
    }

    /// Shape and Size of a batched value read the batch size itself; ConstantOfShape only
    /// fills a shape.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        node.op == .constantOfShape ? false : batched.contains(true)
    }
    public static func pullback(_ op: Op) -> Pullback? { nil }
}
