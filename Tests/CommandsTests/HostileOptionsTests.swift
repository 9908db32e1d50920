// HostileOptionsTests: gan-sample / gan-interpolate options that hung or ran away (issue 15):
// a tiny truncation ψ, an endless seed range, an absurd grid width, a negative --n.

import Core
import Commands
import Foundation
import XCTest

final class HostileOptionsTests: XCTestCase {
    /// The message the executable would print for `args` (fails when they are accepted).
    func rejection<C: ParsableCommandLike>(_ command: C.Type, _ args: [String], line: UInt = #line) -> String {
        do {
            try command.parseAndRun(args + ["--quiet"])
            XCTFail("\(args) accepted", line: line)
            return ""
        } catch {
            return command.describe(error)
        }
    }

    let model = Paths.torch("uncond_ts17.onnx")

    func testTinyTruncationIsRefused() {
        for psi in ["1e-30", "0.001", "0", "-1", "nan"] {
            let m = rejection(GanSample.self, [model, "--seed", "1", "--n", "4", "--truncation", psi, "--out", Paths.temp("t.png")])
            XCTAssertTrue(m.contains("--truncation must be a number ≥ 0.01"), "\(psi): \(m)")
            let w = rejection(GanInterpolate.self, [model, "--seeds", "1,2", "--truncation", psi, "--out", Paths.temp("t.gif")])
            XCTAssertTrue(w.contains("--truncation must be a number ≥ 0.01"), "\(psi): \(w)")
        }
        // The library call terminates even below the minimum (it resamples at ψ = 0.01).
        let z = Latents.vector(seed: 3, index: 0, size: 64, truncation: 1e-30)
        XCTAssertEqual(z, Latents.vector(seed: 3, index: 0, size: 64, truncation: Latents.minTruncation))
        XCTAssertTrue(z.allSatisfy { abs($0) <= 0.01 })
    }

    func testSeedRangesAreCapped() {
        let m = rejection(GanInterpolate.self, [model, "--seeds", "0-100000", "--out", Paths.temp("w.gif")])
        XCTAssertTrue(m.contains("--seeds 0-100000: gives more than 65536 seeds"), m)
        let many = (0..<40).map { "\($0 * 2000)-\($0 * 2000 + 1999)" }.joined(separator: ",")
        XCTAssertThrowsError(try Latents.parseSeeds(many)) { e in XCTAssertTrue("\(e)".contains("more than 65536 seeds"), "\(e)") }
        XCTAssertEqual(try Latents.parseSeeds("0-65535").count, 65536)
        let f = rejection(GanInterpolate.self, [model, "--seeds", "0-999", "--steps", "100", "--out", Paths.temp("w.gif")])
        XCTAssertTrue(f.contains("makes 99900 frames, more than 20000"), f)
    }

    func testGridAndCountBounds() {
        let m = rejection(GanSample.self, [model, "--seed", "1", "--nrow", "1000000000", "--out", Paths.temp("g.png")])
        XCTAssertTrue(m.contains("--nrow must be in 1...65536"), m)
        let n = rejection(GanSample.self, [model, "--seed", "1", "--n", "-1", "--out", Paths.temp("g.png")])
        XCTAssertTrue(n.contains("--n must be in 1...65536, got -1"), n)
        let b = rejection(GanSample.self, [model, "--seed", "1", "--batch", "-5", "--out", Paths.temp("g.png")])
        XCTAssertTrue(b.contains("--batch must be in 1...65536"), b)
        let s = rejection(GanInterpolate.self, [model, "--seeds", "1,2", "--steps", "-3", "--out", Paths.temp("w.gif")])
        XCTAssertTrue(s.contains("--steps must be in 1...10000"), s)
    }
}

/// The two sampling commands, parsed and run as their executables do.
protocol ParsableCommandLike {
    static func parseAndRun(_ args: [String]) throws
    static func describe(_ error: Error) -> String
}

extension GanSample: ParsableCommandLike {
    static func parseAndRun(_ args: [String]) throws { try parse(args).run() }
    static func describe(_ error: Error) -> String { message(for: error) }
}

extension GanInterpolate: ParsableCommandLike {
    static func parseAndRun(_ args: [String]) throws { try parse(args).run() }
    static func describe(_ error: Error) -> String { message(for: error) }
}
