// SeedGraphs: the seed experiments' MNIST networks (reference/seed-experiments.md §3) as
// inference graphs with deterministic random weights, for tests, benchmarks and fixtures
// (`gannet … seed:mnist-generator`). A model zoo, so it lives outside GraphIR, built through
// GraphIR's GraphBuilder.
//
// Contract: the architectures match the seed script layer for layer (Linear as Gemm with
// transB=1 and W of shape (out, in); Conv W (C_out, C_in, k, k); ConvTranspose W
// (C_in, C_out, k, k); BatchNormalization in inference form, epsilon 1e-5, momentum 0.9;
// LeakyRelu alpha 0.01). The batch dim is the symbol `N`. Weights are Xavier-uniform,
// biases U(−1/√fan_in, 1/√fan_in) (PyTorch's default), BN gamma U(0,1), beta 0, running
// mean U(−0.1,0.1), running var U(0.5,1.5), all drawn from a SplitMix64 keyed by `seed`,
// so the same seed gives bit-identical graphs. Initializer names follow PyTorch's
// state-dict style (`fc1.weight`, `bn1.running_var`, …).

import GraphIR

/// SplitMix64: a tiny seeded generator for deterministic weights.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits.
    mutating func unit() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * unit() }

    /// `count` draws in [lo, hi); the same sequence as `count` calls of `uniform`, written as
    /// one loop so that debug builds (tests) make the 6.7M-weight seed graphs quickly.
    mutating func uniform(count: Int, _ lo: Float, _ hi: Float) -> [Float] {
        var s = state
        let scale = (hi - lo) * (1.0 / 16_777_216.0)
        let out = [Float](unsafeUninitializedCapacity: count) { buf, n in
            for i in 0..<count {
                s &+= 0x9E37_79B9_7F4A_7C15
                var z = s
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                buf[i] = lo + scale * Float(z >> 40)
            }
            n = count
        }
        state = s
        return out
    }
}

/// The seed experiments' networks.
public enum SeedGraphs {
    /// The `mnist_gan` generator: z f32[N,latent] → image f32[N,1,28,28] in [0,1].
    /// 6,698,945 trainable parameters with BN (6,696,449 without) for latent 100.
    public static func mnistGenerator(batchNorm: Bool = true, latent: Int = 100, seed: UInt64 = 1) -> Graph {
        var b = Builder(name: "mnist_generator", seed: seed)
        var x = b.b.addInput("z", TensorType(.float32, [.symbol("N"), .fixed(latent)]))
        x = b.linear(x, latent, 1024, "fc1")
        x = b.bnAct(x, 1024, 1, batchNorm: batchNorm)
        x = b.linear(x, 1024, 6272, "fc2")
        x = b.reshape(x, [-1, 128, 7, 7], "reshape")
        x = b.bnAct(x, 128, 2, batchNorm: batchNorm)
        x = b.conv(x, 128, 64, k: 4, s: 2, p: 1, "deconv1", transpose: true)
        x = b.bnAct(x, 64, 3, batchNorm: batchNorm)
        x = b.conv(x, 64, 32, k: 4, s: 2, p: 1, "deconv2", transpose: true)
        x = b.bnAct(x, 32, 4, batchNorm: batchNorm)
        x = b.conv(x, 32, 1, k: 3, s: 1, p: 1, "conv", transpose: false)
        x = b.node(.sigmoid, [x], "", output: "image")
        return b.finish([x])
    }

    /// The `mnist_gan` discriminator: x f32[N,1,28,28] → logit f32[N] (raw, no sigmoid).
    /// 6,559,297 trainable parameters with BN (6,556,865 without).
    public static func mnistDiscriminator(batchNorm: Bool = true, seed: UInt64 = 2) -> Graph {
        var b = Builder(name: "mnist_discriminator", seed: seed)
        var x = b.b.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(1), .fixed(28), .fixed(28)]))
        x = b.conv(x, 1, 64, k: 4, s: 2, p: 1, "conv1", transpose: false)
        x = b.bnAct(x, 64, 1, batchNorm: batchNorm)
        x = b.conv(x, 64, 128, k: 4, s: 2, p: 1, "conv2", transpose: false)
        x = b.bnAct(x, 128, 2, batchNorm: batchNorm)
        x = b.reshape(x, [-1, 6272], "flatten")
        x = b.linear(x, 6272, 1024, "fc1")
        x = b.bnAct(x, 1024, 3, batchNorm: batchNorm)
        x = b.linear(x, 1024, 1, "fc2")
        x = b.reshape(x, [-1], "logit", output: "logit")
        return b.finish([x])
    }

    /// Builds layers through a GraphBuilder; initializers are created as layers are added and
    /// moved to the front of the value list by `finish`, so the graph's value order is the
    /// canonical text order (inputs, initializers, node outputs) and a print/parse round trip
    /// gives an equal graph.
    struct Builder {
        let b: GraphBuilder
        var rng: SplitMix64

        init(name: String, seed: UInt64) {
            b = GraphBuilder(name: name)
            rng = SplitMix64(seed: seed)
        }

        mutating func xavier(_ shape: [Int], fanIn: Int, fanOut: Int) -> Tensor {
            let bound = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            return Tensor(shape: shape, floats: rng.uniform(count: shape.reduce(1, *), -bound, bound))
        }

        mutating func bias(_ n: Int, fanIn: Int) -> Tensor {
            let bound = Float(1.0 / Double(fanIn).squareRoot())
            return Tensor(shape: [n], floats: rng.uniform(count: n, -bound, bound))
        }

        func node(_ op: Op, _ inputs: [ValueID], _ name: String, output: String? = nil,
                  _ attributes: [String: Attribute] = [:]) -> ValueID {
            let v = b.addValue(output ?? name)
            b.appendUntyped(Node(op, name: name, inputs: inputs, outputs: [v], attributes: Attributes(attributes)))
            return v
        }

        mutating func linear(_ x: ValueID, _ nIn: Int, _ nOut: Int, _ name: String) -> ValueID {
            let w = b.addInitializer("\(name).weight", xavier([nOut, nIn], fanIn: nIn, fanOut: nOut))
            let bv = b.addInitializer("\(name).bias", bias(nOut, fanIn: nIn))
            return node(.gemm, [x, w, bv], name, ["transB": .int(1)])
        }

        mutating func conv(_ x: ValueID, _ cIn: Int, _ cOut: Int, k: Int, s: Int, p: Int,
                           _ name: String, transpose: Bool) -> ValueID {
            let rf = k * k
            let shape = transpose ? [cIn, cOut, k, k] : [cOut, cIn, k, k]
            // PyTorch's fan_in is weight dim 1 × receptive field (C_out·k² for a transposed conv).
            let fanIn = shape[1] * rf, fanOut = shape[0] * rf
            let w = b.addInitializer("\(name).weight", xavier(shape, fanIn: fanIn, fanOut: fanOut))
            let bv = b.addInitializer("\(name).bias", bias(cOut, fanIn: fanIn))
            let attrs: [String: Attribute] = [
                "kernel_shape": .ints([k, k]), "strides": .ints([s, s]),
                "pads": .ints([p, p, p, p]), "dilations": .ints([1, 1]), "group": .int(1),
            ]
            return node(transpose ? .convTranspose : .conv, [x, w, bv], name, attrs)
        }

        /// `bn<i>` (when on) then `lrelu<i>`.
        mutating func bnAct(_ x: ValueID, _ c: Int, _ i: Int, batchNorm: Bool) -> ValueID {
            let name = "bn\(i)", act = "lrelu\(i)"
            var y = x
            if batchNorm {
                let gamma = b.addInitializer("\(name).weight", Tensor(shape: [c], floats: rng.uniform(count: c, 0, 1)))
                let beta = b.addInitializer("\(name).bias", Tensor(shape: [c], repeating: 0))
                let mean = b.addInitializer("\(name).running_mean", Tensor(shape: [c], floats: rng.uniform(count: c, -0.1, 0.1)))
                let variance = b.addInitializer("\(name).running_var", Tensor(shape: [c], floats: rng.uniform(count: c, 0.5, 1.5)))
                y = node(.batchNormalization, [x, gamma, beta, mean, variance], name,
                         ["epsilon": .float(1e-5), "momentum": .float(0.9)])
            }
            return node(.leakyRelu, [y], act, ["alpha": .float(0.01)])
        }

        func reshape(_ x: ValueID, _ shape: [Int64], _ name: String, output: String? = nil) -> ValueID {
            let s = b.addInitializer("\(name).shape", Tensor(shape: [shape.count], int64s: shape))
            return node(.reshape, [x, s], name, output: output)
        }

        /// The graph with outputs `outputs`, values in canonical order.
        func finish(_ outputs: [ValueID]) -> Graph {
            b.setOutputs(outputs)
            b.orderValuesCanonically()
            return b.graph
        }
    }
}
