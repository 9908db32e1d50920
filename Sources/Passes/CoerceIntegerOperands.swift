// CoerceIntegerOperands: integer operands feeding float arithmetic (Pow's exponent, say)
// become float operands, so the binary kernels read floats only.
//
// Contract: input — a typed graph. For every node of the binary family (Add/Sub/Mul/Div/Pow…) with a float32 input 0
// and a non-float input 1: a constant input 1 (initializer or Constant node) is replaced by a
// new float32 initializer of the same shape and values (named "<B>/float", with a suffix when
// taken; converted once per constant); a computed one (a graph input, an op's output) is
// replaced by the output of a new Cast(to: FLOAT) node, typed float32 with B's shape and placed
// just before its first such reader (one Cast per value; `IntegerCast` at run time). Output
// types are unchanged (they follow input 0). Runs inside `Lowering.lower` (`Pipelines.lowering`).

import GraphIR

public struct CoerceIntegerOperands: Pass {
    public let name = "CoerceIntegerOperands"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        let builder = GraphBuilder(graph)
        var converted: [ValueID: ValueID] = [:]
        let onnxFloat = 1
        for node in builder.takeNodes() {
            guard BinaryOps.ops.contains(node.op), let a = node.inputs[0], graph.type(of: a)?.dtype == .float32,
                  let b = node.input(1), let bt = graph.type(of: b), bt.dtype != .float32 else {
                builder.appendUntyped(node)
                continue
            }
            if converted[b] == nil {
                let name = builder.freshName(graph.name(of: b) + "/float")
                if let c = graph.constantValue(b) {
                    converted[b] = builder.addInitializer(name, Tensor(shape: c.shape, floats: c.floats))
                } else {
                    let v = builder.addValue(name, TensorType(.float32, bt.shape))
                    builder.appendUntyped(Node(.cast, name: builder.freshNodeName(name), inputs: [b], outputs: [v],
                                               attributes: Attributes(["to": .int(onnxFloat)])))
                    converted[b] = v
                }
            }
            var rewritten = node
            rewritten.inputs[1] = converted[b]
            builder.appendUntyped(rewritten)
        }
        graph = builder.finish()
    }
}
