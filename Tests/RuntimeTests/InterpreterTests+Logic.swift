// InterpreterTests+Logic: comparisons, connectives, Where, Split, Tile and ArgMax/ArgMin on
// runtime values — the lowered kernels (one and two threads) against the reference evaluation
// and against the definitions written out here by index arithmetic, on odd, broadcast shapes.

import XCTest
import TestSupport
import GraphIR
import Runtime

extension InterpreterTests {
    /// Runs `g` at 1 and 2 threads; both must equal the reference evaluation exactly (integer
    /// and bool outputs) or within `assertClose` (float), and each other bit for bit. Returns
    /// the outputs.
    func runExact(_ g: Graph, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line) throws -> [Tensor] {
        let expected = try ReferenceEvaluator.run(g, inputs)
        var first: [Tensor]? = nil
        for t in [1, 2] {
            let got = try Session(graph: g, threads: t).run(inputs)
            XCTAssertEqual(got.map(\.dtype), expected.map(\.dtype), file: file, line: line)
            for (a, b) in zip(got, expected) {
                XCTAssertEqual(a.shape, b.shape, file: file, line: line)
                if a.dtype == .float32 {
                    assertClose(a, b, file: file, line: line)
                } else {
                    XCTAssertEqual(a.int64s, b.int64s, file: file, line: line)
                }
            }
            if let first { XCTAssertEqual(first.map { $0.floats.map(\.bitPattern) }, got.map { $0.floats.map(\.bitPattern) }, file: file, line: line) }
            first = got
        }
        return first!
    }

    /// A one-node graph over typed inputs.
    func oneNode(_ op: Op, _ types: [TensorType], outputs: Int = 1, _ attrs: [String: Attribute] = [:],
                 constants: [Int: Tensor] = [:]) -> Graph {
        var g = Graph(name: op.rawValue)
        var ins: [ValueID?] = []
        for (i, t) in types.enumerated() {
            if let c = constants[i] { ins.append(g.addInitializer("c\(i)", c)); continue }
            ins.append(g.addInput("x\(i)", t))
        }
        g.outputs = g.addNode(op, ins, outputs: (0..<outputs).map { "y\($0)" }, attributes: attrs)
        return g
    }

    /// Element (i, j, k) of a [3, 4, 5] broadcast from a of shape [3, 1, 5] and b of shape [4, 5].
    func broadcast345<T>(_ a: [T], _ b: [T], _ f: (T, T) -> Int64) -> [Int64] {
        var y: [Int64] = []
        for i in 0..<3 { for j in 0..<4 { for k in 0..<5 { y.append(f(a[i * 5 + k], b[j * 5 + k])) } } }
        return y
    }

    func testComparisonsOnFloatsAndIntegers() throws {
        // Quarter steps make ties; a NaN and a −0/+0 pair test IEEE comparisons.
        var a = randomTensor([3, 1, 5], seed: 41).floats.map { ($0 * 4).rounded() / 4 }
        var b = randomTensor([4, 5], seed: 42).floats.map { ($0 * 4).rounded() / 4 }
        a[2] = .nan; a[3] = -0.0; b[3] = 0
        let ai = a.map { $0.isNaN ? Int64.min : Int64($0 * 4) }, bi = b.map { Int64($0 * 4) }
        let defs: [Op: (Float, Float) -> Bool] = [.equal: { $0 == $1 }, .less: { $0 < $1 }, .lessOrEqual: { $0 <= $1 },
                                                  .greater: { $0 > $1 }, .greaterOrEqual: { $0 >= $1 }]
        let idefs: [Op: (Int64, Int64) -> Bool] = [.equal: { $0 == $1 }, .less: { $0 < $1 }, .lessOrEqual: { $0 <= $1 },
                                                   .greater: { $0 > $1 }, .greaterOrEqual: { $0 >= $1 }]
        for (op, f) in defs {
            let g = oneNode(op, [TensorType(.float32, fixed: [3, 1, 5]), TensorType(.float32, fixed: [4, 5])])
            let y = try runExact(g, [Tensor(shape: [3, 1, 5], floats: a), Tensor(shape: [4, 5], floats: b)])[0]
            XCTAssertEqual(y.dtype, .bool)
            XCTAssertEqual(y.shape, [3, 4, 5])
            XCTAssertEqual(y.int64s, broadcast345(a, b) { f($0, $1) ? 1 : 0 }, op.rawValue)
            let gi = oneNode(op, [TensorType(.int64, fixed: [3, 1, 5]), TensorType(.int64, fixed: [4, 5])])
            let yi = try runExact(gi, [Tensor(shape: [3, 1, 5], int64s: ai), Tensor(shape: [4, 5], int64s: bi)])[0]
            XCTAssertEqual(yi.int64s, broadcast345(ai, bi) { idefs[op]!($0, $1) ? 1 : 0 }, "\(op.rawValue) on int64")
        }
        // NaN is unequal to itself; Equal(−0, +0) holds.
        let g = oneNode(.equal, [TensorType(.float32, fixed: [3]), TensorType(.float32, fixed: [3])])
        let y = try runExact(g, [Tensor(shape: [3], floats: [.nan, -0.0, 1]), Tensor(shape: [3], floats: [.nan, 0, 1])])[0]
        XCTAssertEqual(y.int64s, [0, 1, 1])
    }

    func testConnectivesAndNot() throws {
        let a: [Int64] = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1], b: [Int64] = (0..<20).map { Int64($0 * 7 % 3 == 0 ? 1 : 0) }
        let defs: [Op: (Bool, Bool) -> Bool] = [.and: { $0 && $1 }, .or: { $0 || $1 }, .xor: { $0 != $1 }]
        for (op, f) in defs {
            let g = oneNode(op, [TensorType(.bool, fixed: [3, 1, 5]), TensorType(.bool, fixed: [4, 5])])
            let y = try runExact(g, [Tensor(shape: [3, 1, 5], int64s: a, dtype: .bool), Tensor(shape: [4, 5], int64s: b, dtype: .bool)])[0]
            XCTAssertEqual(y.dtype, .bool)
            XCTAssertEqual(y.int64s, broadcast345(a, b) { f($0 != 0, $1 != 0) ? 1 : 0 }, op.rawValue)
        }
        let n = try runExact(oneNode(.not, [TensorType(.bool, fixed: [15])]), [Tensor(shape: [15], int64s: a, dtype: .bool)])[0]
        XCTAssertEqual(n.int64s, a.map { 1 - $0 })
        XCTAssertEqual(n.dtype, .bool)
    }

    func testWhereOnFloatAndIntegerBranches() throws {
        let c: [Int64] = [1, 0, 0, 1], x = randomTensor([3, 1, 5], seed: 43), yv = Tensor(shape: [], floats: [-7.5])
        let g = oneNode(.where, [TensorType(.bool, fixed: [4, 1]), TensorType(.float32, fixed: [3, 1, 5]), TensorType(.float32, fixed: [])])
        let out = try runExact(g, [Tensor(shape: [4, 1], int64s: c, dtype: .bool), x, yv])[0]
        XCTAssertEqual(out.shape, [3, 4, 5])
        var want: [Float] = []
        for i in 0..<3 { for j in 0..<4 { for k in 0..<5 { want.append(c[j] != 0 ? x.floats[i * 5 + k] : -7.5) } } }
        XCTAssertEqual(out.floats, want)
        // Integer branches (ONNX test_where_long_example's form).
        let gi = oneNode(.where, [TensorType(.bool, fixed: [2, 2]), TensorType(.int64, fixed: [2, 2]), TensorType(.int64, fixed: [2, 2])])
        let oi = try runExact(gi, [Tensor(shape: [2, 2], int64s: [1, 0, 1, 1], dtype: .bool), Tensor(shape: [2, 2], int64s: [1, 2, 3, 4]),
                                   Tensor(shape: [2, 2], int64s: [9, 8, 7, 6])])[0]
        XCTAssertEqual(oi.int64s, [1, 8, 3, 4])
        XCTAssertEqual(oi.dtype, .int64)
    }

    /// The masking PyTorch exports write: Softmax(Where(x > 0, x, −∞)) inside a float graph.
    func testWhereMaskBeforeSoftmax() throws {
        var g = Graph(name: "mask")
        let x = g.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(7)]))
        let zero = g.addInitializer("zero", Tensor(shape: [], floats: [0]))
        let ninf = g.addInitializer("ninf", Tensor(shape: [], floats: [-.infinity]))
        let m = g.add(.greater, x, zero, output: "m")
        let w = g.add(.where, m, x, ninf, output: "w")
        g.outputs = [g.add(.softmax, w, output: "p")]
        var xv = randomTensor([3, 7], seed: 44).floats
        for r in 0..<3 { xv[r * 7 + r] = 0.5 }   // every row keeps an entry
        let xs = Tensor(shape: [3, 7], floats: xv)
        let p = try runExact(g, [xs])[0]
        for r in 0..<3 {
            let row = Array(xs.floats[r * 7..<(r + 1) * 7]), pr = Array(p.floats[r * 7..<(r + 1) * 7])
            let e = row.map { $0 > 0 ? exp($0) : 0 }, s = e.reduce(0, +)
            for k in 0..<7 {
                if row[k] <= 0 { XCTAssertEqual(pr[k], 0) } else { XCTAssertEqual(pr[k], e[k] / s, accuracy: 1e-6) }
            }
        }
    }

    func testSplitForms() throws {
        let x = randomTensor([2, 7, 3], seed: 45)
        func slab(_ lo: Int, _ hi: Int) -> [Float] {
            var out: [Float] = []
            for o in 0..<2 { for a in lo..<hi { for i in 0..<3 { out.append(x.floats[(o * 7 + a) * 3 + i]) } } }
            return out
        }
        let t = TensorType(.float32, fixed: [2, 7, 3])
        let sizes = oneNode(.split, [t, TensorType(.int64, fixed: [3])], outputs: 3, ["axis": .int(1)],
                            constants: [1: Tensor(shape: [3], int64s: [2, 0, 5])])
        XCTAssertEqual(try runExact(sizes, [x]).map(\.floats), [slab(0, 2), [], slab(2, 7)])
        let parts = oneNode(.split, [t], outputs: 3, ["axis": .int(-2), "num_outputs": .int(3)])
        XCTAssertEqual(try runExact(parts, [x]).map(\.floats), [slab(0, 3), slab(3, 6), slab(6, 7)])
        let equal = oneNode(.split, [TensorType(.float32, fixed: [2, 7, 3])], outputs: 1, ["axis": .int(2)])
        XCTAssertEqual(try runExact(equal, [x])[0].floats, x.floats)
        // int64 data moves through the same kernel, 8 bytes an element.
        let gi = oneNode(.split, [TensorType(.int64, fixed: [6])], outputs: 2)
        let yi = try Session(graph: gi).run([Tensor(shape: [6], int64s: [1, 2, 3, 4, 5, .max])])
        XCTAssertEqual(yi.map(\.int64s), [[1, 2, 3], [4, 5, .max]])
    }

    func testTile() throws {
        let x = randomTensor([2, 3, 5], seed: 46)
        let r = [3, 1, 2]
        let g = oneNode(.tile, [TensorType(.float32, fixed: [2, 3, 5]), TensorType(.int64, fixed: [3])],
                        constants: [1: Tensor(shape: [3], int64s: r.map(Int64.init))])
        let y = try runExact(g, [x])[0]
        XCTAssertEqual(y.shape, [6, 3, 10])
        var want: [Float] = []
        for i in 0..<6 { for j in 0..<3 { for k in 0..<10 { want.append(x.floats[(i % 2 * 3 + j) * 5 + k % 5]) } } }
        XCTAssertEqual(y.floats, want)
    }

    func testArgMaxArgMin() throws {
        // Quarter steps make ties along the axis.
        let x = Tensor(shape: [3, 7, 5], floats: randomTensor([3, 7, 5], seed: 47).floats.map { ($0 * 2).rounded() / 2 })
        for (op, isMax) in [(Op.argMax, true), (.argMin, false)] {
            for last in [0, 1] {
                let g = oneNode(op, [x.type], ["axis": .int(1), "keepdims": .int(last), "select_last_index": .int(last)])
                let y = try runExact(g, [x])[0]
                XCTAssertEqual(y.shape, last == 1 ? [3, 1, 5] : [3, 5])
                XCTAssertEqual(y.dtype, .int64)
                var want: [Int64] = []
                for o in 0..<3 {
                    for i in 0..<5 {
                        let col = (0..<7).map { x.floats[(o * 7 + $0) * 5 + i] }
                        let best = isMax ? col.max()! : col.min()!
                        let hits = col.indices.filter { col[$0] == best }
                        want.append(Int64(last == 1 ? hits.last! : hits.first!))
                    }
                }
                XCTAssertEqual(y.int64s, want, "\(op.rawValue) select_last_index=\(last)")
            }
        }
    }

    /// Pad on int32 and int64 data in every mode (ONNX test_edge_pad/test_reflect_pad/test_wrap_pad's form).
    func testPadOnIntegers() throws {
        let x: [Int64] = [1, 2, 3, 4, 5, 6]   // 2 × 3
        let pads = Tensor(shape: [4], int64s: [0, 2, 1, 1])  // axis 1: 2 before, 1 after; axis 0: 1 after
        let want: [String: [Int64]] = [
            "constant": [7, 7, 1, 2, 3, 7, 7, 7, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7],
            "edge": [1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6, 4, 4, 4, 5, 6, 6],
            "reflect": [3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2],
            "wrap": [2, 3, 1, 2, 3, 1, 5, 6, 4, 5, 6, 4, 2, 3, 1, 2, 3, 1],
        ]
        for dtype in [DType.int64, .int32] {
            for (mode, w) in want {
                let g = oneNode(.pad, [TensorType(dtype, fixed: [2, 3]), pads.type, TensorType(dtype, fixed: [])], ["mode": .string(mode)],
                                constants: [1: pads, 2: Tensor(shape: [], int64s: [7], dtype: dtype)])
                let y = try runExact(g, [Tensor(shape: [2, 3], int64s: x, dtype: dtype)])[0]
                XCTAssertEqual(y.shape, [3, 6])
                XCTAssertEqual(y.dtype, dtype)
                XCTAssertEqual(y.int64s, w, "\(mode) \(dtype)")
            }
        }
    }
}
