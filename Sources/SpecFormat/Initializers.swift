// Initializers: the weight-initialisation schemes of a spec, drawn with Core's `CounterHash`.
//
// Contract: every parameter's values depend only on (seed, parameter name, scheme, shape):
// element i of a parameter is a pure function of a key hashed from seed and name and the
// counter i (SplitMix64 in counter form: mix(key + (i+1)·γ)), so adding, removing or reordering
// other parameters never changes it, and the same seed gives bit-identical tensors.
// Uniform draws use 24 random bits (exactly representable floats in [0,1)); normal draws use
// Box–Muller on two counters. Fans follow PyTorch: fan_in = size(1)·k², fan_out = size(0)·k²
// for the weight as stored (Linear (out,in), Conv (out,in,k,k), ConvTranspose (in,out,k,k),
// Embedding (classes,dim)).

import Core
import Foundation
import GraphIR

/// One initialisation scheme.
public enum Initializer: Equatable, Sendable, CustomStringConvertible {
    /// U(±gain·√(6/(fan_in+fan_out))).
    case xavierUniform(gain: Double)
    /// N(0, gain²·2/(fan_in+fan_out)).
    case xavierNormal(gain: Double)
    case normal(mean: Double, std: Double)
    case uniform(low: Double, high: Double)
    case constant(Double)
    /// PyTorch's defaults: weights kaiming-uniform with a=√5 (U(±1/√fan_in)), biases
    /// U(±1/√fan_in) of their weight's fan_in, embeddings N(0,1), BatchNorm γ 1 and β 0.
    case pytorchDefault

    public static let zeros = Initializer.constant(0)
    public static let ones = Initializer.constant(1)

    public var description: String {
        switch self {
        case .xavierUniform(let g): return "xavier_uniform(gain \(g))"
        case .xavierNormal(let g): return "xavier_normal(gain \(g))"
        case .normal(let m, let s): return "normal(\(m), \(s))"
        case .uniform(let a, let b): return "uniform(\(a), \(b))"
        case .constant(let v): return v == 0 ? "zeros" : v == 1 ? "ones" : "constant(\(v))"
        case .pytorchDefault: return "pytorch_default"
        }
    }
}

/// What a parameter is, for the default schemes and for fans.
public enum ParameterRole: String, Sendable {
    case weight, bias, embedding, batchNormScale, batchNormBias
}

/// The schemes of one network (or the whole spec): one per parameter role.
public struct InitRule: Equatable, Sendable {
    /// Every weight of more than one dimension (Linear, Conv, ConvTranspose).
    public var weights: Initializer
    public var biases: Initializer
    /// Embedding tables (nil: as `weights`).
    public var embeddings: Initializer?
    public var batchNormScale: Initializer
    public var batchNormBias: Initializer

    public init(weights: Initializer, biases: Initializer, embeddings: Initializer? = nil,
                batchNormScale: Initializer, batchNormBias: Initializer) {
        self.weights = weights
        self.biases = biases
        self.embeddings = embeddings
        self.batchNormScale = batchNormScale
        self.batchNormBias = batchNormBias
    }

    /// The seed experiments' rule: every >1-D weight (embeddings included) Xavier-uniform gain 1,
    /// biases 0, BatchNorm γ ~ U(0,1) (PyTorch ≤ 0.4's default) and β 0.
    public static let seed = InitRule(weights: .xavierUniform(gain: 1), biases: .zeros,
                                      batchNormScale: .uniform(low: 0, high: 1), batchNormBias: .zeros)

    /// Today's PyTorch defaults.
    public static let pytorchDefault = InitRule(weights: .pytorchDefault, biases: .pytorchDefault,
                                                embeddings: .pytorchDefault,
                                                batchNormScale: .pytorchDefault, batchNormBias: .pytorchDefault)

    public func scheme(for role: ParameterRole) -> Initializer {
        switch role {
        case .weight: return weights
        case .bias: return biases
        case .embedding: return embeddings ?? weights
        case .batchNormScale: return batchNormScale
        case .batchNormBias: return batchNormBias
        }
    }
}

/// PyTorch's fans of a weight of `shape` (as stored).
public func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
    guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
    let rf = shape.dropFirst(2).reduce(1, *)
    return (shape[1] * rf, shape[0] * rf)
}

/// Draws a parameter. `weightShape` is the shape of the weight a bias belongs to (for fans).
public func initialize(_ scheme: Initializer, role: ParameterRole, shape: [Int], weightShape: [Int]? = nil,
                       seed: UInt64, name: String) -> Tensor {
    let count = shape.reduce(1, *)
    let rng = CounterHash(seed: seed, stream: name)
    let f = fans(weightShape ?? shape)
    switch scheme {
    case .constant(let v):
        return Tensor(shape: shape, repeating: Float(v))
    case .uniform(let a, let b):
        return Tensor(shape: shape, floats: rng.uniform(count: count, Float(a), Float(b)))
    case .normal(let m, let s):
        return Tensor(shape: shape, floats: rng.normal(count: count, mean: Float(m), std: Float(s)))
    case .xavierUniform(let g):
        let bound = Float(g * (6.0 / Double(f.fanIn + f.fanOut)).squareRoot())
        return Tensor(shape: shape, floats: rng.uniform(count: count, -bound, bound))
    case .xavierNormal(let g):
        let std = Float(g * (2.0 / Double(f.fanIn + f.fanOut)).squareRoot())
        return Tensor(shape: shape, floats: rng.normal(count: count, mean: 0, std: std))
    case .pytorchDefault:
        switch role {
        case .weight, .bias:
            let bound = Float(1.0 / Double(max(f.fanIn, 1)).squareRoot())
            return Tensor(shape: shape, floats: rng.uniform(count: count, -bound, bound))
        case .embedding:
            return Tensor(shape: shape, floats: rng.normal(count: count, mean: 0, std: 1))
        case .batchNormScale:
            return Tensor(shape: shape, repeating: 1)
        case .batchNormBias:
            return Tensor(shape: shape, repeating: 0)
        }
    }
}
