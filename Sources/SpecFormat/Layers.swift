// Layers: the layer macros of a network spec and how each is read from YAML.
//
// Contract: a layer item is either a bare kind (`- relu`) or a mapping with exactly one kind key
// (whose value holds the kind's arguments: a scalar or list shorthand, or a mapping) and the
// optional keys `name` (the value it produces) and `input` (a value name or a list of them;
// default: the previous layer's output). Unknown kinds, unknown argument keys and arguments
// of the wrong type are errors at their position. Shapes are checked later, by the builder.

import Yams

/// One layer macro and its arguments. Each expands to standard ONNX ops only (see the builder).
public enum Layer: Equatable, Sendable {
    /// Gemm(x, W (out,in), b) with transB=1.
    case linear(out: Int, bias: Bool)
    /// Conv with square kernel, stride and symmetric padding; W (out,in,k,k).
    case conv(out: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
    /// ConvTranspose; W (in,out,k,k).
    case convTranspose(out: Int, kernel: Int, stride: Int, padding: Int, outputPadding: Int, bias: Bool)
    /// BatchNormalization over axis 1; `rank` 2 (1d) or 4 (2d) when the kind says so.
    /// `momentum` is PyTorch's (the ONNX attribute is 1 − momentum).
    case batchNorm(rank: Int?, eps: Double, momentum: Double)
    case leakyRelu(slope: Double)
    case relu, sigmoid, tanh
    /// Dropout with drop probability `ratio` (identity at inference; masked while training).
    case dropout(ratio: Double)
    /// Reshape to a constant shape, batch included (PyTorch's view(-1, …)).
    case reshape([Int])
    /// Flatten at axis 1.
    case flatten
    /// Gather(table (classes,dim), indices) along axis 0.
    case embedding(classes: Int, dim: Int)
    /// Concat of the inputs along `axis`.
    case concat(axis: Int)
    /// (N, C) → (N, C, d1, …) by Unsqueeze then Expand; `shape` is the per-sample target.
    case broadcast(shape: [Int])
    /// Minibatch discrimination (Salimans et al. 2016): (N, F) → M = x·T, T (F, kernels·dims)
    /// → (N, kernels, dims) → o_b(x_i) = Σ_j exp(−‖M_i,b − M_j,b‖₁) → concat([x, o], 1) (N, F+kernels).
    case minibatchDiscrimination(kernels: Int, dims: Int)
    /// Elu(x) = x (x > 0), alpha·(exp(x) − 1) otherwise.
    case elu(alpha: Double)
    /// Resize of (N, C, H, W) by an integer `scale` on H and W (scales [1, 1, s, s]); nearest
    /// (PyTorch's nn.Upsample: asymmetric coordinates, floor) or linear (bilinear, half_pixel).
    case upsample(scale: Int, linear: Bool)
    /// InstanceNormalization over H, W of each (n, c) of a 4-D input; per-channel γ (C) and β (C)
    /// with the batch-norm init roles (trainable when `affine`, else constants 1 and 0).
    case instanceNorm(eps: Double, affine: Bool)
    /// Pad of H and W of a 4-D input by [top, left, bottom, right] (non-negative); mode
    /// constant (zeros), reflect or edge.
    case pad(pads: [Int], mode: String)

    /// The spec's name of the kind.
    public var kind: String {
        switch self {
        case .linear: return "linear"
        case .conv: return "conv"
        case .convTranspose: return "conv_transpose"
        case .batchNorm(let r, _, _): return r == 2 ? "batchnorm1d" : r == 4 ? "batchnorm2d" : "batchnorm"
        case .leakyRelu: return "leaky_relu"
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .dropout: return "dropout"
        case .reshape: return "reshape"
        case .flatten: return "flatten"
        case .embedding: return "embedding"
        case .concat: return "concat"
        case .broadcast: return "broadcast"
        case .minibatchDiscrimination: return "minibatch_discrimination"
        case .elu: return "elu"
        case .upsample: return "upsample"
        case .instanceNorm: return "instance_norm"
        case .pad: return "pad"
        }
    }

    /// Every kind a spec may name (`convT` is an alias of `conv_transpose`).
    public static let kinds = ["linear", "conv", "conv_transpose", "convT", "batchnorm", "batchnorm1d", "batchnorm2d",
                               "leaky_relu", "relu", "sigmoid", "tanh", "reshape", "flatten", "embedding", "dropout",
                               "concat", "broadcast", "minibatch_discrimination", "elu", "upsample", "instance_norm", "pad"]
}

/// One layer of a network: the macro, its value name, its inputs and init overrides.
public struct LayerSpec: Equatable, Sendable {
    public var layer: Layer
    /// The name of the value it produces (and the prefix of its parameters); nil: generated.
    public var name: String?
    /// Names of the values it reads; empty: the previous layer's output.
    public var inputs: [String]
    /// Scheme overrides for this layer's weight (or embedding table, or BN γ) and bias (or BN β).
    public var weightInit: Initializer?
    public var biasInit: Initializer?
    public var position: SpecPosition

    public init(layer: Layer, name: String? = nil, inputs: [String] = [], weightInit: Initializer? = nil,
                biasInit: Initializer? = nil, position: SpecPosition = SpecPosition(line: 1, column: 1)) {
        self.layer = layer
        self.name = name
        self.inputs = inputs
        self.weightInit = weightInit
        self.biasInit = biasInit
        self.position = position
    }
}

extension SpecContext {
    /// An initializer: `zeros`, `ones`, `xavier_uniform`, `xavier_normal`, `pytorch_default`, or a
    /// one-key mapping `{xavier_uniform: {gain: g}}` / `{xavier_uniform: g}`, `{normal: {mean, std}}`,
    /// `{uniform: [a, b]}` / `{uniform: {low, high}}`, `{constant: v}`.
    func initializer(_ node: Node, _ what: String) throws -> Initializer {
        let names = ["xavier_uniform", "xavier_normal", "normal", "uniform", "zeros", "ones", "constant", "pytorch_default"]
        if case .scalar = node {
            let s = try string(node, what)
            switch s {
            case "xavier_uniform": return .xavierUniform(gain: 1)
            case "xavier_normal": return .xavierNormal(gain: 1)
            case "zeros": return .zeros
            case "ones": return .ones
            case "pytorch_default": return .pytorchDefault
            case "normal": return .normal(mean: 0, std: 1)
            case "uniform": return .uniform(low: 0, high: 1)
            default:
                throw error(node, "\(what): unknown initializer '\(s)' (expected one of: \(names.joined(separator: ", ")))")
            }
        }
        let m = try MapReader(node, what, self, keys: names)
        guard m.entries.count == 1, let e = m.entries.first else {
            throw error(node, "\(what): an initializer mapping has exactly one key, the scheme")
        }
        let v = e.value, w = "\(what).\(e.key)"
        switch e.key {
        case "xavier_uniform", "xavier_normal":
            var gain = 1.0
            if case .mapping = v {
                gain = try MapReader(v, w, self, keys: ["gain"]).double("gain") ?? 1
            } else if !isNull(v) {
                gain = try double(v, "\(w) gain")
            }
            return e.key == "xavier_uniform" ? .xavierUniform(gain: gain) : .xavierNormal(gain: gain)
        case "normal":
            let r = try MapReader(v, w, self, keys: ["mean", "std"])
            let std = try r.double("std") ?? 1
            guard std >= 0 else { throw error(r.value("std")!, "\(w).std must not be negative") }
            return .normal(mean: try r.double("mean") ?? 0, std: std)
        case "uniform":
            let a: Double, b: Double
            if case .sequence = v {
                let ab = try doubles(v, w)
                guard ab.count == 2 else { throw error(v, "\(w): expected [low, high]") }
                (a, b) = (ab[0], ab[1])
            } else {
                let r = try MapReader(v, w, self, keys: ["low", "high"])
                a = try r.double("low") ?? 0
                b = try r.double("high") ?? 1
            }
            guard a <= b else { throw error(v, "\(w): low \(a) is above high \(b)") }
            return .uniform(low: a, high: b)
        case "constant":
            return .constant(try double(v, w))
        case "zeros": return .zeros
        case "ones": return .ones
        default: return .pytorchDefault
        }
    }

    /// An init rule: `seed`, `pytorch_default`, or a mapping of schemes by role (missing roles
    /// keep `base`).
    func initRule(_ node: Node, _ what: String, base: InitRule) throws -> InitRule {
        if case .scalar = node {
            let s = try string(node, what)
            switch s {
            case "seed": return .seed
            case "pytorch_default": return .pytorchDefault
            default: throw error(node, "\(what): unknown init rule '\(s)' (expected seed, pytorch_default or a mapping)")
            }
        }
        let m = try MapReader(node, what, self, keys: ["base", "weights", "biases", "embeddings", "batchnorm_scale", "batchnorm_bias"])
        var r = base
        if let b = m.value("base") { r = try initRule(b, "\(what).base", base: base) }
        if let v = m.value("weights") { r.weights = try initializer(v, "\(what).weights") }
        if let v = m.value("biases") { r.biases = try initializer(v, "\(what).biases") }
        if let v = m.value("embeddings") { r.embeddings = try initializer(v, "\(what).embeddings") }
        if let v = m.value("batchnorm_scale") { r.batchNormScale = try initializer(v, "\(what).batchnorm_scale") }
        if let v = m.value("batchnorm_bias") { r.batchNormBias = try initializer(v, "\(what).batchnorm_bias") }
        return r
    }

    /// One layer item.
    func layer(_ node: Node, _ what: String) throws -> LayerSpec {
        let pos = position(node)
        let kindHint = Layer.kinds.joined(separator: ", ")
        if case .scalar = node {
            let k = try string(node, what)
            guard Layer.kinds.contains(k) else { throw error(node, "\(what): unknown layer kind '\(k)' (expected one of: \(kindHint))") }
            return LayerSpec(layer: try layerArgs(k, nil, node, what), position: pos)
        }
        let m = try MapReader(node, what, self, keys: nil)
        let kindKeys = m.entries.filter { $0.key != "name" && $0.key != "input" }
        guard let first = kindKeys.first else { throw error(node, "\(what): the layer names no kind (expected one of: \(kindHint))") }
        guard Layer.kinds.contains(first.key) else {
            throw error(first.keyNode, "\(what): unknown layer kind '\(first.key)' (expected one of: \(kindHint))")
        }
        if kindKeys.count > 1 {
            let extra = kindKeys[1]
            throw error(extra.keyNode, "unknown key '\(extra.key)' in \(what) (a layer has one kind key, here '\(first.key)', plus name and input)")
        }
        var spec = LayerSpec(layer: .relu, position: pos)
        spec.name = try m.string("name")
        if let n = spec.name, !isIdentifier(n) { throw error(m.value("name")!, "\(what).name: '\(n)' is not a valid value name (letters, digits, _ . -)") }
        if let i = m.value("input") {
            if case .sequence = i {
                spec.inputs = try list(i, "\(what).input").map { try string($0, "\(what).input element") }
            } else {
                spec.inputs = [try string(i, "\(what).input")]
            }
        }
        let w = "\(what) (\(first.key))"
        let args = isNull(first.value) ? nil : first.value
        spec.layer = try layerArgs(first.key, args, first.keyNode, w)
        // Init overrides live in the argument mapping.
        if let args, case .mapping = args {
            let r = try MapReader(args, w, self, keys: nil)
            if let v = r.value("weight_init") ?? r.value("scale_init") ?? r.value("init") { spec.weightInit = try initializer(v, "\(w).init") }
            if let v = r.value("bias_init") { spec.biasInit = try initializer(v, "\(w).bias_init") }
        }
        return spec
    }

    func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }
    }

    /// The arguments of a kind: `args` is nil (none given), a scalar/list shorthand or a mapping.
    func layerArgs(_ kind: String, _ args: Node?, _ at: Node, _ what: String) throws -> Layer {
        func map(_ keys: [String]) throws -> MapReader? {
            guard let args else { return nil }
            guard case .mapping = args else { return nil }
            return try MapReader(args, what, self, keys: keys)
        }
        func noShorthand() throws {
            if let args, !isMapping(args) { throw error(args, "\(what): expected a mapping of arguments, got \(describe(args))") }
        }
        func need(_ r: MapReader?, _ key: String) throws -> Int {
            guard let r else { throw error(args ?? at, "\(what): missing required argument '\(key)'") }
            guard let v = try r.positive(key) else {
                throw error(r.node, "\(what): missing required argument '\(key)'")
            }
            return v
        }
        switch kind {
        case "linear":
            if let args, case .scalar = args { return .linear(out: try positive(args, "\(what) out"), bias: true) }
            try noShorthand()
            let r = try map(["out", "bias", "weight_init", "bias_init"])
            return .linear(out: try need(r, "out"), bias: try r?.bool("bias") ?? true)
        case "conv", "conv_transpose", "convT":
            try noShorthand()
            let t = kind != "conv"
            let r = try map(["out", "kernel", "stride", "padding", "bias", "weight_init", "bias_init"] + (t ? ["output_padding"] : []))
            let out = try need(r, "out"), k = try need(r, "kernel")
            let s = try r?.positive("stride") ?? 1, p = try r?.nonNegative("padding") ?? 0
            let b = try r?.bool("bias") ?? true
            if t {
                let op = try r?.nonNegative("output_padding") ?? 0
                if op >= s { throw error(r!.value("output_padding")!, "\(what).output_padding must be smaller than stride \(s)") }
                return .convTranspose(out: out, kernel: k, stride: s, padding: p, outputPadding: op, bias: b)
            }
            return .conv(out: out, kernel: k, stride: s, padding: p, bias: b)
        case "batchnorm", "batchnorm1d", "batchnorm2d":
            try noShorthand()
            let r = try map(["eps", "momentum", "scale_init", "bias_init"])
            let eps = try r?.double("eps") ?? 1e-5
            let mom = try r?.double("momentum") ?? 0.1
            if eps <= 0 { throw error(r!.value("eps")!, "\(what).eps must be positive") }
            if !(0...1).contains(mom) { throw error(r!.value("momentum")!, "\(what).momentum must be in [0, 1]") }
            return .batchNorm(rank: kind == "batchnorm1d" ? 2 : kind == "batchnorm2d" ? 4 : nil, eps: eps, momentum: mom)
        case "leaky_relu":
            guard let args else { return .leakyRelu(slope: 0.01) }
            if case .scalar = args { return .leakyRelu(slope: try double(args, "\(what) slope")) }
            let r = try map(["slope"])
            return .leakyRelu(slope: try r?.double("slope") ?? 0.01)
        case "elu":
            guard let args else { return .elu(alpha: 1) }
            let alpha: Double
            if case .scalar = args { alpha = try double(args, "\(what) alpha") }
            else { alpha = try map(["alpha"])?.double("alpha") ?? 1 }
            guard alpha.isFinite else { throw error(args, "\(what): alpha must be finite, got \(alpha)") }
            return .elu(alpha: alpha)
        case "upsample":
            guard let args else { throw error(at, "\(what): missing the scale (upsample: 2 or {scale: 2, mode: nearest})") }
            if case .scalar = args { return .upsample(scale: try positive(args, "\(what) scale"), linear: false) }
            try noShorthand()
            let r = try map(["scale", "mode"])
            let mode = try r?.string("mode") ?? "nearest"
            guard mode == "nearest" || mode == "linear" else {
                throw error(r!.value("mode")!, "\(what).mode: unknown mode '\(mode)' (expected nearest or linear)")
            }
            return .upsample(scale: try need(r, "scale"), linear: mode == "linear")
        case "instance_norm":
            try noShorthand()
            let r = try map(["eps", "affine", "scale_init", "bias_init"])
            let eps = try r?.double("eps") ?? 1e-5
            if !(eps > 0) || !eps.isFinite { throw error(r!.value("eps")!, "\(what).eps must be positive") }
            return .instanceNorm(eps: eps, affine: try r?.bool("affine") ?? true)
        case "pad":
            guard let args else { throw error(at, "\(what): missing the pads (pad: 1 or {pads: [top, left, bottom, right], mode: reflect})") }
            func pads(_ n: Node) throws -> [Int] {
                let p: [Int]
                if case .sequence = n {
                    p = try ints(n, "\(what) pads")
                    guard p.count == 4 else { throw error(n, "\(what): pads are [top, left, bottom, right], got \(p.count) values") }
                } else {
                    p = Array(repeating: try int(n, "\(what) pads"), count: 4)
                }
                guard p.allSatisfy({ $0 >= 0 }) else { throw error(n, "\(what): pads \(p) must not be negative") }
                return p
            }
            if !isMapping(args) { return .pad(pads: try pads(args), mode: "constant") }
            let r = try MapReader(args, what, self, keys: ["pads", "mode"])
            let mode = try r.string("mode") ?? "constant"
            guard ["constant", "reflect", "edge"].contains(mode) else {
                throw error(r.value("mode")!, "\(what).mode: unknown mode '\(mode)' (expected constant, reflect or edge)")
            }
            return .pad(pads: try pads(try r.required("pads")), mode: mode)
        case "dropout":
            let p: Double
            if let args, case .scalar = args { p = try double(args, "\(what) p") }
            else { p = try map(["p"])?.double("p") ?? 0.5 }
            guard p >= 0 && p < 1 else { throw error(args ?? at, "\(what): p must be in [0, 1), got \(p)") }
            return .dropout(ratio: p)
        case "relu", "sigmoid", "tanh", "flatten":
            if let args { throw error(args, "\(what): takes no arguments") }
            return kind == "relu" ? .relu : kind == "sigmoid" ? .sigmoid : kind == "tanh" ? .tanh : .flatten
        case "reshape", "broadcast":
            guard let args else { throw error(at, "\(what): missing the target shape") }
            let shape: [Int]
            if case .sequence = args { shape = try ints(args, "\(what) shape") } else {
                let r = try MapReader(args, what, self, keys: ["shape"])
                shape = try ints(try r.required("shape"), "\(what).shape")
            }
            if kind == "reshape" {
                if shape.filter({ $0 == -1 }).count > 1 || shape.contains(where: { $0 < -1 }) {
                    throw error(args, "\(what): shape \(shape) may hold one -1 and no other negative size")
                }
                return .reshape(shape)
            }
            if shape.isEmpty || shape.contains(where: { $0 <= 0 }) {
                throw error(args, "\(what): per-sample shape \(shape) must be non-empty with positive sizes")
            }
            return .broadcast(shape: shape)
        case "embedding":
            try noShorthand()
            let r = try map(["classes", "dim", "init"])
            return .embedding(classes: try need(r, "classes"), dim: try need(r, "dim"))
        case "minibatch_discrimination":
            try noShorthand()
            let r = try map(["kernels", "dims", "weight_init"])
            return .minibatchDiscrimination(kernels: try need(r, "kernels"), dims: try need(r, "dims"))
        case "concat":
            guard let args else { return .concat(axis: 1) }
            if case .scalar = args { return .concat(axis: try int(args, "\(what) axis")) }
            let r = try map(["axis"])
            return .concat(axis: try r?.int("axis") ?? 1)
        default:
            throw error(at, "\(what): unknown layer kind '\(kind)'")
        }
    }

    func isMapping(_ n: Node) -> Bool {
        if case .mapping = n { return true }
        return false
    }
}
