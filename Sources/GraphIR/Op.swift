// Op: every operator a graph may hold, named as in ONNX, with ONNX semantics: its arity and
// the attributes it accepts (the verifier's view of an op). Its math — shape rule, evaluation,
// lowering and pullback — lives with its family in Passes/Operators.
//
// Attribute schema: the attributes each op accepts, with their kinds (ONNX names), in the IR's
// one form (the newest opset's: shape-like operands are inputs; the importer drops or rewrites
// legacy attributes). Exceptions kept for in-tree builders: ReduceMean/ReduceSum `axes` (the
// loss builders) and Dropout's `ratio`/`is_test`.

/// The operator of a node. Raw values are the ONNX operator names; attribute names and defaults
/// follow the ONNX operator specification (see `OpAttributes`).
public enum Op: String, CaseIterable, Hashable, Sendable {
    /// Y = conv(X, W) + B over NCHW; attributes auto_pad, dilations, group, kernel_shape, pads, strides.
    case conv = "Conv"
    /// Transposed convolution; W is (C_in, C_out/group, kH, kW); adds output_padding, output_shape.
    case convTranspose = "ConvTranspose"
    /// Inference batch normalisation: (X − mean)/√(var + epsilon)·scale + B per channel (axis 1).
    case batchNormalization = "BatchNormalization"
    /// Y = alpha·op(A)·op(B) + beta·C; attributes alpha, beta, transA, transB; C broadcasts.
    case gemm = "Gemm"
    /// numpy matmul: batched over leading dims, 1-D operands promoted.
    case matMul = "MatMul"
    /// Element-wise A + B with numpy broadcasting.
    case add = "Add"
    /// Element-wise A − B with numpy broadcasting.
    case sub = "Sub"
    /// Element-wise A · B with numpy broadcasting.
    case mul = "Mul"
    /// Element-wise A / B with numpy broadcasting.
    case div = "Div"
    /// Element-wise A ^ B with numpy broadcasting.
    case pow = "Pow"
    /// Element-wise sum of one or more inputs with numpy broadcasting.
    case sum = "Sum"
    /// Element-wise maximum of one or more inputs with numpy broadcasting (NaN propagates).
    case max = "Max"
    /// Element-wise minimum of one or more inputs with numpy broadcasting (NaN propagates).
    case min = "Min"
    /// Element-wise mean (sum / count) of one or more inputs with numpy broadcasting.
    case mean = "Mean"
    /// x < 0 ? slope·x : x; slope broadcasts to x (unidirectionally).
    case prelu = "PRelu"
    /// max(x, 0).
    case relu = "Relu"
    /// x ≥ 0 ? x : alpha·x; alpha defaults to 0.01.
    case leakyRelu = "LeakyRelu"
    /// 1 / (1 + e^−x).
    case sigmoid = "Sigmoid"
    /// tanh(x).
    case tanh = "Tanh"
    /// ln(1 + e^x).
    case softplus = "Softplus"
    /// e^x.
    case exp = "Exp"
    /// ln x.
    case log = "Log"
    /// √x.
    case sqrt = "Sqrt"
    /// −x.
    case neg = "Neg"
    /// |x|.
    case abs = "Abs"
    /// x > 0 ? x : alpha·(e^x − 1); alpha defaults to 1.
    case elu = "Elu"
    /// gamma·(x > 0 ? x : alpha·(e^x − 1)); alpha ≈ 1.6733, gamma ≈ 1.0507 by default.
    case selu = "Selu"
    /// The Gauss error function erf(x).
    case erf = "Erf"
    /// max(0, min(1, alpha·x + beta)); alpha 0.2, beta 0.5 by default.
    case hardSigmoid = "HardSigmoid"
    /// x · max(0, min(1, x/6 + 1/2)).
    case hardSwish = "HardSwish"
    /// x·Φ(x) (`approximate` "none", the default) or 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) ("tanh"); opset 20.
    case gelu = "Gelu"
    /// min(max(x, min), max) with min and max the optional constant scalar inputs 1 and 2 (the
    /// importer moves the attributes of opsets < 11 there); NaN stays NaN.
    case clip = "Clip"
    /// Copies its input.
    case identity = "Identity"
    /// Inputs (data, ratio = 0.5, training_mode = false), outputs (output[, mask]); attribute seed.
    /// Inference (training_mode absent/false) is the identity; training mode is rewritten by
    /// Passes.ExpandDropout into Mul by a fed inverted-dropout mask (0 or 1/(1 − ratio)).
    case dropout = "Dropout"
    /// −1, 0 or 1 by the sign of x (0 for ±0 and NaN).
    case sign = "Sign"
    /// Reshapes to the shape given by input 2 (0 copies a dim unless allowzero, −1 infers one).
    case reshape = "Reshape"
    /// Flattens to 2-D at `axis` (default 1).
    case flatten = "Flatten"
    /// Permutes axes by `perm` (default: reversed).
    case transpose = "Transpose"
    /// Joins inputs along `axis`.
    case concat = "Concat"
    /// Takes slices along `axis` (default 0) at integer indices (negative wrap).
    case gather = "Gather"
    /// Inserts size-1 axes at the constant axes of input 1 (the importer moves the attribute of opsets < 13 there).
    case unsqueeze = "Unsqueeze"
    /// Removes size-1 axes at the constant axes of input 1 (all if absent; the importer moves the attribute of opsets < 13 there).
    case squeeze = "Squeeze"
    /// Slices by the constant inputs starts, ends, axes, steps (the importer moves the attributes of opsets < 10 there).
    case slice = "Slice"
    /// Broadcasts to a shape (numpy rules, the larger size wins).
    case expand = "Expand"
    /// Mean over axes (constant input 1, as from opset 18; the `axes` attribute is still read); keepdims defaults to 1.
    case reduceMean = "ReduceMean"
    /// Sum over axes (constant input 1, as from opset 13; the `axes` attribute is still read); keepdims defaults to 1.
    case reduceSum = "ReduceSum"
    /// A constant tensor held in its `value` attribute (or value_float(s)/value_int(s)).
    case constant = "Constant"
    /// Softmax along `axis` (default −1 from opset 13; 2-D coerced at axis 1 before).
    case softmax = "Softmax"
    /// Log of softmax, same axis rules as Softmax.
    case logSoftmax = "LogSoftmax"
    /// Max pooling; attributes auto_pad, ceil_mode, dilations, kernel_shape, pads, strides.
    case maxPool = "MaxPool"
    /// Average pooling; adds count_include_pad.
    case averagePool = "AveragePool"
    /// Mean over all spatial positions, keeping them as size-1 dims.
    case globalAveragePool = "GlobalAveragePool"

    // Normalisation over statistics of the input itself, resampling and padding (issue 14).

    /// (X − mean)/√(var + epsilon)·scale + B with mean/var over the spatial axes of each (n, c);
    /// inputs (X (N, C, …), scale (C), B (C)); attribute epsilon (1e-5).
    case instanceNormalization = "InstanceNormalization"
    /// (X − mean)/√(var + epsilon)·Scale + B with mean/var over axes `axis`… (default −1); Scale
    /// and optional B shaped like those axes; optional outputs Mean and InvStdDev (X's shape with
    /// the normalised axes 1). Attributes axis, epsilon (1e-5), stash_type (1; float32 math).
    case layerNormalization = "LayerNormalization"
    /// (X − mean)/√(var + epsilon)·scale + bias with mean/var over each of `num_groups` channel
    /// groups (and the spatial axes) of each sample; scale and bias per channel (C) — the opset 21
    /// form (the importer expands the per-group form of opsets 18–20). Attributes epsilon, num_groups, stash_type.
    case groupNormalization = "GroupNormalization"
    /// Resize (X, roi, scales, sizes) with constant roi/scales/sizes; modes nearest and linear
    /// (separable per axis), every coordinate_transformation_mode, nearest_mode, `axes` and
    /// keep_aspect_ratio_policy; Upsample and opset-10 Resize are rewritten to it at import.
    case resize = "Resize"
    /// Pad (data, pads, constant_value, axes) with constant pads/axes; modes constant, reflect,
    /// edge, wrap; negative pads crop. The importer moves the attributes of opsets < 11 to inputs.
    case pad = "Pad"

    // Gannet-internal ops made by fusion passes (never imported or exported): a convolution or
    // GEMM whose bias and activation run in the kernel's epilogue. Attributes are those of the
    // base op plus `activation` ("Relu", "LeakyRelu", "Sigmoid", "Tanh" or absent) and
    // `activation_alpha` (LeakyRelu's slope).

    /// Conv + bias + activation in one kernel.
    case fusedConv = "FusedConv"
    /// ConvTranspose + bias + activation in one kernel.
    case fusedConvTranspose = "FusedConvTranspose"
    /// Gemm (C only as a bias row) + activation in one kernel.
    case fusedGemm = "FusedGemm"
    /// ConvTranspose + training-mode BatchNormalization (+ activation) in one kernel: inputs
    /// (X, W, B or absent, scale, bias); outputs (Y, Z, mean, var) where Z = ConvTranspose(X, W, B)
    /// (N, C, …), mean and var (C) are Z's biased batch statistics over N and the spatial axes,
    /// accumulated in the ConvTranspose epilogue, and Y = act((Z − mean)/√(var + epsilon)·scale + bias).
    /// Attributes: ConvTranspose's, `epsilon` and the fused `activation`/`activation_alpha`.
    case fusedConvTransposeBatchNorm = "FusedConvTransposeBatchNorm"

    // Gannet-internal gradient ops made by Autodiff (never imported; no ONNX equivalent).

    /// dX of LeakyRelu (Relu: alpha 0) from the output: dY where Y > 0, else alpha·dY; inputs (dY, Y), same shape.
    case leakyReluGrad = "LeakyReluGrad"
    /// Scatter-add, the gradient of Gather: inputs (dY, indices); output has `size` along `axis`.
    case gatherGrad = "GatherGrad"

    // Gannet-internal collective (made by ExpandTrainingBatchNorm(synchronized: true); never imported).

    /// Element-wise reduction of X over the ranks of a data-parallel job, same shape; attribute
    /// `mode`: "mean" (default) = Σ_r share_r·X_r with share_r = rank r's fraction of the global
    /// batch (its own pullback), "sum" = Σ_r X_r (not differentiable). Identity in one process.
    case allReduce = "AllReduce"

    /// True for the gradient ops Autodiff creates; they have no ONNX equivalent.
    public var isGradientInternal: Bool { self == .leakyReluGrad || self == .gatherGrad }

    /// True for the ops fusion passes create; they have no ONNX equivalent.
    public var isInternal: Bool {
        self == .fusedConv || self == .fusedConvTranspose || self == .fusedGemm || self == .fusedConvTransposeBatchNorm
            || self == .allReduce
    }

    /// The standard op a fused op extends.
    public var baseOp: Op {
        switch self {
        case .fusedConv: return .conv
        case .fusedConvTranspose, .fusedConvTransposeBatchNorm: return .convTranspose
        case .fusedGemm: return .gemm
        default: return self
        }
    }

    /// The number of inputs accepted (optional trailing inputs may be absent).
    public var inputArity: ClosedRange<Int> {
        switch self {
        case .conv, .convTranspose, .fusedConv, .fusedConvTranspose: return 2...3
        case .batchNormalization, .fusedConvTransposeBatchNorm: return 5...5
        case .gemm, .fusedGemm: return 2...3
        case .matMul, .add, .sub, .mul, .div, .pow, .prelu, .gather, .expand, .leakyReluGrad, .gatherGrad: return 2...2
        case .relu, .leakyRelu, .sigmoid, .tanh, .softplus, .exp, .log, .sqrt, .neg, .abs, .sign,
             .elu, .selu, .erf, .hardSigmoid, .hardSwish, .gelu, .identity, .flatten, .transpose, .softmax, .logSoftmax, .maxPool, .averagePool,
             .globalAveragePool, .allReduce:
            return 1...1
        case .instanceNormalization, .groupNormalization: return 3...3
        case .layerNormalization: return 2...3
        case .resize: return 1...4
        case .pad: return 2...4
        case .reshape: return 2...2
        case .concat, .sum, .max, .min, .mean: return 1...Int.max
        case .unsqueeze, .squeeze, .reduceMean, .reduceSum: return 1...2
        case .slice: return 1...5
        case .clip: return 1...3
        case .dropout: return 1...3
        case .constant: return 0...0
        }
    }

    /// Inputs below `inputArity.lowerBound` that may still be absent (FusedConvTransposeBatchNorm's bias).
    public var optionalInputs: Set<Int> { self == .fusedConvTransposeBatchNorm ? [2] : [] }

    /// The number of outputs produced.
    public var outputArity: ClosedRange<Int> {
        switch self {
        case .batchNormalization: return 1...5
        case .layerNormalization: return 1...3
        case .maxPool, .dropout: return 1...2
        case .fusedConvTransposeBatchNorm: return 4...4
        default: return 1...1
        }
    }

    /// Looks an op up by its ONNX name.
    public init?(onnxName: String) { self.init(rawValue: onnxName) }
}

extension Node {
    /// The ConvTranspose half of a FusedConvTransposeBatchNorm node: ConvTranspose(X, W, B?) → Z
    /// with the node's convolution attributes (no epsilon, no activation), for the shape rule,
    /// the reference evaluator, lowering and the pullback to reuse ConvTranspose's.
    public var fusedConvTransposePart: Node {
        var base = self
        base.op = .convTranspose
        base.inputs = Array(inputs.prefix(3))
        base.outputs = [outputs[1]]
        base.attributes.values = attributes.values.filter { !$0.key.hasPrefix("activation") && $0.key != "epsilon" }
        return base
    }
}

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
        case .leakyRelu, .elu: return ["alpha": "float"]
        case .selu: return ["alpha": "float", "gamma": "float"]
        case .hardSigmoid: return ["alpha": "float", "beta": "float"]
        case .erf, .hardSwish, .clip, .sum, .max, .min, .mean, .prelu: return [:]
        case .gelu: return ["approximate": "string"]
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
        case .instanceNormalization: return ["epsilon": "float"]
        case .layerNormalization: return ["axis": "int", "epsilon": "float", "stash_type": "int"]
        case .groupNormalization: return ["epsilon": "float", "num_groups": "int", "stash_type": "int"]
        case .resize:
            return ["antialias": "int", "axes": "ints", "coordinate_transformation_mode": "string", "cubic_coeff_a": "float",
                    "exclude_outside": "int", "extrapolation_value": "float", "keep_aspect_ratio_policy": "string",
                    "mode": "string", "nearest_mode": "string"]
        case .pad: return ["mode": "string"]
        }
    }
}
