// GraphBuilder+Typed: the shape rules as GraphBuilder typers (GraphIR knows no math).
//
// Contract: `ShapeRules.typer` types one appended node with its op's shape rule, as autodiff
// needs: an untyped input is "value 'x' has no type (run InferShapes first)" and rule errors
// are passed on as they are (the caller names the node). `ShapeRules.checkedTyper` types it as
// InferShapes does: an untyped input, a rule error or an output type over `Limits` is an error
// prefixed with the node's description ("node 3 'fc1' (Gemm): …").

import Core
import GraphIR

extension ShapeRules {
    /// Types node `i` with its shape rule; errors are the rule's own.
    public static let typer: NodeTyper = { graph, i in
        let node = graph.nodes[i]
        let types: [TensorType?] = try node.inputs.map { v in
            try v.map { v in
                guard let t = graph.type(of: v) else { throw GraphError("value '\(graph.name(of: v))' has no type (run InferShapes first)") }
                return t
            }
        }
        return try infer(node, types, graph)
    }

    /// Types node `i` as InferShapes does (Limits checks, errors naming the node).
    public static let checkedTyper: NodeTyper = { graph, i in
        let node = graph.nodes[i]
        let types: [TensorType?] = node.inputs.map { $0.flatMap { graph.type(of: $0) } }
        for (k, v) in node.inputs.enumerated() where v != nil && types[k] == nil {
            throw GraphError("\(graph.describeNode(i)): input \(k) '\(graph.name(of: v!))' has no known type")
        }
        return try rethrowing(GraphError.self, as: { GraphError("\(graph.describeNode(i)): \($0.message)") }) {
            let outs = try infer(node, types, graph)
            for (k, (o, t)) in zip(node.outputs, outs).enumerated() {
                try Limits.checkType(t, "output \(k) '\(graph.name(of: o))'")
            }
            return outs
        }
    }
}

extension GraphBuilder {
    /// A builder over `graph` whose nodes are typed by the shape rules (`ShapeRules.typer`).
    public static func typed(_ graph: Graph, scope: String = "graph", constantName: String = "const") -> GraphBuilder {
        GraphBuilder(graph, typer: ShapeRules.typer, scope: scope, constantName: constantName)
    }
}
