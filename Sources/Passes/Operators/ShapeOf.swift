// ShapeOf: Shape and Size — int64 facts about a tensor's static shape.
//
// Contract: Shape gives dims start..<end of input 0 as a 1-D int64 tensor (`start` 0 and `end`
// the rank by default; negative values count from the end; both clamped to [0, rank]; an empty
// range gives shape [0]); Size gives the element count as an int64 scalar. Input 0 may have any
// element type. The output type has fixed dims even over a symbolic batch (Shape's length is
// the range's length). Both lower to a constant computed from the bound shape (no kernel),
// evaluate from the constant input's shape, and have no pullback (integer outputs).

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
        default: throw notInFamily(node.op)
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
        [try value(node, x[0]!.shape)]
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        try value(node, x[0]!.shape)
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        .constant([try value(node, try ctx.shape(node.inputs[0]!))])
    }

    public static func pullback(_ op: Op) -> Pullback? { nil }
}
