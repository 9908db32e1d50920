// ExpandBoolReductions: ReduceMax and ReduceMin of bool data (ONNX opset 20: "any" and "all")
// rewritten into ops that have kernels.
//
// Contract: input — a typed graph. Every ReduceMax/ReduceMin whose input 0 is bool becomes
// Cast(X, FLOAT) → the same reduction (same axes input and attributes) → Greater(·, 0.5),
// the Greater writing the node's output value (bool, the node's shape). An empty reduction
// thereby gives false for ReduceMax (−∞ > 0.5 is false) and true for ReduceMin (+∞ > 0.5),
// ONNX's identities for bool. The intermediate values are named "<output>/float" and
// "<output>/reduced" (made fresh) and typed by the shape rules; results equal the family's
// constant evaluation (`ReductionOps.evaluateIntegers`, the same expression). Runs inside
// `Lowering.lower` (`Pipelines.lowering`).

import GraphIR

public struct ExpandBoolReductions: Pass {
    public let name = "ExpandBoolReductions"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        guard graph.nodes.contains(where: { Self.isBoolReduction($0, graph) }) else { return }
        let b = GraphBuilder.typed(graph)
        let onnxFloat = 1
        for var node in b.takeNodes() {
            guard Self.isBoolReduction(node, b.graph) else { try b.append(node); continue }
            let base = b.graph.name(of: node.outputs[0])
            let x = try b.add(.cast, [node.inputs[0]], output: b.freshName(base + "/float"), attributes: ["to": .int(onnxFloat)])
            var reduce = node
            reduce.inputs[0] = x
            reduce.outputs = [b.addValue(b.freshName(base + "/reduced"))]
            reduce.name = b.freshNodeName(node.name.isEmpty ? base + "/reduced" : node.name + "/reduced")
            try b.append(reduce)
            node.op = .greater
            node.inputs = [reduce.outputs[0], b.scalar(0.5)]
            node.attributes = Attributes()
            try b.append(node)
        }
        graph = b.finish()
    }

    static func isBoolReduction(_ n: Node, _ g: Graph) -> Bool {
        (n.op == .reduceMax || n.op == .reduceMin) && n.inputs.first.flatMap { $0.flatMap { g.type(of: $0)?.dtype } } == .bool
    }
}
