// ThreadPool+RunChooser: chooses, for a unit of work that repeats (one compiled program's run,
// e.g. a training step), whether its loops share the pool's workers or run on the caller alone,
// by timing both.
//
// Contract: `begin()` says how the next run goes (true: serial) and `end(nanoseconds:)` records
// how long it took. The chooser probes: `probePairs` pairs of runs, one serial and one parallel
// (alternating which goes first), then keeps the mode whose fastest probe run was faster for
// `period` runs, where the period starts at `minPeriod` and doubles (up to `maxPeriod`) each
// time the same mode wins again, so on a steady machine probing costs well under 1% of the
// runs. It probes again early when a kept run is more than `driftFactor` times the winner's
// probe time `driftRuns` times in a row (a competitor started). Serial and parallel runs
// compute the same bits (every loop's chunks are fixed by sizes only), so the choice changes
// speed, never results.
//
// Why: the pool's own `Governor` decides loop by loop from what the caller waited, which
// cannot see the whole cost of a second thread when a competing process shares the cores
// (its work, the lost cache, the scheduler's slices); timing whole runs does, and makes a
// 2-thread program no slower than a 1-thread one beyond the probes.
import Foundation

public final class RunChooser: @unchecked Sendable {
    public static let probePairs = 2
    public static let minPeriod = 16, maxPeriod = 256
    public static let driftFactor = 1.3, driftRuns = 4

    public enum Mode: Equatable, Sendable { case serial, parallel }

    /// The mode kept after the last probe (parallel before the first decision).
    public private(set) var chosen: Mode = .parallel
    /// Runs since the pool started, by mode (reports).
    public private(set) var serialRuns = 0, parallelRuns = 0
    /// Probe rounds done and how many chose serial (reports).
    public private(set) var probes = 0, serialWins = 0

    var probing = true
    var probeIndex = 0
    var bestSerial = UInt64.max, bestParallel = UInt64.max
    var period = RunChooser.minPeriod
    var keptLeft = 0
    var winnerTime: UInt64 = 0
    var slowStreak = 0
    var current: Mode = .parallel

    public init() {}

    /// Whether the next run is serial.
    public func begin() -> Bool {
        if probing {
            // Pair p runs (serial, parallel) for even p, (parallel, serial) for odd p.
            let pair = probeIndex / 2, second = probeIndex % 2 == 1
            current = (pair % 2 == 0) != second ? .serial : .parallel
        } else {
            current = chosen
        }
        return current == .serial
    }

    /// Records the run `begin()` announced.
    public func end(nanoseconds t: UInt64) {
        if current == .serial { serialRuns += 1 } else { parallelRuns += 1 }
        if probing {
            if current == .serial { bestSerial = min(bestSerial, t) } else { bestParallel = min(bestParallel, t) }
            probeIndex += 1
            if probeIndex == 2 * RunChooser.probePairs { decide() }
            return
        }
        if Double(t) > RunChooser.driftFactor * Double(winnerTime) { slowStreak += 1 } else { slowStreak = 0 }
        keptLeft -= 1
        if keptLeft <= 0 || slowStreak >= RunChooser.driftRuns {
            if slowStreak >= RunChooser.driftRuns { period = RunChooser.minPeriod }
            startProbe()
        }
    }

    func decide() {
        let winner: Mode = bestSerial < bestParallel ? .serial : .parallel
        probes += 1
        if winner == .serial { serialWins += 1 }
        if probes > 1 && winner == chosen {
            period = min(2 * period, RunChooser.maxPeriod)
        } else {
            period = RunChooser.minPeriod
        }
        chosen = winner
        winnerTime = min(bestSerial, bestParallel)
        keptLeft = period
        slowStreak = 0
        probing = false
    }

    func startProbe() {
        probing = true
        probeIndex = 0
        bestSerial = .max; bestParallel = .max
    }
}

extension ThreadPool {
    /// Runs `body` (one repetition of a repeated unit of work) with its loops on the caller
    /// alone or shared, as `chooser` decides, and reports its time to the chooser. On a
    /// 1-thread pool, or when called from inside a loop, just runs it.
    public func run<T>(choosingWith chooser: RunChooser, _ body: () throws -> T) rethrows -> T {
        if threads == 1 || forcedSerial { return try body() }
        let serial = chooser.begin()
        forcedSerial = serial
        defer { forcedSerial = false }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let r = try body()
        chooser.end(nanoseconds: DispatchTime.now().uptimeNanoseconds - t0)
        return r
    }
}
