// NonFiniteGuardTests: a NaN or infinity stops training in the step it appears, naming the step,
// the network and the first tensor that went bad (issue 15, deliverable 2).

import Foundation
import GAN
import GraphIR
import Runtime
import SpecFormat
import XCTest

final class NonFiniteGuardTests: XCTestCase {
    func trainer(_ name: String = "tiny_gan") throws -> Trainer {
        let s = try Spec.load(path: ResumeTests.fixtures.appendingPathComponent("\(name).yaml").path)
        let g = try GANSteps(spec: s, seed: 5, threads: 1)
        return Trainer(steps: g, data: SyntheticBatches(batchSize: 16), epochs: 2, generatorFrequency: 0, fixedSamples: 4)
    }

    func testAllFiniteFindsEveryPosition() {
        // Positions in the 32-wide SIMD body, its second half and the scalar tail.
        for count in [1, 7, 31, 32, 33, 64, 100] {
            for position in Set([0, count / 2, count - 1]) {
                for bad in [Float.nan, .infinity, -.infinity] {
                    var v = (0..<count).map { Float($0) * 1e30 - 3 }
                    XCTAssertTrue(NonFiniteGuard.allFinite(v, count: count))
                    v[position] = bad
                    XCTAssertFalse(NonFiniteGuard.allFinite(v, count: count), "\(count) \(position) \(bad)")
                    XCTAssertEqual(NonFiniteGuard.nonFiniteCount(v, count: count), 1)
                }
            }
        }
        let big: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]
        XCTAssertTrue(NonFiniteGuard.allFinite(big, count: 3))
    }

    func testNaNWeightStopsTheNextStep() throws {
        let t = try trainer()
        for _ in 0..<2 { _ = try t.iterate() }
        let w = t.steps.discriminatorParameters[2]
        t.steps.store.pointer(w)![0] = .nan
        XCTAssertThrowsError(try t.iterate()) { e in
            guard let e = e as? NonFiniteError else { return XCTFail("\(e)") }
            XCTAssertEqual(e.iteration, 2)
            XCTAssertEqual(e.step, 3)
            XCTAssertEqual(e.network, "discriminator")
            XCTAssertEqual(e.outputs.first?.label, "d_loss")
            XCTAssertTrue("\(e)".hasPrefix("step 3: non-finite values in the discriminator step: d_loss = "), "\(e)")
            // The first bad tensor is a discriminator parameter.
            XCTAssertTrue(e.state?.name.hasPrefix("discriminator/") ?? false, "\(e)")
        }
    }

    func testStateWrittenNonFiniteIsCaughtWithFiniteOutputs() throws {
        // An update can leave a parameter non-finite while the step's loss and gradient norm
        // were finite (Adam with eps 0 on a zero gradient): the scan names it.
        let t = try trainer()
        _ = try t.iterate()
        let w = t.steps.generatorParameters[1]
        let e = t.steps.store.entry(w)!
        e.pointer[e.count - 1] = -.infinity
        let finite = ["g_loss": Float(0.7), "g_grad_norm": 1.5]
        XCTAssertThrowsError(try t.nonFiniteGuard.check(finite, order: ["g_loss", "g_grad_norm"], network: "generator", iteration: 7)) { err in
            XCTAssertEqual("\(err)", "step 8: non-finite values in the generator step: first non-finite tensor '\(w)' (1 of \(e.count) values)")
        }
        // The D step does not write G's parameters, so its check does not scan them.
        XCTAssertNoThrow(try t.nonFiniteGuard.check(["d_loss": 1], order: ["d_loss"], network: "discriminator", iteration: 7))
    }

    func testBatchNormStatisticsAreWatchedInBothSteps() throws {
        let t = try trainer()
        _ = try t.iterate()
        // G's BatchNorm statistics change in the D step too (G runs in train mode there).
        let stat = try XCTUnwrap(t.steps.store.entries.map(\.name).first { $0.hasPrefix("generator/") && $0.hasSuffix(".running_mean") })
        t.steps.store.pointer(stat)![0] = .nan
        XCTAssertThrowsError(try t.nonFiniteGuard.check([:], order: [], network: "discriminator", iteration: 0)) { e in
            XCTAssertTrue("\(e)".contains("'\(stat)'"), "\(e)")
        }
    }
}
