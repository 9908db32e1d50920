// SumBeforeTranspose: adds weight-gradient parts before transposing them, not after. Autodiff
// writes a convolution's weight gradient as Transpose(Conv(Transpose(x), Transpose(dY))) (the
// batch and channel axes swapped on the way in and back, Operators/Conv.swift `weightGrad`), and a
// weight read by several nodes (a critic applied to the real, the fake and the interpolated batch)
// gets the sum of one such gradient per use. Each part then pays a transpose of the whole weight
// gradient (256 × 512 × 4 × 4 floats in cifar10_wgangp's critic: 2.2–2.7 ms each, three per D step).
//
// Contract: input — a typed graph in topological order (a training graph after Autodiff).
// Add(Transpose(a, perm), Transpose(b, perm)) becomes Transpose(Add(a, b), perm) where both
// Transposes carry the same explicit perm, each is read only by this Add (and is not a graph
// output), and a and b have the same static f32 shape (no broadcasting). Repeated until none is
// left, so a chain of k parts keeps one Transpose instead of k. The Add's output value id is kept
// (the gradient held outside the graph stays valid); results are the same bits (a transpose only
// moves values, and each sum adds the same two floats). `GANNET_BASELINE=sumBeforeTranspose`
// turns the pass off.

import GraphIR
import Kernels

public struct SumBeforeTranspose: Pass {
    public let name = "SumBeforeTranspose"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        if Baseline.transposeBeforeSum { return }
        while let (add, parts, perm) = candidate(graph) {
            try rewrite(add, parts, perm, &graph)
        }
    }

    /// The first Add of two same-perm Transposes it alone reads, with the Transposes' inputs and perm.
    func candidate(_ g: Graph) -> (Int, [ValueID], [Int])? {
        let b = GraphBuilder(g)
        let producer = g.producers()
        for (i, node) in g.nodes.enumerated() where node.op == .add && node.inputs.count == 2 {
            guard let p = node.inputs[0], let q = node.inputs[1], p != q else { continue }
            var parts: [ValueID] = [], perms: [[Int]] = []
            for v in [p, q] {
                guard b.soleReader(of: v) == i, let j = producer[v], g.nodes[j].op == .transpose,
                      let x = g.nodes[j].input(0), g.nodes[j].inputs.count == 1,
                      let perm = (try? g.nodes[j].attributes.ints("perm")) ?? nil else { break }
                parts.append(x)
                perms.append(perm)
            }
            guard parts.count == 2, perms[0] == perms[1],
                  let s0 = g.type(of: parts[0]), let s1 = g.type(of: parts[1]), s0.dtype == .float32, s1.dtype == .float32,
                  let shape = s0.fixedShape, shape == s1.fixedShape else { continue }
            return (i, parts, perms[0])
        }
        return nil
    }

    func rewrite(_ add: Int, _ parts: [ValueID], _ perm: [Int], _ graph: inout Graph) throws {
        let b = GraphBuilder.typed(graph)
        let node = graph.nodes[add]
        let base = node.name.isEmpty ? graph.name(of: node.outputs[0]) : node.name
        let sum = b.addValue(b.freshName("\(base)/untransposed"), graph.type(of: parts[0]))
        try b.append(Node(.add, name: b.freshNodeName("\(base)/untransposed"), inputs: parts, outputs: [sum]))
        try b.append(Node(.transpose, name: b.freshNodeName("\(base)/transpose"), inputs: [sum], outputs: node.outputs,
                          attributes: Attributes(["perm": .ints(perm)])))
        let producer = graph.producers()
        for v in node.inputs { if let v, let j = producer[v] { b.remove(nodeAt: j) } }
        b.remove(nodeAt: add)
        graph = b.finish()
        try graph.sortTopologically()
    }
}
