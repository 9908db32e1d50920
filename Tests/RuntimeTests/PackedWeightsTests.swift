// PackedWeightsTests: a Program packs constant convolution weights once at bind time
// (Instruction.prepackedWeightFloats); the results are the same bits as packing them per call,
// which is what the same graph does when its weights are program inputs.

import Foundation
import XCTest
import GraphIR
import Runtime

final class PackedWeightsTests: XCTestCase {
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ -> Float in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
    }

    func b64(_ f: [Float]) -> String { f.withUnsafeBytes { Data($0) }.base64EncodedString() }

    /// ConvTranspose (phased, and from a 1×1 point), grouped Conv, 1×1 Conv, Gemm (B stored
    /// k×n, so that no pass transposes the constant one): weights as initializers or as inputs,
    /// batch 1 (the Gemm's single row packs nothing) and 5, 1 and 2 threads.
    func testConstantWeightsPackedOnceGiveTheSameBits() throws {
        let w1 = values(6 * 8 * 4 * 4, seed: 1), w2 = values(8 * 16 * 4 * 4, seed: 2)
        let w3 = values(12 * 8 * 3 * 3, seed: 3), w4 = values(5 * 12, seed: 4), w5 = values(40 * 320, seed: 5)
        func graph(constant: Bool) throws -> Graph {
            func decl(_ name: String, _ shape: String, _ data: [Float]) -> String {
                constant ? "init %\(name): f32[\(shape)] = base64 \"\(b64(data))\"" : "input %\(name): f32[\(shape)]"
            }
            return try Graph.parse("""
            graph "packed" {
              input %z: f32[N,6,1,1]
              \(decl("w1", "6,8,4,4", w1))
              \(decl("w2", "8,16,4,4", w2))
              \(decl("w3", "12,8,3,3", w3))
              \(decl("w4", "5,12,1,1", w4))
              \(decl("w5", "320,40", w5))
              %a = ConvTranspose(%z, %w1)
              %b = ConvTranspose(%a, %w2) {strides=[2, 2], pads=[1, 1, 1, 1]}
              %r = Relu(%b)
              %c = Conv(%r, %w3) {pads=[1, 1, 1, 1], group=2}
              %d = Conv(%c, %w4)
              %f = Flatten(%d)
              %e = Gemm(%f, %w5)
              output %e
            }
            """)
        }
        let packedGraph = try graph(constant: true), plainGraph = try graph(constant: false)
        let weights = [([6, 8, 4, 4], w1), ([8, 16, 4, 4], w2), ([12, 8, 3, 3], w3), ([5, 12, 1, 1], w4), ([320, 40], w5)]
            .map { Tensor(shape: $0.0, floats: $0.1) }
        for batch in [1, 5] {
            let z = Tensor(shape: [batch, 6, 1, 1], floats: values(batch * 6, seed: 9 + UInt64(batch)))
            var results: [[Tensor]] = []
            for threads in [1, 2] {
                let packed = try Session(graph: packedGraph, threads: threads)
                let program = try packed.program(for: [z.shape])
                XCTAssertGreaterThan(program.packedWeightFloats, 0)
                results.append(try packed.run([z]))
                let plain = try Session(graph: plainGraph, threads: threads)
                XCTAssertEqual(try plain.program(for: [z.shape] + weights.map(\.shape)).packedWeightFloats, 0)
                results.append(try plain.run([z] + weights))
            }
            for r in results.dropFirst() {
                XCTAssertEqual(r[0].floats.map(\.bitPattern), results[0][0].floats.map(\.bitPattern), "batch \(batch)")
            }
        }
    }
}
