// ArgExtremum: ArgMax and ArgMin — the int64 index of the extremum along one axis.
//
// Contract: attributes axis (default 0, negative counts from the end), keepdims (default 1:
// the axis stays with size 1; 0 removes it) and select_last_index (default 0: ties go to the
// first index; 1: the last). The axis must be non-empty. Input float32 (integer inputs are
// refused at lowering); output int64. NaN counts as the extremum (numpy's rule). Evaluation
// and lowering use the `ArgExtremum` kernel (its `reference` when evaluating). Not
// differentiable (an index).

import GraphIR
import Kernels

public enum ArgExtremumOps: OperatorFamily {
    /// The normalised axis, keepdims and select_last_index of a node over input rank `rank`.
    static func attributes(_ node: Node, _ rank: Int) throws -> (axis: Int, keep: Bool, last: Bool) {
        let a = node.attributes
        return (try ShapeRules.normalizeAxis(try a.int("axis", default: 0), rank),
                try a.int("keepdims", default: 1) != 0, try a.int("select_last_index", default: 0) != 0)
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        guard node.op == .argMax || node.op == .argMin else { throw notInFamily(node.op) }
        let x = ts[0]!
        let (axis, keep, _) = try attributes(node, x.rank)
        if x.shape[axis] == .fixed(0) { throw GraphError("\(node.op.rawValue) over an empty axis \(axis) of \(x)") }
        var shape = x.shape
        if keep { shape[axis] = .fixed(1) } else { shape.remove(at: axis) }
        return [TensorType(.int64, shape)]
    }

    /// Outer, axis and inner sizes of `shape` around `axis`.
    static func split(_ shape: [Int], _ axis: Int) -> (outer: Int, axis: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let t = x[0]!
        let (axis, _, last) = try attributes(node, t.shape.count)
        let s = split(t.shape, axis)
        let y = ArgExtremum.reference(t.floats, outer: s.outer, axis: s.axis, inner: s.inner, max: node.op == .argMax, selectLast: last)
        return [Tensor(shape: outTypes[0].fixedShape ?? [], int64s: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let x = try ctx.kernelShapes(node).x
        let (axis, _, last) = try attributes(node, x.count)
        let s = split(x, axis)
        return .kernel(.argExtremum(outer: s.outer, axis: s.axis, inner: s.inner, max: node.op == .argMax, selectLast: last))
    }

    /// An arg-extremum along axis 0 compares samples.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        guard batched.first == true, let x = graph.type(of: node.inputs[0]!) else { return false }
        return try ShapeRules.normalizeAxis(try node.attributes.int("axis", default: 0), x.rank) == 0
    }
    public static func pullback(_ op: Op) -> Pullback? { nil }
}
