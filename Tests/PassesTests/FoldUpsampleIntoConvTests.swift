import XCTest
import GraphIR
import Passes
import Runtime

/// FoldUpsampleIntoConv: a golden IR test, the structural test (Resize and Conv become one
/// ConvTranspose) over the nearest modes exporters write, the cases it must leave alone, and the
/// numeric test against the unfolded graph.
final class FoldUpsampleIntoConvTests: XCTestCase {
    struct Case {
        var transform = "asymmetric", nearest = "floor", mode = "nearest"
        var scales: [Float] = [1, 1, 2, 2]
        /// Sizes of axes 2 and 3 instead of scales.
        var sizes: [Int]? = nil
        var group = 1, bias = true, relu = true
        var kernel = 3, stride = 1, pad = 1
        var autoPad: String? = nil
        var constantWeight = true
        var readTwice = false
        var channels = 4, out = 6
    }

    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
    }

    /// x [N, channels, 5, 3] → Resize → Conv(kernel, stride, pad, group) (+ bias) (→ Relu).
    func graph(_ c: Case) -> Graph {
        var g = Graph(name: "upsample_conv")
        let x = g.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(c.channels), .fixed(5), .fixed(3)]))
        let wShape = [c.out, c.channels / c.group, c.kernel, c.kernel]
        let w = c.constantWeight ? g.addInitializer("w", Tensor(shape: wShape, floats: values(wShape.reduce(1, *), seed: 7)))
            : g.addInput("w", TensorType(.float32, wShape.map(Dim.fixed)))
        let b = c.bias ? g.addInitializer("b", Tensor(shape: [c.out], floats: values(c.out, seed: 9))) : nil
        let scales = c.sizes == nil ? g.addInitializer("scales", Tensor(shape: [4], floats: c.scales)) : nil
        let sizes = c.sizes.map { g.addInitializer("sizes", Tensor(shape: [$0.count], int64s: $0.map(Int64.init))) }
        var resize: [String: Attribute] = ["mode": .string(c.mode), "coordinate_transformation_mode": .string(c.transform),
                                           "nearest_mode": .string(c.nearest)]
        if c.sizes != nil { resize["axes"] = .ints([2, 3]) }
        let up = g.addNode(.resize, [x, nil, scales] + (sizes.map { [$0] } ?? []), outputs: ["up"], attributes: resize, name: "resize")[0]
        var attrs: [String: Attribute] = ["kernel_shape": .ints([c.kernel, c.kernel]), "strides": .ints([c.stride, c.stride]),
                                          "group": .int(c.group)]
        if let a = c.autoPad { attrs["auto_pad"] = .string(a) } else { attrs["pads"] = .ints([c.pad, c.pad, c.pad, c.pad]) }
        var y = g.addNode(.conv, [up, w] + (b.map { [$0] } ?? []), outputs: ["conv"], attributes: attrs, name: "conv")[0]
        if c.relu { y = g.addNode(.relu, [y], outputs: ["y"], name: "relu")[0] }
        g.outputs = [y] + (c.readTwice ? [up] : [])
        return g
    }

    func inputs(_ g: Graph, batch: Int) -> [Tensor] {
        g.inputs.enumerated().map { i, v in
            let shape = g.type(of: v)!.shape.map { $0.value ?? batch }
            return Tensor(shape: shape, floats: values(shape.reduce(1, *), seed: UInt64(11 + i)))
        }
    }

    func folded(_ c: Case) throws -> Graph {
        var g = graph(c)
        try Pipelines.run(Pipelines.inference, on: &g)
        try g.verify()
        return g
    }

    func assertMatchesUnfolded(_ c: Case, file: StaticString = #filePath, line: UInt = #line) throws {
        let g = graph(c)
        for batch in [1, 3] {
            let feeds = inputs(g, batch: batch)
            let a = try Session(graph: g, threads: 2, passes: Pipelines.inference).run(feeds)
            let b = try Session(graph: g, threads: 2, passes: Pipelines.inferenceUnfused).run(feeds)
            for (x, y) in zip(a, b) {
                XCTAssertEqual(x.shape, y.shape, file: file, line: line)
                let worst = zip(x.floats, y.floats).map { abs($0 - $1) - 1e-5 * abs($1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-6, "batch \(batch): max excess error \(worst)", file: file, line: line)
            }
        }
    }

    func testGolden() throws {
        var g = graph(Case(channels: 2, out: 2))
        try Pipelines.run([InferShapes(), FoldUpsampleIntoConv()], on: &g)
        assertGolden(g.text, "upsample_conv.after.FoldUpsampleIntoConv")
    }

    /// Every nearest 2× map that exporters write folds: PyTorch's (asymmetric, floor), ONNX's
    /// default (half_pixel, round_prefer_floor), and the others whose taps are ⌊o/2⌋; with and
    /// without bias and activation, grouped, by sizes or scales, pads given or SAME.
    func testFoldsEveryHalvingNearestResize() throws {
        var cases: [Case] = [Case(), Case(bias: false, relu: false), Case(group: 2), Case(autoPad: "SAME_UPPER")]
        cases.append(Case(transform: "half_pixel", nearest: "round_prefer_floor"))
        cases.append(Case(transform: "pytorch_half_pixel", nearest: "round_prefer_ceil"))
        cases.append(Case(transform: "half_pixel", nearest: "round_prefer_ceil"))
        cases.append(Case(sizes: [10, 6]))
        for c in cases {
            let g = try folded(c)
            XCTAssertEqual(g.nodes.map(\.op.rawValue), [c.relu ? "FusedConvTranspose" : "ConvTranspose"], "\(c)")
            let w = g.initializers[g.nodes[0].inputs[1]!]!
            XCTAssertEqual(w.shape, [c.channels, c.out / c.group, 4, 4])
            try assertMatchesUnfolded(c)
        }
    }

    /// Maps that are not ⌊o/2⌋, convolutions of another geometry, a weight that is not constant
    /// and an upsampled image read elsewhere stay as they are (and still compute the same).
    func testLeavesEverythingElse() throws {
        let cases: [Case] = [
            Case(transform: "align_corners"), Case(transform: "asymmetric", nearest: "ceil"), Case(mode: "linear"),
            Case(scales: [1, 1, 3, 3]), Case(scales: [1, 1, 2, 1]),
            Case(kernel: 3, stride: 2), Case(pad: 0), Case(kernel: 5, pad: 2), Case(autoPad: "VALID"),
            Case(constantWeight: false), Case(readTwice: true),
        ]
        for c in cases {
            let g = try folded(c)
            XCTAssertTrue(g.nodes.contains { $0.op == .resize }, "\(c): \(g.nodes.map(\.op.rawValue))")
            XCTAssertFalse(g.nodes.contains { $0.op == .convTranspose || $0.op.rawValue == "FusedConvTranspose" }, "\(c)")
            if !c.readTwice && c.constantWeight { try assertMatchesUnfolded(c) }
        }
    }

    /// The four transposed taps per axis are the sums the contract names: with a weight that is
    /// one 1 at 3×3 tap (dy, dx), transposed tap (ky, kx) is 1 exactly when dy is among ky's
    /// sources and dx among kx's.
    func testTapSums() throws {
        let sources = [[2], [1, 2], [0, 1], [0]]
        for dy in 0..<3 {
            for dx in 0..<3 {
                var g = Graph(name: "taps")
                let x = g.addInput("x", TensorType(.float32, [.fixed(1), .fixed(1), .fixed(2), .fixed(2)]))
                var one = [Float](repeating: 0, count: 9)
                one[dy * 3 + dx] = 1
                let w = g.addInitializer("w", Tensor(shape: [1, 1, 3, 3], floats: one))
                let s = g.addInitializer("scales", Tensor(shape: [4], floats: [1, 1, 2, 2]))
                let up = g.addNode(.resize, [x, nil, s], outputs: ["up"], attributes: ["mode": .string("nearest")])[0]
                g.outputs = g.addNode(.conv, [up, w], outputs: ["y"], attributes: ["pads": .ints([1, 1, 1, 1])])
                try Pipelines.run([InferShapes(), FoldUpsampleIntoConv()], on: &g)
                let t = g.initializers[g.nodes.first { $0.op == .convTranspose }!.inputs[1]!]!.floats
                for ky in 0..<4 {
                    for kx in 0..<4 {
                        XCTAssertEqual(t[ky * 4 + kx], sources[ky].contains(dy) && sources[kx].contains(dx) ? 1 : 0, "(\(dy),\(dx)) → (\(ky),\(kx))")
                    }
                }
            }
        }
    }
}
