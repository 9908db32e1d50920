// FuseAttention: MatMul → Softmax over the last axis → MatMul becomes one FusedAttention, so the
// score matrix is computed, normalised and used a block of rows at a time and never stored whole.
//
// Contract: input — a typed graph after FoldTransposeIntoMatMul (MatMul transA/transB set; this
// runs only inside `Lowering.lower`). A MatMul M2 is rewritten when one operand is P =
// Softmax(S) — its B read transposed (O = op(V)·Pᵀ, `value_first`) or its A read as stored
// (O = P·op(V)) — where the Softmax normalises the last axis and S = MatMul(A, B) (any
// transA/transB); S and P each have one reader (M2 reads P once), neither is a graph output;
// and A, B, V and O are float32 of one static rank ≥ 2 with the same leading dimensions (no
// broadcasting). M2 becomes FusedAttention(A, B, V) with transA/transB from S's MatMul, transV
// from M2's flag on V and `value_first`; it keeps M2's output value; the Softmax and S's MatMul
// are removed. A training graph, whose backward reads P and S, is left as it is.

import GraphIR

public struct FuseAttention: Pass {
    public let name = "FuseAttention"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        let b = GraphBuilder(graph)
        let producers = graph.producers()
        for i in graph.nodes.indices where graph.nodes[i].op == .matMul {
            try fuse(i, b, producers)
        }
        graph = b.finish()
    }

    func fuse(_ i: Int, _ b: GraphBuilder, _ producers: [ValueID: Int]) throws {
        let g = b.graph
        var m2 = g.nodes[i]
        guard let x0 = m2.inputs[0], let x1 = m2.inputs[1] else { return }
        let t0 = try m2.attributes.int("transA", default: 0), t1 = try m2.attributes.int("transB", default: 0)
        // Which operand is P, and the value operand with its transpose flag.
        func softmaxProducing(_ v: ValueID) -> Int? {
            guard let k = producers[v], g.nodes[k].op == .softmax, !b.isRemoved(k), b.soleReader(of: v) == i else { return nil }
            return k
        }
        let form: (p: ValueID, si: Int, v: ValueID, transV: Int, valueFirst: Bool)
        if t1 == 1, let si = softmaxProducing(x1) { form = (x1, si, x0, t0, true) }
        else if t0 == 0, let si = softmaxProducing(x0) { form = (x0, si, x1, t1, false) }
        else { return }
        let softmax = g.nodes[form.si]
        guard let s = softmax.inputs[0], let rank = g.type(of: s)?.rank,
              try ShapeRules.normalizeAxis(try softmax.attributes.int("axis", default: -1), rank) == rank - 1,
              let mi = producers[s], g.nodes[mi].op == .matMul, !b.isRemoved(mi), b.soleReader(of: s) == form.si else { return }
        let m1 = g.nodes[mi]
        guard let a = m1.inputs[0], let bb = m1.inputs[1] else { return }
        let shapes = [a, bb, form.v, m2.outputs[0]].map { v -> [Int]? in
            guard let t = g.type(of: v), t.dtype == .float32 else { return nil }
            return t.fixedShape
        }
        guard let sa = shapes[0], let sb = shapes[1], let sv = shapes[2], let so = shapes[3], sa.count >= 2,
              [sb, sv, so].allSatisfy({ $0.count == sa.count && $0.dropLast(2) == sa.dropLast(2) }) else { return }
        m2.op = .fusedAttention
        m2.inputs = [a, bb, form.v]
        m2.attributes = Attributes(["transA": .int(try m1.attributes.int("transA", default: 0)),
                                    "transB": .int(try m1.attributes.int("transB", default: 0)),
                                    "transV": .int(form.transV), "value_first": .int(form.valueFirst ? 1 : 0)])
        b.setNode(i, m2)
        b.remove(nodeAt: form.si)
        b.remove(nodeAt: mi)
    }
}
