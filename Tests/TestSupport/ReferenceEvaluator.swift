// ReferenceEvaluator: runs a graph node by node with the scalar reference kernels (through
// Passes' ConstantEvaluator), no planning, no fusion, no threads — the oracle the interpreter's
// results and the autodiff gradients are checked against, shared by the test targets.
//
// Contract: `evaluate` computes only the nodes the wanted values need, from the graph's
// initializers overridden by `feeds`; a wanted value that nothing computes is a GraphError.
// `run` binds the batch dim to the inputs' shapes (Session.bind), infers shapes and returns the
// graph outputs in order.

import GraphIR
import Passes
import Runtime

public enum ReferenceEvaluator {
    /// The values `want`, evaluated from `feeds` (graph inputs; may override initializers).
    public static func evaluate(_ g: Graph, _ feeds: [ValueID: Tensor], _ want: [ValueID]) throws -> [Tensor] {
        var env: [ValueID: Tensor] = g.initializers
        for (k, v) in feeds { env[k] = v }
        let producer = g.producers()
        var needed = Set<Int>()
        var stack = want
        while let v = stack.popLast() {
            guard env[v] == nil, let p = producer[v], needed.insert(p).inserted else { continue }
            stack += g.nodes[p].inputs.compactMap { $0 }
        }
        for i in needed.sorted() {
            let n = g.nodes[i]
            let ins = n.inputs.map { $0.flatMap { env[$0] } }
            let types = n.outputs.map { g.type(of: $0)! }
            let outs = try ConstantEvaluator.evaluate(n, ins, types, graph: g)
            for (o, t) in zip(n.outputs, outs) { env[o] = t }
        }
        return try want.map { v in
            guard let t = env[v] else { throw GraphError("value '\(g.name(of: v))' was not computed") }
            return t
        }
    }

    /// The first element of value `v`.
    public static func scalar(_ g: Graph, _ feeds: [ValueID: Tensor], _ v: ValueID) throws -> Float {
        try evaluate(g, feeds, [v])[0].floats[0]
    }

    /// The graph's outputs for `inputs` (in graph-input order), with the batch dim bound.
    public static func run(_ graph: Graph, _ inputs: [Tensor]) throws -> [Tensor] {
        var g = try Session.bind(graph, inputs.map(\.shape))
        try InferShapes().run(&g)
        return try evaluate(g, Dictionary(uniqueKeysWithValues: zip(g.inputs, inputs)), g.outputs)
    }
}
