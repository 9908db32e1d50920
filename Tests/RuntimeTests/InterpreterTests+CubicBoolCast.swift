// InterpreterTests+CubicBoolCast: Resize in cubic mode, ReduceMax/ReduceMin of bool data and
// Cast to integer types of computed data (issue 14), compiled and run by a Session against the
// reference evaluator and against definitions written out here: ONNX's reference algorithm for
// cubic (in Double), any/all for bool reductions, truncation with the x86 "integer indefinite"
// for out-of-range casts.

import XCTest
import GraphIR
import Passes
import Runtime
import Kernels
import TestSupport

extension InterpreterTests {
    /// ONNX's reference cubic interpolation of one axis (onnx/reference/ops/op_resize.py:
    /// coefficients for ratio t ∈ (0, 1], neighbours from the edge-padded data, exclude_outside
    /// zeroing and renormalising), for the coordinate modes used below.
    static func cubic1D(_ data: [Double], outSize m: Int, scale s: Double, a: Double, excludeOutside: Bool, mode: String) -> [Double] {
        let n = data.count
        return (0..<m).map { o in
            let x: Double
            switch mode {
            case "align_corners": x = m == 1 ? 0 : Double(o) * Double(n - 1) / Double(m - 1)
            case "asymmetric": x = Double(o) / s
            default: x = (Double(o) + 0.5) / s - 0.5
            }
            let f = x.rounded(.down)
            var t = x - f
            var base = Int(f) - 1
            if t == 0 { t = 1; base -= 1 }   // the reference prefers the left neighbour
            var c = [((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
                     ((a + 2) * t - (a + 3)) * t * t + 1,
                     ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
                     ((a * ((1 - t) + 1) - 5 * a) * ((1 - t) + 1) + 8 * a) * ((1 - t) + 1) - 4 * a]
            let idx = (0..<4).map { base + $0 }
            if excludeOutside {
                for k in 0..<4 where idx[k] < 0 || idx[k] >= n { c[k] = 0 }
                let sum = c.reduce(0, +)
                c = c.map { $0 / sum }
            }
            return (0..<4).reduce(0.0) { $0 + c[$1] * data[Swift.min(Swift.max(idx[$1], 0), n - 1)] }
        }
    }

    func testCubicResizeMatchesONNXReference() throws {
        let cases: [(String, [Int], [Int], mode: String, a: Float, exclude: Bool)] = [
            ("up half_pixel", [2, 1, 4, 5], [2, 1, 8, 10], "half_pixel", -0.75, false),
            ("up align_corners", [1, 2, 3, 4], [1, 2, 7, 9], "align_corners", -0.75, false),
            ("up asymmetric", [1, 1, 4, 4], [1, 1, 8, 8], "asymmetric", -0.75, false),
            ("down a=-0.5 exclude_outside", [1, 1, 7, 9], [1, 1, 3, 4], "half_pixel", -0.5, true),
            ("up exclude_outside", [1, 1, 4, 3], [1, 1, 8, 6], "half_pixel", -0.75, true),
        ]
        for (k, (what, inShape, outShape, mode, a, exclude)) in cases.enumerated() {
            var g = Graph(name: "cubic")
            let x = g.addInput("x", TensorType(.float32, [.symbol("N")] + inShape.dropFirst().map { .fixed($0) }))
            let sizes = g.addInitializer("sizes", Tensor(shape: [4], int64s: outShape.map(Int64.init)))
            g.outputs = g.addNode(.resize, [x, nil, nil, sizes], outputs: ["y"], attributes: [
                "mode": .string("cubic"), "coordinate_transformation_mode": .string(mode), "cubic_coeff_a": .float(a),
                "exclude_outside": .int(exclude ? 1 : 0)])
            let xs = randomTensor(inShape, seed: 900 + UInt64(k))
            let (got, want) = try runBoth(g, [xs])
            XCTAssertEqual(got.shape, outShape, what)
            assertClose(got, want)
            // Separable: rows (last axis) first, then columns, in Double.
            let (h, w, oh, ow) = (inShape[2], inShape[3], outShape[2], outShape[3])
            var expected: [Float] = []
            for plane in 0..<(inShape[0] * inShape[1]) {
                let rows = (0..<h).map { r in
                    Self.cubic1D((0..<w).map { Double(xs.floats[plane * h * w + r * w + $0]) }, outSize: ow, scale: Double(ow) / Double(w),
                                 a: Double(a), excludeOutside: exclude, mode: mode)
                }
                let cols = (0..<ow).map { c in
                    Self.cubic1D(rows.map { $0[c] }, outSize: oh, scale: Double(oh) / Double(h), a: Double(a), excludeOutside: exclude, mode: mode)
                }
                for r in 0..<oh { for c in 0..<ow { expected.append(Float(cols[c][r])) } }
            }
            assertClose(got, Tensor(shape: outShape, floats: expected), rtol: 1e-5, atol: 1e-5)
        }
    }

    func testReduceMaxMinOfBoolThroughSession() throws {
        let bits: [Int64] = [1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1]   // [3, 4]: rows all, none, some
        let x = Tensor(shape: [3, 4], int64s: bits, dtype: .bool)
        for (op, axes, keep, want) in [(Op.reduceMax, [1], 1, [1, 0, 1]), (.reduceMin, [1], 0, [1, 0, 0]),
                                       (.reduceMax, [0], 1, [1, 1, 1, 1]), (.reduceMin, [0], 0, [0, 0, 0, 0])] {
            var g = Graph(name: "bool_reduce")
            let v = g.addInput("x", TensorType(.bool, [.symbol("N"), .fixed(4)]))
            let ax = g.addInitializer("axes", Tensor(shape: [axes.count], int64s: axes.map(Int64.init)))
            g.outputs = g.addNode(op, [v, ax], outputs: ["y"], attributes: ["keepdims": .int(keep)])
            let (got, ref) = try runBoth(g, [x])
            let shape = axes == [1] ? (keep == 1 ? [3, 1] : [3]) : (keep == 1 ? [1, 4] : [4])
            XCTAssertEqual(got, Tensor(shape: shape, int64s: want.map(Int64.init), dtype: .bool), "\(op.rawValue) axes \(axes)")
            XCTAssertEqual(ref, got, "\(op.rawValue) axes \(axes)")
        }
        // Over an empty axis: false for ReduceMax, true for ReduceMin (ONNX's identities).
        for (op, want) in [(Op.reduceMax, Int64(0)), (.reduceMin, 1)] {
            var g = Graph(name: "bool_reduce_empty")
            let v = g.addInput("x", TensorType(.bool, [.fixed(2), .fixed(0)]))
            g.outputs = g.addNode(op, [v, g.addInitializer("axes", Tensor(shape: [1], int64s: [1]))], outputs: ["y"], attributes: ["keepdims": .int(0)])
            let empty = Tensor(shape: [2, 0], int64s: [], dtype: .bool)
            XCTAssertEqual(try ReferenceEvaluator.run(g, [empty])[0], Tensor(shape: [2], int64s: [want, want], dtype: .bool), op.rawValue)
            XCTAssertEqual(try Session(graph: g).run([empty])[0], Tensor(shape: [2], int64s: [want, want], dtype: .bool), op.rawValue)
        }
    }

    func testCastToIntegersOfComputedDataThroughSession() throws {
        let big = Float(3e9), huge = Float(1e19)
        let xs: [Float] = [2.7, -2.7, .nan, .infinity, -.infinity, big, -big, huge, -huge, -0.0, 0.5, -2_147_483_648, 2_147_483_520]
        let x = Tensor(shape: [xs.count], floats: xs)
        let i64 = Int64.min, i32 = Int64(Int32.min)
        let expected: [(Int, DType, [Int64])] = [
            (7, .int64, [2, -2, i64, i64, i64, 3_000_000_000, -3_000_000_000, i64, i64, 0, 0, -2_147_483_648, 2_147_483_520]),
            (6, .int32, [2, -2, i32, i32, i32, i32, i32, i32, i32, 0, 0, -2_147_483_648, 2_147_483_520]),
            (9, .bool, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1]),
        ]
        for (code, dtype, want) in expected {
            let (got, ref) = try runBoth(unaryGraph(.cast, [.symbol("N")], attributes: ["to": .int(code)]), [x])
            XCTAssertEqual(got, Tensor(shape: [xs.count], int64s: want, dtype: dtype), "to \(dtype)")
            XCTAssertEqual(ref, got, "to \(dtype)")
            XCTAssertEqual(xs.map { IntegerCast.reference($0, to: CastOpsTarget.of(dtype)) }, want, "reference to \(dtype)")
        }
        // Between integer types: int64 → int32 keeps the low 32 bits, → bool is x ≠ 0.
        let ints: [Int64] = [-7, 0, (1 << 40) + 5, -1, Int64(Int32.max) + 1, .min]
        for (code, dtype, want) in [(6, DType.int32, [-7, 0, 5, -1, Int64(Int32.min), 0]), (9, .bool, [1, 0, 1, 1, 1, 1] as [Int64])] {
            var g = Graph(name: "narrow")
            let v = g.addInput("x", TensorType(.int64, [.symbol("N")]))
            g.outputs = g.addNode(.cast, [v], outputs: ["y"], attributes: ["to": .int(code)])
            let (got, ref) = try runBoth(g, [Tensor(shape: [ints.count], int64s: ints)])
            XCTAssertEqual(got, Tensor(shape: [ints.count], int64s: want, dtype: dtype), "int64 to \(dtype)")
            XCTAssertEqual(ref, got, "int64 to \(dtype)")
        }
    }
}

/// The kernels' integer target of an IR element type (tests only).
enum CastOpsTarget {
    static func of(_ d: DType) -> IntegerTarget { d == .int32 ? .int32 : d == .bool ? .bool : .int64 }
}
