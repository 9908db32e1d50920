// AttributeSchema: the attributes each op accepts, with their kinds (ONNX names), in the IR's
// one form (the newest opset's: shape-like operands are inputs; the importer drops or rewrites
// legacy attributes). Exceptions kept for in-tree builders: ReduceMean/ReduceSum `axes` (the
// loss builders) and Dropout's `ratio`/`is_test`.

extension Op {
    /// Attribute name → kind ("int", "float", "string", "ints", "floats", "tensor").
    public var attributeSchema: [String: String] {
        let convLike: [String: String] = ["auto_pad": "string", "dilations": "ints", "group": "int",
                                          "kernel_shape": "ints", "pads": "ints", "strides": "ints"]
        let reduce: [String: String] = ["axes": "ints", "keepdims": "int", "noop_with_empty_axes": "int"]
        let fused: [String: String] = ["activation": "string", "activation_alpha": "float"]
        switch self {
        case .fusedConv, .fusedConvTranspose, .fusedGemm:
            return baseOp.attributeSchema.merging(fused) { a, _ in a }
        case .fusedConvTransposeBatchNorm:
            return baseOp.attributeSchema.merging(fused) { a, _ in a }.merging(["epsilon": "float"]) { a, _ in a }
        case .conv: return convLike
        case .convTranspose: return convLike.merging(["output_padding": "ints", "output_shape": "ints"]) { a, _ in a }
        case .batchNormalization: return ["epsilon": "float", "momentum": "float", "training_mode": "int"]
        case .gemm: return ["alpha": "float", "beta": "float", "transA": "int", "transB": "int"]
        case .add, .sub, .mul, .div, .pow, .relu, .sigmoid, .tanh, .exp, .log, .sqrt, .neg, .abs,
             .softplus, .identity, .matMul, .expand, .globalAveragePool, .sign, .unsqueeze, .squeeze, .slice:
            return [:]
        case .leakyRelu: return ["alpha": "float"]
        case .dropout: return ["seed": "int", "ratio": "float", "is_test": "int"]
        case .leakyReluGrad: return ["alpha": "float"]
        case .gatherGrad: return ["axis": "int", "size": "int"]
        case .allReduce: return ["mode": "string"]
        case .reshape: return ["allowzero": "int"]
        case .flatten, .concat, .gather, .softmax, .logSoftmax: return ["axis": "int"]
        case .transpose: return ["perm": "ints"]
        case .reduceMean, .reduceSum: return reduce
        case .constant:
            return ["value": "tensor", "value_float": "float", "value_floats": "floats",
                    "value_int": "int", "value_ints": "ints"]
        case .maxPool:
            return convLike.filter { $0.key != "group" }.merging(["ceil_mode": "int", "storage_order": "int"]) { a, _ in a }
        case .averagePool:
            return convLike.filter { $0.key != "group" }.merging(["ceil_mode": "int", "count_include_pad": "int"]) { a, _ in a }
        }
    }
}
