// ShardedInputsTests: a data-parallel rank builds only its rows of a global batch's random
// inputs (issue 16): the latents, WGAN-GP α and dropout mask rows of global row i are the same
// numbers whether one process draws the whole batch (K = 1) or rank r draws rows
// [r·n/K, (r+1)·n/K) (K = 2, 3), because each stream seeks to the row (RandomStream.skip).

import Core
import GAN
import GraphIR
import SpecFormat
import TestSupport
import XCTest

final class ShardedInputsTests: XCTestCase {
    /// A tiny WGAN-GP whose critic has a Dropout layer (masks in the D and the G step).
    func steps(latent: String = "{size: 7}") throws -> GANSteps {
        let yaml = TinySpec.yaml(name: "tiny_sharded", datasetPath: "/nonexistent", latent: latent, loss: "wgan_gp",
                                 hidden: ["linear: 16", "{dropout: 0.3, name: drop}"])
        return try GANSteps(spec: try Spec.parse(yaml: yaml, file: "tiny_sharded.yaml"), seed: 5, threads: 1)
    }

    func realBatch(_ n: Int) -> Tensor {
        Tensor(shape: [n, 1, 8, 8], floats: (0..<(n * 64)).map { Float(($0 * 37 + 11) % 101) / 100 })
    }

    /// The rows of a global batch of n that rank r of k takes (DataParallel.rows).
    func rows(_ n: Int, rank r: Int, of k: Int) -> Range<Int> { (r * n / k)..<((r + 1) * n / k) }

    /// Every input of `whole` equals the rank-order concatenation of the ranks' inputs, bit for bit.
    func assertConcatenation(_ whole: [String: Tensor], _ parts: [[String: Tensor]], _ what: String) {
        XCTAssertEqual(Set(whole.keys), Set(parts[0].keys), what)
        for (name, t) in whole where t.shape.first.map({ $0 > 1 }) ?? false {
            let joined = parts.flatMap { $0[name]!.floats }
            XCTAssertEqual(joined.count, t.floats.count, "\(what) \(name)")
            XCTAssertEqual(joined.map(\.bitPattern), t.floats.map(\.bitPattern), "\(what) \(name)")
        }
    }

    func testRandomInputsOfAGlobalRowDoNotDependOnTheRankCount() throws {
        for latent in ["{size: 7}", "{size: 8, distribution: uniform}"] {  // odd size: a Box–Muller pair straddles rows
            let s = try steps(latent: latent)
            let n = 8, real = realBatch(n), iteration = 4
            let dWhole = s.dInputs(real: real, labels: nil, iteration: iteration)
            let gWhole = s.gInputs(batch: n, iteration: iteration)
            XCTAssertNotNil(dWhole["alpha"])
            XCTAssertTrue(dWhole.keys.contains { $0.hasPrefix("dropout/") }, "\(dWhole.keys)")
            XCTAssertTrue(gWhole.keys.contains { $0.hasPrefix("dropout/") }, "\(gWhole.keys)")
            for k in [2, 3] {
                let dParts = (0..<k).map { r -> [String: Tensor] in
                    let rr = rows(n, rank: r, of: k)
                    let inputs = s.dInputs(real: real.rows(rr), labels: nil, iteration: iteration, rows: rr)
                    XCTAssertEqual(inputs["z"]?.shape, [rr.count, s.latentSize])
                    return inputs
                }
                assertConcatenation(dWhole, dParts, "\(latent) D step, K=\(k)")
                let gParts = (0..<k).map { s.gInputs(batch: n, iteration: iteration, rows: rows(n, rank: $0, of: k)) }
                assertConcatenation(gWhole, gParts, "\(latent) G step, K=\(k)")
            }
        }
    }

    func testSkipEqualsDrawing() {
        var all = RandomStream(seed: 9, step: 2, purpose: .latent)
        let words = (0..<40).map { _ in all.nextUInt32() }
        for w in [0, 1, 3, 4, 5, 17, 33] {
            var r = RandomStream(seed: 9, step: 2, purpose: .latent)
            r.skip(words: w)
            XCTAssertEqual((w..<40).map { _ in r.nextUInt32() }, Array(words[w...]), "skip \(w)")
        }
        // Skipping from the middle of a block.
        var r = RandomStream(seed: 9, step: 2, purpose: .latent)
        _ = r.nextUInt32()
        r.skip(words: 6)
        XCTAssertEqual(r.nextUInt32(), words[7])
        for distribution in ["normal", "uniform"] {
            var whole = RandomStream(seed: 1, step: 3, purpose: .generatorLatent)
            let values = whole.latents(25, distribution: distribution)
            for j in [0, 1, 2, 7, 24] {
                var part = RandomStream(seed: 1, step: 3, purpose: .generatorLatent)
                part.skipLatents(j, distribution: distribution)
                XCTAssertEqual(part.latents(25 - j, distribution: distribution).map(\.bitPattern), values[j...].map(\.bitPattern), "\(distribution) from \(j)")
            }
        }
    }
}
