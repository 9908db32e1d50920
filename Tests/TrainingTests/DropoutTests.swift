// Dropout (GitHub issue 5, item 2): inference identity, the training expansion to Mul by a fed
// mask, seeded masks, and gradients through the mask in a compiled TrainStep.

import Core
import Foundation
import GAN
import GraphIR
import Kernels
import Passes
import Runtime
import SpecFormat
import Training
import XCTest

final class DropoutTests: XCTestCase {
    /// x (N, 8) → Mul by weight w (1, 8) → Dropout(ratio) → y.
    func net(ratio: Float, training: Bool? = nil) -> Graph {
        var g = Graph(name: "net")
        let x = g.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(8)]))
        let w = g.addInitializer("w", Tensor(shape: [1, 8], floats: (0..<8).map { Float($0) * 0.25 - 1 }))
        let h = g.add(.mul, x, w, output: "h")
        let r = g.addInitializer("ratio", Tensor(shape: [], floats: [ratio]))
        var ins: [ValueID?] = [h, r]
        if let training { ins.append(g.addInitializer("training_mode", Tensor(shape: [], int64s: [training ? 1 : 0], dtype: .bool))) }
        let y = g.addNode(.dropout, ins, outputs: ["y"], name: "drop")[0]
        g.outputs = [y]
        return g
    }

    func testInferenceDropoutIsIdentity() throws {
        for training: Bool? in [nil, false] {
            let g = net(ratio: 0.5, training: training)
            let x = Tensor(shape: [3, 8], floats: (0..<24).map { Float($0) / 7 - 1 })
            let y = try Session(graph: g).run(["x": x])["y"]!
            let w = g.initializers[g.value(named: "w")!]!.floats
            XCTAssertEqual(y.shape, [3, 8])
            XCTAssertEqual(y.floats, x.floats.enumerated().map { $0.element * w[$0.offset % 8] })
        }
    }

    func testTrainingExpansionIsMulByMaskInput() throws {
        var g = try Session.bind(net(ratio: 0.25, training: true), [[4, 8]])
        try InferShapes().run(&g)
        try ExpandDropout().run(&g)
        try g.verify()
        XCTAssertFalse(g.nodes.contains { $0.op == .dropout })
        let mask = try XCTUnwrap(g.value(named: "dropout/drop"))
        XCTAssertTrue(g.inputs.contains(mask))
        XCTAssertEqual(g.type(of: mask), TensorType(.float32, fixed: [4, 8]))
        let mul = try XCTUnwrap(g.nodes.first { $0.op == .mul && $0.inputs.contains(mask) })
        XCTAssertEqual(mul.outputs, g.outputs)
        XCTAssertEqual(try ExpandDropout.masks(in: g), [DropoutMask(name: "dropout/drop", shape: [4, 8], ratio: 0.25)])
        // Eval-mode graphs are untouched.
        var e = try Session.bind(net(ratio: 0.25, training: false), [[4, 8]])
        try InferShapes().run(&e)
        let before = e
        try ExpandDropout().run(&e)
        XCTAssertEqual(e, before)
    }

    func testMasksAreSeededPerStepAndName() {
        let m = [DropoutMask(name: "dropout/a", shape: [64], ratio: 0.5), DropoutMask(name: "dropout/b", shape: [64], ratio: 0.5)]
        let s1 = TrainStep.dropoutInputs(m, seed: 7, step: 3, scope: "g_step")
        let s1again = TrainStep.dropoutInputs(m, seed: 7, step: 3, scope: "g_step")
        let s2 = TrainStep.dropoutInputs(m, seed: 7, step: 4, scope: "g_step")
        let d1 = TrainStep.dropoutInputs(m, seed: 7, step: 3, scope: "d_step")
        XCTAssertEqual(s1, s1again)
        XCTAssertNotEqual(s1["dropout/a"], s2["dropout/a"])
        XCTAssertNotEqual(s1["dropout/a"], s1["dropout/b"])
        XCTAssertNotEqual(s1["dropout/a"], d1["dropout/a"])
        // Stream 0 is the plain stream.
        var a = RandomStream(seed: 5, step: 9, purpose: .dropout), b = RandomStream(seed: 5, step: 9, purpose: .dropout, stream: 0)
        XCTAssertEqual(a.uniforms(16), b.uniforms(16))
    }

    func testKeptFractionAndScale() {
        for p: Float in [0.1, 0.5, 0.8] {
            let n = 200_000
            let mask = TrainStep.dropoutInputs([DropoutMask(name: "dropout/x", shape: [n], ratio: p)], seed: 1, step: 0, scope: "s")["dropout/x"]!.floats
            let kept = mask.filter { $0 != 0 }
            XCTAssertTrue(kept.allSatisfy { $0 == 1 / (1 - p) })
            let fraction = Double(kept.count) / Double(n)
            XCTAssertEqual(fraction, Double(1 - p), accuracy: 0.005)
            // Inverted dropout keeps the mean.
            XCTAssertEqual(Double(mask.reduce(0, +)) / Double(n), 1, accuracy: 0.02)
        }
    }

    func testTrainStepGradientIsUpstreamTimesMask() throws {
        let n = 4, p: Float = 0.5
        let network = net(ratio: p)
        var c = GraphComposer(name: "step")
        let x = c.input("x", TensorType(.float32, fixed: [n, 8]))
        let y = try c.call(network, [x], training: true)[0]
        XCTAssertEqual(c.dropoutMasks.map(\.name), ["dropout/net/drop"])
        XCTAssertEqual(c.dropoutMasks.map(\.ratio), [p])
        var g = c.graph
        let loss = g.add(.reduceSum, y, output: "loss", attributes: ["keepdims": .int(0)])
        g.outputs = [loss]
        let store = ParameterStore()
        let w = network.initializers[network.value(named: "w")!]!
        try store.set("net/w", w)
        try store.set("net/ratio", Tensor(shape: [], floats: [p]))
        let plan = StepPlan(graph: g, loss: loss, trainable: ["net/w", "x"], optimizer: nil, assignments: [])
        let step = try TrainStep(plan: plan, store: store, inputShapes: [:], pool: ThreadPool(threads: 1), exposeGradients: true)
        XCTAssertEqual(step.dropoutMasks, [DropoutMask(name: "dropout/net/drop", shape: [n, 8], ratio: p)])
        let xs = Tensor(shape: [n, 8], floats: (0..<(n * 8)).map { Float($0 % 5) - 1.5 })
        var inputs = step.dropoutInputs(seed: 11, step: 2)
        let mask = inputs["dropout/net/drop"]!.floats
        XCTAssertTrue(mask.contains(0) && mask.contains(2))
        inputs["x"] = xs
        let out = try step.run(inputs)
        let wf = w.floats, xf = xs.floats
        // Forward: Σ x·w·mask.
        let expectedLoss = (0..<(n * 8)).reduce(Float(0)) { $0 + xf[$1] * wf[$1 % 8] * mask[$1] }
        XCTAssertEqual(out["loss"]!.floats[0], expectedLoss, accuracy: 1e-4)
        // dL/dx = upstream (w) · mask; dL/dw = Σ over the batch of x · mask.
        let gx = out[step.gradientNames["x"]!]!.floats
        XCTAssertEqual(gx, (0..<(n * 8)).map { wf[$0 % 8] * mask[$0] })
        let gw = out[step.gradientNames["net/w"]!]!.floats
        for j in 0..<8 {
            XCTAssertEqual(gw[j], (0..<n).reduce(Float(0)) { $0 + xf[$1 * 8 + j] * mask[$1 * 8 + j] }, accuracy: 1e-5)
        }
        // Same (seed, step) → same masks → same outputs; eval-mode composition has no masks.
        var again = step.dropoutInputs(seed: 11, step: 2)
        again["x"] = xs
        XCTAssertEqual(try step.run(again)["loss"], out["loss"])
        var e = GraphComposer(name: "eval")
        _ = try e.call(network, [e.input("x", TensorType(.float32, fixed: [n, 8]))], training: false)
        XCTAssertTrue(e.dropoutMasks.isEmpty)
    }

    func testEvalDropoutDifferentiates() throws {
        var g = try Session.bind(net(ratio: 0.5), [[2, 8]])
        try InferShapes().run(&g)
        let loss = g.add(.reduceSum, g.outputs[0], output: "loss", attributes: ["keepdims": .int(0)])
        try InferShapes().run(&g)
        let grads = try Autodiff.gradients(of: loss, wrt: [g.inputs[0]], in: &g)
        g.outputs = [grads[0]!]
        try InferShapes().run(&g)
        let dx = try Session(graph: g).run(["x": Tensor(shape: [2, 8], repeating: 1)]).values.first!.floats
        let w = (0..<8).map { Float($0) * 0.25 - 1 }
        XCTAssertEqual(dx, (0..<16).map { w[$0 % 8] })
    }

    func testSpecDropoutLayerInGANSteps() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/train")
        var yaml = try String(contentsOf: dir.appendingPathComponent("tiny_cwgangp.yaml"), encoding: .utf8)
        let anchor = "      - linear: 32\n      - leaky_relu: 0.01\n      - linear: 1\n"
        XCTAssertTrue(yaml.contains(anchor))
        yaml = yaml.replacingOccurrences(of: anchor, with: "      - linear: 32\n      - leaky_relu: 0.01\n      - {dropout: 0.3, name: drop}\n      - linear: 1\n")
        let spec = try Spec.parse(yaml: yaml, file: "tiny_cwgangp_dropout.yaml")
        let critic = try XCTUnwrap(spec.buildGraphs(seed: 1).first { $0.name == "critic" }?.graph)
        let node = try XCTUnwrap(critic.nodes.first { $0.op == .dropout })
        XCTAssertEqual(try ExpandDropout.ratio(node, graph: critic), 0.3)
        XCTAssertFalse(try ExpandDropout.isTraining(node, graph: critic))

        func run() throws -> [String: Tensor] {
            let steps = try GANSteps(spec: spec, seed: 1, threads: 1)
            let n = 4
            let d = try steps.dStep(batch: n)
            // D(real), D(fake) and the penalty's D(mix): one mask each.
            XCTAssertEqual(d.dropoutMasks.count, 3)
            XCTAssertTrue(d.dropoutMasks.allSatisfy { $0.shape == [n, 32] && $0.ratio == 0.3 })
            let real = Tensor(shape: [n, 1, 8, 8], floats: (0..<(n * 64)).map { Float($0 % 13) / 13 })
            let labels = Tensor(shape: [n], int64s: [0, 1, 2, 3])
            let inputs = steps.dInputs(real: real, labels: labels, iteration: 5)
            for m in d.dropoutMasks { XCTAssertNotNil(inputs[m.name]) }
            var out = try d.run(inputs)
            let g = try steps.gStep(batch: n)
            XCTAssertEqual(g.dropoutMasks.count, 1)
            for (k, v) in try g.run(steps.gInputs(batch: n, iteration: 5)) { out["g/" + k] = v }
            return out
        }
        let a = try run(), b = try run()
        XCTAssertEqual(a, b)   // reproducible from (seed, iteration)
        XCTAssertTrue(a.values.allSatisfy { $0.floats.allSatisfy(\.isFinite) })
    }
}
