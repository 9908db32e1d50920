import XCTest
import TestSupport
import GraphIR
import Runtime

/// The interpreter (SIMD kernels, planned arena, threads) against the scalar reference evaluator.
final class InterpreterTests: XCTestCase {
    func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
        var s = seed
        let data = (0..<shape.reduce(1, *)).map { _ -> Float in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
        return Tensor(shape: shape, floats: data)
    }

    func assertClose(_ a: Tensor, _ b: Tensor, rtol: Float = 1e-4, atol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        var worst: Float = 0
        for (x, y) in zip(a.floats, b.floats) {
            let err = abs(x - y) - rtol * abs(y)
            worst = max(worst, err)
        }
        XCTAssertLessThanOrEqual(worst, atol, "max excess error \(worst)", file: file, line: line)
    }

    func check(_ g: Graph, _ inputs: [Tensor], threads: [Int] = [1, 2], file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try ReferenceEvaluator.run(g, inputs)
        var first: [Tensor]? = nil
        for t in threads {
            let got = try Session(graph: g, threads: t).run(inputs)
            for (a, b) in zip(got, expected) { assertClose(a, b, file: file, line: line) }
            if let first { XCTAssertEqual(first, got, "results differ between thread counts", file: file, line: line) }
            first = got
        }
    }

    func testSeedGeneratorMatchesReference() throws {
        let g = SeedGraphs.mnistGenerator()
        for batch in [1, 3] {
            try check(g, [randomTensor([batch, 100], seed: UInt64(batch))])
        }
    }

    func testSeedDiscriminatorMatchesReference() throws {
        try check(SeedGraphs.mnistDiscriminator(), [randomTensor([3, 1, 28, 28], seed: 9)])
    }

    func testMixedOpsGraph() throws {
        let g = try Graph.parse("""
        graph "mixed" {
          input %x: f32[N,3,5,5]
          init %w: f32[4,3,3,3] = base64 "\(base64(randomTensor([4, 3, 3, 3], seed: 4).floats))"
          init %s: f32[4] = [1.0, 2.0, -1.0, 0.5]
          init %sh: i64[2] = [0, -1]
          init %ax1: i64[1] = [1]
          %c = Conv(%x, %w) {pads=[1, 0, 0, 1], strides=[2, 1]}
          %t = Transpose(%c) {perm=[0, 2, 3, 1]}
          %m = Mul(%t, %s)
          %e = Tanh(%m)
          %r = ReduceSum(%e, %ax1) {keepdims=0}
          %f = Reshape(%r, %sh)
          %sm = Softmax(%f) {axis=1}
          %lg = Log(%sm)
          %mean = ReduceMean(%lg, %ax1)
          %y = Sub(%lg, %mean)
          output %y
        }
        """)
        try check(g, [randomTensor([2, 3, 5, 5], seed: 11)])
    }

    func base64(_ f: [Float]) -> String {
        f.withUnsafeBytes { Data($0) }.base64EncodedString()
    }
}

import Foundation
import SeedModels
