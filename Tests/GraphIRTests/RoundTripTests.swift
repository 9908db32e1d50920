import TestSupport
import XCTest
import GraphIR

final class RoundTripTests: XCTestCase {
    static let special: [Float] = [.infinity, -.infinity, .nan, 1e-5, -0.0, Float.leastNonzeroMagnitude,
                                   Float.leastNormalMagnitude / 4, .greatestFiniteMagnitude, 0.1, 1, -2.5, 1e20]

    /// A graph using every op, every attribute kind, symbolic dims, quoted names, absent inputs,
    /// node names, doc, metadata and literal and base64 initializers. Values are created in the
    /// canonical order (inputs, initializers, node outputs) so the parsed graph is equal.
    static func everything() -> Graph {
        var g = Graph(name: "every \"op\"")
        g.docString = "A graph with \"quotes\", a back\\slash,\na newline and\ta tab."
        g.metadata = ["producer": "gannet-tests", "weird \"key\"": "line1\nline2", "empty": ""]
        let N = Dim.symbol("N")
        let x = g.addInput("x", TensorType(.float32, [N, .fixed(3), .fixed(8), .fixed(8)]))
        let v = g.addInput("onnx::Gemm_3", TensorType(.float32, [.symbol("batch"), .fixed(4)]))
        let idx = g.addInput("idx", TensorType(.int64, [.fixed(2)]))
        let scalar = g.addInput("s", TensorType(.float32, []))
        let w = g.addInitializer("conv.weight", Tensor(shape: [4, 3, 1, 1], floats: (0..<12).map { Float($0) / 7 }))
        let special = g.addInitializer("special values", Tensor(shape: [3, 4], floats: Self.special))
        let big = g.addInitializer("/fc/Gemm_output_0", Tensor(shape: [5, 4], floats: (0..<20).map { Float($0) * 0.3 - 2 } + []))
        let bigSpecial = g.addInitializer("big.special", Tensor(shape: [24], floats: Self.special + Self.special.reversed()))
        let shape = g.addInitializer("shape", Tensor(shape: [2], int64s: [0, -1]))
        let bigInts = g.addInitializer("big.ints", Tensor(shape: [20], int64s: (0..<18).map { Int64($0) - 9 } + [.min, .max]))
        let i32 = g.addInitializer("i32", Tensor(shape: [2], int64s: [1, -1], dtype: .int32))
        let flags = g.addInitializer("flags", Tensor(shape: [2, 1], int64s: [1, 0], dtype: .bool))
        let empty = g.addInitializer("empty", Tensor(shape: [0], floats: []))
        let one = g.addInitializer("one", Tensor(shape: [], floats: [1]))
        let c3 = g.addInitializer("c3", Tensor(shape: [3], floats: [1, 2, 3]))
        let scales = g.addInitializer("scales", Tensor(shape: [2], floats: [2, 0.5]))
        _ = (special, bigSpecial, bigInts, i32, flags, empty)
        let f32 = { (dims: [Dim]) in TensorType(.float32, dims) }

        var c = g.addNode(.conv, [x, w, nil], outputs: ["c"], attributes: [
            "auto_pad": .string("NOTSET"), "dilations": .ints([1, 1]), "group": .int(1),
            "kernel_shape": .ints([1, 1]), "pads": .ints([0, 0, 0, 0]), "strides": .ints([1, 1])], name: "conv")[0]
        g[c].type = f32([N, .fixed(4), .fixed(8), .fixed(8)])
        c = g.addNode(.convTranspose, [c, w, nil], outputs: ["ct"],
                      attributes: ["output_padding": .ints([1, 1]), "output_shape": .ints([]), "strides": .ints([2, 2])],
                      name: "a \"quoted\" name\\with escapes")[0]
        let bn = g.addNode(.batchNormalization, [c, one, one, one, one], outputs: ["bn"],
                           attributes: ["epsilon": .float(1e-5), "momentum": .float(0.9)])[0]
        let gm = g.addNode(.gemm, [v, big, nil], outputs: ["onnx::Gemm_out"],
                           attributes: ["alpha": .float(-0.0), "transB": .int(1), "beta": .float(.infinity)])[0]
        let mm = g.add(.matMul, gm, big, output: "/mm/MatMul_output_0")
        var t = mm
        for op in [Op.add, .sub, .mul, .div, .pow] { t = g.add(op, t, scalar, output: "bin.\(op.rawValue)") }
        for op in [Op.relu, .sigmoid, .tanh, .softplus, .exp, .log, .sqrt, .neg, .abs, .identity] {
            t = g.add(op, t, output: "un.\(op.rawValue)")
        }
        t = g.add(.leakyRelu, t, output: "lrelu", attributes: ["alpha": .float(0.2)])
        t = g.add(.elu, t, output: "elu", attributes: ["alpha": .float(0.5)])
        t = g.add(.selu, t, output: "selu", attributes: ["alpha": .float(1.5), "gamma": .float(1.25)])
        t = g.add(.hardSigmoid, t, output: "hsig", attributes: ["alpha": .float(0.25), "beta": .float(0.5)])
        t = g.add(.gelu, t, output: "gelu", attributes: ["approximate": .string("tanh")])
        for op in [Op.erf, .hardSwish] { t = g.add(op, t, output: "un.\(op.rawValue)") }
        t = g.addNode(.clip, [t, nil, one], outputs: ["clip"])[0]
        t = g.addNode(.sum, [t, mm, scalar], outputs: ["sum"])[0]
        t = g.addNode(.mean, [t], outputs: ["mean"])[0]
        for op in [Op.max, .min, .prelu] { t = g.add(op, t, scalar, output: "bin.\(op.rawValue)") }
        // Point-wise functions not named above (a new declaration joins without an edit here).
        let named = Set(g.nodes.map(\.op))
        for f in UnaryFunction.allCases where !named.contains(.unary(f)) { t = g.add(.unary(f), t, output: "fn.\(f.rawValue)") }
        for f in BinaryFunction.allCases where !named.contains(.binary(f)) { t = g.add(.binary(f), t, scalar, output: "fn.\(f.rawValue)") }
        t = g.add(.sign, t, output: "un.Sign")
        t = g.addNode(.dropout, [t, nil, nil], outputs: ["dropout"], attributes: ["seed": .int(7)], name: "drop")[0]
        t = g.add(.leakyReluGrad, t, mm, output: "lrelu.grad", attributes: ["alpha": .float(0.2)])
        t = g.add(.eluGrad, t, mm, output: "elu.grad", attributes: ["alpha": .float(0.5)])
        t = g.add(.gatherGrad, t, idx, output: "gather.grad", attributes: ["axis": .int(1), "size": .int(7)])
        _ = g.add(.fusedConv, x, w, output: "fused.conv", attributes: ["activation": .string("LeakyRelu"), "activation_alpha": .float(0.2)])
        _ = g.add(.fusedConvTranspose, x, w, output: "fused.convT", attributes: ["activation": .string("Relu")])
        _ = g.add(.fusedGemm, v, big, output: "fused.gemm", attributes: ["activation": .string("Tanh"), "transB": .int(1)])
        _ = g.addNode(.fusedBatchNormalization, [bn, one, one, one, one], outputs: ["fused.bn"],
                      attributes: ["epsilon": .float(1e-3), "activation": .string("Clip"), "activation_alpha": .float(0),
                                   "activation_beta": .float(6)])
        _ = g.addNode(.fusedConvTransposeBatchNorm, [x, w, nil, one, one], outputs: ["fused.ctbn", "fused.ctbn.z", "fused.ctbn.mean", "fused.ctbn.var"],
                      attributes: ["activation": .string("LeakyRelu"), "activation_alpha": .float(0.2), "epsilon": .float(1e-3),
                                   "strides": .ints([2, 2])], name: "ctbn")
        let bnt = g.addNode(.batchNormTraining, [x, one, one], outputs: ["bnt.y", "bnt.mean", "bnt.var"],
                            attributes: ["epsilon": .float(1e-3), "activation": .string("Sigmoid")], name: "bnt")
        _ = g.addNode(.batchNormTrainingGrad, [x, x, bnt[1], bnt[2], one, one], outputs: ["bnt.dx", "bnt.dscale", "bnt.dbias"],
                      attributes: ["epsilon": .float(1e-3)], name: "bnt.grad")
        let r = g.add(.reshape, bn, shape, output: "reshape", attributes: ["allowzero": .int(0)])
        let fl = g.add(.flatten, bn, output: "flat", attributes: ["axis": .int(-1)])
        let tr = g.add(.transpose, x, output: "tr", attributes: ["perm": .ints([0, 2, 3, 1])])
        let cc = g.add(.concat, x, x, x, output: "cat", attributes: ["axis": .int(1)])
        let ga = g.add(.gather, x, idx, output: "gather", attributes: ["axis": .int(1)])
        let us = g.add(.unsqueeze, x, shape, output: "unsq")
        let sq = g.add(.squeeze, us, shape, output: "sq")
        let sl = g.addNode(.slice, [x, shape, shape, nil, shape], outputs: ["slice"])[0]
        let ex = g.add(.expand, scalar, shape, output: "expand")
        let rm = g.add(.reduceMean, x, shape, output: "rmean", attributes: ["keepdims": .int(0)])
        let rs = g.add(.reduceSum, x, shape, output: "rsum", attributes: ["keepdims": .int(1), "noop_with_empty_axes": .int(0)])
        let k1 = g.add(.constant, output: "k1", attributes: ["value": .tensor(Tensor(shape: [2, 2], floats: [1, .nan, -0.0, 1e-5]))])
        let k2 = g.add(.constant, output: "k2", attributes: ["value": .tensor(Tensor(shape: [17], int64s: (0..<17).map(Int64.init)))])
        let k3 = g.add(.constant, output: "k3", attributes: ["value_floats": .floats([])])
        let k4 = g.add(.constant, output: "k4", attributes: ["value_floats": .floats([1.5, -0.0, .infinity, -.infinity, 1e-5])])
        let k5 = g.add(.constant, output: "k5", attributes: ["value_float": .float(3)])
        let k6 = g.add(.constant, output: "k6", attributes: ["value_ints": .ints([]), "value_int": .int(-7)])
        let sm = g.add(.softmax, t, output: "softmax", attributes: ["axis": .int(-1)])
        let lsm = g.add(.logSoftmax, t, output: "logsoftmax")
        let mp = g.addNode(.maxPool, [x], outputs: ["mp", "mp.indices"], attributes: [
            "kernel_shape": .ints([2, 2]), "ceil_mode": .int(1), "auto_pad": .string("tab\there \"and\" \\ back")], name: "pool")
        g[mp[0]].type = f32([N, .fixed(3), .fixed(4), .fixed(4)])
        g[mp[1]].type = TensorType(.int64, [N, .fixed(3), .fixed(4), .fixed(4)])
        let ap = g.add(.averagePool, x, output: "ap", attributes: ["kernel_shape": .ints([3, 3]), "count_include_pad": .int(1)])
        let gap = g.add(.globalAveragePool, x, output: "gap")
        let ar = g.add(.allReduce, t, output: "allreduce", attributes: ["mode": .string("sum")])
        let shp = g.add(.shape, x, output: "shape.of", attributes: ["start": .int(1), "end": .int(-1)])
        let sz = g.add(.size, x, output: "size.of")
        let cos = g.add(.constantOfShape, shape, output: "fill", attributes: ["value": .tensor(Tensor(shape: [1], int64s: [-3]))])
        let cst = g.add(.cast, x, output: "cast.f16", attributes: ["to": .int(10), "saturate": .int(1)])
        let reds = [Op.reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd].map {
            g.add($0, x, shape, output: "r.\($0.rawValue)", attributes: ["keepdims": .int(0)])
        }
        let lrn = g.add(.lrn, x, output: "lrn", attributes: ["size": .int(3), "alpha": .float(1e-3), "beta": .float(0.5), "bias": .float(2)])
        let gmp = g.add(.globalMaxPool, x, output: "gmp")
        let inorm = g.add(.instanceNormalization, x, c3, c3, output: "inorm", attributes: ["epsilon": .float(1e-3)])
        let gnorm = g.add(.groupNormalization, inorm, c3, c3, output: "gnorm", attributes: ["num_groups": .int(3)])
        let lnorm = g.addNode(.layerNormalization, [gnorm, one, nil], outputs: ["lnorm", "lnorm.mean", "lnorm.inv"],
                              attributes: ["axis": .int(-1), "stash_type": .int(1)])
        let rz = g.addNode(.resize, [lnorm[0], nil, scales, nil], outputs: ["resize"], attributes: [
            "mode": .string("linear"), "axes": .ints([2, 3]), "coordinate_transformation_mode": .string("align_corners")])[0]
        let pd = g.addNode(.pad, [rz, shape, one, idx], outputs: ["pad"], attributes: ["mode": .string("reflect")])[0]
        let cmps = [Op.equal, .less, .lessOrEqual, .greater, .greaterOrEqual].map { g.add($0, x, scalar, output: "cmp.\($0.rawValue)") }
        let logic = [Op.and, .or, .xor].map { g.add($0, flags, flags, output: "logic.\($0.rawValue)") }
        let nt = g.add(.not, flags, output: "not")
        let wh = g.add(.where, cmps[0], x, scalar, output: "where")
        let sp = g.addNode(.split, [x], outputs: ["split.a", "split.b"], attributes: ["axis": .int(-1), "num_outputs": .int(2)], name: "split")
        let ti = g.add(.tile, x, shape, output: "tile")
        let am = g.add(.argMax, x, output: "argmax", attributes: ["axis": .int(1), "keepdims": .int(0), "select_last_index": .int(1)])
        let an = g.add(.argMin, x, output: "argmin")
        let at = g.addNode(.fusedAttention, [x, x, x], outputs: ["attention"], attributes: ["transB": .int(1), "value_first": .int(0)])[0]
        g.outputs = [r, fl, tr, cc, ga, sq, sl, ex, rm, rs, k1, k2, k3, k4, k5, k6, sm, lsm, mp[0], mp[1], ap, gap, ar,
                     shp, sz, cos, cst, lrn, gmp, lnorm[1], lnorm[2], pd] + reds + cmps + logic + [nt, wh, sp[0], sp[1], ti, am, an, at]
        return g
    }

    func testEveryOpIsUsed() {
        let used = Set(Self.everything().nodes.map(\.op))
        XCTAssertEqual(used, Set(Op.allCases), "missing: \(Set(Op.allCases).subtracting(used))")
    }

    func testEverythingVerifiesAndRoundTrips() throws {
        let g = Self.everything()
        try g.verify()
        let h = try XCTUnwrap(assertRoundTrip(g))
        try h.verify()
        // A second round keeps the text fixed.
        XCTAssertEqual(try Graph.parse(h.text).text, g.text)
    }

    func testTextDetails() throws {
        let text = Self.everything().text
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, #"graph "every \"op\"" {"#)
        XCTAssertEqual(lines.last, "}")
        XCTAssert(lines.contains(#"  doc "A graph with \"quotes\", a back\\slash,\na newline and\ta tab.""#), text)
        XCTAssert(lines.contains(#"  meta "weird \"key\"" = "line1\nline2""#))
        XCTAssert(lines.contains(#"  input %"onnx::Gemm_3": f32[batch,4]"#))
        XCTAssert(lines.contains("  input %x: f32[N,3,8,8]"))
        XCTAssert(lines.contains("  input %s: f32[]"))
        XCTAssert(lines.contains(#"  init %"special values": f32[3,4] = [inf, -inf, nan, 1e-05, -0.0, 1e-45, 2.938736e-39, 3.4028235e+38, 0.1, 1.0, -2.5, 1e+20]"#), text)
        XCTAssert(lines.contains("  init %shape: i64[2] = [0, -1]"))
        XCTAssert(lines.contains("  init %i32: i32[2] = [1, -1]"))
        XCTAssert(lines.contains("  init %flags: bool[2,1] = [1, 0]"))
        XCTAssert(lines.contains("  init %empty: f32[0] = []"))
        XCTAssert(lines.contains("  init %one: f32[] = [1.0]"))
        XCTAssert(lines.contains { $0.hasPrefix(#"  init %/fc/Gemm_output_0: f32[5,4] = base64 ""#) }, text)
        XCTAssert(lines.contains { $0.hasPrefix(#"  init %big.ints: i64[20] = base64 ""#) })
        XCTAssert(lines.contains(#"  %"onnx::Gemm_out" = Gemm(%"onnx::Gemm_3", %/fc/Gemm_output_0, _) {alpha=-0.0, beta=inf, transB=1}"#), text)
        XCTAssert(lines.contains("  %slice = Slice(%x, %shape, %shape, _, %shape)"))
        XCTAssert(lines.contains("  %k3 = Constant() {value_floats=floats[]}"))
        XCTAssert(lines.contains("  %k4 = Constant() {value_floats=[1.5, -0.0, inf, -inf, 1e-05]}"))
        XCTAssert(lines.contains("  %k6 = Constant() {value_int=-7, value_ints=[]}"))
        XCTAssert(lines.contains("  %k1 = Constant() {value=tensor f32[2,2] [1.0, nan, -0.0, 1e-05]}"))
        XCTAssert(lines.contains { $0.hasPrefix("  %k2 = Constant() {value=tensor i64[17] base64 \"") })
        XCTAssert(lines.contains(#"  %mp: f32[N,3,4,4], %mp.indices: i64[N,3,4,4] = MaxPool(%x) {auto_pad="tab\there \"and\" \\ back", ceil_mode=1, kernel_shape=[2, 2]} name "pool""#), text)
        XCTAssert(lines.contains { $0.hasSuffix(#"name "a \"quoted\" name\\with escapes""#) })
        XCTAssert(lines.contains("  output %gap"))
    }

    func testSpecialFloatsSurviveByBitPattern() throws {
        let g = try Graph.parse(Self.everything().text)
        let lit = try XCTUnwrap(g.initializers[try XCTUnwrap(g.value(named: "special values"))])
        let b64 = try XCTUnwrap(g.initializers[try XCTUnwrap(g.value(named: "big.special"))])
        for t in [lit.floats, Array(b64.floats.prefix(12))] {
            XCTAssertEqual(t.map(\.bitPattern), Self.special.map(\.bitPattern))
            XCTAssert(t[2].isNaN)
            XCTAssertEqual(t[4].sign, .minus)
            XCTAssert(t[5].isSubnormal)
        }
        // base64 keeps NaN payloads bit for bit.
        var h = Graph(name: "nan")
        let odd = Float(bitPattern: 0xFFA0_0001)
        let v = h.addInitializer("w", Tensor(shape: [17], floats: [odd] + Array(repeating: 1, count: 16)))
        h.outputs = [v]
        let parsed = try Graph.parse(h.text)
        XCTAssertEqual(parsed.initializers[v]!.floats[0].bitPattern, 0xFFA0_0001)
    }

    func testLiteralLimitBoundary() throws {
        var g = Graph()
        let a = g.addInitializer("a", Tensor(shape: [16], floats: (0..<16).map(Float.init)))
        let b = g.addInitializer("b", Tensor(shape: [17], floats: (0..<17).map(Float.init)))
        let c = g.addInitializer("c", Tensor(shape: [4, 4], int64s: (0..<16).map(Int64.init)))
        let d = g.addInitializer("d", Tensor(shape: [17], int64s: (0..<17).map(Int64.init)))
        g.outputs = [a, b, c, d]
        let text = g.text
        XCTAssert(text.contains("init %a: f32[16] = [0.0, 1.0"))
        XCTAssert(text.contains("init %b: f32[17] = base64 \""))
        XCTAssert(text.contains("init %c: i64[4,4] = [0, 1"))
        XCTAssert(text.contains("init %d: i64[17] = base64 \""))
        assertRoundTrip(g)
    }

    func testParsesCommentsAndLooseWhitespace() throws {
        let text = """
        # a comment line
        graph "g" {   # trailing comment
          input %x : f32[ N , 4 ]
          %y:f32[N,4]=Relu(%x){}
            output %y
        }

        """
        let g = try Graph.parse(text)
        XCTAssertEqual(g.text, """
        graph "g" {
          input %x: f32[N,4]
          %y: f32[N,4] = Relu(%x)
          output %y
        }

        """)
    }

    // MARK: property-style round trip

    static func randomGraph(_ seed: UInt64) -> Graph {
        var rng = SeededRandom(seed: seed)
        var g = Graph(name: rng.pick(["g", "random graph", "q\"uote", "x/y.z-0"]))
        if rng.bool() { g.docString = rng.pick(["doc", "multi\nline \"doc\"", "\\", "\t"]) }
        for i in 0..<rng.int(0...3) { g.metadata["k\(i)\(rng.pick(["", " ", "\"", "::"]))"] = "v\(rng.int(0...99))" }
        var count = 0
        func freshName(_ rng: inout SeededRandom) -> String {
            count += 1
            return rng.pick(["v", "onnx::Add_", "/layer/Conv_output_", "a b ", "é", "x.y-", "_", "quote\"", "back\\slash"]) + String(count)
        }
        func randomType(_ rng: inout SeededRandom) -> TensorType {
            let dims = (0..<rng.int(0...4)).map { _ in rng.int(0...5) == 0 ? Dim.symbol(rng.pick(["N", "batch", "T_1"])) : .fixed(rng.int(0...9)) }
            return TensorType(rng.pick(DType.allCases), dims)
        }
        func randomTensor(_ rng: inout SeededRandom) -> Tensor {
            let shape = rng.bool() ? [rng.int(0...40)] : [rng.int(1...5), rng.int(1...6)]
            let n = shape.reduce(1, *)
            let dtype = rng.pick(DType.allCases)
            if dtype == .float32 { return Tensor(shape: shape, floats: (0..<n).map { _ in rng.anyFloat() }) }
            return Tensor(shape: shape, int64s: (0..<n).map { _ in Int64(bitPattern: rng.next()) >> rng.int(0...63) }, dtype: dtype)
        }
        var defined: [ValueID] = []
        for _ in 0..<rng.int(1...3) { defined.append(g.addInput(freshName(&rng), randomType(&rng))) }
        for _ in 0..<rng.int(0...4) { defined.append(g.addInitializer(freshName(&rng), randomTensor(&rng))) }
        for _ in 0..<rng.int(1...12) {
            let op = rng.pick(Op.allCases)
            let nIn = min(op.inputArity.upperBound, op.inputArity.lowerBound + rng.int(0...2))
            let ins: [ValueID?] = (0..<nIn).map { i in i > 0 && rng.int(0...4) == 0 ? nil : rng.pick(defined) }
            var attrs: [String: Attribute] = [:]
            for _ in 0..<rng.int(0...3) {
                let key = rng.pick(["axis", "alpha", "perm", "value", "auto_pad", "scales", "x_1", "transB"])
                switch rng.int(0...5) {
                case 0: attrs[key] = .int(rng.int(-100...100) * (rng.bool() ? 1 : 1_000_000_007))
                case 1: attrs[key] = .float(rng.anyFloat())
                case 2: attrs[key] = .string(rng.pick(["", "SAME_UPPER", "a \"b\" \\ c\nd\te"]))
                case 3: attrs[key] = .ints((0..<rng.int(0...5)).map { _ in rng.int(-9...9) })
                case 4: attrs[key] = .floats((0..<rng.int(0...5)).map { _ in rng.anyFloat() })
                default: attrs[key] = .tensor(randomTensor(&rng))
                }
            }
            let nOut = op.outputArity.lowerBound + rng.int(0...min(op.outputArity.count - 1, 2))   // Split: any number
            let outs = g.addNode(op, ins, outputs: (0..<nOut).map { _ in freshName(&rng) }, attributes: attrs,
                                 name: rng.bool() ? "" : rng.pick(["n", "layer \"1\"", "/seq/0/Conv"]))
            for o in outs where rng.bool() { g[o].type = randomType(&rng) }
            defined += outs
        }
        g.outputs = (0..<rng.int(1...3)).map { _ in rng.pick(defined) }
        return g
    }

    func testRandomGraphsRoundTrip() {
        for seed in UInt64(1)...200 {
            let g = Self.randomGraph(seed)
            guard assertRoundTrip(g) != nil else { return }
        }
    }
}
