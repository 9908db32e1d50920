// Epilogue: element-wise work fused onto the output of a GEMM or convolution, described as data.
//
// A fused kernel applies its epilogue list in order to each output element after the
// accumulation finishes, while the tile is still in registers or cache. A new activation is one
// enum case here plus its scalar and SIMD definitions in `Activation`.

/// One step of a fused epilogue.
public enum EpilogueOp: Equatable, CustomStringConvertible {
    /// Adds a bias vector. For GEMM outputs (M×N) the bias is indexed by column (length N) when
    /// `perRow` is false, by row (length M) when true. For convolutions (NCHW) it is per channel.
    case bias(perRow: Bool)
    /// Applies an activation.
    case activation(Activation)

    public var description: String {
        switch self {
        case .bias(let perRow): return perRow ? "bias(row)" : "bias(col)"
        case .activation(let a): return a.description
        }
    }
}

/// Point-wise activations that can stand alone or end an epilogue.
public enum Activation: Equatable, CustomStringConvertible {
    case relu
    case leakyRelu(Float)
    case sigmoid
    case tanh
    /// min(max(x, lo), hi) (ONNX Clip with constant bounds, e.g. ReLU6); NaN stays NaN.
    case clip(Float, Float)
    /// x·sigmoid(x) (SiLU; ONNX Swish with alpha 1), as Mul(x, Sigmoid(x)) computes it.
    case swish
    /// max(0, min(1, alpha·x + beta)) (ONNX HardSigmoid), as the Unary kernel computes it.
    case hardSigmoid(Float, Float)
    /// x·max(0, min(1, x/6 + 1/2)) (ONNX HardSwish, MobileNetV3), as the Unary kernel computes it.
    case hardSwish

    public var description: String {
        switch self {
        case .relu: return "relu"
        case .leakyRelu(let a): return "leakyRelu(\(a))"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case let .clip(lo, hi): return "clip(\(lo), \(hi))"
        case .swish: return "swish"
        case let .hardSigmoid(a, b): return "hardSigmoid(\(a), \(b))"
        case .hardSwish: return "hardSwish"
        }
    }
}
