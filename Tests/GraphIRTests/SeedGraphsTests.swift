import XCTest
import Core
import GraphIR
import SeedModels

final class SeedGraphsTests: XCTestCase {
    static func isRunningStat(_ name: String) -> Bool { name.hasSuffix(".running_mean") || name.hasSuffix(".running_var") }

    func counts(_ g: Graph) -> (params: Int, stats: Int) {
        var params = 0, stats = 0
        for (v, t) in g.initializers where t.dtype == .float32 {
            if Self.isRunningStat(g.name(of: v)) { stats += t.count } else { params += t.count }
        }
        return (params, stats)
    }

    func testParameterCounts() {
        let g = counts(SeedGraphs.mnistGenerator())
        XCTAssertEqual(g.params, 6_698_945)
        XCTAssertEqual(g.stats, 2 * (1024 + 128 + 64 + 32))
        XCTAssertEqual(counts(SeedGraphs.mnistGenerator(batchNorm: false)).params, 6_696_449)
        XCTAssertEqual(counts(SeedGraphs.mnistGenerator(batchNorm: false)).stats, 0)
        let d = counts(SeedGraphs.mnistDiscriminator())
        XCTAssertEqual(d.params, 6_559_297)
        XCTAssertEqual(d.stats, 2 * (64 + 128 + 1024))
        XCTAssertEqual(counts(SeedGraphs.mnistDiscriminator(batchNorm: false)).params, 6_556_865)
    }

    func testArchitecture() throws {
        let g = SeedGraphs.mnistGenerator()
        try g.verify()
        XCTAssertEqual(g.nodes.map(\.op), [.gemm, .batchNormalization, .leakyRelu, .gemm, .reshape,
                                           .batchNormalization, .leakyRelu, .convTranspose, .batchNormalization, .leakyRelu,
                                           .convTranspose, .batchNormalization, .leakyRelu, .conv, .sigmoid])
        XCTAssertEqual(g.inputs.map { g[$0].type }, [TensorType(.float32, [.symbol("N"), .fixed(100)])])
        XCTAssertEqual(g.initializers[g.value(named: "fc1.weight")!]!.shape, [1024, 100])
        XCTAssertEqual(g.initializers[g.value(named: "fc2.weight")!]!.shape, [6272, 1024])
        XCTAssertEqual(g.initializers[g.value(named: "deconv1.weight")!]!.shape, [128, 64, 4, 4])
        XCTAssertEqual(g.initializers[g.value(named: "deconv2.weight")!]!.shape, [64, 32, 4, 4])
        XCTAssertEqual(g.initializers[g.value(named: "conv.weight")!]!.shape, [1, 32, 3, 3])
        XCTAssertEqual(g.initializers[g.value(named: "reshape.shape")!]!.int64s, [-1, 128, 7, 7])
        for n in g.nodes where n.op == .leakyRelu { XCTAssertEqual(n.attributes["alpha"], .float(0.01)) }
        for n in g.nodes where n.op == .gemm { XCTAssertEqual(n.attributes["transB"], .int(1)) }
        XCTAssertEqual(SeedGraphs.mnistGenerator(latent: 16).initializers[g.value(named: "fc1.weight")!]!.shape, [1024, 16])

        let d = SeedGraphs.mnistDiscriminator()
        try d.verify()
        XCTAssertEqual(d.nodes.map(\.op), [.conv, .batchNormalization, .leakyRelu, .conv, .batchNormalization, .leakyRelu,
                                           .reshape, .gemm, .batchNormalization, .leakyRelu, .gemm, .reshape])
        XCTAssertEqual(d.inputs.map { d[$0].type }, [TensorType(.float32, [.symbol("N"), .fixed(1), .fixed(28), .fixed(28)])])
        XCTAssertEqual(d.initializers[d.value(named: "conv1.weight")!]!.shape, [64, 1, 4, 4])
        XCTAssertEqual(d.initializers[d.value(named: "fc1.weight")!]!.shape, [1024, 6272])
        XCTAssertEqual(d.initializers[d.value(named: "fc2.weight")!]!.shape, [1, 1024])
        XCTAssertEqual(d.name(of: d.outputs[0]), "logit")
        XCTAssertEqual(SeedGraphs.mnistDiscriminator(batchNorm: false).nodes.filter { $0.op == .batchNormalization }.count, 0)
    }

    func testWeightDistributions() {
        let g = SeedGraphs.mnistGenerator()
        func t(_ n: String) -> [Float] { g.initializers[g.value(named: n)!]!.floats }
        let bound = Float((6.0 / Double(100 + 1024)).squareRoot())
        let w = t("fc1.weight")
        XCTAssert(w.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(w.map(abs).max()!, bound * 0.99)
        XCTAssertLessThan(abs(w.reduce(0, +) / Float(w.count)), 0.01)
        XCTAssert(t("bn1.weight").allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssert(t("bn2.bias").allSatisfy { $0 == 0 })
        XCTAssert(t("bn3.running_var").allSatisfy { $0 >= 0.5 && $0 < 1.5 })
        XCTAssert(t("bn4.running_mean").allSatisfy { abs($0) <= 0.1 })
        XCTAssert(t("bn4.running_mean").contains { $0 != 0 })
        XCTAssert(t("conv.bias").contains { $0 != 0 })
    }

    /// Each parameter is Core's CounterHash keyed by (seed, its name): the one weight generator.
    func testWeightsAreCounterHashDrawsKeyedByName() {
        let g = SeedGraphs.mnistGenerator(latent: 8, seed: 7)
        func t(_ n: String) -> [Float] { g.initializers[g.value(named: n)!]!.floats }
        let bound = Float((6.0 / Double(8 + 1024)).squareRoot())
        XCTAssertEqual(t("fc1.weight"), CounterHash(seed: 7, stream: "fc1.weight").uniform(count: 1024 * 8, -bound, bound))
        XCTAssertEqual(t("bn3.running_var"), CounterHash(seed: 7, stream: "bn3.running_var").uniform(count: 64, 0.5, 1.5))
        // Keyed by name: the latent size changes fc1 but not the layers after it.
        let h = SeedGraphs.mnistGenerator(seed: 7)
        XCTAssertEqual(t("conv.weight"), h.initializers[h.value(named: "conv.weight")!]!.floats)
        XCTAssertNotEqual(t("fc1.bias"), SeedGraphs.mnistGenerator(latent: 8, seed: 8).initializers[g.value(named: "fc1.bias")!]!.floats)
    }

    func testDeterministicAndSeeded() {
        let a = SeedGraphs.mnistDiscriminator(seed: 5)
        XCTAssertEqual(a, SeedGraphs.mnistDiscriminator(seed: 5))
        XCTAssertNotEqual(a.initializers, SeedGraphs.mnistDiscriminator(seed: 6).initializers)
    }

    func testCanonicalValueOrderRoundTrips() throws {
        var g = SeedGraphs.mnistGenerator(latent: 2)
        XCTAssertEqual(g.values.first?.name, "z")
        XCTAssertEqual(Set(g.initializers.keys.map(\.index)), Set(1...g.initializers.count))
        XCTAssertEqual(g.nodes[0].outputs[0].index, 1 + g.initializers.count)
        // The full text is ~36 MB; shrink every initializer to keep the debug test fast.
        for (v, t) in g.initializers where t.count > 20 {
            g.initializers[v] = Tensor(shape: [20], floats: Array(t.floats.prefix(20)))
            g[v].type = g.initializers[v]!.type
        }
        let h = try Graph.parse(g.text)
        XCTAssertEqual(h, g)
        XCTAssertEqual(h.text, g.text)
    }
}
