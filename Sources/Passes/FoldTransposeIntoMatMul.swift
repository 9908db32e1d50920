// FoldTransposeIntoMatMul: a MatMul operand that is a Transpose of its last two dimensions is
// read transposed by the GEMM instead of being copied (self-attention's Q·Kᵀ and attention·V
// as the exporters write them, and every MatMul pullback, which multiplies by swapped operands).
//
// Contract: input — a typed graph. For each MatMul input (A or B) produced by a Transpose whose
// perm swaps the last two axes and keeps the others (rank ≥ 2), the MatMul reads the
// Transpose's input and toggles its transA / transB attribute (GemmOps: not ONNX attributes,
// so this runs only inside `Lowering.lower`, on its copy, after differentiation). Transposes
// that no longer have readers are removed (unless they are graph outputs). Values are
// unchanged: the GEMM reads the same elements.

import GraphIR

public struct FoldTransposeIntoMatMul: Pass {
    public let name = "FoldTransposeIntoMatMul"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        var producer: [ValueID: Int] = [:]
        for (i, n) in graph.nodes.enumerated() { for v in n.outputs { producer[v] = i } }
        let builder = GraphBuilder(graph)
        var folded = Set<Int>()
        for i in graph.nodes.indices where graph.nodes[i].op == .matMul {
            var node = graph.nodes[i]
            for (slot, key) in [(0, "transA"), (1, "transB")] {
                guard let v = node.inputs[slot], let pi = producer[v], graph.nodes[pi].op == .transpose,
                      let src = graph.nodes[pi].inputs[0], let r = graph.type(of: src)?.rank, r >= 2,
                      (try graph.nodes[pi].attributes.ints("perm") ?? Array((0..<r).reversed())) == Array(0..<(r - 2)) + [r - 1, r - 2]
                else { continue }
                node.inputs[slot] = src
                let on = try node.attributes.int(key, default: 0) == 0
                node.attributes[key] = on ? .int(1) : nil
                folded.insert(pi)
            }
            builder.setNode(i, node)
        }
        graph = builder.finish()
        if folded.isEmpty { return }
        // Drop the folded Transposes nothing reads any more.
        var read = Set(graph.outputs)
        for n in graph.nodes { for v in n.inputs { if let v { read.insert(v) } } }
        let dead = folded.filter { !graph.nodes[$0].outputs.contains(where: read.contains) }
        if dead.isEmpty { return }
        graph.nodes = graph.nodes.enumerated().filter { !dead.contains($0.offset) }.map(\.element)
    }
}
