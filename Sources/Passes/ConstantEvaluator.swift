// ConstantEvaluator: evaluates one node on constant tensors with the scalar reference kernels.
//
// Contract: `evaluate(node, inputs, outputTypes)` returns the node's outputs computed by the
// Kernels module's scalar references (no SIMD, no threads, no planning), given input tensors
// and the output types InferShapes assigned: the evaluation of the op's family (Operators/).
// Integer tensors (an integer or bool input 0) go to the family's `evaluateIntegers`: the
// data-movement ops that shape computations use (Reshape, Flatten, Squeeze, Unsqueeze,
// Identity, Concat, Gather, Slice, Transpose, Expand, Tile, one-output Split, Pad),
// Add/Sub/Mul/Div, the comparisons, connectives and Where (whose branches may be float); other
// ops on integers are an error. It is the
// oracle that interpreter tests compare against and the engine of FoldConstants. An output
// shape over `Limits` is an error before anything is allocated.

import GraphIR
import Kernels

public enum ConstantEvaluator {
    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], graph g: Graph) throws -> [Tensor] {
        let outShape = outTypes[0].fixedShape ?? []
        try Limits.checkTensor(outShape, outTypes[0].dtype, "\(node.op.rawValue) output")
        let family = node.op.family
        if node.op.inputArity.lowerBound == 0 { return try family.evaluate(node, x, outTypes, g) }
        guard let first = x.first ?? nil else { throw GraphError("\(node.op.rawValue) has no first input") }
        if first.dtype != .float32 {
            return [try family.evaluateIntegers(node, x, outShape, outTypes[0].dtype, g)]
        }
        return try family.evaluate(node, x, outTypes, g)
    }
}
