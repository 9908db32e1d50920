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
// mean U(−0.1,0.1), running var U(0.5,1.5), each parameter drawn with Core's `CounterHash`
// keyed by (`seed`, its name) — the weight-initialisation generator of specs — so the same
// seed gives bit-identical graphs and a parameter's values do not depend on the others.
// Initializer names follow PyTorch's state-dict style (`fc1.weight`, `bn1.running_var`, …).

import Core
import GraphIR

/// The seed experiments' networks.
public enum SeedGraphs {
    /// The `mnist_gan` generator: z f32[N,latent] → image f32[N,1,28,28] in [0,1].
    /// 6,698,945 trainable parameters with BN (6,696,449 without) for latent 100.
    public static func mnistGenerator(batchNorm: Bool = true, latent: Int = 100, seed: UInt64 = 1) -> Graph {
        let b = Builder(name: "mnist_generator", seed: seed)
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
        let b = Builder(name: "mnist_discriminator", seed: seed)
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
        let seed: UInt64

        init(name: String, seed: UInt64) {
            b = GraphBuilder(name: name)
            self.seed = seed
        }

        /// Initializer `name` of `shape`, uniform in [lo, hi), keyed by (seed, name).
        func uniform(_ name: String, _ shape: [Int], _ lo: Float, _ hi: Float) -> ValueID {
            let values = CounterHash(seed: seed, stream: name).uniform(count: shape.reduce(1, *), lo, hi)
            return b.addInitializer(name, Tensor(shape: shape, floats: values))
        }

        func xavier(_ name: String, _ shape: [Int], fanIn: Int, fanOut: Int) -> ValueID {
            let bound = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            return uniform(name, shape, -bound, bound)
        }

        func bias(_ name: String, _ n: Int, fanIn: Int) -> ValueID {
            let bound = Float(1.0 / Double(fanIn).squareRoot())
            return uniform(name, [n], -bound, bound)
        }

        func node(_ op: Op, _ inputs: [ValueID], _ name: String, output: String? = nil,
                  _ attributes: [String: Attribute] = [:]) -> ValueID {
            let v = b.addValue(output ?? name)
            b.appendUntyped(Node(op, name: name, inputs: inputs, outputs: [v], attributes: Attributes(attributes)))
            return v
        }

        func linear(_ x: ValueID, _ nIn: Int, _ nOut: Int, _ name: String) -> ValueID {
            let w = xavier("\(name).weight", [nOut, nIn], fanIn: nIn, fanOut: nOut)
            let bv = bias("\(name).bias", nOut, fanIn: nIn)
            return node(.gemm, [x, w, bv], name, ["transB": .int(1)])
        }

        func conv(_ x: ValueID, _ cIn: Int, _ cOut: Int, k: Int, s: Int, p: Int,
                           _ name: String, transpose: Bool) -> ValueID {
            let rf = k * k
            let shape = transpose ? [cIn, cOut, k, k] : [cOut, cIn, k, k]
            // PyTorch's fan_in is weight dim 1 × receptive field (C_out·k² for a transposed conv).
            let fanIn = shape[1] * rf, fanOut = shape[0] * rf
            let w = xavier("\(name).weight", shape, fanIn: fanIn, fanOut: fanOut)
            let bv = bias("\(name).bias", cOut, fanIn: fanIn)
            let attrs: [String: Attribute] = [
                "kernel_shape": .ints([k, k]), "strides": .ints([s, s]),
                "pads": .ints([p, p, p, p]), "dilations": .ints([1, 1]), "group": .int(1),
            ]
            return node(transpose ? .convTranspose : .conv, [x, w, bv], name, attrs)
        }

        /// `bn<i>` (when on) then `lrelu<i>`.
        func bnAct(_ x: ValueID, _ c: Int, _ i: Int, batchNorm: Bool) -> ValueID {
            let name = "bn\(i)", act = "lrelu\(i)"
            var y = x
            if batchNorm {
                let gamma = uniform("\(name).weight", [c], 0, 1)
                let beta = b.addInitializer("\(name).bias", Tensor(shape: [c], repeating: 0))
                let mean = uniform("\(name).running_mean", [c], -0.1, 0.1)
                let variance = uniform("\(name).running_var", [c], 0.5, 1.5)
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
