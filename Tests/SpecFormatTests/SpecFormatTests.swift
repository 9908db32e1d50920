// SpecFormatTests: the seed experiments' specs parse and build with the seed's parameter
// counts and structure; initialisation statistics and determinism; error positions.

import Core
import Foundation
import GraphIR
import SpecFormat
import XCTest

/// The repository's Specs/ folder.
let specsDir: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Specs").path
}()

func loadSpec(_ name: String) throws -> Spec {
    try Spec.load(path: "\(specsDir)/\(name).yaml")
}

/// Parses `yaml` expecting a SpecError; returns its text.
func specError(_ yaml: String, file: String = "bad.yaml", _ line: UInt = #line) -> String {
    do {
        _ = try Spec.parse(yaml: yaml, file: file)
        XCTFail("expected a SpecError", line: line)
        return ""
    } catch let e as SpecError {
        return e.description
    } catch {
        XCTFail("expected a SpecError, got \(error)", line: line)
        return ""
    }
}

final class SpecFormatTests: XCTestCase {
    static let experiments = ["mnist_gan", "mnist_gan_freq1", "mnist_wgangp", "mnist_cwgangp", "cifar10_wgangp", "dcgan_mnist64"]

    func testEverySeedSpecParses() throws {
        for name in Self.experiments {
            let s = try loadSpec(name)
            XCTAssertEqual(s.name, name)
            XCTAssertEqual(s.networks.count, 2, name)
            XCTAssertEqual(Set(s.optimizers.keys), Set(s.networkNames), name)
            XCTAssertNotNil(s.network(role: .generator), name)
        }
    }

    func testParameterCounts() throws {
        let expected: [String: [String: Int]] = [
            "mnist_gan": ["generator": 6_698_945, "discriminator": 6_559_297],
            "mnist_gan_freq1": ["generator": 6_698_945, "discriminator": 6_559_297],
            "mnist_wgangp": ["generator": 6_698_945, "critic": 6_556_865],
            "mnist_cwgangp": ["generator": 6_732_033, "critic": 6_589_953],
            "cifar10_wgangp": ["generator": 4_993_283, "critic": 4_855_745],
            "dcgan_mnist64": ["generator": 12_656_257, "discriminator": 11_033_985],
        ]
        for (spec, nets) in expected {
            let s = try loadSpec(spec)
            XCTAssertEqual(Set(s.networkNames), Set(nets.keys), spec)
            for (net, count) in nets {
                XCTAssertEqual(try s.parameterCount(network: net), count, "\(spec).\(net)")
            }
        }
    }

    func testBuiltGraphCountsAndTypes() throws {
        // Building draws the real weights; the counts and output types match the shape walk.
        let s = try loadSpec("mnist_cwgangp")
        let g = try s.buildGraph(network: "generator")
        XCTAssertEqual(Spec.parameterCount(g), 6_732_033)
        XCTAssertNoThrow(try g.verify())
        XCTAssertEqual(g.inputs.map { g.name(of: $0) }, ["z", "y"])
        XCTAssertEqual(g.type(of: g.inputs[0]), TensorType(.float32, [.symbol("N"), .fixed(100)]))
        XCTAssertEqual(g.type(of: g.inputs[1]), TensorType(.int64, [.symbol("N")]))
        XCTAssertEqual(g.type(of: g.outputs[0]), TensorType(.float32, [.symbol("N"), .fixed(1), .fixed(28), .fixed(28)]))
        XCTAssertEqual(g.metadata["gannet.latent_size"], "100")
        XCTAssertEqual(g.metadata["gannet.latent_distribution"], "normal")
        XCTAssertEqual(g.metadata["gannet.num_classes"], "10")
        XCTAssertEqual(g.metadata["gannet.output_range"], "0,1")
        XCTAssertEqual(g.metadata["gannet.image_shape"], "1,28,28")
        XCTAssertEqual(g.metadata["gannet.role"], "generator")
        XCTAssertEqual(g.metadata["gannet.latent_input"], "z")
        XCTAssertEqual(g.metadata["gannet.label_input"], "y")
        // The concat of latent and label embedding: (N, 132), latent first.
        let h = try XCTUnwrap(g.value(named: "h"))
        XCTAssertEqual(g.type(of: h), TensorType(.float32, [.symbol("N"), .fixed(132)]))
        let concat = try XCTUnwrap(g.nodes.first { $0.op == .concat })
        XCTAssertEqual(concat.inputs.map { $0.map { g.name(of: $0) } }, ["z", "label_embedding"])
    }

    func testMnistGeneratorOpSequence() throws {
        let s = try loadSpec("mnist_gan")
        let g = try s.buildGraph(network: "generator")
        XCTAssertEqual(g.nodes.map(\.op), [
            .gemm, .batchNormalization, .leakyRelu, .gemm, .reshape, .batchNormalization, .leakyRelu,
            .convTranspose, .batchNormalization, .leakyRelu, .convTranspose, .batchNormalization, .leakyRelu,
            .conv, .sigmoid,
        ])
        for n in g.nodes where n.op == .gemm {
            XCTAssertEqual(n.attributes["transB"], .int(1))
            XCTAssertEqual(n.inputs.count, 3)  // bias as C
        }
        for n in g.nodes where n.op == .leakyRelu { XCTAssertEqual(n.attributes["alpha"], .float(0.01)) }
        for n in g.nodes where n.op == .batchNormalization {
            XCTAssertEqual(n.attributes["epsilon"], .float(1e-5))
            XCTAssertEqual(n.attributes["momentum"], .float(0.9))  // ONNX form of PyTorch's 0.1
        }
        let fc1 = try XCTUnwrap(g.initializers[try XCTUnwrap(g.value(named: "fc1.weight"))])
        XCTAssertEqual(fc1.shape, [1024, 100])  // (out, in)
        let deconv1 = try XCTUnwrap(g.initializers[try XCTUnwrap(g.value(named: "deconv1.weight"))])
        XCTAssertEqual(deconv1.shape, [128, 64, 4, 4])  // (in, out, k, k)
        XCTAssertEqual(g.type(of: g.outputs[0]), TensorType(.float32, [.symbol("N"), .fixed(1), .fixed(28), .fixed(28)]))
        XCTAssertEqual(g.name(of: g.outputs[0]), "image")

        let d = try s.buildGraph(network: "discriminator")
        XCTAssertEqual(d.nodes.map(\.op), [
            .conv, .batchNormalization, .leakyRelu, .conv, .batchNormalization, .leakyRelu, .reshape,
            .gemm, .batchNormalization, .leakyRelu, .gemm, .reshape,
        ])
        XCTAssertEqual(d.type(of: d.outputs[0]), TensorType(.float32, [.symbol("N")]))
        XCTAssertEqual(d.metadata["gannet.role"], "discriminator")
        XCTAssertNil(d.metadata["gannet.latent_size"])
    }

    func testConditionalCriticLabelMap() throws {
        let s = try loadSpec("mnist_cwgangp")
        let g = try s.buildGraph(network: "critic")
        XCTAssertEqual(Array(g.nodes.map(\.op).prefix(5)), [.gather, .unsqueeze, .expand, .concat, .conv])
        let map = try XCTUnwrap(g.value(named: "label_map"))
        XCTAssertEqual(g.type(of: map), TensorType(.float32, [.symbol("N"), .fixed(32), .fixed(28), .fixed(28)]))
        let h = try XCTUnwrap(g.value(named: "h"))
        XCTAssertEqual(g.type(of: h), TensorType(.float32, [.symbol("N"), .fixed(33), .fixed(28), .fixed(28)]))
        let concat = try XCTUnwrap(g.nodes.first { $0.op == .concat })
        XCTAssertEqual(concat.inputs.map { $0.map { g.name(of: $0) } }, ["x", "label_map"])  // image first
        let emb = try XCTUnwrap(g.initializers[try XCTUnwrap(g.value(named: "label_embedding.weight"))])
        XCTAssertEqual(emb.shape, [10, 32])
        XCTAssertEqual(g.metadata["gannet.num_classes"], "10")
        XCTAssertFalse(Spec.trainableParameters(g).contains("label_map.shape"))
    }

    func testSettings() throws {
        let gan = try loadSpec("mnist_gan")
        XCTAssertEqual(gan.dataset.name, "fashion-mnist")
        XCTAssertEqual(gan.dataset.alternatives, ["mnist"])
        XCTAssertEqual(gan.schedule.generatorFrequency, 5)
        XCTAssertEqual(gan.schedule.epochs, 50)
        XCTAssertEqual(gan.schedule.batchSize, 128)
        XCTAssertEqual(gan.schedule.imageFrequency, 10)
        XCTAssertEqual(gan.schedule.logImageFrequency, 100)
        XCTAssertEqual(gan.loss.kind, .ganBCELogits)
        XCTAssertEqual(gan.latent, LatentSpec(size: 100, distribution: "normal"))
        XCTAssertEqual(gan.optimizers["generator"]?.lr, 3e-4)
        XCTAssertEqual(gan.optimizers["discriminator"]?.beta1, 0.9)
        XCTAssertEqual(try loadSpec("mnist_gan_freq1").schedule.generatorFrequency, 1)
        let wgan = try loadSpec("mnist_wgangp")
        XCTAssertEqual(wgan.loss.kind, .wganGP)
        XCTAssertEqual(wgan.loss.penaltyWeight, 20)
        XCTAssertEqual(wgan.schedule.epochs, 100)
        XCTAssertEqual(wgan.schedule.generatorFrequency, 10)
        let cw = try loadSpec("mnist_cwgangp")
        XCTAssertEqual(cw.conditional, ConditionalSpec(classes: 10, embedding: 32))
        XCTAssertEqual(cw.loss.kind, .cwganGP)
        XCTAssertTrue(cw.dataset.labels)
        let cifar = try loadSpec("cifar10_wgangp")
        XCTAssertEqual(cifar.loss.penaltyWeight, 10)
        XCTAssertEqual(cifar.schedule.batchSize, 64)
        XCTAssertEqual(cifar.dataset.imageShape, [3, 32, 32])
        let dc = try loadSpec("dcgan_mnist64")
        XCTAssertEqual(dc.dataset.imageShape, [1, 64, 64])
        XCTAssertTrue(dc.dataset.range == (-1, 1))
        XCTAssertEqual(dc.optimizers["generator"]?.beta1, 0.5)
        XCTAssertEqual(dc.optimizers["discriminator"]?.lr, 2e-4)
        XCTAssertEqual(dc.schedule.generatorFrequency, 0)
        XCTAssertEqual(dc.schedule.imageEvery, "epoch")
        XCTAssertEqual(dc.schedule.loop, .epochs)
        XCTAssertEqual(dc.output.videoFPS, 5)
        XCTAssertEqual(dc.output.videoFormat, "gif")
        XCTAssertEqual(gan.output.videoFPS, 60)
        XCTAssertEqual(gan.output.videoFormat, "auto")
        XCTAssertEqual(gan.schedule.loop, .inferno)
        XCTAssertEqual(dc.loss.kind, .bceSigmoid)
    }

    func testSeedInitStatistics() throws {
        let s = try loadSpec("mnist_gan")
        let g = try s.buildGraph(network: "generator", seed: 7)
        func t(_ name: String) throws -> Tensor { try XCTUnwrap(g.initializers[try XCTUnwrap(g.value(named: name))], name) }
        // Xavier-uniform: bound √(6/(fan_in+fan_out)); the draws should nearly fill it.
        for (name, fanIn, fanOut) in [("fc1.weight", 100, 1024), ("fc2.weight", 1024, 6272),
                                      ("deconv1.weight", 64 * 16, 128 * 16), ("conv1.weight", 32 * 9, 1 * 9)] {
            let w = try t(name).floats
            let bound = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            let mx = w.map(abs).max()!
            XCTAssertLessThanOrEqual(mx, bound, name)
            XCTAssertGreaterThan(mx, bound * 0.95, name)
            let mean = w.reduce(0, +) / Float(w.count)
            XCTAssertLessThan(abs(mean), bound * 0.1, name)
        }
        for name in ["fc1.bias", "fc2.bias", "deconv1.bias", "conv1.bias", "bn1.bias", "bn1.running_mean"] {
            XCTAssertTrue(try t(name).floats.allSatisfy { $0 == 0 }, name)
        }
        XCTAssertTrue(try t("bn1.running_var").floats.allSatisfy { $0 == 1 })
        let gamma = try t("bn1.weight").floats  // 1024 draws of U(0,1)
        XCTAssertTrue(gamma.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(gamma.reduce(0, +) / Float(gamma.count), 0.5, accuracy: 0.05)
        XCTAssertFalse(Spec.trainableParameters(g).contains("bn1.running_mean"))
        XCTAssertTrue(Spec.trainableParameters(g).contains("bn1.weight"))

        // DCGAN: conv weights N(0, 0.02).
        let dc = try loadSpec("dcgan_mnist64").buildGraph(network: "discriminator")
        let w = try XCTUnwrap(dc.initializers[try XCTUnwrap(dc.value(named: "conv2.weight"))]).floats
        let mean = w.reduce(0, +) / Float(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.001)
        XCTAssertEqual(std, 0.02, accuracy: 0.001)
    }

    func testDeterminism() throws {
        let s = try loadSpec("mnist_cwgangp")
        let a = try s.buildGraph(network: "critic", seed: 3)
        let b = try s.buildGraph(network: "critic", seed: 3)
        let c = try s.buildGraph(network: "critic", seed: 4)
        XCTAssertEqual(a, b)
        let wa = a.initializers[a.value(named: "conv1.weight")!]!
        let wc = c.initializers[c.value(named: "conv1.weight")!]!
        XCTAssertEqual(wa.shape, wc.shape)
        XCTAssertNotEqual(wa, wc)
        // A parameter's values depend on its name, not on the other parameters: the critic's
        // fc2 weight is the same whether or not the spec has extra layers before it.
        let yaml = """
        dataset: {name: mnist}
        latent: {size: 4}
        loss: wgan_gp
        schedule: {epochs: 1, batch_size: 2}
        optimizers: {default: {lr: 0.001}}
        networks:
          net:
            inputs: {x: {shape: [8]}}
            layers:
              - {linear: 16, name: extra}
              - {linear: 3, name: last}
        """
        let yaml2 = """
        dataset: {name: mnist}
        latent: {size: 4}
        loss: wgan_gp
        schedule: {epochs: 1, batch_size: 2}
        optimizers: {default: {lr: 0.001}}
        networks:
          net:
            inputs: {x: {shape: [8]}}
            layers:
              - {linear: 16, name: other}
              - {linear: 16, name: extra}
              - {linear: 3, name: last}
        """
        let g1 = try Spec.parse(yaml: yaml).buildGraph(network: "net", seed: 9)
        let g2 = try Spec.parse(yaml: yaml2).buildGraph(network: "net", seed: 9)
        XCTAssertEqual(g1.initializers[g1.value(named: "last.weight")!], g2.initializers[g2.value(named: "last.weight")!])
        XCTAssertNotEqual(g1.initializers[g1.value(named: "extra.weight")!]!.shape, g2.initializers[g2.value(named: "extra.weight")!]!.shape)
    }

    func testCounterHash() {
        let r = CounterHash(seed: 1, stream: "w")
        let u = r.uniform(count: 5, 0, 1)
        XCTAssertEqual(u, (0..<5).map { r.unit(UInt64($0)) })
        XCTAssertNotEqual(CounterHash(seed: 1, stream: "w"), CounterHash(seed: 1, stream: "v"))
        XCTAssertNotEqual(CounterHash(seed: 1, stream: "w"), CounterHash(seed: 2, stream: "w"))
    }

    // MARK: errors

    static let good = """
    dataset: {name: mnist}
    latent: {size: 100}
    loss: gan_bce_logits
    schedule: {epochs: 1, batch_size: 8}
    optimizers:
      generator: {lr: 0.001}
    networks:
      generator:
        inputs: {z: latent}
        layers:
          - linear: 6272
          - reshape: [-1, 128, 7, 7]
          - conv: {out: 1, kernel: 3, padding: 1}
    """

    func testGoodMiniSpec() throws {
        let s = try Spec.parse(yaml: Self.good, file: "good.yaml")
        let g = try s.buildGraph(network: "generator")
        XCTAssertEqual(g.type(of: g.outputs[0]), TensorType(.float32, [.symbol("N"), .fixed(1), .fixed(7), .fixed(7)]))
        // The value order is canonical, so the IR text round-trips to an equal graph.
        XCTAssertEqual(try Graph.parse(g.text), g)
    }

    func testUnknownKey() {
        let yaml = Self.good.replacingOccurrences(of: "schedule: {epochs: 1, batch_size: 8}", with: "schedule: {epochs: 1, batch_size: 8, epoch_count: 3}")
        let e = specError(yaml)
        XCTAssertTrue(e.hasPrefix("bad.yaml:4:38: unknown key 'epoch_count' in schedule"), e)
    }

    func testUnknownTopLevelKey() {
        let e = specError(Self.good + "\nlearning_rate: 3\n")
        XCTAssertTrue(e.hasPrefix("bad.yaml:14:1: unknown key 'learning_rate' in the spec"), e)
    }

    func testWrongType() {
        let yaml = Self.good.replacingOccurrences(of: "batch_size: 8", with: "batch_size: eight")
        let e = specError(yaml)
        XCTAssertTrue(e.hasPrefix("bad.yaml:4:35: schedule.batch_size: expected an integer, got 'eight'"), e)
    }

    func testMissingRequired() {
        let yaml = Self.good.replacingOccurrences(of: "schedule: {epochs: 1, batch_size: 8}", with: "schedule: {epochs: 1}")
        let e = specError(yaml)
        XCTAssertTrue(e.hasPrefix("bad.yaml:4:11: schedule: missing required key 'batch_size'"), e)
    }

    func testUnknownLayer() {
        let yaml = Self.good.replacingOccurrences(of: "      - linear: 6272", with: "      - dense: 6272")
        let e = specError(yaml)
        XCTAssertTrue(e.hasPrefix("bad.yaml:11:9: networks.generator.layers[0]: unknown layer kind 'dense'"), e)
    }

    func testShapeMismatch() {
        let yaml = Self.good.replacingOccurrences(of: "reshape: [-1, 128, 7, 7]", with: "reshape: [-1, 128, 8, 8]")
        let e = specError(yaml)
        XCTAssertTrue(e.hasPrefix("bad.yaml:12:9: networks.generator.layers[1] (reshape): "), e)
        XCTAssertTrue(e.contains("cannot reshape"), e)
    }

    func testConcatMismatch() {
        let yaml = """
        dataset: {name: mnist}
        loss: hinge
        schedule: {epochs: 1, batch_size: 8}
        optimizers: {default: {lr: 0.001}}
        networks:
          d:
            inputs:
              x: image
              c: {shape: [3, 14, 14]}
            layers:
              - {concat: 1, input: [x, c]}
        """
        let e = specError(yaml)
        XCTAssertTrue(e.hasPrefix("bad.yaml:11:9: networks.d.layers[0] (concat): "), e)
    }

    func testLinearNeedsFlatInput() {
        let yaml = Self.good.replacingOccurrences(of: "      - conv: {out: 1, kernel: 3, padding: 1}", with: "      - linear: 10")
        let e = specError(yaml)
        XCTAssertTrue(e.hasPrefix("bad.yaml:13:9: networks.generator.layers[2] (linear): expects a 2-D input"), e)
    }

    func testUnknownValueReference() {
        let yaml = Self.good.replacingOccurrences(of: "      - linear: 6272", with: "      - {linear: 6272, input: w}")
        let e = specError(yaml)
        XCTAssertTrue(e.hasPrefix("bad.yaml:11:9: networks.generator.layers[0] (linear): no value named 'w'"), e)
    }

    func testInvalidYAML() {
        let e = specError("dataset: {name: mnist\nloss: [")
        XCTAssertTrue(e.hasPrefix("bad.yaml:"), e)
        XCTAssertTrue(e.contains("invalid YAML"), e)
    }

    func testUnknownLayerArgument() {
        let yaml = Self.good.replacingOccurrences(of: "conv: {out: 1, kernel: 3, padding: 1}", with: "conv: {out: 1, kernel: 3, pad: 1}")
        let e = specError(yaml)
        XCTAssertTrue(e.hasPrefix("bad.yaml:13:35: unknown key 'pad' in networks.generator.layers[2] (conv)"), e)
    }
}
