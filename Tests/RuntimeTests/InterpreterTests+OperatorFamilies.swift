// InterpreterTests+OperatorFamilies: the structure that makes an op's semantics one place —
// every Op in exactly one family, a pullback or an explicit non-differentiable listing — and
// every element-wise op of a family through all of its concerns (shape rule, reference
// evaluation, lowering, interpreter) against the scalar definition.

import XCTest
import GraphIR
import Passes
import Runtime
import Kernels
import TestSupport

extension InterpreterTests {
    /// The ops with no reverse-mode rule, by design (see Pullbacks.swift).
    static let nonDifferentiable: Set<Op> = [.maxPool, .averagePool, .constant, .fusedConv, .fusedConvTranspose, .fusedGemm, .fusedBatchNormalization,
                                             .shape, .size, .constantOfShape,
                                             .equal, .less, .lessOrEqual, .greater, .greaterOrEqual, .and, .or, .xor, .not,
                                             .argMax, .argMin, .batchNormTrainingGrad, .fusedAttention]

    func testEveryOpIsInExactlyOneFamily() {
        let families: [OperatorFamily.Type] = [UnaryOps.self, BinaryOps.self, GemmOps.self, ConvOps.self, PoolingOps.self,
                                               NormalizationOps.self, ReductionOps.self, ShapeOps.self, DataMovementOps.self, FusedOps.self,
                                               CollectiveOps.self, ShapeOfOps.self, CastOps.self, LRNOps.self,
                                               StatisticNormalizationOps.self, ResamplingOps.self, LogicOps.self,
                                               SplitTileOps.self, ArgExtremumOps.self, TrainingBatchNormOps.self, AttentionOps.self]
        var seen: [Op: Int] = [:]
        for f in families { for op in f.ops { seen[op, default: 0] += 1 } }
        for op in Op.allCases {
            XCTAssertEqual(seen[op], 1, "\(op.rawValue) is listed by \(seen[op] ?? 0) families")
            XCTAssertTrue(op.family.ops.contains(op), "\(op.rawValue)'s family \(op.family) does not list it")
        }
    }

    func testEveryOpHasAPullbackOrIsListedNonDifferentiable() {
        for op in Op.allCases {
            XCTAssertEqual(op.pullback == nil, Self.nonDifferentiable.contains(op),
                           "\(op.rawValue): pullback \(op.pullback == nil ? "missing" : "present") but listed \(Self.nonDifferentiable.contains(op) ? "non-differentiable" : "differentiable")")
        }
    }

    /// Every unary op of the family: shape rule, reference evaluation and lowered kernel agree with
    /// `Unary.scalar`/the Grad kernels' definitions on both signs and zero.
    func testEveryUnaryOpThroughEveryConcern() throws {
        let xs = randomTensor([2, 3, 5], seed: 11)
        let positive = Tensor(shape: xs.shape, floats: xs.floats.map { abs($0) + 0.1 })
        for op in UnaryOps.ops {
            var g = Graph(name: op.rawValue)
            let x = g.addValue("x", TensorType(.float32, fixed: xs.shape))
            g.inputs = [x]
            var inputs = [[.log, .sqrt].contains(op) ? positive : xs]
            var ins: [ValueID?] = [x]
            if op == .leakyReluGrad || op == .eluGrad {
                let y = g.addValue("y", TensorType(.float32, fixed: xs.shape))
                g.inputs.append(y)
                ins.append(y)
                inputs.append(randomTensor(xs.shape, seed: 12))
            }
            let attrs: [String: Attribute] = [.leakyRelu, .leakyReluGrad, .eluGrad].contains(op) ? ["alpha": .float(0.2)] : [:]
            g.outputs = g.addNode(op, ins, outputs: ["out"], attributes: attrs)
            let got = try Session(graph: g).run(inputs)[0]
            let expected = try ReferenceEvaluator.run(g, inputs)[0]
            XCTAssertEqual(got.shape, xs.shape, op.rawValue)
            assertClose(got, expected)
            let a = inputs[0].floats
            let scalar: [Float]
            switch op {
            case .sign: scalar = a.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
            case .leakyReluGrad: scalar = zip(a, inputs[1].floats).map { dy, y in y > 0 ? dy : 0.2 * dy }
            case .eluGrad: scalar = zip(a, inputs[1].floats).map { dy, y in y > 0 ? dy : dy * (y + 0.2) }
            default:
                let f = try XCTUnwrap(try UnaryOps.kernelOp(g.nodes[0], g), op.rawValue)
                scalar = a.map { Unary.scalar(f, $0) }
            }
            assertClose(expected, Tensor(shape: xs.shape, floats: scalar))
        }
    }

    /// Every binary op: broadcasting shape rule, reference evaluation and lowered kernel agree.
    func testEveryBinaryOpThroughEveryConcern() throws {
        let a = randomTensor([2, 3, 4], seed: 21), b = randomTensor([3, 1], seed: 22)
        let positive = Tensor(shape: a.shape, floats: a.floats.map { abs($0) + 0.5 })
        for op in BinaryOps.ops {
            var g = Graph(name: op.rawValue)
            let x = g.addValue("a", TensorType(.float32, fixed: a.shape)), y = g.addValue("b", TensorType(.float32, fixed: b.shape))
            g.inputs = [x, y]
            g.outputs = g.addNode(op, [x, y], outputs: ["out"])
            let inputs = [op == .pow ? positive : a, b]
            let got = try Session(graph: g).run(inputs)[0]
            XCTAssertEqual(got.shape, [2, 3, 4], op.rawValue)
            assertClose(got, try ReferenceEvaluator.run(g, inputs)[0])
        }
    }

    /// Sum, Max, Min and Mean of one, two and three broadcast inputs: lowered through
    /// ExpandVariadic, they match the reference left fold bit for bit (and Mean is sum / n).
    func testVariadicOpsThroughLowering() throws {
        let xs = [randomTensor([2, 3, 4], seed: 31), randomTensor([3, 1], seed: 32), randomTensor([4], seed: 33)]
        for op in [Op.sum, .max, .min, .mean] {
            for n in 1...3 {
                var g = Graph(name: op.rawValue)
                let ins = xs.prefix(n).enumerated().map { i, t in g.addValue("x\(i)", TensorType(.float32, fixed: t.shape)) }
                g.inputs = ins
                g.outputs = g.addNode(op, ins, outputs: ["out"])
                let inputs = Array(xs.prefix(n))
                let got = try Session(graph: g).run(inputs)[0]
                let want = try ReferenceEvaluator.run(g, inputs)[0]
                XCTAssertEqual(got.shape, [2, 3, 4], "\(op.rawValue) \(n)")
                XCTAssertEqual(got.floats, want.floats, "\(op.rawValue) of \(n)")
                // The element at [1, 2, 3] from the definition.
                let e = inputs.enumerated().map { i, t in t.floats[[23, 2, 3][i]] }
                let expect: Float
                switch op {
                case .sum: expect = e.dropFirst().reduce(e[0], +)
                case .max: expect = e.max()!
                case .min: expect = e.min()!
                default: expect = e.dropFirst().reduce(e[0], +) / Float(n)
                }
                XCTAssertEqual(got.floats[got.floats.count - 1], expect, "\(op.rawValue) of \(n) at the last element")
            }
        }
    }
}
