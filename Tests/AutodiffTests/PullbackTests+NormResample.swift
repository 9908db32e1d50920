// PullbackTests+NormResample: finite-difference checks of the InstanceNormalization,
// LayerNormalization, GroupNormalization, Resize and Pad pullbacks (tolerance: see Support.swift;
// each also runs the compiled runtime against the reference evaluator).

import XCTest
import GraphIR
import Passes

final class NormResamplePullbackTests: XCTestCase {
    func testInstanceNormalization() throws {
        var c = GradCase(seed: 1410)
        let x = c.input("x", [2, 3, 4, 5], -2...2), scale = c.input("scale", [3], 0.5...1.5), bias = c.input("bias", [3])
        let y = c.node(.instanceNormalization, [x, scale, bias], ["epsilon": .float(1e-3)])
        try FD.check(c, output: y, wrt: [x, scale, bias], what: "InstanceNormalization")
        // Rank 3 (N, C, L) and, through a nonlinearity, the gradient of the gradient.
        var c2 = GradCase(seed: 1411)
        let x2 = c2.input("x", [2, 2, 7], -2...2), s2 = c2.input("scale", [2], 0.5...1.5), b2 = c2.input("bias", [2])
        let t = c2.node(.tanh, [c2.node(.instanceNormalization, [x2, s2, b2])])
        try FD.check(c2, output: t, wrt: [x2, s2, b2], what: "tanh(InstanceNormalization) rank 3")
    }

    func testLayerNormalization() throws {
        for (k, (shape, axis, withBias)) in [([3, 4, 5], -1, true), ([2, 3, 4], 1, true), ([2, 5], 0, false), ([2, 3, 2, 3], -2, true)].enumerated() {
            var c = GradCase(seed: 1420 + UInt64(k))
            let x = c.input("x", shape, -2...2)
            let ax = axis < 0 ? axis + shape.count : axis
            let scale = c.input("scale", Array(shape[ax...]), 0.5...1.5)
            let bias = withBias ? c.input("bias", Array(shape[ax...])) : nil
            let y = c.node(.layerNormalization, [x, scale, bias], ["axis": .int(axis), "epsilon": .float(1e-3)])
            try FD.check(c, output: y, wrt: [x, scale] + (bias.map { [$0] } ?? []), what: "LayerNormalization \(shape) axis \(axis)")
        }
    }

    func testLayerNormalizationStatisticsOutputsAreNotDifferentiable() throws {
        var c = GradCase(seed: 1425)
        let x = c.input("x", [2, 3]), scale = c.input("scale", [3])
        let outs = c.graph.addNode(.layerNormalization, [x, scale], outputs: ["y", "mean", "inv"], name: "ln")
        XCTAssertThrowsError(try FD.check(c, output: outs[1], wrt: [x], what: "LayerNormalization Mean")) {
            XCTAssertTrue("\($0)".contains("not differentiable"), "\($0)")
        }
        try FD.check(c, output: outs[0], wrt: [x, scale], what: "LayerNormalization with statistics outputs")
    }

    func testGroupNormalization() throws {
        var c = GradCase(seed: 1430)
        let x = c.input("x", [2, 6, 3, 3], -2...2), scale = c.input("scale", [6], 0.5...1.5), bias = c.input("bias", [6])
        let y = c.node(.groupNormalization, [x, scale, bias], ["num_groups": .int(3), "epsilon": .float(1e-3)])
        try FD.check(c, output: y, wrt: [x, scale, bias], what: "GroupNormalization")
        var c2 = GradCase(seed: 1431)
        let x2 = c2.input("x", [1, 4, 5], -2...2), s2 = c2.input("scale", [4], 0.5...1.5), b2 = c2.input("bias", [4])
        let y2 = c2.node(.groupNormalization, [x2, s2, b2], ["num_groups": .int(1)])
        try FD.check(c2, output: y2, wrt: [x2, s2, b2], what: "GroupNormalization one group")
    }

    func testResize() throws {
        let cases: [(String, [Int], [Float]?, [Int]?, [String: Attribute])] = [
            ("nearest up asymmetric", [1, 2, 2, 3], [1, 1, 2, 3], nil,
             ["mode": .string("nearest"), "coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")]),
            ("nearest down sizes", [1, 1, 5, 7], nil, [1, 1, 3, 4], [:]),
            ("linear up half_pixel", [2, 1, 3, 4], [1, 1, 2, 1.5], nil, ["mode": .string("linear")]),
            ("linear align_corners sizes", [1, 2, 3, 3], nil, [1, 2, 5, 4],
             ["mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners")]),
            ("linear down pytorch_half_pixel", [1, 1, 6, 5], nil, [1, 1, 4, 2],
             ["mode": .string("linear"), "coordinate_transformation_mode": .string("pytorch_half_pixel")]),
            ("linear 1-D axes", [2, 5], [2.5], nil, ["mode": .string("linear"), "axes": .ints([-1])]),
            ("cubic up half_pixel", [1, 2, 3, 4], [1, 1, 2, 1.5], nil, ["mode": .string("cubic")]),
            ("cubic down exclude_outside a=-0.5", [1, 1, 6, 7], nil, [1, 1, 4, 3],
             ["mode": .string("cubic"), "cubic_coeff_a": .float(-0.5), "exclude_outside": .int(1)]),
            ("cubic align_corners 1-D", [2, 4], [2.25], nil,
             ["mode": .string("cubic"), "axes": .ints([1]), "coordinate_transformation_mode": .string("align_corners")]),
        ]
        for (k, (what, shape, scales, sizes, attrs)) in cases.enumerated() {
            var c = GradCase(seed: 1440 + UInt64(k))
            let x = c.input("x", shape)
            let s = scales.map { c.graph.addInitializer("scales", Tensor(shape: [$0.count], floats: $0)) }
            let z = sizes.map { c.ints("sizes", $0) }
            let y = c.node(.resize, [x, nil, s, z], attrs)
            try FD.check(c, output: y, wrt: [x], what: "Resize \(what)")
        }
    }

    func testPad() throws {
        for (k, mode) in ["constant", "reflect", "edge", "wrap"].enumerated() {
            var c = GradCase(seed: 1450 + UInt64(k))
            let x = c.input("x", [2, 3, 4])
            let pads = c.ints("pads", mode == "constant" ? [0, 1, 2, 1, 2, -1] : [0, 2, 1, 0, 1, 3])
            let value = c.graph.addInitializer("value", Tensor(shape: [], floats: [0.5]))
            let y = c.node(.pad, [x, pads, mode == "constant" ? value : nil], ["mode": .string(mode)])
            try FD.check(c, output: y, wrt: [x], what: "Pad \(mode)")
        }
        // Axes input, and a pad of a pad (the pullback's own pullback).
        var c = GradCase(seed: 1459)
        let x = c.input("x", [3, 4])
        let inner = c.node(.pad, [x, c.ints("pads", [2, 1]), nil, c.ints("axes", [-1])], ["mode": .string("reflect")])
        let y = c.node(.sigmoid, [c.node(.mul, [inner, inner])])
        try FD.check(c, output: y, wrt: [x], what: "sigmoid(Pad(reflect, axes)²)")
    }
}
