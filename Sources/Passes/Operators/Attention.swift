// Attention: FusedAttention — MatMul → Softmax(last axis) → MatMul as one kernel call
// (made by FuseAttention on lowering copies).
//
// Contract: inputs (A, B, V), attributes transA, transB, transV and value_first (ints, default
// 0). Its type and evaluation are those of the three nodes it replaces (`parts`): S =
// MatMul(A, B) with transA/transB, P = Softmax(S, axis −1), then O = MatMul(V, P) with transA =
// transV and transB = 1 (value_first) or O = MatMul(P, V) with transB = transV. It lowers to
// `KernelCall.attention` when A, B and V have the same rank ≥ 2 and the same leading (batch)
// dimensions: no broadcasting (FuseAttention only fuses such nodes). Not differentiable: it is
// made after Autodiff, where P has no other reader.

import GraphIR
import Kernels

public enum AttentionOps: OperatorFamily {
    /// The MatMul, Softmax and MatMul the node stands for, with their operand order (indices
    /// into (A, B, V, S, P)).
    static func parts(_ node: Node) throws -> (scores: Node, softmax: Node, output: Node, outputOperands: (Int, Int)) {
        let a = node.attributes
        let tA = try a.int("transA", default: 0), tB = try a.int("transB", default: 0), tV = try a.int("transV", default: 0)
        let valueFirst = try a.int("value_first", default: 0) != 0
        let scores = Node(.matMul, name: node.name, inputs: [], outputs: [],
                          attributes: Attributes(["transA": .int(tA), "transB": .int(tB)]))
        let softmax = Node(.softmax, name: node.name, inputs: [], outputs: [], attributes: Attributes(["axis": .int(-1)]))
        let output = Node(.matMul, name: node.name, inputs: [], outputs: [],
                          attributes: Attributes(valueFirst ? ["transA": .int(tV), "transB": .int(1)] : ["transA": .int(0), "transB": .int(tV)]))
        return (scores, softmax, output, valueFirst ? (2, 4) : (4, 2))
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let (scores, softmax, output, (i, j)) = try parts(node)
        let s = try GemmOps.outputTypes(scores, [ts[0], ts[1]], g)[0]
        let p = try ReductionOps.outputTypes(softmax, [s], g)[0]
        let all = [ts[0], ts[1], ts[2], s, p]
        return try GemmOps.outputTypes(output, [all[i], all[j]], g)
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let (scores, softmax, output, (i, j)) = try parts(node)
        let sType = try GemmOps.outputTypes(scores, [x[0]!.type, x[1]!.type], g)
        let s = try GemmOps.evaluate(scores, [x[0], x[1]], sType, g)[0]
        let p = try ReductionOps.evaluate(softmax, [s], sType, g)[0]
        let all = [x[0], x[1], x[2], s, p]
        return try GemmOps.evaluate(output, [all[i], all[j]], outTypes, g)
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let a = try ctx.shape(node.inputs[0]!), b = try ctx.shape(node.inputs[1]!), v = try ctx.shape(node.inputs[2]!)
        let o = try ctx.shape(node.outputs[0])
        let r = a.count
        guard r >= 2, b.count == r, v.count == r, o.count == r,
              a.dropLast(2) == b.dropLast(2), a.dropLast(2) == v.dropLast(2), a.dropLast(2) == o.dropLast(2) else {
            throw GraphError("FusedAttention needs operands of one rank >= 2 with the same batch dimensions, got \(a), \(b), \(v)")
        }
        let attrs = node.attributes
        let tA = try attrs.int("transA", default: 0) != 0, tB = try attrs.int("transB", default: 0) != 0
        let tV = try attrs.int("transV", default: 0) != 0, valueFirst = try attrs.int("value_first", default: 0) != 0
        let m = tA ? a[r - 1] : a[r - 2], d = tA ? a[r - 2] : a[r - 1], n = tB ? b[r - 2] : b[r - 1]
        let c = valueFirst ? o[r - 2] : o[r - 1]
        return .kernel(.attention(Attention.Plan(batch: a.dropLast(2).reduce(1, *), m: m, n: n, d: d, c: c,
                                                 transA: tA, transB: tB, transV: tV, valueFirst: valueFirst)))
    }

    /// Per sample when A, B and V all carry the batch with the output's rank ≥ 3 (their
    /// leading dims are the batch); anything else may contract over it.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        guard batched.contains(true) else { return false }
        guard batched.count == 3, batched.allSatisfy({ $0 }), let r = graph.type(of: node.outputs[0])?.rank, r >= 3 else { return true }
        return !batchAxesAligned(node, batched, graph)
    }
    public static func pullback(_ op: Op) -> Pullback? { nil }
}
