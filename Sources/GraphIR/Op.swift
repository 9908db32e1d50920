// Op: every operator a graph may hold, named as in ONNX, with ONNX semantics: its arity and
// the attributes it accepts (the verifier's view of an op). Its math — shape rule, evaluation,
// lowering and pullback — lives with its family in Passes/Operators, except for the point-wise
// functions (`.unary`, `.binary`), each declared whole — name, attributes, kernel, pullback —
// in Pointwise/. `.relu`, `.add` and the like are static members (`Op.unary(.relu)`), so they
// read and match (`case .relu:`, through Equatable) as plain cases do.
//
// Attribute schema: the attributes each op accepts, with their kinds (ONNX names), in the IR's
// one form (the newest opset's: shape-like operands are inputs; the importer drops or rewrites
// legacy attributes), with no exceptions.

/// The operator of a node. `rawValue` is the ONNX operator name; attribute names and defaults
/// follow the ONNX operator specification (see `OpAttributes`).
public enum Op: Hashable, Sendable {
    /// A point-wise function of one input, declared in Pointwise/UnaryFunction.swift.
    case unary(UnaryFunction)
    /// A point-wise function of two broadcast inputs, declared in Pointwise/BinaryFunction.swift.
    case binary(BinaryFunction)

    /// Y = conv(X, W) + B over NCHW; attributes auto_pad, dilations, group, kernel_shape, pads, strides.
    case conv
    /// Transposed convolution; W is (C_in, C_out/group, kH, kW); adds output_padding, output_shape.
    case convTranspose
    /// Inference batch normalisation: (X − mean)/√(var + epsilon)·scale + B per channel (axis 1).
    case batchNormalization
    /// Y = alpha·op(A)·op(B) + beta·C; attributes alpha, beta, transA, transB; C broadcasts.
    case gemm
    /// numpy matmul: batched over leading dims, 1-D operands promoted.
    case matMul
    /// Element-wise sum of one or more inputs with numpy broadcasting.
    case sum
    /// Element-wise maximum of one or more inputs with numpy broadcasting (NaN propagates).
    case max
    /// Element-wise minimum of one or more inputs with numpy broadcasting (NaN propagates).
    case min
    /// Element-wise mean (sum / count) of one or more inputs with numpy broadcasting.
    case mean
    /// min(max(x, min), max) with min and max the optional constant scalar inputs 1 and 2 (the
    /// importer moves the attributes of opsets < 11 there); NaN stays NaN.
    case clip
    /// Copies its input.
    case identity
    /// Inputs (data, ratio = 0.5, training_mode = false), outputs (output[, mask]); attribute seed.
    /// Inference (training_mode absent/false) is the identity; training mode is rewritten by
    /// Passes.ExpandDropout into Mul by a fed inverted-dropout mask (0 or 1/(1 − ratio)).
    case dropout
    /// −1, 0 or 1 by the sign of x (0 for ±0 and NaN).
    case sign
    /// Reshapes to the shape given by input 2 (0 copies a dim unless allowzero, −1 infers one).
    case reshape
    /// Flattens to 2-D at `axis` (default 1).
    case flatten
    /// Permutes axes by `perm` (default: reversed).
    case transpose
    /// Joins inputs along `axis`.
    case concat
    /// Takes slices along `axis` (default 0) at integer indices (negative wrap).
    case gather
    /// Inserts size-1 axes at the constant axes of input 1 (the importer moves the attribute of opsets < 13 there).
    case unsqueeze
    /// Removes size-1 axes at the constant axes of input 1 (all if absent; the importer moves the attribute of opsets < 13 there).
    case squeeze
    /// Slices by the constant inputs starts, ends, axes, steps (the importer moves the attributes of opsets < 10 there).
    case slice
    /// Broadcasts to a shape (numpy rules, the larger size wins).
    case expand
    /// Mean over axes (constant input 1, as from opset 18); keepdims defaults to 1.
    case reduceMean
    /// Sum over axes (constant input 1, as from opset 13); keepdims defaults to 1.
    case reduceSum
    /// A constant tensor held in its `value` attribute (or value_float(s)/value_int(s)).
    case constant
    /// Softmax along `axis` (default −1 from opset 13; 2-D coerced at axis 1 before).
    case softmax
    /// Log of softmax, same axis rules as Softmax.
    case logSoftmax
    /// Max pooling; attributes auto_pad, ceil_mode, dilations, kernel_shape, pads, strides.
    case maxPool
    /// Average pooling; adds count_include_pad.
    case averagePool
    /// Mean over all spatial positions, keeping them as size-1 dims.
    case globalAveragePool

    // Issue 14 (real ONNX models): shape queries, type casts, the remaining reductions, LRN,
    // global max pooling.

    /// The shape of input 0 as a 1-D int64 tensor, dims start..<end (`start` 0, `end` the rank by
    /// default; negative values count from the end, both clamped to [0, rank]); opset 15.
    case shape
    /// The element count of input 0 as an int64 scalar.
    case size
    /// A tensor of the shape given by the int64 values of input 0 (a constant once shapes are
    /// bound), every element the one element of the `value` attribute (default float 0), of its type.
    case constantOfShape
    /// Converts to the ONNX element type `to`: FLOAT and DOUBLE keep float32 values, FLOAT16
    /// rounds to the nearest half-precision value (the IR holds every float type as float32).
    case cast
    /// Σ x² over axes (ReduceSum's axes rules).
    case reduceSumSquare
    /// √(Σ x²) over axes.
    case reduceL2
    /// Maximum over axes (−∞ for an empty set).
    case reduceMax
    /// Minimum over axes (+∞ for an empty set).
    case reduceMin
    /// Product over axes (1 for an empty set).
    case reduceProd
    /// Local response normalisation across channels of NCHW: x / (bias + alpha/size · Σ x²)^beta,
    /// the sum over channels c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉; bias 1, alpha 1e-4, beta 0.75.
    case lrn
    /// Maximum over all spatial positions, keeping them as size-1 dims.
    case globalMaxPool

    // Normalisation over statistics of the input itself, resampling and padding (issue 14).

    /// (X − mean)/√(var + epsilon)·scale + B with mean/var over the spatial axes of each (n, c);
    /// inputs (X (N, C, …), scale (C), B (C)); attribute epsilon (1e-5).
    case instanceNormalization
    /// (X − mean)/√(var + epsilon)·Scale + B with mean/var over axes `axis`… (default −1); Scale
    /// and optional B shaped like those axes; optional outputs Mean and InvStdDev (X's shape with
    /// the normalised axes 1). Attributes axis, epsilon (1e-5), stash_type (1; float32 math).
    case layerNormalization
    /// (X − mean)/√(var + epsilon)·scale + bias with mean/var over each of `num_groups` channel
    /// groups (and the spatial axes) of each sample; scale and bias per channel (C) — the opset 21
    /// form (the importer expands the per-group form of opsets 18–20). Attributes epsilon, num_groups, stash_type.
    case groupNormalization
    /// Resize (X, roi, scales, sizes) with constant roi/scales/sizes; modes nearest and linear
    /// (separable per axis), every coordinate_transformation_mode, nearest_mode, `axes` and
    /// keep_aspect_ratio_policy; Upsample and opset-10 Resize are rewritten to it at import.
    case resize
    /// Pad (data, pads, constant_value, axes) with constant pads/axes; modes constant, reflect,
    /// edge, wrap; negative pads crop. The importer moves the attributes of opsets < 11 to inputs.
    case pad

    // Comparisons, logic and selection on runtime values; splitting, tiling, arg-extrema (issue 14).
    // Booleans are IR type bool (ONNX BOOL); the runtime holds them, like every integer, as Int64 0/1.

    /// A == B (numpy broadcasting) as bool; operands of one element type.
    case equal
    /// A < B as bool (any comparison with NaN is false).
    case less
    /// A ≤ B as bool.
    case lessOrEqual
    /// A > B as bool.
    case greater
    /// A ≥ B as bool.
    case greaterOrEqual
    /// A ∧ B of bool operands (numpy broadcasting).
    case and
    /// A ∨ B of bool operands.
    case or
    /// A ⊕ B of bool operands.
    case xor
    /// ¬A of a bool operand.
    case not
    /// condition ? X : Y element-wise (inputs (condition: bool, X, Y); the three broadcast).
    case `where`
    /// Splits input 0 along `axis` (default 0) into the outputs: sizes from the constant int64
    /// input `split`, else `num_outputs` parts of ⌈d/n⌉ (the last smaller), else equal parts, one
    /// per output (the importer moves the `split` attribute of opsets < 13 to the input).
    case split
    /// Repeats input 0 `repeats[d]` times along each axis d (constant int64 input 1).
    case tile
    /// Index (int64) of the maximum along `axis` (default 0); keepdims (1), select_last_index (0).
    case argMax
    /// Index (int64) of the minimum along `axis`; ArgMax's attributes.
    case argMin

    // Gannet-internal ops made by fusion passes (never imported or exported): a convolution or
    // GEMM whose bias and activation run in the kernel's epilogue. Attributes are those of the
    // base op plus `activation` ("Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Swish" or
    // absent), `activation_alpha` (LeakyRelu's slope; Clip's min) and `activation_beta` (Clip's max).

    /// Conv + bias + activation in one kernel.
    case fusedConv
    /// ConvTranspose + bias + activation in one kernel.
    case fusedConvTranspose
    /// Gemm (C only as a bias row) + activation in one kernel.
    case fusedGemm
    /// Inference BatchNormalization + activation in one pass (the pre-activation blocks of
    /// DenseNet, whose BatchNorm follows a Concat and cannot be folded into a convolution).
    case fusedBatchNormalization
    /// ConvTranspose + training-mode BatchNormalization (+ activation) in one kernel: inputs
    /// (X, W, B or absent, scale, bias); outputs (Y, Z, mean, var) where Z = ConvTranspose(X, W, B)
    /// (N, C, …), mean and var (C) are Z's biased batch statistics over N and the spatial axes,
    /// accumulated in the ConvTranspose epilogue, and Y = act((Z − mean)/√(var + epsilon)·scale + bias).
    /// Attributes: ConvTranspose's, `epsilon` and the fused `activation`/`activation_alpha`.
    case fusedConvTransposeBatchNorm
    /// Training-mode BatchNormalization (+ activation) in one kernel: inputs (X, scale, bias);
    /// outputs (Y, mean, var) where mean and var (C) are X's biased batch statistics over N and
    /// the spatial axes and Y = act((X − mean)/√(var + epsilon)·scale + bias). Attributes
    /// `epsilon` and the fused `activation`/`activation_alpha` (made by FuseTrainingBatchNorm).
    case batchNormTraining
    /// Self-attention in one kernel (made by FuseAttention on lowering copies): inputs (A, B, V);
    /// per batch, P = Softmax(op(A)·op(B)) over its last axis, then O = op(V)·Pᵀ (`value_first`
    /// 1) or P·op(V). Attributes `transA`, `transB`, `transV` (an operand's last two dimensions
    /// read swapped) and `value_first`. See Kernels/Attention.swift.
    case fusedAttention

    // Gannet-internal gradient ops made by Autodiff (never imported; no ONNX equivalent).

    /// dX of LeakyRelu (Relu: alpha 0) from the output: dY where Y > 0, else alpha·dY; inputs (dY, Y), same shape.
    case leakyReluGrad
    /// dX of Elu (alpha ≥ 0) from the output: dY where Y > 0, else dY·(Y + alpha); inputs (dY, Y), same shape.
    case eluGrad
    /// Scatter-add, the gradient of Gather: inputs (dY, indices); output has `size` along `axis`.
    case gatherGrad
    /// The backward of BatchNormTraining (and of FusedConvTransposeBatchNorm's normalisation):
    /// inputs (dY, X, mean, var, scale, bias), outputs (dX, dscale, dbias); the forward node's
    /// `epsilon` and activation attributes (Y is recomputed from X, never read). Made only when
    /// Autodiff builds a gradient that will not be differentiated again (`createGraph: false`).
    case batchNormTrainingGrad

    // Gannet-internal collective (made by ExpandTrainingBatchNorm(synchronized: true); never imported).

    /// Element-wise reduction of X over the ranks of a data-parallel job, same shape; attribute
    /// `mode`: "mean" (default) = Σ_r share_r·X_r with share_r = rank r's fraction of the global
    /// batch (its own pullback), "sum" = Σ_r X_r (not differentiable). Identity in one process.
    case allReduce

    /// True for the gradient ops Autodiff creates; they have no ONNX equivalent.
    public var isGradientInternal: Bool { self == .leakyReluGrad || self == .eluGrad || self == .gatherGrad || self == .batchNormTrainingGrad }

    /// True for the ops fusion passes create; they have no ONNX equivalent.
    public var isInternal: Bool {
        self == .fusedConv || self == .fusedConvTranspose || self == .fusedGemm || self == .fusedConvTransposeBatchNorm
            || self == .fusedBatchNormalization || self == .allReduce || self == .batchNormTraining || self == .fusedAttention
    }

    /// The standard op a fused op extends.
    public var baseOp: Op {
        switch self {
        case .fusedConv: return .conv
        case .fusedConvTranspose, .fusedConvTransposeBatchNorm: return .convTranspose
        case .fusedGemm: return .gemm
        case .fusedBatchNormalization: return .batchNormalization
        default: return self
        }
    }

    /// The number of inputs accepted (optional trailing inputs may be absent).
    public var inputArity: ClosedRange<Int> {
        switch self {
        case .conv, .convTranspose, .fusedConv, .fusedConvTranspose: return 2...3
        case .batchNormalization, .fusedConvTransposeBatchNorm, .fusedBatchNormalization: return 5...5
        case .gemm, .fusedGemm: return 2...3
        case .binary: return 2...2
        case .unary: return 1...1
        case .matMul, .gather, .expand, .leakyReluGrad, .eluGrad, .gatherGrad: return 2...2
        case .sign, .identity, .flatten, .transpose, .softmax, .logSoftmax, .maxPool, .averagePool,
             .globalAveragePool, .allReduce, .shape, .size, .constantOfShape, .cast, .lrn, .globalMaxPool:
            return 1...1
        case .instanceNormalization, .groupNormalization, .batchNormTraining, .fusedAttention: return 3...3
        case .batchNormTrainingGrad: return 6...6
        case .layerNormalization: return 2...3
        case .resize: return 1...4
        case .pad: return 2...4
        case .equal, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or, .xor, .tile: return 2...2
        case .not, .argMax, .argMin: return 1...1
        case .where: return 3...3
        case .split: return 1...2
        case .reshape: return 2...2
        case .concat, .sum, .max, .min, .mean: return 1...Int.max
        case .unsqueeze, .squeeze, .reduceMean, .reduceSum, .reduceSumSquare, .reduceL2, .reduceMax, .reduceMin,
             .reduceProd: return 1...2
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
        case .batchNormTraining, .batchNormTrainingGrad: return 3...3
        case .split: return 1...Int.max
        default: return 1...1
        }
    }

    /// Looks an op up by its ONNX name.
    public init?(onnxName: String) { self.init(rawValue: onnxName) }
}

// The names and the case list. `rawValue` is an exhaustive switch: a new plain case does not
// compile until it has its name there; it must also join `plainCases`, the one hand-kept list
// (Swift synthesises none for an enum with payload cases): GraphIRTests' `OpCaseListTests`
// reads this file and names any declared case the list lacks.
extension Op: CaseIterable {
    /// Every plain case (not `.unary`/`.binary`), each once.
    public static let plainCases: [Op] = [
        .conv, .convTranspose, .batchNormalization, .gemm, .matMul, .sum, .max, .min, .mean, .clip, .identity, .dropout, .sign, .reshape, .flatten, .transpose, .concat, .gather, .unsqueeze, .squeeze, .slice, .expand, .reduceMean, .reduceSum, .constant, .softmax, .logSoftmax, .maxPool, .averagePool, .globalAveragePool, .fusedConv, .fusedConvTranspose, .fusedGemm, .fusedConvTransposeBatchNorm, .fusedBatchNormalization, .leakyReluGrad, .eluGrad, .gatherGrad, .allReduce, .instanceNormalization, .layerNormalization, .groupNormalization, .resize, .pad, .shape, .size, .cast, .reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd, .lrn, .globalMaxPool,
        .constantOfShape, .equal, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or, .xor, .not, .where, .split, .tile, .argMax, .argMin,
        .batchNormTraining, .batchNormTrainingGrad, .fusedAttention,
    ]

    /// Every op: the plain cases, then the unary and binary functions.
    public static let allCases: [Op] = plainCases + UnaryFunction.allCases.map(Op.unary) + BinaryFunction.allCases.map(Op.binary)

    /// The ONNX operator name (Gannet-internal ops: their own names).
    public var rawValue: String {
        switch self {
        case .unary(let f): return f.rawValue
        case .binary(let f): return f.rawValue
        case .conv: return "Conv"
        case .convTranspose: return "ConvTranspose"
        case .batchNormalization: return "BatchNormalization"
        case .gemm: return "Gemm"
        case .matMul: return "MatMul"
        case .sum: return "Sum"
        case .max: return "Max"
        case .min: return "Min"
        case .mean: return "Mean"
        case .clip: return "Clip"
        case .identity: return "Identity"
        case .dropout: return "Dropout"
        case .sign: return "Sign"
        case .reshape: return "Reshape"
        case .flatten: return "Flatten"
        case .transpose: return "Transpose"
        case .concat: return "Concat"
        case .gather: return "Gather"
        case .unsqueeze: return "Unsqueeze"
        case .squeeze: return "Squeeze"
        case .slice: return "Slice"
        case .expand: return "Expand"
        case .reduceMean: return "ReduceMean"
        case .reduceSum: return "ReduceSum"
        case .constant: return "Constant"
        case .softmax: return "Softmax"
        case .logSoftmax: return "LogSoftmax"
        case .maxPool: return "MaxPool"
        case .averagePool: return "AveragePool"
        case .globalAveragePool: return "GlobalAveragePool"
        case .fusedConv: return "FusedConv"
        case .fusedConvTranspose: return "FusedConvTranspose"
        case .fusedGemm: return "FusedGemm"
        case .fusedBatchNormalization: return "FusedBatchNormalization"
        case .fusedConvTransposeBatchNorm: return "FusedConvTransposeBatchNorm"
        case .leakyReluGrad: return "LeakyReluGrad"
        case .eluGrad: return "EluGrad"
        case .gatherGrad: return "GatherGrad"
        case .allReduce: return "AllReduce"
        case .instanceNormalization: return "InstanceNormalization"
        case .layerNormalization: return "LayerNormalization"
        case .groupNormalization: return "GroupNormalization"
        case .resize: return "Resize"
        case .pad: return "Pad"
        case .shape: return "Shape"
        case .size: return "Size"
        case .constantOfShape: return "ConstantOfShape"
        case .cast: return "Cast"
        case .reduceSumSquare: return "ReduceSumSquare"
        case .reduceL2: return "ReduceL2"
        case .reduceMax: return "ReduceMax"
        case .reduceMin: return "ReduceMin"
        case .reduceProd: return "ReduceProd"
        case .lrn: return "LRN"
        case .globalMaxPool: return "GlobalMaxPool"
        case .equal: return "Equal"
        case .less: return "Less"
        case .lessOrEqual: return "LessOrEqual"
        case .greater: return "Greater"
        case .greaterOrEqual: return "GreaterOrEqual"
        case .and: return "And"
        case .or: return "Or"
        case .xor: return "Xor"
        case .not: return "Not"
        case .where: return "Where"
        case .split: return "Split"
        case .tile: return "Tile"
        case .argMax: return "ArgMax"
        case .argMin: return "ArgMin"
        case .batchNormTraining: return "BatchNormTraining"
        case .fusedAttention: return "FusedAttention"
        case .batchNormTrainingGrad: return "BatchNormTrainingGrad"
        }
    }

    private static let byName: [String: Op] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

    /// Looks an op up by its name.
    public init?(rawValue: String) {
        guard let op = Op.byName[rawValue] else { return nil }
        self = op
    }
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
    /// Attributes of this op that only Gannet's lowering passes set, on their own copies
    /// (FoldTransposeIntoMatMul, ChannelsLastIslands): the ONNX importer refuses them and the
    /// exporter will not write them.
    public var internalAttributes: [String] {
        switch self {
        case .matMul: return ["transA", "transB"]
        case .conv, .fusedConv: return ["channels_last"]
        default: return []
        }
    }

    /// Attribute name → kind ("int", "float", "string", "ints", "floats", "tensor").
    public var attributeSchema: [String: String] {
        let convLike: [String: String] = ["auto_pad": "string", "dilations": "ints", "group": "int",
                                          "kernel_shape": "ints", "pads": "ints", "strides": "ints"]
        let reduce: [String: String] = ["keepdims": "int", "noop_with_empty_axes": "int"]
        let fused: [String: String] = ["activation": "string", "activation_alpha": "float", "activation_beta": "float"]
        switch self {
        case .fusedConv, .fusedConvTranspose, .fusedGemm, .fusedBatchNormalization:
            return baseOp.attributeSchema.merging(fused) { a, _ in a }
        case .fusedConvTransposeBatchNorm:
            return baseOp.attributeSchema.merging(fused) { a, _ in a }.merging(["epsilon": "float"]) { a, _ in a }
        case .batchNormTraining, .batchNormTrainingGrad: return fused.merging(["epsilon": "float"]) { a, _ in a }
        case .fusedAttention: return ["transA": "int", "transB": "int", "transV": "int", "value_first": "int"]
        // channels_last is not ONNX's: ChannelsLastIslands sets it on lowering copies.
        case .conv: return convLike.merging(["channels_last": "int"]) { a, _ in a }
        case .convTranspose: return convLike.merging(["output_padding": "ints", "output_shape": "ints"]) { a, _ in a }
        case .batchNormalization: return ["epsilon": "float", "momentum": "float", "training_mode": "int"]
        case .gemm: return ["alpha": "float", "beta": "float", "transA": "int", "transB": "int"]
        case .unary(let f): return f.attributeSchema
        case .binary(let f): return f.attributeSchema
        // MatMul's are not ONNX's: FoldTransposeIntoMatMul sets them on lowering copies.
        case .matMul: return ["transA": "int", "transB": "int"]
        case .identity, .expand, .globalAveragePool, .sign, .unsqueeze, .squeeze, .slice: return [:]
        case .clip, .sum, .max, .min, .mean: return [:]
        case .dropout: return ["seed": "int"]
        case .leakyReluGrad, .eluGrad: return ["alpha": "float"]
        case .gatherGrad: return ["axis": "int", "size": "int"]
        case .allReduce: return ["mode": "string"]
        case .reshape: return ["allowzero": "int"]
        case .flatten, .concat, .gather, .softmax, .logSoftmax: return ["axis": "int"]
        case .transpose: return ["perm": "ints"]
        case .reduceMean, .reduceSum, .reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd: return reduce
        case .shape: return ["start": "int", "end": "int"]
        case .size, .globalMaxPool: return [:]
        case .constantOfShape: return ["value": "tensor"]
        case .cast: return ["to": "int", "saturate": "int"]
        case .lrn: return ["alpha": "float", "beta": "float", "bias": "float", "size": "int"]
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
        case .equal, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or, .xor, .not, .where, .tile: return [:]
        case .split: return ["axis": "int", "num_outputs": "int"]
        case .argMax, .argMin: return ["axis": "int", "keepdims": "int", "select_last_index": "int"]
        }
    }
}
