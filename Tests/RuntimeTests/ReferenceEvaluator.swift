// ReferenceEvaluator: runs a graph node by node with the scalar reference kernels (through
// Passes' ConstantEvaluator), no planning, no fusion, no threads — the oracle the interpreter's
// results are checked against.

import GraphIR
import Passes
import Runtime

enum ReferenceEvaluator {
    static func run(_ graph: Graph, _ inputs: [Tensor]) throws -> [Tensor] {
        var g = try Session.bind(graph, inputs.map(\.shape))
        try InferShapes().run(&g)
        var env: [ValueID: Tensor] = g.initializers
        for (v, t) in zip(g.inputs, inputs) { env[v] = t }
        for node in g.nodes {
            let x = node.inputs.map { $0.flatMap { env[$0] } }
            let out = try ConstantEvaluator.evaluate(node, x, node.outputs.map { g.type(of: $0)! }, graph: g)
            for (v, t) in zip(node.outputs, out) { env[v] = t }
        }
        return g.outputs.map { env[$0]! }
    }
}
