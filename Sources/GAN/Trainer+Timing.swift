// Trainer+Timing: where an iteration's time goes (gan-train --timing), per phase.
//
// Contract: `Trainer.phases` accumulates the wall time of each phase of `iterate` since the
// trainer was made: building this rank's real batch (`data`), drawing the random inputs
// (`inputs`), the D and G step programs (`dStep`, `gStep`, which include their gradient
// collective when data-parallel), the scalar collective (`scalars`), the NaN/infinity check of
// the outputs and written state (`nan check`) and sampling the fixed frame (`frame`); `compile` is looking up (the first time: compiling) the step programs.
// Measuring costs two clock reads per phase; nothing else changes.

import Foundation

/// Seconds per phase of the training loop.
public struct PhaseTimes: Sendable {
    public enum Phase: String, CaseIterable, Sendable {
        case compile, data, inputs, dStep = "d step", gStep = "g step", scalars, nanCheck = "nan check", frame
    }
    public private(set) var seconds: [Phase: Double] = [:]
    public private(set) var counts: [Phase: Int] = [:]

    public init() {}

    public mutating func add(_ phase: Phase, _ s: Double) {
        seconds[phase, default: 0] += s
        counts[phase, default: 0] += 1
    }

    /// One line per phase that ran: total seconds, calls, ms per call.
    public func table() -> String {
        Phase.allCases.compactMap { p in
            guard let s = seconds[p], let n = counts[p] else { return nil }
            return "  " + Self.pad(p.rawValue) + String(format: " %8.3f s  %6d calls  %8.2f ms/call", s, n, 1000 * s / Double(max(n, 1)))
        }.joined(separator: "\n")
    }

    /// `name` padded with spaces to 8 characters (a table column).
    public static func pad(_ name: String) -> String { name + String(repeating: " ", count: max(0, 8 - name.count)) }
}

extension Trainer {
    /// Runs `body`, adding its wall time to `phase`.
    func timed<T>(_ phase: PhaseTimes.Phase, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { phases.add(phase, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        return try body()
    }
}
