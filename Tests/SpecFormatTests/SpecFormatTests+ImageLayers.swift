// Issue 14's spec layers elu, upsample, instance_norm and pad: each expands to its ONNX op with
// the right attributes, constant operands, parameters and output shapes; bad arguments are
// SpecErrors at their position.

import GraphIR
import SpecFormat
import XCTest

extension SpecFormatTests {
    static let imageLayers = """
    dataset: {name: mnist}
    latent: {size: 8}
    loss: gan_bce_logits
    schedule: {epochs: 1, batch_size: 8}
    optimizers:
      generator: {lr: 0.001}
    init: pytorch_default
    networks:
      generator:
        inputs: {z: latent}
        layers:
          - linear: 64
          - reshape: [-1, 4, 4, 4]
          - {upsample: 2, name: up}
          - {pad: {pads: 1, mode: reflect}, name: padded}
          - conv: {out: 3, kernel: 3}
          - {instance_norm: null, name: norm}
          - {elu: null, name: act}
          - {upsample: {scale: 3, mode: linear}, name: up_linear}
          - {pad: [1, 0, 2, 3], name: pad_constant}
          - {pad: {pads: [0, 2, 1, 0], mode: edge}, name: pad_edge}
          - {instance_norm: {eps: 0.001, affine: false}, name: plain_norm}
          - {elu: 0.5, name: act2}
    """

    func testImageLayersBuildWithTheirShapesAndOps() throws {
        let s = try Spec.parse(yaml: Self.imageLayers, file: "layers.yaml")
        let layers = s.network("generator")!.layers.map(\.layer)
        XCTAssertEqual(layers[2], .upsample(scale: 2, linear: false))
        XCTAssertEqual(layers[3], .pad(pads: [1, 1, 1, 1], mode: "reflect"))
        XCTAssertEqual(layers[5], .instanceNorm(eps: 1e-5, affine: true))
        XCTAssertEqual(layers[6], .elu(alpha: 1))
        XCTAssertEqual(layers[7], .upsample(scale: 3, linear: true))
        XCTAssertEqual(layers[8], .pad(pads: [1, 0, 2, 3], mode: "constant"))
        XCTAssertEqual(layers[10], .instanceNorm(eps: 0.001, affine: false))
        XCTAssertEqual(layers[11], .elu(alpha: 0.5))
        let g = try s.buildGraph(network: "generator")
        func shape(_ name: String) throws -> [Dim] { try XCTUnwrap(g.type(of: try XCTUnwrap(g.value(named: name)))).shape }
        func node(_ name: String) throws -> Node { try XCTUnwrap(g.nodes.first { $0.outputs.contains(try XCTUnwrap(g.value(named: name))) }) }
        let n = Dim.symbol("N")
        XCTAssertEqual(try shape("up"), [n, .fixed(4), .fixed(8), .fixed(8)])
        XCTAssertEqual(try shape("padded"), [n, .fixed(4), .fixed(10), .fixed(10)])
        XCTAssertEqual(try shape("norm"), [n, .fixed(3), .fixed(8), .fixed(8)])
        XCTAssertEqual(try shape("act"), [n, .fixed(3), .fixed(8), .fixed(8)])
        XCTAssertEqual(try shape("up_linear"), [n, .fixed(3), .fixed(24), .fixed(24)])
        XCTAssertEqual(try shape("pad_constant"), [n, .fixed(3), .fixed(27), .fixed(27)])
        XCTAssertEqual(try shape("pad_edge"), [n, .fixed(3), .fixed(28), .fixed(29)])
        XCTAssertEqual(try shape("act2"), [n, .fixed(3), .fixed(28), .fixed(29)])

        // Resize: roi absent, scales [1, 1, s, s]; nearest as PyTorch's nn.Upsample exports it.
        let up = try node("up")
        XCTAssertEqual(up.op, .resize)
        XCTAssertNil(up.input(1))
        XCTAssertEqual(g.constantValue(try XCTUnwrap(up.input(2)))?.floats, [1, 1, 2, 2])
        XCTAssertEqual(up.attributes["mode"], .string("nearest"))
        XCTAssertEqual(up.attributes["coordinate_transformation_mode"], .string("asymmetric"))
        XCTAssertEqual(up.attributes["nearest_mode"], .string("floor"))
        let lin = try node("up_linear")
        XCTAssertEqual(lin.attributes["mode"], .string("linear"))
        XCTAssertEqual(lin.attributes["coordinate_transformation_mode"], .string("half_pixel"))
        XCTAssertEqual(g.constantValue(try XCTUnwrap(lin.input(2)))?.floats, [1, 1, 3, 3])
        // Pad over H and W: ONNX pads are all begins then all ends.
        for (name, mode, pads) in [("padded", "reflect", [0, 0, 1, 1, 0, 0, 1, 1]), ("pad_constant", "constant", [0, 0, 1, 0, 0, 0, 2, 3]),
                                   ("pad_edge", "edge", [0, 0, 0, 2, 0, 0, 1, 0])] {
            let p = try node(name)
            XCTAssertEqual(p.op, .pad, name)
            XCTAssertEqual(p.attributes["mode"], .string(mode), name)
            XCTAssertEqual(g.initializers[try XCTUnwrap(p.input(1))]?.int64s, pads.map(Int64.init), name)
        }
        // InstanceNormalization: γ/β per channel; trainable (batch-norm roles: 1 and 0 under
        // pytorch_default) or, with affine: false, constants outside gannet.parameters.
        let norm = try node("norm")
        XCTAssertEqual(norm.op, .instanceNormalization)
        XCTAssertEqual(norm.attributes["epsilon"], .float(1e-5))
        XCTAssertEqual(g.initializers[try XCTUnwrap(g.value(named: "norm.weight"))]?.floats, [1, 1, 1])
        XCTAssertEqual(g.initializers[try XCTUnwrap(g.value(named: "norm.bias"))]?.floats, [0, 0, 0])
        XCTAssertEqual(try node("plain_norm").attributes["epsilon"], .float(0.001))
        let trainable = Spec.trainableParameters(g)
        XCTAssertTrue(trainable.contains("norm.weight") && trainable.contains("norm.bias"), "\(trainable)")
        XCTAssertFalse(trainable.contains { $0.hasPrefix("plain_norm.") || $0.hasSuffix(".scales") || $0.hasSuffix(".pads") }, "\(trainable)")
        XCTAssertEqual(g.constantValue(try XCTUnwrap(g.value(named: "plain_norm.weight")))?.floats, [1, 1, 1])
        // fc 8·64 + 64, conv 3·4·9 + 3, norm γ/β 3 + 3.
        XCTAssertEqual(try s.parameterCount(network: "generator"), 576 + 111 + 6)
        let act = try node("act2")
        XCTAssertEqual(act.op, .unary(.elu))
        XCTAssertEqual(act.attributes["alpha"], .float(0.5))
    }

    func testImageLayerErrors() throws {
        let up = "{upsample: 2, name: up}", pad = "{pad: {pads: 1, mode: reflect}, name: padded}"
        // (the line replaced, its replacement, the error's prefix (position) or "", a text it holds)
        let cases: [(String, String, String, String)] = [
            (up, "{upsample: {scale: 2, mode: cubic}, name: up}", "bad.yaml:14:", "unknown mode 'cubic' (expected nearest or linear)"),
            (up, "{upsample: 0, name: up}", "bad.yaml:14:", "scale"),
            (up, "{upsample: null, name: up}", "bad.yaml:14:", "missing the scale"),
            (pad, "{pad: {pads: [1, 2], mode: reflect}, name: padded}", "bad.yaml:15:", "pads are [top, left, bottom, right], got 2 values"),
            (pad, "{pad: {pads: -1}, name: padded}", "bad.yaml:15:", "must not be negative"),
            (pad, "{pad: {pads: 1, mode: wrap}, name: padded}", "bad.yaml:15:", "unknown mode 'wrap' (expected constant, reflect or edge)"),
            (pad, "{pad: {pads: 8, mode: reflect}, name: padded}", "bad.yaml:15:", "reflect pads [8, 8, 8, 8] must be smaller than the input's H 8 and W 8"),
            ("{instance_norm: null, name: norm}", "{instance_norm: {eps: 0}, name: norm}", "", "eps must be positive"),
            ("{elu: null, name: act}", "{elu: {slope: 1}, name: act}", "", "slope"),
            // A 2-D input is refused by the image layers.
            ("- reshape: [-1, 4, 4, 4]", "- elu", "", "(upsample): expects a 4-D input (N, C, H, W), got (N,64)"),
        ]
        for (line, new, at, text) in cases {
            let e = specError(Self.imageLayers.replacingOccurrences(of: line, with: new))
            XCTAssertTrue(e.hasPrefix(at) && e.contains(text), "\(new): \(e)")
        }
    }
}
