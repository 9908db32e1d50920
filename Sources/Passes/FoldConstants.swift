// FoldConstants: replaces nodes whose inputs are all constant by initializers.
//
// Contract: input — a graph typed by InferShapes. Constant nodes become initializers. Any
// other node whose every present input is an initializer, and whose outputs are all typed and
// static with at most `maxElements` elements each, is evaluated by ConstantEvaluator and
// replaced by initializers holding its outputs (same value ids, names and types). Shape and
// Size fold whenever their input's type is fully fixed, constant or not (after a Session binds
// the batch, `x.view(x.size(0), -1)`'s Shape → Gather → Unsqueeze → Concat chain becomes a
// constant Reshape shape). ConstantOfShape folds at any size `Limits` allows once its shape is
// an initializer (models ship weights as fills: the backend's light/ models; TorchScript builds
// `repeat(batch, …)` counts as Shape → … → ConstantOfShape → Equal/Where → Expand, all of which
// fold once the batch is bound). Nodes are visited in order, so chains fold in one run. Graph
// inputs are never folded.

import Core
import GraphIR

public struct FoldConstants: Pass {
    public let name = "FoldConstants"
    /// Outputs larger than this stay as computations (folding would bloat the model).
    public var maxElements: Int
    public init(maxElements: Int = 1 << 20) { self.maxElements = maxElements }

    public func run(_ graph: inout Graph) throws {
        let b = GraphBuilder(graph)
        for (i, node) in graph.nodes.enumerated() {
            let g = b.graph
            if node.op == .shape || node.op == .size, let x = node.inputs.first ?? nil,
               let shape = g.type(of: x)?.fixedShape {
                b.setInitializer(node.outputs[0], try ShapeOfOps.value(node, shape))
                b.remove(nodeAt: i)
                continue
            }
            let inputsConstant = node.inputs.allSatisfy { $0 == nil || g.initializers[$0!] != nil }
            let types = node.outputs.map { g.type(of: $0) }
            let small = types.allSatisfy { t in (t?.elementCount).map { $0 <= maxElements || node.op == .constantOfShape } ?? false }
            guard inputsConstant, small, node.outputs.count == 1, !node.op.isInternal else { continue }
            let inputs = node.inputs.map { $0.flatMap { g.initializers[$0] } }
            let out = try rethrowing(GraphError.self, as: { GraphError("\(g.describeNode(i)): \($0.message)") }) {
                try ConstantEvaluator.evaluate(node, inputs, types.map { $0! }, graph: g)
            }
            b.setInitializer(node.outputs[0], out[0])
            b.remove(nodeAt: i)
        }
        graph = b.finish()
    }
}
