// OperatorFamily: the one interface every op family implements, and the exhaustive map from
// `Op` to its family.
//
// Contract: each file in Operators/ holds one family (element-wise unary, binary, Gemm,
// convolution, pooling, normalisation, reductions, shape and data-movement ops, fused ops,
// collectives, shape queries, casts, LRN, logic, split/tile, arg-extrema, training BatchNorm,
// fused attention)
// and gives, for each of its ops: the output types (`outputTypes`), the evaluation on constant
// tensors with the scalar reference kernels (`evaluate`, float; `evaluateIntegers` for the
// integer shape computations that family supports), the lowering to one kernel call or to
// storage aliasing (`lower`), and the reverse-mode rule (`pullback`, nil where the op is not
// differentiable), and whether one sample of its outputs can depend on other samples of its
// batch (`mixesSamples`, what SampleSeparability asks before a Session runs a batch in
// chunks). Arity and attribute schema live with the `Op` case in GraphIR (the verifier
// needs them and GraphIR knows no math). `Op.family` switches over every case with no
// `default:`, so a new case does not compile until it names its family, and a family's `ops`
// are exactly the cases routed to it. Inside a family, a switch over its ops ends in a
// `default:` that throws `notInFamily` (reachable only through a wrong route); the structural
// tests (RuntimeTests, InterpreterTests+OperatorFamilies) run every element-wise op through
// every concern and require a pullback for every op not listed as non-differentiable.

import GraphIR
import Kernels

/// What a node lowers to.
public enum Lowered {
    /// One kernel call writing the node's outputs and reading its inputs — only the first
    /// `operands` of them when given (shape-like operands folded into the call).
    case kernel(KernelCall, operands: Int? = nil)
    /// Output 0 shares input 0's storage (no instruction); other outputs are the given constants.
    case alias(constants: [Int: Tensor])
    /// Every output is a constant (no instruction).
    case constant([Tensor])
}

/// What lowering knows about the graph when it lowers one node.
public struct LoweringContext {
    public let graph: Graph
    /// The static shape of a value (an error naming it when it has none).
    public let shape: (ValueID) throws -> [Int]

    public init(graph: Graph, shape: @escaping (ValueID) throws -> [Int]) {
        self.graph = graph
        self.shape = shape
    }

    /// The shapes of input 0 and output 0 of a node that runs a float kernel (an error when
    /// input 0 is not float32).
    public func kernelShapes(_ node: Node) throws -> (x: [Int], y: [Int]) {
        let x = try shape(node.inputs[0]!)
        let y = try shape(node.outputs[0])
        for case let v? in node.inputs.prefix(1) where graph.type(of: v)?.dtype != .float32 {
            throw GraphError("\(node.op.rawValue) on \(graph.type(of: v)!.dtype.rawValue) data is not supported (float32 only)")
        }
        return (x, y)
    }
}

/// One family of ops: every concern of an op in one place.
public protocol OperatorFamily {
    /// Output types from the input types (nil for an absent optional input).
    static func outputTypes(_ node: Node, _ inputs: [TensorType?], _ graph: Graph) throws -> [TensorType]
    /// Outputs on float inputs of the given output types, by the scalar reference kernels.
    static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ graph: Graph) throws -> [Tensor]
    /// Output 0 when input 0 is an integer tensor (shape computations); default: an error.
    static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ graph: Graph) throws -> Tensor
    /// The kernel call (or aliasing) that computes the node on fixed shapes.
    static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered
    /// The reverse-mode rule of `op`, or nil when `op` is not differentiable.
    static func pullback(_ op: Op) -> Pullback?
    /// Whether output sample b of `node` can depend on input samples other than b, when the
    /// inputs marked in `batched` (one flag per input slot, false for an absent one) and the
    /// outputs carry the batch on axis 0 and every other input is the same for all samples.
    /// Shapes are checked apart (SampleSeparability: axis 0 is the batch in both bindings);
    /// this answers for what shapes cannot show (a Softmax over axis 0, a Transpose that
    /// moves it, a Conv whose weight is data). True when unsure.
    static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool
}

extension OperatorFamily {
    /// The ops this family defines: those `Op.family` routes here.
    public static var ops: [Op] { Op.allCases.filter { ObjectIdentifier($0.family) == ObjectIdentifier(Self.self) } }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ graph: Graph) throws -> Tensor {
        throw GraphError("\(node.op.rawValue) on \(x[0]!.dtype.rawValue) data is not supported")
    }

    /// Whether a batched input's axis 0 lines up with output 0's (its rank is the output's), as
    /// it must in a broadcasting op that keeps samples apart.
    static func batchAxesAligned(_ node: Node, _ batched: [Bool], _ graph: Graph) -> Bool {
        guard let out = graph.type(of: node.outputs[0])?.rank else { return false }
        for (v, b) in zip(node.inputs, batched) where b {
            guard let v, graph.type(of: v)?.rank == out else { return false }
        }
        return true
    }

    /// Whether any input other than input 0 carries the batch (a weight, scale or index from data).
    static func batchedBeyondFirst(_ batched: [Bool]) -> Bool { batched.dropFirst().contains(true) }

    /// The error for an op routed to a family that does not define it (a bug in `Op.family`).
    static func notInFamily(_ op: Op) -> GraphError { GraphError("internal: \(op.rawValue) is not an op of \(Self.self)") }
}

extension Op {
    /// The family that defines this op's semantics.
    public var family: OperatorFamily.Type {
        switch self {
        case .unary, .clip, .sign, .leakyReluGrad, .eluGrad: return UnaryOps.self
        case .binary, .sum, .max, .min, .mean: return BinaryOps.self
        case .gemm, .matMul: return GemmOps.self
        case .conv, .convTranspose: return ConvOps.self
        case .maxPool, .averagePool, .globalAveragePool, .globalMaxPool: return PoolingOps.self
        case .batchNormalization: return NormalizationOps.self
        case .reduceMean, .reduceSum, .softmax, .logSoftmax, .reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd:
            return ReductionOps.self
        case .identity, .dropout, .reshape, .flatten, .squeeze, .unsqueeze, .constant: return ShapeOps.self
        case .transpose, .concat, .gather, .gatherGrad, .slice, .expand: return DataMovementOps.self
        case .fusedConv, .fusedConvTranspose, .fusedGemm, .fusedConvTransposeBatchNorm, .fusedBatchNormalization: return FusedOps.self
        case .allReduce: return CollectiveOps.self
        case .shape, .size, .constantOfShape: return ShapeOfOps.self
        case .cast: return CastOps.self
        case .lrn: return LRNOps.self
        case .instanceNormalization, .layerNormalization, .groupNormalization: return StatisticNormalizationOps.self
        case .resize, .pad: return ResamplingOps.self
        case .equal, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or, .xor, .not, .where: return LogicOps.self
        case .split, .tile: return SplitTileOps.self
        case .argMax, .argMin: return ArgExtremumOps.self
        case .batchNormTraining, .batchNormTrainingGrad: return TrainingBatchNormOps.self
        case .fusedAttention: return AttentionOps.self
        }
    }

    /// The reverse-mode rule, or nil when the op is not differentiable.
    public var pullback: Pullback? { family.pullback(self) }
}
