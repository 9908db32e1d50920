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
        graph = GraphBuilder(graph).removeDeadNodes()
    }
}
