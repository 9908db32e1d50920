// CoerceIntegerOperands: integer constants feeding float arithmetic (Pow's exponent, say)
// become float constants, so the binary kernels read floats only.
//
// Contract: input — a typed graph. For every node of the binary family (Add/Sub/Mul/Div/Pow…) with a float32 input 0
// and a non-float input 1: a constant input 1 (initializer or Constant node) is replaced by a
// new float32 initializer of the same shape and values (named "<B>/float", with a suffix when
// taken; converted once per constant); a computed one is an error naming the node (the runtime
// has no integer arithmetic kernels). Output types are unchanged (they follow input 0). Runs
// inside `Lowering.lower` (`Pipelines.lowering`).

import GraphIR

public struct CoerceIntegerOperands: Pass {
    public let name = "CoerceIntegerOperands"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        let builder = GraphBuilder(graph)
        var converted: [ValueID: ValueID] = [:]
        for i in graph.nodes.indices where BinaryOps.ops.contains(graph.nodes[i].op) {
            let node = graph.nodes[i]
            guard let a = node.inputs[0], graph.type(of: a)?.dtype == .float32,
                  let b = node.input(1), let bt = graph.type(of: b), bt.dtype != .float32 else { continue }
            if converted[b] == nil {
                guard let c = graph.constantValue(b) else {
                    throw GraphError("\(graph.describeNode(i)): \(node.op.rawValue) with a \(bt.dtype.rawValue) operand that is not constant is not supported")
                }
                converted[b] = builder.addInitializer(builder.freshName(graph.name(of: b) + "/float"), Tensor(shape: c.shape, floats: c.floats))
            }
            var rewritten = node
            rewritten.inputs[1] = converted[b]
            builder.setNode(i, rewritten)
        }
        graph = builder.finish()
    }
}
