// ExpandVariadic: rewrites the variadic element-wise ops into two-input ones the Binary kernel
// runs.
//
// Contract: input — a typed graph. Sum, Max and Min of one input become Identity; of three or
// more, a left-to-right chain of two-input nodes of the same op (Sum as Add), the last one
// writing the node's output value; two-input Sum/Max/Min stay as they are (they lower to one
// kernel). Mean of n inputs becomes the Sum chain followed by Div by the constant n (as ONNX
// defines it: sum / n). Intermediate values are named "<output>/partial" (made fresh) and typed
// by the shape rules; results are bit-identical to the family's reference evaluation (the
// same left fold). Runs inside `Lowering.lower` (`Pipelines.lowering`).

import GraphIR

public struct ExpandVariadic: Pass {
    public let name = "ExpandVariadic"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        guard graph.nodes.contains(where: { Self.needsExpansion($0) }) else { return }
        let b = GraphBuilder.typed(graph)
        for var node in b.takeNodes() {
            guard Self.needsExpansion(node) else { try b.append(node); continue }
            let out = node.outputs[0]
            let base = b.graph.name(of: out) + "/partial"
            let binary: Op = node.op == .max ? .max : (node.op == .min ? .min : .add)
            let ins = node.inputs.map { $0! }
            var acc = ins[0]
            // Steps into fresh values: all of Mean's (its Div writes `out`), else all but the last.
            let freshSteps = node.op == .mean ? ins.count - 1 : Swift.max(ins.count - 2, 0)
            for v in ins.dropFirst().prefix(freshSteps) { acc = try b.add(binary, [acc, v], output: b.freshName(base)) }
            if node.op == .mean {
                node.op = .div
                node.inputs = [acc, b.scalar(Float(ins.count))]
            } else if ins.count == 1 {
                node.op = .identity
                node.inputs = [acc]
            } else {
                node.op = binary
                node.inputs = [acc, ins.last!]
            }
            try b.append(node)
        }
        graph = b.finish()
    }

    /// Whether a node is a variadic op the Binary kernel cannot run as it stands.
    static func needsExpansion(_ n: Node) -> Bool {
        n.op == .mean || ([.sum, .max, .min].contains(n.op) && n.inputs.count != 2)
    }
}
