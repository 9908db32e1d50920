// InterpreterTests+ModelOps: the ops real ONNX models need beyond the training set (issue 14) —
// the Reduce* family, GlobalMaxPool, LRN, Cast (float ↔ float, runtime integers → float), Shape,
// Size and Pow with a runtime integer exponent — compiled and run by a Session against the
// reference evaluator (the scalar kernels) and hand-computed values.

import XCTest
import GraphIR
import Passes
import Runtime
import Kernels
import TestSupport

extension InterpreterTests {
    func runBoth(_ g: Graph, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line) throws -> (Tensor, Tensor) {
        let got = try Session(graph: g, threads: 2).run(inputs)[0]
        let want = try ReferenceEvaluator.run(g, inputs)[0]
        return (got, want)
    }

    func unaryGraph(_ op: Op, _ shape: [Dim], _ extra: [ValueID?] = [], attributes: [String: Attribute] = [:],
                    axes: [Int]? = nil) -> Graph {
        var g = Graph(name: op.rawValue)
        let x = g.addInput("x", TensorType(.float32, shape))
        var ins: [ValueID?] = [x]
        if let axes { ins.append(g.addInitializer("axes", Tensor(shape: [axes.count], int64s: axes.map(Int64.init)))) }
        g.outputs = g.addNode(op, ins, outputs: ["y"], attributes: attributes)
        return g
    }

    func testReductionsThroughSession() throws {
        let x = randomTensor([3, 5, 7], seed: 31)
        let positive = Tensor(shape: x.shape, floats: x.floats.map { abs($0) * 0.5 + 0.75 })
        let ops: [(Op, (ArraySlice<Float>) -> Float)] = [
            (.reduceSumSquare, { $0.reduce(0) { $0 + $1 * $1 } }), (.reduceL2, { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }),
            (.reduceMax, { $0.max()! }), (.reduceMin, { $0.min()! }), (.reduceProd, { $0.reduce(1, *) })]
        for (op, f) in ops {
            for keep in [0, 1] {
                let g = unaryGraph(op, x.shape.map { .fixed($0) }, attributes: ["keepdims": .int(keep)], axes: [-1])
                let input = op == .reduceProd ? positive : x
                let (got, want) = try runBoth(g, [input])
                XCTAssertEqual(got.shape, keep == 1 ? [3, 5, 1] : [3, 5], op.rawValue)
                assertClose(got, want)
                let rows = stride(from: 0, to: 105, by: 7).map { f(input.floats[$0..<$0 + 7]) }
                assertClose(got, Tensor(shape: got.shape, floats: rows))
            }
            // Over the middle axis with a symbolic batch bound at run time.
            let g = unaryGraph(op, [.symbol("N"), .fixed(5), .fixed(7)], axes: [1])
            let (got, want) = try runBoth(g, [op == .reduceProd ? positive : x])
            XCTAssertEqual(got.shape, [3, 1, 7])
            assertClose(got, want)
        }
    }

    func testGlobalMaxPoolAndLRNThroughSession() throws {
        let x = randomTensor([2, 5, 3, 7], seed: 32)
        let (gm, gmRef) = try runBoth(unaryGraph(.globalMaxPool, [.symbol("N"), .fixed(5), .fixed(3), .fixed(7)]), [x])
        XCTAssertEqual(gm.shape, [2, 5, 1, 1])
        assertClose(gm, gmRef)
        assertClose(gm, Tensor(shape: [2, 5, 1, 1], floats: stride(from: 0, to: 210, by: 21).map { x.floats[$0..<$0 + 21].max()! }))
        let attrs: [String: Attribute] = ["size": .int(3), "alpha": .float(0.5), "beta": .float(0.75), "bias": .float(2)]
        let (l, lRef) = try runBoth(unaryGraph(.lrn, x.shape.map { .fixed($0) }, attributes: attrs), [x])
        assertClose(l, lRef)
        // Element (n 1, c 4, h 2, w 6): the window is channels 3…4.
        let at = { (c: Int) in ((1 * 5 + c) * 3 + 2) * 7 + 6 }
        let sq = x.floats[at(3)] * x.floats[at(3)] + x.floats[at(4)] * x.floats[at(4)]
        XCTAssertEqual(l.floats[at(4)], x.floats[at(4)] / pow(2 + 0.5 / 3 * sq, 0.75), accuracy: 1e-6)
    }

    func testCastShapeSizeThroughSession() throws {
        let x = Tensor(shape: [2, 3], floats: [1.00048828125, 1.000732421875, 70000, -0.1, 3.14159265, 1e-8])
        let (h, hRef) = try runBoth(unaryGraph(.cast, [.symbol("N"), .fixed(3)], attributes: ["to": .int(10)]), [x])
        XCTAssertEqual(h.floats, [1, 1.0009765625, .infinity, -0.0999755859375, 3.140625, 0])
        XCTAssertEqual(h, hRef)
        let (d, _) = try runBoth(unaryGraph(.cast, [.fixed(2), .fixed(3)], attributes: ["to": .int(11)]), [x])
        XCTAssertEqual(d, x)
        let (i, iRef) = try runBoth(unaryGraph(.cast, [.fixed(2), .fixed(3)], attributes: ["to": .int(7)]), [x])
        XCTAssertEqual(i, Tensor(shape: [2, 3], int64s: [1, 1, 70000, 0, 3, 0]))
        XCTAssertEqual(iRef, i)
        let (s, sRef) = try runBoth(unaryGraph(.shape, [.symbol("N"), .fixed(3)]), [x])
        XCTAssertEqual(s, Tensor(shape: [2], int64s: [2, 3]))
        XCTAssertEqual(sRef, s)
        let (s1, _) = try runBoth(unaryGraph(.shape, [.symbol("N"), .fixed(3)], attributes: ["start": .int(-1)]), [x])
        XCTAssertEqual(s1, Tensor(shape: [1], int64s: [3]))
        let (n, nRef) = try runBoth(unaryGraph(.size, [.symbol("N"), .fixed(3)]), [x])
        XCTAssertEqual(n, Tensor(shape: [], int64s: [6]))
        XCTAssertEqual(nRef, n)
    }

    func testCastOfRuntimeIntegersToFloatThroughSession() throws {
        for dtype in [DType.int64, .int32, .bool] {
            for (code, half) in [(1, false), (11, false), (10, true)] {
                var g = Graph(name: "cast_int")
                let e = g.addInput("e", TensorType(dtype, [.symbol("N"), .fixed(3)]))
                g.outputs = g.addNode(.cast, [e], outputs: ["y"], attributes: ["to": .int(code)])
                let values: [Int64] = dtype == .bool ? [1, 0, 1, 1, 0, 0] : [-7, 0, 2049, 16_777_217, 1 << 40, -1]
                let x = Tensor(shape: [2, 3], int64s: values, dtype: dtype)
                let (got, want) = try runBoth(g, [x])
                XCTAssertEqual(got.dtype, .float32)
                XCTAssertEqual(got.floats, values.map { IntegerCast.reference($0, half: half) }, "\(dtype) to \(code)")
                XCTAssertEqual(got, want, "\(dtype) to \(code)")
            }
        }
        XCTAssertEqual(IntegerCast.reference(16_777_217, half: false), 16_777_216)
    }

    func testPowWithRuntimeIntegerExponentThroughSession() throws {
        for dtype in [DType.int32, .int64] {
            var g = Graph(name: "pow_int")
            let x = g.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(3)]))
            let e = g.addInput("e", TensorType(dtype, [.fixed(3)]))
            g.outputs = g.addNode(.pow, [x, e], outputs: ["y"])
            let xs = Tensor(shape: [2, 3], floats: [1.5, -2, 3, 0.5, -1.25, 7])
            let es = Tensor(shape: [3], int64s: [2, 3, -1], dtype: dtype)
            let (got, want) = try runBoth(g, [xs, es])
            assertClose(got, Tensor(shape: [2, 3], floats: [2.25, -8, 1.0 / 3, 0.25, -1.953125, 1.0 / 7]))
            assertClose(got, want)
        }
    }
}

extension InterpreterTests {
    /// Self-attention as the exporters write it, through a Session (FoldTransposeIntoMatMul turns
    /// its Transposes into GEMM transA/transB: Q·Kᵀ, a transposed A times a constant, a transposed
    /// constant times a transposed A, a batch-shared transposed B) against the reference evaluator
    /// on the unrewritten graph, on 1 and 2 threads.
    func testTransposedMatMulsThroughSession() throws {
        var g = Graph(name: "attention")
        let q = g.addInput("q", TensorType(.float32, fixed: [2, 37, 20]))
        let k = g.addInput("k", TensorType(.float32, fixed: [2, 45, 20]))
        let v = g.addInput("v", TensorType(.float32, fixed: [2, 45, 33]))
        let kt = g.addNode(.transpose, [k], outputs: ["kt"], attributes: ["perm": .ints([0, 2, 1])])[0]
        let sm = g.addNode(.softmax, [g.addNode(.matMul, [q, kt], outputs: ["s"])[0]], outputs: ["attn"], attributes: ["axis": .int(-1)])[0]
        let ot = g.addNode(.transpose, [g.addNode(.matMul, [sm, v], outputs: ["o"])[0]], outputs: ["ot"], attributes: ["perm": .ints([0, 2, 1])])[0]
        let w = g.addInitializer("W", randomTensor([37, 19], seed: 5))
        let w2 = g.addInitializer("W2", randomTensor([2, 33, 21], seed: 6))
        let w2t = g.addNode(.transpose, [w2], outputs: ["w2t"], attributes: ["perm": .ints([0, 2, 1])])[0]
        let m = g.addInitializer("M", randomTensor([21, 37], seed: 7))
        let mt = g.addNode(.transpose, [m], outputs: ["mt"])[0]
        g.outputs = [g.addNode(.matMul, [ot, w], outputs: ["y"])[0], g.addNode(.matMul, [w2t, ot], outputs: ["z"])[0],
                     g.addNode(.matMul, [ot, mt], outputs: ["zm"])[0]]
        let inputs = [randomTensor([2, 37, 20], seed: 1), randomTensor([2, 45, 20], seed: 2), randomTensor([2, 45, 33], seed: 3)]
        let want = try ReferenceEvaluator.run(g, inputs)
        for t in [1, 2] {
            let got = try Session(graph: g, threads: t).run(inputs)
            for (a, b) in zip(got, want) {
                XCTAssertEqual(a.shape, b.shape)
                for (x, y) in zip(a.floats, b.floats) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(y))) }
            }
        }
    }
}

extension InterpreterTests {
    /// A MobileNet-like block on 7×7 planes through a Session, where ChannelsLastIslands runs its
    /// 1×1 and depthwise convolutions (fused Clip, residual Add, SE scale through
    /// GlobalAveragePool) channels-last, against the reference evaluator on the NCHW graph, on 1
    /// and 2 threads; 90 channels exercise the overlapping last vector block.
    func testChannelsLastBlockThroughSession() throws {
        var g = Graph(name: "mobile_block")
        let x = g.addInput("x", TensorType(.float32, fixed: [3, 24, 7, 7]))
        func conv(_ input: ValueID, _ w: [Int], _ seed: UInt64, _ attrs: [String: Attribute] = [:], op: Op = .conv) -> ValueID {
            let wv = g.addInitializer("w\(seed)", randomTensor(w, seed: seed))
            let bv = g.addInitializer("b\(seed)", randomTensor([w[0]], seed: seed + 100))
            return g.addNode(op, [input, wv, bv], outputs: ["c\(seed)"], attributes: attrs)[0]
        }
        let e = g.addNode(.relu, [conv(x, [90, 24, 1, 1], 1)], outputs: ["e"])[0]
        let d = conv(e, [90, 1, 3, 3], 2, ["group": .int(90), "pads": .ints([1, 1, 1, 1])])
        let six = g.addInitializer("six", Tensor(shape: [], floats: [6])), zero = g.addInitializer("zero", Tensor(shape: [], floats: [0]))
        let dc = g.addNode(.clip, [d, zero, six], outputs: ["dc"])[0]
        let p = conv(dc, [96, 90, 1, 1], 3)
        let sum = g.addNode(.add, [p, conv(x, [96, 24, 1, 1], 4)], outputs: ["sum"])[0]
        let pooled = g.addNode(.globalAveragePool, [sum], outputs: ["pooled"])[0]
        let gate = g.addNode(.sigmoid, [conv(pooled, [96, 96, 1, 1], 5)], outputs: ["gate"])[0]
        g.outputs = [g.addNode(.mul, [sum, gate], outputs: ["y"])[0]]
        let inputs = [randomTensor([3, 24, 7, 7], seed: 9)]
        let want = try ReferenceEvaluator.run(g, inputs)
        for t in [1, 2] {
            let session = try Session(graph: g, threads: t)
            let calls = try session.program(for: [[3, 24, 7, 7]]).instructions.map(\.call.description)
            XCTAssertEqual(calls.filter { $0.hasPrefix("conv2dNHWC") }.count, 1, "\(calls)")
            XCTAssertEqual(calls.filter { $0.hasPrefix("transpose") }.count, 2, "\(calls)")
            XCTAssertFalse(calls.contains { $0.hasPrefix("conv2d ") }, "\(calls)")
            let got = try session.run(inputs)
            for (a, b) in zip(got, want) {
                XCTAssertEqual(a.shape, b.shape)
                for (u, v) in zip(a.floats, b.floats) { XCTAssertEqual(u, v, accuracy: 1e-4 * max(1, abs(v))) }
            }
        }
    }
}
