// PullbackTests: a finite-difference check of every pullback rule (tolerance: see Support.swift).

import XCTest
import GraphIR
import Passes

final class PullbackTests: XCTestCase {
    /// AllReduce (synchronised BatchNorm's collective) is the identity in one process, in the
    /// reference evaluator and the compiled runtime; its mean's pullback is itself (FD-checked,
    /// and twice: the gradient of a gradient through it); the sum is not differentiable.
    func testAllReduce() throws {
        var c = GradCase(seed: 950)
        let x = c.input("x", [3, 4])
        let y = c.node(.allReduce, [x], ["mode": .string("mean")])
        try InferShapes().run(&c.graph)
        XCTAssertEqual(try Ref.evaluate(c.graph, c.feeds, [y])[0].floats, c.feeds[x]!.floats)
        try FD.check(c, output: y, wrt: [x], what: "AllReduce mean")
        // Through a nonlinearity, so the double backward (a pullback of AllReduce's pullback) is exercised.
        var c2 = GradCase(seed: 951)
        let x2 = c2.input("x", [2, 5])
        let s = c2.node(.sigmoid, [c2.node(.allReduce, [c2.node(.mul, [x2, x2])])])
        try FD.check(c2, output: s, wrt: [x2], what: "sigmoid(AllReduce(x·x))")
        XCTAssertEqual(Op.allReduce.pullback.map { _ in true }, true)
        XCTAssertTrue(Op.allReduce.isInternal, "never folded nor exported")

        var c3 = GradCase(seed: 952)
        let x3 = c3.input("x", [4])
        let sum = c3.node(.allReduce, [x3], ["mode": .string("sum")])
        try InferShapes().run(&c3.graph)
        XCTAssertEqual(try Ref.evaluate(c3.graph, c3.feeds, [sum])[0].floats, c3.feeds[x3]!.floats)
        XCTAssertThrowsError(try FD.check(c3, output: sum, wrt: [x3], what: "AllReduce sum"))
        var c4 = GradCase(seed: 953)
        _ = c4.node(.allReduce, [c4.input("x", [2])], ["mode": .string("max")])
        XCTAssertThrowsError(try InferShapes().run(&c4.graph)) {
            XCTAssertTrue("\($0)".contains("AllReduce mode must be \"mean\" or \"sum\""), "\($0)")
        }
    }

    func testUnaryRules() throws {
        let ops: [(Op, [String: Attribute], Bool)] = [   // op, attributes, needs positive input / kink-free
            (.neg, [:], false), (.exp, [:], false), (.log, [:], true), (.sqrt, [:], true), (.abs, [:], false),
            (.sigmoid, [:], false), (.tanh, [:], false), (.softplus, [:], false), (.relu, [:], false),
            (.leakyRelu, ["alpha": .float(0.2)], false), (.leakyRelu, [:], false), (.leakyRelu, ["alpha": .float(-0.5)], false), (.identity, [:], false),
            (.elu, [:], false), (.elu, ["alpha": .float(0.4)], false), (.elu, ["alpha": .float(-0.5)], false), (.selu, [:], false),
            (.selu, ["alpha": .float(1.2), "gamma": .float(0.8)], false), (.erf, [:], false),
            (.hardSigmoid, [:], false), (.hardSwish, [:], false), (.gelu, [:], false), (.gelu, ["approximate": .string("tanh")], false),
        ]
        // Every other differentiable unary function with its default attributes on (0.5, 2), away
        // from the kinks at 0 and 1, so a new declaration is checked without an edit here.
        let listed = Set(ops.map(\.0))
        let others = UnaryFunction.allCases.filter { $0.pullback != nil && !listed.contains(.unary($0)) }.map { (Op.unary($0), [String: Attribute](), true) }
        for (k, (op, attrs, positive)) in (ops + others).enumerated() {
            var c = GradCase(seed: 100 + UInt64(k))
            let x = positive ? c.input("x", [3, 5], 0.5...2) : c.input("x", c.rng.awayFromZero([3, 5]))
            let y = c.node(op, [x], attrs)
            try FD.check(c, output: y, wrt: [x], what: "\(op.rawValue)")
        }
    }

    /// Clip with each bound present or absent, inputs kept away from the bounds (the kinks).
    func testClip() throws {
        for (k, (lo, hi)) in [(Float(-0.5), Float(0.7)), (-0.5, nil), (nil, 0.3), (nil, nil)].enumerated() {
            var c = GradCase(seed: 150 + UInt64(k))
            let values = c.rng.awayFromZero([4, 5]).floats.map { v -> Float in
                for b in [lo, hi].compactMap({ $0 }) where Swift.abs(v - b) < 0.05 { return b + 0.1 }
                return v
            }
            let x = c.input("x", Tensor(shape: [4, 5], floats: values))
            let bound = { (name: String, v: Float?) in v.map { c.graph.addInitializer(name, Tensor(shape: [], floats: [$0])) } }
            let ins = [x, bound("lo", lo), bound("hi", hi)]
            let y = c.node(.clip, ins)
            try FD.check(c, output: y, wrt: [x], what: "Clip \(String(describing: lo)) \(String(describing: hi))")
        }
    }

    /// HardSigmoid and HardSwish on both saturated sides and the ramp, away from the kinks.
    func testHardSigmoidAndHardSwishAcrossTheirKinks() throws {
        let values: [Float] = [-4, -2.5, -1.4, -0.6, -0.3, 0.4, 0.7, 1.2, 2.7, 3.5, 5, -3.6]
        let cases: [(Op, [String: Attribute])] = [
            (.hardSigmoid, ["alpha": .float(0.5), "beta": .float(0.5)]),   // kinks at −1 and 1
            (.hardSigmoid, ["alpha": .float(-0.8), "beta": .float(0.2)]),  // kinks at −1, 0.25
            (.hardSwish, [:]),                                              // kinks at ±3
        ]
        for (k, (op, attrs)) in cases.enumerated() {
            var c = GradCase(seed: 170 + UInt64(k))
            let x = c.input("x", Tensor(shape: [3, 4], floats: values))
            let y = c.node(op, [x], attrs)
            try FD.check(c, output: y, wrt: [x], what: "\(op.rawValue) \(attrs)")
        }
    }

    func testBinaryRulesWithBroadcasting() throws {
        let shapes: [([Int], [Int])] = [([3, 5], [3, 5]), ([2, 3, 5], [5]), ([2, 1, 5], [3, 1]), ([3, 5], []), ([1, 5], [3, 1]), ([3], [2, 3, 1])]
        // Every differentiable multidirectional binary function (PRelu below); one not named
        // here gets both operands on (0.5, 2).
        let known: Set<Op> = [.add, .sub, .mul, .div, .pow]
        for op in BinaryFunction.allCases.filter({ $0.pullback != nil && !$0.unidirectional }).map(Op.binary) {
            for (k, (sa, sb)) in shapes.enumerated() {
                var c = GradCase(seed: 200 + UInt64(k))
                let a = op == .pow || !known.contains(op) ? c.input("a", sa, 0.5...2) : c.input("a", sa)
                let b = op == .div ? c.input("b", c.rng.awayFromZero(sb, 0.5, 2)) : known.contains(op) ? c.input("b", sb) : c.input("b", sb, 0.5...2)
                let y = c.node(op, [a, b])
                try FD.check(c, output: y, wrt: [a, b], what: "\(op.rawValue) \(sa) \(sb)")
            }
        }
        // The same value on both sides (x·x, x/x) sums both cotangents.
        var c = GradCase(seed: 250)
        let x = c.input("x", [4, 3])
        let o1 = c.node(.mul, [x, x])
        try FD.check(c, output: o1, wrt: [x], what: "x*x")
    }

    /// Sum, Mean, Max and Min of one to three broadcast inputs (distinct values, no ties), and PRelu
    /// with a broadcast slope.
    func testVariadicAndPRelu() throws {
        let shapes: [[[Int]]] = [[[3, 4]], [[3, 4], [3, 4]], [[2, 3, 4], [4], [3, 1]], [[1, 4], [3, 1], []]]
        for op in [Op.sum, .mean, .max, .min] {
            for (k, ss) in shapes.enumerated() {
                var c = GradCase(seed: 600 + UInt64(k))
                let ins = ss.enumerated().map { i, s in c.input("x\(i)", s) }
                let y = c.node(op, ins)
                try FD.check(c, output: y, wrt: ins, what: "\(op.rawValue) \(ss)")
            }
        }
        for (k, slope) in [[3, 1, 1], [1], [3, 4, 5], []].enumerated() {
            var c = GradCase(seed: 650 + UInt64(k))
            let x = c.input("x", c.rng.awayFromZero([2, 3, 4, 5])), s = c.input("slope", slope)
            let y = c.node(.prelu, [x, s])
            try FD.check(c, output: y, wrt: [x, s], what: "PRelu slope \(slope)")
        }
        // Ties share dY equally: Max(x, x, z) gives x two halves of dY where x wins.
        var c = GradCase(seed: 660)
        let x = c.input("x", [2, 3]), z = c.input("z", [2, 3])
        let y = c.node(.max, [x, x, z])
        try FD.check(c, output: y, wrt: [x, z], what: "Max(x, x, z)")
    }

    func testGemm() throws {
        var k: UInt64 = 0
        for tA in [false, true] {
            for tB in [false, true] {
                for cShape in [nil, [5], [3, 5], [1, 5], [3, 1], []] as [[Int]?] {
                    k += 1
                    var c = GradCase(seed: 300 + k)
                    let a = c.input("a", tA ? [4, 3] : [3, 4]), b = c.input("b", tB ? [5, 4] : [4, 5])
                    let cc = cShape.map { c.input("c", $0) }
                    var attrs: [String: Attribute] = ["transA": .int(tA ? 1 : 0), "transB": .int(tB ? 1 : 0)]
                    if k % 2 == 0 { attrs["alpha"] = .float(0.7); attrs["beta"] = .float(-1.3) }
                    let y = c.node(.gemm, [a, b] + (cc.map { [$0] } ?? []), attrs)
                    try FD.check(c, output: y, wrt: [a, b] + (cc.map { [$0] } ?? []), what: "Gemm tA=\(tA) tB=\(tB) C=\(cShape ?? [-1])")
                }
            }
        }
    }

    func testMatMul() throws {
        let cases: [([Int], [Int])] = [([3, 5], [5, 4]), ([2, 3, 5], [5, 4]), ([2, 3, 5], [2, 5, 4]), ([3, 5], [2, 5, 3])]
        for (k, (sa, sb)) in cases.enumerated() {
            var c = GradCase(seed: 400 + UInt64(k))
            let a = c.input("a", sa), b = c.input("b", sb)
            let o2 = c.node(.matMul, [a, b])
            try FD.check(c, output: o2, wrt: [a, b], what: "MatMul \(sa) \(sb)")
        }
    }

    func testConv() throws {
        struct C { var x: [Int]; var w: [Int]; var attrs: [String: Attribute]; var bias: Bool }
        let cases: [C] = [
            C(x: [2, 3, 7, 7], w: [4, 3, 3, 3], attrs: [:], bias: true),
            C(x: [2, 3, 7, 7], w: [4, 3, 4, 4], attrs: ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], bias: true),
            C(x: [1, 2, 9, 8], w: [3, 2, 3, 3], attrs: ["strides": .ints([2, 3]), "pads": .ints([1, 0, 2, 1]), "dilations": .ints([2, 1])], bias: false),
            C(x: [2, 2, 8, 7], w: [3, 2, 2, 3], attrs: ["dilations": .ints([3, 2]), "pads": .ints([0, 2, 1, 0])], bias: true),
            C(x: [1, 3, 6, 5], w: [3, 3, 3, 3], attrs: ["auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])], bias: false),
        ]
        for (k, t) in cases.enumerated() {
            var c = GradCase(seed: 500 + UInt64(k))
            let x = c.input("x", t.x), w = c.input("w", t.w)
            let b = t.bias ? c.input("b", [t.w[0]]) : nil
            let y = c.node(.conv, [x, w] + (b.map { [$0] } ?? []), t.attrs)
            try FD.check(c, output: y, wrt: [x, w] + (b.map { [$0] } ?? []), what: "Conv \(t.x) \(t.w) \(t.attrs)")
        }
        // Grouped convolution: input and bias gradients (the weight gradient needs group 1).
        var c = GradCase(seed: 550)
        let x = c.input("x", [2, 4, 5, 5]), w = c.input("w", [6, 2, 3, 3]), b = c.input("b", [6])
        let y = c.node(.conv, [x, w, b], ["group": .int(2), "pads": .ints([1, 1, 1, 1])])
        try FD.check(c, output: y, wrt: [x, b], what: "grouped Conv")
        var g = c.graph
        try InferShapes().run(&g)
        let s = g.addNode(.reduceSum, [y], outputs: ["s"], attributes: ["keepdims": .int(0)])[0]
        try InferShapes().run(&g)
        XCTAssertThrowsError(try Autodiff.gradients(of: s, wrt: [w], in: &g)) { e in
            XCTAssertTrue("\(e)".contains("group 1 only"), "\(e)")
        }
    }

    func testConvTranspose() throws {
        struct C { var x: [Int]; var w: [Int]; var attrs: [String: Attribute]; var bias: Bool }
        let cases: [C] = [
            C(x: [2, 3, 4, 4], w: [3, 2, 4, 4], attrs: ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], bias: true),
            C(x: [1, 3, 3, 5], w: [3, 2, 3, 3], attrs: ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "output_padding": .ints([1, 1])], bias: true),
            C(x: [2, 2, 3, 3], w: [2, 3, 3, 2], attrs: ["dilations": .ints([2, 1]), "pads": .ints([0, 1, 1, 0])], bias: false),
            C(x: [1, 2, 3, 4], w: [2, 3, 3, 3], attrs: ["strides": .ints([3, 2]), "output_shape": .ints([9, 8])], bias: false),
        ]
        for (k, t) in cases.enumerated() {
            var c = GradCase(seed: 600 + UInt64(k))
            let x = c.input("x", t.x), w = c.input("w", t.w)
            let b = t.bias ? c.input("b", [t.w[1]]) : nil
            let y = c.node(.convTranspose, [x, w] + (b.map { [$0] } ?? []), t.attrs)
            try FD.check(c, output: y, wrt: [x, w] + (b.map { [$0] } ?? []), what: "ConvTranspose \(t.x) \(t.w) \(t.attrs)")
        }
    }

    /// FusedConvTransposeBatchNorm: gradients through each of its outputs (Y with and without an
    /// activation, Z, and the batch statistics mean and var, whose cotangents arrive in double backward).
    func testFusedConvTransposeBatchNorm() throws {
        let attrs: [String: Attribute] = ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "epsilon": .float(1e-3)]
        for (k, (act, output, bias)) in [("LeakyRelu", 0, true), ("", 0, false), ("Tanh", 1, true), ("", 2, true), ("Sigmoid", 3, false)].enumerated() {
            var c = GradCase(seed: 900 + UInt64(k))
            let x = c.input("x", [2, 3, 3, 3]), w = c.input("w", [3, 2, 4, 4])
            let b = bias ? c.input("b", [2]) : nil
            let scale = c.input("scale", [2], 0.5...1.5), beta = c.input("beta", [2])
            var a = attrs
            if !act.isEmpty { a["activation"] = .string(act) }
            if act == "LeakyRelu" { a["activation_alpha"] = .float(0.2) }
            let outs = c.graph.addNode(.fusedConvTransposeBatchNorm, [x, w, b, scale, beta], outputs: ["y", "z", "mean", "var"],
                                       attributes: a, name: "fused")
            let wrt = [x, w] + (b.map { [$0] } ?? []) + [scale, beta]
            // LeakyRelu's kink sits inside the normalised data: a smaller step keeps the differences off it.
            // Both backward forms: ordinary ops (createGraph) and one BatchNormTrainingGrad node.
            for createGraph in [true, false] {
                let g = try FD.check(c, output: outs[output], wrt: wrt, h: act == "LeakyRelu" ? 1e-3 : 1e-2, createGraph: createGraph,
                                     what: "FusedConvTransposeBatchNorm act=\(act) output \(output) bias=\(bias) createGraph=\(createGraph)")
                let fused = g.nodes.contains { $0.op == .batchNormTrainingGrad }
                XCTAssertEqual(fused, !createGraph && output == 0, "act=\(act) output \(output) createGraph=\(createGraph)")
            }
        }
    }

    /// BatchNormTraining: gradients through Y (each fusable activation, rank 2, 3 and 4) and
    /// through the statistics, by both backward forms; and BatchNormTrainingGrad has no rule.
    func testBatchNormTraining() throws {
        let cases: [(String, [Int], Int)] = [("", [5, 3, 4, 3], 0), ("Relu", [4, 3, 7], 0), ("LeakyRelu", [6, 5], 0),
                                             ("Sigmoid", [3, 2, 3, 3], 0), ("Tanh", [2, 17, 1, 3], 0), ("Tanh", [3, 2, 5], 1),
                                             ("", [3, 2, 5], 2)]
        for (k, (act, shape, output)) in cases.enumerated() {
            var c = GradCase(seed: 1300 + UInt64(k))
            let x = c.input("x", shape, -2...2)
            let ch = shape[1]
            let scale = c.input("scale", [ch], 0.5...1.5), beta = c.input("beta", [ch])
            var a: [String: Attribute] = ["epsilon": .float(1e-3)]
            if !act.isEmpty { a["activation"] = .string(act) }
            if act == "LeakyRelu" { a["activation_alpha"] = .float(0.2) }
            let outs = c.graph.addNode(.batchNormTraining, [x, scale, beta], outputs: ["y", "mean", "var"], attributes: a, name: "bn")
            for createGraph in [true, false] {
                let g = try FD.check(c, output: outs[output], wrt: [x, scale, beta], h: act.contains("Relu") ? 1e-3 : 1e-2,
                                     createGraph: createGraph, what: "BatchNormTraining act=\(act) \(shape) output \(output) createGraph=\(createGraph)")
                XCTAssertEqual(g.nodes.contains { $0.op == .batchNormTrainingGrad }, !createGraph && output == 0, "\(act) \(shape)")
                if !createGraph && output == 0 {
                    // A gradient built without createGraph cannot be differentiated again: a clear error.
                    var g2 = g
                    let dx = try XCTUnwrap(g2.nodes.first { $0.op == .batchNormTrainingGrad }?.outputs[0])
                    let s = g2.addNode(.reduceSum, [dx], outputs: ["s"], attributes: ["keepdims": .int(0)], name: "s")[0]
                    try InferShapes().run(&g2)
                    XCTAssertThrowsError(try Autodiff.gradients(of: s, wrt: [x], in: &g2)) { e in
                        XCTAssert("\(e)".contains("no pullback rule for BatchNormTrainingGrad"), "\(e)")
                    }
                }
            }
        }
    }

    func testShapeRules() throws {
        var c = GradCase(seed: 700)
        var x = c.input("x", [2, 3, 5])
        let o3 = c.node(.reshape, [x, c.ints("s", [5, -1])])
        try FD.check(c, output: o3, wrt: [x], what: "Reshape")
        c = GradCase(seed: 701); x = c.input("x", [2, 3, 5])
        let o4 = c.node(.flatten, [x], ["axis": .int(2)])
        try FD.check(c, output: o4, wrt: [x], what: "Flatten")
        c = GradCase(seed: 702); x = c.input("x", [3, 1, 5])
        let o5 = c.node(.squeeze, [x, c.ints("a", [1])])
        try FD.check(c, output: o5, wrt: [x], what: "Squeeze")
        c = GradCase(seed: 703); x = c.input("x", [3, 5])
        let o6 = c.node(.unsqueeze, [x, c.ints("a", [0, 2])])
        try FD.check(c, output: o6, wrt: [x], what: "Unsqueeze")
        c = GradCase(seed: 704); x = c.input("x", [2, 3, 5])
        let o7 = c.node(.transpose, [x], ["perm": .ints([2, 0, 1])])
        try FD.check(c, output: o7, wrt: [x], what: "Transpose")
        c = GradCase(seed: 705); x = c.input("x", [2, 3, 5])
        let y = c.input("y", [2, 1, 5]), z = c.input("z", [2, 4, 5])
        let o8 = c.node(.concat, [x, y, z, x], ["axis": .int(1)])
        try FD.check(c, output: o8, wrt: [x, y, z], what: "Concat")
        c = GradCase(seed: 706); x = c.input("x", [4, 7, 5])
        let sl = c.node(.slice, [x, c.ints("st", [1, 2]), c.ints("en", [3, -1]), c.ints("ax", [0, 1])])
        try FD.check(c, output: sl, wrt: [x], what: "Slice")
        c = GradCase(seed: 707); x = c.input("x", [3, 1, 5])
        let o9 = c.node(.expand, [x, c.ints("sh", [2, 3, 4, 1])])
        try FD.check(c, output: o9, wrt: [x], what: "Expand")
        c = GradCase(seed: 708); x = c.input("emb", [6, 4])
        let idx = c.ints("idx", [1, 5, 1, 0, -1, 3], shape: [2, 3])
        let o10 = c.node(.gather, [x, idx])
        try FD.check(c, output: o10, wrt: [x], what: "Gather axis 0")
        c = GradCase(seed: 709); x = c.input("x", [3, 6, 2])
        let o11 = c.node(.gather, [x, c.ints("i", [4, 4, 0])], ["axis": .int(1)])
        try FD.check(c, output: o11, wrt: [x], what: "Gather axis 1")
        for (k, (op, keep)) in [(Op.reduceSum, 0), (.reduceSum, 1), (.reduceMean, 0), (.reduceMean, 1)].enumerated() {
            c = GradCase(seed: 710 + UInt64(k)); x = c.input("x", [3, 4, 5])
            let o12 = c.node(op, [x, c.ints("ax", [0, 2])], ["keepdims": .int(keep)])
            try FD.check(c, output: o12, wrt: [x], what: "\(op.rawValue) keepdims=\(keep)")
            c = GradCase(seed: 720 + UInt64(k)); x = c.input("x", [3, 4, 5])
            let o13 = c.node(op, [x], ["keepdims": .int(keep)])
            try FD.check(c, output: o13, wrt: [x], what: "\(op.rawValue) all axes keepdims=\(keep)")
        }
        for (k, op) in [Op.softmax, .logSoftmax].enumerated() {
            c = GradCase(seed: 730 + UInt64(k)); x = c.input("x", [3, 5, 2], -2...2)
            let o14 = c.node(op, [x], ["axis": .int(1)])
            try FD.check(c, output: o14, wrt: [x], what: "\(op.rawValue)")
        }
        c = GradCase(seed: 740); x = c.input("x", [2, 3, 3, 5])
        let o15 = c.node(.globalAveragePool, [x])
        try FD.check(c, output: o15, wrt: [x], what: "GlobalAveragePool")
    }

    /// ReduceSumSquare (2·x·dY) and ReduceL2 (x·dY/‖x‖) over some and all axes, both keepdims;
    /// Cast between float types passes dY through (FLOAT16's rounding as the identity).
    func testNormReductionsAndCast() throws {
        for (k, (op, keep)) in [(Op.reduceSumSquare, 0), (.reduceSumSquare, 1), (.reduceL2, 0), (.reduceL2, 1)].enumerated() {
            var c = GradCase(seed: 760 + UInt64(k))
            var x = c.input("x", [3, 4, 5], 0.2...1.5)
            let o1 = c.node(op, [x, c.ints("ax", [0, 2])], ["keepdims": .int(keep)])
            try FD.check(c, output: o1, wrt: [x], what: "\(op.rawValue) keepdims=\(keep)")
            c = GradCase(seed: 770 + UInt64(k)); x = c.input("x", [2, 3, 5], -1.5...1.5)
            let o2 = c.node(op, [x], ["keepdims": .int(keep)])
            try FD.check(c, output: o2, wrt: [x], what: "\(op.rawValue) all axes keepdims=\(keep)")
        }
        var c = GradCase(seed: 780)
        let x = c.input("x", [2, 7])
        let y = c.node(.tanh, [c.node(.cast, [x], ["to": .int(11)])])
        try FD.check(c, output: y, wrt: [x], what: "Cast to DOUBLE")
    }

    func testInferenceBatchNorm() throws {
        var c = GradCase(seed: 800)
        let x = c.input("x", [2, 3, 4, 5]), scale = c.input("scale", [3]), bias = c.input("bias", [3])
        let mean = c.input("mean", [3]), variance = c.input("var", [3], 0.5...2)
        let y = c.node(.batchNormalization, [x, scale, bias, mean, variance], ["epsilon": .float(1e-3)])
        try FD.check(c, output: y, wrt: [x, scale, bias, mean, variance], what: "BatchNormalization (inference)")
    }

    /// The internal gradient ops have rules of their own (second order).
    func testGradientOpRules() throws {
        var c = GradCase(seed: 900)
        let dy = c.input("dy", [3, 5]), y = c.input("y", c.rng.awayFromZero([3, 5]))
        let g = c.node(.leakyReluGrad, [dy, y], ["alpha": .float(0.2)])
        try FD.check(c, output: g, wrt: [dy, y], what: "LeakyReluGrad")
        for (k, alpha) in [Float(1), 0.4, 0].enumerated() {
            c = GradCase(seed: 903 + UInt64(k))
            let edy = c.input("dy", [3, 5]), ey = c.input("y", c.rng.awayFromZero([3, 5]))
            let e = c.node(.eluGrad, [edy, ey], ["alpha": .float(alpha)])
            try FD.check(c, output: e, wrt: [edy, ey], what: "EluGrad alpha=\(alpha)")
        }
        c = GradCase(seed: 901)
        let d = c.input("d", [2, 3, 4])
        let idx = c.ints("idx", [1, 5, 1], shape: [3])
        let o16 = c.node(.gatherGrad, [d, idx], ["axis": .int(1), "size": .int(6)])
        try FD.check(c, output: o16, wrt: [d], what: "GatherGrad")
        c = GradCase(seed: 902)
        let s = c.input("s", c.rng.awayFromZero([4, 3]))
        let o17 = c.node(.sign, [s])
        try FD.check(c, output: o17, wrt: [s], what: "Sign")
    }

    /// A small MLP chain: fan-out, several rules composed.
    func testComposite() throws {
        var c = GradCase(seed: 950)
        let x = c.input("x", [4, 6]), w1 = c.input("w1", [6, 5]), b1 = c.input("b1", [5]), w2 = c.input("w2", [3, 5])
        let h = c.node(.tanh, [c.node(.gemm, [x, w1, b1])])
        let o = c.node(.gemm, [h, w2], ["transB": .int(1)])
        let sm = c.node(.logSoftmax, [o], ["axis": .int(1)])
        let hh = c.node(.mul, [h, h])
        let ax = c.ints("ax", [1])
        let rm = c.node(.reduceMean, [hh, ax])
        let out = c.node(.add, [sm, rm])
        try FD.check(c, output: out, wrt: [x, w1, b1, w2], what: "MLP")
    }
}
