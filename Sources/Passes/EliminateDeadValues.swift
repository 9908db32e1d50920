// EliminateDeadValues: removes nodes and initializers that no graph output depends on.
//
// Contract: keeps exactly the nodes with at least one output reachable (backwards) from a graph
// output, in their original order; drops initializers nothing reads (graph inputs stay, even
// unused, since callers feed them by name); renumbers values compactly. Types are kept.

import GraphIR

public struct EliminateDeadValues: Pass {
    public let name = "EliminateDeadValues"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        var live = Set(graph.outputs)
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        for i in graph.nodes.indices.reversed() {
            let n = graph.nodes[i]
            if n.outputs.contains(where: live.contains) {
                keep[i] = true
                for case let v? in n.inputs { live.insert(v) }
            }
        }
        graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
        graph.initializers = graph.initializers.filter { live.contains($0.key) }
        graph.compactValues()
    }
}
