import XCTest
import Foundation
import GraphIR
import Kernels
import Runtime
import TestSupport

/// Concats whose inputs are written in place into their output (Lowering+ConcatViews.swift):
/// which ones emit no copy, and that every program still computes the reference's values.
final class ConcatViewsTests: XCTestCase {
    func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
        var s = seed
        return Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ -> Float in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        })
    }

    func base64(_ t: Tensor) -> String { t.floats.withUnsafeBytes { Data($0) }.base64EncodedString() }

    /// A graph-text initializer of random values.
    func weight(_ name: String, _ shape: [Int], seed: UInt64) -> String {
        "init %\(name): f32\(shape) = base64 \"\(base64(randomTensor(shape, seed: seed)))\""
    }

    func copies(_ p: Program) -> Int {
        p.instructions.filter { if case .concat = $0.call { return true }; return false }.count
    }

    /// Runs `g` on `inputs` at 1 and 2 threads against the reference evaluator and returns the
    /// number of Concat copies the program kept.
    func check(_ g: Graph, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let expected = try ReferenceEvaluator.run(g, inputs)
        var first: [Tensor]? = nil
        var kept = -1
        for t in [1, 2] {
            let session = try Session(graph: g, threads: t)
            let program = try session.program(for: inputs.map(\.shape))
            kept = copies(program)
            let got = try session.run(inputs)
            for (a, b) in zip(got, expected) {
                XCTAssertEqual(a.shape, b.shape, file: file, line: line)
                let worst = zip(a.floats, b.floats).map { abs($0 - $1) - 1e-4 * abs($1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-5, file: file, line: line)
            }
            if let first { XCTAssertEqual(first, got, "results differ between thread counts", file: file, line: line) }
            first = got
        }
        return kept
    }

    /// A SqueezeNet fire module: a 1×1 and a 3×3 convolution of one input, concatenated on
    /// channels. At batch 1 both convolutions write into the concatenation back to back; at
    /// batch 2 each writes its channel slice of every image at the concatenation's stride.
    func testFireModuleWritesInPlace() throws {
        let g = try Graph.parse("""
        graph "fire" {
          input %x: f32[N,16,6,6]
          \(weight("w1", [16,16,1,1], seed: 1))
          \(weight("w3", [16,16,3,3], seed: 2))
          \(weight("wd", [8,32,3,3], seed: 3))
          %a = Conv(%x, %w1)
          %ra = Relu(%a)
          %b = Conv(%x, %w3) {pads=[1, 1, 1, 1]}
          %rb = Relu(%b)
          %c = Concat(%ra, %rb) {axis=1}
          %d = Conv(%c, %wd) {pads=[1, 1, 1, 1]}
          %e = Sigmoid(%d)
          output %e
        }
        """)
        XCTAssertEqual(try check(g, [randomTensor([1, 16, 6, 6], seed: 4)]), 0)
        XCTAssertEqual(try check(g, [randomTensor([2, 16, 6, 6], seed: 5)]), 0)
    }

    /// At batch > 1 only convolutions read by the Concat alone write strided slices. These copy:
    /// a slice also read elsewhere, one written by another kernel, a depthwise convolution, and
    /// slices off the 64-byte alignment.
    func testWhatStillCopiesAtBatchTwo() throws {
        let convs = """
          \(weight("w1", [16, 16, 1, 1], seed: 15))
          \(weight("w3", [16, 16, 3, 3], seed: 16))
          \(weight("wd", [16, 1, 3, 3], seed: 17))
        """
        let cases: [(String, Int)] = [
            ("%a = Conv(%x, %w1)\n  %b = Conv(%x, %w3) {pads=[1, 1, 1, 1]}\n  %c = Concat(%a, %b) {axis=1}\n  %s = Sigmoid(%c)\n  output %s", 0),
            ("%a = Conv(%x, %w1)\n  %b = Conv(%x, %w3) {pads=[1, 1, 1, 1]}\n  %c = Concat(%a, %b) {axis=1}\n  output %c\n  output %a", 1),
            ("%a = Conv(%x, %w1)\n  %b = Exp(%x)\n  %c = Concat(%a, %b) {axis=1}\n  output %c", 1),
            ("%a = Conv(%x, %w1)\n  %b = Conv(%x, %wd) {group=16, pads=[1, 1, 1, 1]}\n  %c = Concat(%a, %b) {axis=1}\n  output %c", 1),
            ("%a = Conv(%x, %w1)\n  %c = Concat(%a, %a) {axis=1}\n  output %c", 1),
        ]
        for (body, kept) in cases {
            // 9-float planes put a 5-channel slice's end off the alignment: it copies.
            let misaligned = body.replacingOccurrences(of: "Conv(%x, %w1)", with: "Conv(%x, %w5)")
            for (side, text, copies) in [(4, body, kept), (3, misaligned, 1)] {
                let g = try Graph.parse("""
                graph "strided" {
                  input %x: f32[2,16,\(side),\(side)]
                  \(weight("w5", [5, 16, 1, 1], seed: 19))
                \(convs)
                  \(text)
                }
                """)
                XCTAssertEqual(try check(g, [randomTensor([2, 16, side, side], seed: 18)]), copies, "\(side)x\(side): \(text)")
            }
        }
    }

    /// DenseNet's concatenations: each layer concatenates every earlier feature map again.
    /// Each concat(x0, …, xk) fills the one before it, so the whole chain is one buffer.
    func testDenseChainIsOneBuffer() throws {
        let g = try Graph.parse("""
        graph "dense" {
          input %x: f32[N,2,4,4]
          \(weight("w2", [2,4,1,1], seed: 6))
          \(weight("w3", [2,6,1,1], seed: 7))
          \(weight("wy", [3,8,3,3], seed: 8))
          %x0 = Relu(%x)
          %x1 = Neg(%x0)
          %c1 = Concat(%x0, %x1) {axis=1}
          %x2 = Conv(%c1, %w2)
          %c2 = Concat(%x0, %x1, %x2) {axis=1}
          %x3 = Conv(%c2, %w3)
          %c3 = Concat(%x0, %x1, %x2, %x3) {axis=1}
          %y = Conv(%c3, %wy) {pads=[1, 1, 1, 1]}
          output %y
        }
        """)
        XCTAssertEqual(try check(g, [randomTensor([1, 2, 4, 4], seed: 9)]), 0)
        XCTAssertEqual(try check(g, [randomTensor([3, 2, 4, 4], seed: 10)]), 3)
    }

    /// Concatenating along the first axis has one outer block at any batch.
    func testFirstAxisConcatWritesInPlace() throws {
        let g = try Graph.parse("""
        graph "rows" {
          input %x: f32[2,16]
          %a = Tanh(%x)
          %b = Exp(%x)
          %a2 = Neg(%x)
          %c = Concat(%a, %b, %a2) {axis=0}
          %y = Mul(%c, %c)
          output %y
        }
        """)
        XCTAssertEqual(try check(g, [randomTensor([2, 16], seed: 11)]), 0)
    }

    /// What must still copy at batch 1: an input listed twice, a graph input, a constant, an
    /// offset off the 64-byte alignment, and a later concatenation in another order than the
    /// one its inputs already lie in. A member that is also a graph output stays readable.
    func testWhatStillCopies() throws {
        let w = base64(randomTensor([1, 2, 4, 4], seed: 12))
        let cases: [(String, Int)] = [
            ("%r = Relu(%x)\n  %c = Concat(%r, %r) {axis=1}\n  output %c", 1),
            ("%r = Relu(%x)\n  %c = Concat(%x, %r) {axis=1}\n  output %c", 1),
            ("%r = Relu(%x)\n  %c = Concat(%r, %k) {axis=1}\n  output %c", 1),
            ("%r = Relu(%x)\n  %n = Neg(%x)\n  %c = Concat(%r, %n) {axis=1}\n  %d = Concat(%n, %r) {axis=1}\n  %s = Add(%c, %d)\n  output %s", 1),
            ("%r = Relu(%x)\n  %n = Neg(%x)\n  %c = Concat(%r, %n) {axis=1}\n  %s = Sigmoid(%c)\n  output %s\n  output %r", 0),
            ("%r = Relu(%x)\n  %n = Neg(%x)\n  %c = Concat(%r, %n) {axis=1}\n  %d = Concat(%c, %n) {axis=1}\n  output %d", 1),
        ]
        for (body, kept) in cases {
            let g = try Graph.parse("""
            graph "copies" {
              input %x: f32[1,2,4,4]
              init %k: f32[1,2,4,4] = base64 "\(w)"
              \(body)
            }
            """)
            XCTAssertEqual(try check(g, [randomTensor([1, 2, 4, 4], seed: 13)]), kept, body)
        }
        // Planes of 3 floats put the second input at byte 24.
        let odd = try Graph.parse("""
        graph "odd" {
          input %x: f32[1,2,1,3]
          %r = Relu(%x)
          %n = Neg(%x)
          %c = Concat(%r, %n) {axis=1}
          output %c
        }
        """)
        XCTAssertEqual(try check(odd, [randomTensor([1, 2, 1, 3], seed: 14)]), 1)
    }
}
