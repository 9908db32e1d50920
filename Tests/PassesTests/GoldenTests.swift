import XCTest
import GraphIR
import Passes
import SeedModels

final class GoldenTests: XCTestCase {
    /// The seed MNIST generator's architecture at reduced width (latent 4, hidden 8, 2 feature
    /// maps) with deterministic weights, so the golden file stays small.
    static func smallGenerator() -> Graph {
        var g = Graph(name: "mnist_generator_small")
        let N = Dim.symbol("N")
        var k = 0
        func w(_ shape: [Int]) -> Tensor {
            let n = shape.reduce(1, *)
            defer { k += 1 }
            return Tensor(shape: shape, floats: (0..<n).map { Float(($0 * 7 + k * 3) % 17 - 8) / 32 })
        }
        let z = g.addInput("z", TensorType(.float32, [N, .fixed(4)]))
        var inits: [String: ValueID] = [:]
        func add(_ name: String, _ t: Tensor) { inits[name] = g.addInitializer(name, t) }
        add("fc1.weight", w([8, 4])); add("fc1.bias", w([8]))
        add("fc2.weight", w([98, 8])); add("fc2.bias", w([98]))
        add("reshape.shape", Tensor(shape: [4], int64s: [-1, 2, 7, 7]))
        add("deconv1.weight", w([2, 2, 4, 4])); add("deconv1.bias", w([2]))
        add("deconv2.weight", w([2, 2, 4, 4])); add("deconv2.bias", w([2]))
        add("conv.weight", w([1, 2, 3, 3])); add("conv.bias", w([1]))
        for (i, c) in [(1, 8), (2, 2), (3, 2), (4, 2)] {
            add("bn\(i).weight", Tensor(shape: [c], floats: (0..<c).map { 0.5 + Float($0) / 16 }))
            add("bn\(i).bias", Tensor(shape: [c], repeating: 0))
            add("bn\(i).running_mean", Tensor(shape: [c], floats: (0..<c).map { Float($0) / 64 - 0.05 }))
            add("bn\(i).running_var", Tensor(shape: [c], floats: (0..<c).map { 0.75 + Float($0) / 8 }))
        }
        func bnAct(_ x: ValueID, _ i: Int) -> ValueID {
            let b = g.addNode(.batchNormalization, [x] + ["weight", "bias", "running_mean", "running_var"].map { inits["bn\(i).\($0)"] },
                              outputs: ["bn\(i)"], attributes: ["epsilon": .float(1e-5)], name: "bn\(i)")[0]
            return g.addNode(.leakyRelu, [b], outputs: ["lrelu\(i)"], attributes: ["alpha": .float(0.01)], name: "lrelu\(i)")[0]
        }
        let s2p1: [String: Attribute] = ["kernel_shape": .ints([4, 4]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]
        var x = g.addNode(.gemm, [z, inits["fc1.weight"], inits["fc1.bias"]], outputs: ["fc1"], attributes: ["transB": .int(1)], name: "fc1")[0]
        x = bnAct(x, 1)
        x = g.addNode(.gemm, [x, inits["fc2.weight"], inits["fc2.bias"]], outputs: ["fc2"], attributes: ["transB": .int(1)], name: "fc2")[0]
        x = g.addNode(.reshape, [x, inits["reshape.shape"]], outputs: ["reshape"], name: "reshape")[0]
        x = bnAct(x, 2)
        x = g.addNode(.convTranspose, [x, inits["deconv1.weight"], inits["deconv1.bias"]], outputs: ["deconv1"], attributes: s2p1, name: "deconv1")[0]
        x = bnAct(x, 3)
        x = g.addNode(.convTranspose, [x, inits["deconv2.weight"], inits["deconv2.bias"]], outputs: ["deconv2"], attributes: s2p1, name: "deconv2")[0]
        x = bnAct(x, 4)
        x = g.addNode(.conv, [x, inits["conv.weight"], inits["conv.bias"]], outputs: ["conv"],
                      attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])], name: "conv")[0]
        g.outputs = [g.add(.sigmoid, x, output: "image")]
        return g
    }

    /// The text without initializer lines (for the full-size seed graphs).
    static func structure(_ g: Graph) -> String {
        g.text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("  init ") }.joined(separator: "\n")
    }

    func testSmallGeneratorInferShapes() throws {
        var g = Self.smallGenerator()
        try g.verify()
        try InferShapes().run(&g)
        try g.verify()
        assertGolden(g.text, "mnist_generator_small.infer_shapes")
        XCTAssertEqual(g.type(of: g.outputs[0])?.description, "f32[N,1,28,28]")
        // The typed text still round-trips.
        XCTAssertEqual(try Graph.parse(g.text).text, g.text)
    }

    func testSeedGraphsInferShapes() throws {
        var g = SeedGraphs.mnistGenerator()
        try InferShapes().run(&g)
        let types = g.nodes.map { g.type(of: $0.outputs[0])!.description }
        XCTAssertEqual(types, ["f32[N,1024]", "f32[N,1024]", "f32[N,1024]", "f32[N,6272]", "f32[N,128,7,7]",
                               "f32[N,128,7,7]", "f32[N,128,7,7]", "f32[N,64,14,14]", "f32[N,64,14,14]", "f32[N,64,14,14]",
                               "f32[N,32,28,28]", "f32[N,32,28,28]", "f32[N,32,28,28]", "f32[N,1,28,28]", "f32[N,1,28,28]"])
        assertGolden(Self.structure(g), "mnist_generator.infer_shapes")

        var d = SeedGraphs.mnistDiscriminator()
        try InferShapes().run(&d)
        XCTAssertEqual(d.type(of: d.outputs[0])?.description, "f32[N]")
        assertGolden(Self.structure(d), "mnist_discriminator.infer_shapes")

        var g2 = SeedGraphs.mnistGenerator(batchNorm: false, latent: 64)
        try InferShapes().run(&g2)
        XCTAssertEqual(g2.type(of: g2.outputs[0])?.description, "f32[N,1,28,28]")
    }
}
