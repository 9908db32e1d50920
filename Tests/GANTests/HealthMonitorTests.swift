// HealthMonitorTests (issue 18 item 2): the training-health monitor replayed on recorded traces
// (Tests/Fixtures/health, made by Tools/fixtures/make_health_traces.py from real gan-train runs
// on Fashion-MNIST) with the spec defaults — the collapsing mnist_gan run warns of mode collapse
// at the first check after the warm-up and nothing else; the healthy fashion_dcgan run warns of
// nothing — and on synthetic variations of the healthy trace for the other conditions, plus the
// frame statistics against hand-computed values.

import Foundation
import GAN
import SpecFormat
import XCTest

final class HealthMonitorTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/health")

    struct Trace {
        var observations: [HealthObservation]
    }

    func load(_ name: String) throws -> Trace {
        let data = try Data(contentsOf: Self.dir.appendingPathComponent("\(name).json"))
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let its = (try XCTUnwrap(j["iterations"] as? [NSNumber])).map(\.intValue)
        func series(_ k: String) throws -> [Float?] { (try XCTUnwrap(j[k] as? [Any], "fixture key '\(k)'")).map { ($0 as? NSNumber)?.floatValue } }
        let (dl, dr, df, dg, gl, gg) = (try series("d_loss"), try series("d_real"), try series("d_fake"), try series("d_grad_norm"),
                                        try series("g_loss"), try series("g_grad_norm"))
        let pixels = (try XCTUnwrap(j["pixels"] as? NSNumber)).intValue
        var frames: [Int: FrameStatistics] = [:]
        for f in try XCTUnwrap(j["frames"] as? [[String: Any]]) {
            frames[(try XCTUnwrap(f["iteration"] as? NSNumber)).intValue] = FrameStatistics(
                diversity: (try XCTUnwrap(f["diversity"] as? NSNumber)).doubleValue, change: (f["change"] as? NSNumber)?.doubleValue, pixels: pixels)
        }
        return Trace(observations: its.indices.map { i in
            HealthObservation(iteration: its[i], dLoss: dl[i], dReal: dr[i], dFake: df[i], dGradNorm: dg[i],
                              gLoss: gl[i], gGradNorm: gg[i], frame: frames[its[i]])
        })
    }

    func replay(_ t: Trace, _ settings: HealthSpec = HealthSpec(), loss: LossKind = .ganBCELogits) -> [HealthWarning] {
        var m = HealthMonitor(settings: settings, loss: loss)
        var out: [HealthWarning] = []
        for o in t.observations { out += m.observe(o) }
        for w in out { FileHandle.standardError.write("  warning: \(w)\n".data(using: .utf8)!) }
        return out
    }

    func testCollapsedRunWarnsOfModeCollapseOnce() throws {
        let t = try load("mnist_gan_collapse")
        let w = replay(t)
        XCTAssertEqual(w.map(\.kind), [.modeCollapse])
        // The first check after the 200-iteration warm-up; the latest frame is iteration 198's.
        XCTAssertEqual(w.first?.iteration, 200)
        XCTAssertTrue(w.first?.evidence.contains("frame diversity 2.49") ?? false, w.first?.evidence ?? "")
        // With the warm-up off, the warning comes at the first check (iteration 50): the
        // generator never left its early collapse in this run.
        var early = HealthSpec()
        early.warmup = 0
        let e = replay(t, early)
        XCTAssertEqual(e.map(\.kind), [.modeCollapse])
        XCTAssertEqual(e.first?.iteration, 50)
    }

    func testHealthyRunWarnsOfNothing() throws {
        let t = try load("fashion_dcgan_healthy")
        XCTAssertEqual(replay(t), [])
        // Its latest diversity is well above the threshold.
        var m = HealthMonitor(settings: HealthSpec(), loss: .ganBCELogits)
        for o in t.observations { _ = m.observe(o) }
        let r = try XCTUnwrap(m.lastReport)
        XCTAssertGreaterThan(try XCTUnwrap(r.diversityPerPixel), 2 * HealthSpec().collapseDiversity)
    }

    func testDivergenceWarnsAtTheCheckAfterTheExplosion() throws {
        var t = try load("fashion_dcgan_healthy")
        // D's loss explodes at iteration 173 and stays up; separately, a NaN in G's loss at 260.
        for i in t.observations.indices where t.observations[i].iteration >= 173 {
            t.observations[i].dLoss = (t.observations[i].dLoss ?? 0) * 1000 + 500
        }
        let w = replay(t)
        XCTAssertEqual(w.map(\.kind), [.divergence])
        XCTAssertEqual(w.first?.iteration, 200)
        XCTAssertTrue(w.first?.evidence.contains("|D loss| reached") ?? false, w.first?.evidence ?? "")
        var n = try load("fashion_dcgan_healthy")
        let k = n.observations.firstIndex { $0.iteration == 260 }!
        n.observations[k].gLoss = .nan
        let nw = replay(n)
        XCTAssertEqual(nw.map(\.kind), [.divergence])
        XCTAssertEqual(nw.first?.iteration, 300)
        XCTAssertTrue(nw.first?.evidence.contains("G loss is nan") ?? false, nw.first?.evidence ?? "")
    }

    func testDominatingDiscriminatorNeedsAGapAndVanishingGradients() throws {
        var t = try load("fashion_dcgan_healthy")
        // From iteration 201 on, D separates real and fake by 20 logits and G's gradients fall 50×.
        for i in t.observations.indices where t.observations[i].iteration > 200 {
            t.observations[i].dReal = 10
            t.observations[i].dFake = -10
            t.observations[i].gGradNorm = t.observations[i].gGradNorm.map { $0 / 50 }
        }
        let w = replay(t)
        XCTAssertEqual(w.map(\.kind), [.dominatingDiscriminator])
        XCTAssertEqual(w.first?.iteration, 250)
        // The gap alone is not enough.
        var gapOnly = try load("fashion_dcgan_healthy")
        for i in gapOnly.observations.indices where gapOnly.observations[i].iteration > 200 {
            gapOnly.observations[i].dReal = 10
            gapOnly.observations[i].dFake = -10
        }
        XCTAssertEqual(replay(gapOnly), [])
        // Critics (no fixed score scale) have no default gap.
        XCTAssertEqual(replay(t, loss: .wganGP).map(\.kind), [])
    }

    func testOscillationWhenChangeStopsFalling() throws {
        // Every frame's change replaced: a constant 0.2 per pixel (the samples keep jumping) vs
        // one that halves every 100 iterations from 0.3 (settling), lookback 100 iterations.
        func withChange(_ perPixel: (Int) -> Double) throws -> Trace {
            var t = try load("fashion_dcgan_healthy")
            for i in t.observations.indices {
                if var f = t.observations[i].frame, f.change != nil {
                    f.change = perPixel(t.observations[i].iteration) * Double(f.pixels).squareRoot()
                    t.observations[i].frame = f
                }
            }
            return t
        }
        var s = HealthSpec()
        s.oscillationLookback = 100
        let w = replay(try withChange { _ in 0.2 }, s)
        XCTAssertEqual(w.map(\.kind), [.oscillation])
        // The first check past the warm-up, compared with the window at iteration 100.
        XCTAssertEqual(w.first?.iteration, 200)
        XCTAssertTrue(w.first?.evidence.contains("at iteration 100") ?? false, w.first?.evidence ?? "")
        XCTAssertEqual(replay(try withChange { 0.3 * pow(0.5, Double($0) / 100) }, s), [])
        // With the default 1000-iteration lookback this 300-iteration trace has nothing to compare with.
        XCTAssertEqual(replay(try withChange { _ in 0.2 }), [])
    }

    func testOneWarningPerEpisode() {
        var m = HealthMonitor(settings: HealthSpec(), loss: .ganBCELogits)
        var kinds: [(Int, HealthWarning.Kind)] = []
        // Diversity per pixel: low at checks 200–300, healthy at 350, low again at 400.
        for it in 1...400 {
            var frame: FrameStatistics? = nil
            if it % 50 == 0 { frame = FrameStatistics(diversity: it == 350 ? 10 : 1, change: nil, pixels: 784) }
            for w in m.observe(HealthObservation(iteration: it, dLoss: 1, frame: frame)) { kinds.append((w.iteration, w.kind)) }
        }
        XCTAssertEqual(kinds.map(\.0), [200, 400])
        XCTAssertEqual(kinds.map(\.1), [.modeCollapse, .modeCollapse])
    }

    func testFrameStatistics() {
        // Three samples of 2 pixels: (0,0), (1,0), (0,1). Pairwise: 1, 1, √2.
        let s = FrameStatistics.of([0, 0, 1, 0, 0, 1], count: 3, previous: [0, 0, 1, 1, 0, 0])
        XCTAssertEqual(s.diversity, (2 + 2.0.squareRoot()) / 3, accuracy: 1e-6)
        // Changes: 0, 1, 1 → mean 2/3.
        XCTAssertEqual(s.change!, 2.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(s.pixels, 2)
        XCTAssertNil(FrameStatistics.of([0, 1], count: 1, previous: nil).change)
    }
}
