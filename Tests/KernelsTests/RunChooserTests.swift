// RunChooserTests: the run-level serial/parallel choice follows the timings it is fed — it
// keeps the faster mode, probes again after its period (doubling while the same mode wins),
// probes early when kept runs slow down, and a program's results do not depend on the mode.
import XCTest
import Kernels

final class RunChooserTests: XCTestCase {
    /// Feeds `n` runs whose time is `serial` or `parallel` ns by mode; returns the modes run.
    func feed(_ c: RunChooser, _ n: Int, serial: UInt64, parallel: UInt64) -> [Bool] {
        (0..<n).map { _ in
            let s = c.begin()
            c.end(nanoseconds: s ? serial : parallel)
            return s
        }
    }

    func testKeepsTheFasterModeAndBacksOffProbing() {
        let c = RunChooser()
        let p = RunChooser.probePairs
        // Probe: p serial and p parallel runs, then the faster (parallel) is kept for minPeriod.
        let first = feed(c, 2 * p, serial: 200, parallel: 100)
        XCTAssertEqual(first.filter { $0 }.count, p)
        XCTAssertEqual(c.chosen, .parallel)
        XCTAssertEqual(feed(c, RunChooser.minPeriod, serial: 200, parallel: 100), Array(repeating: false, count: RunChooser.minPeriod))
        // The next probe finds parallel again: kept twice as long.
        _ = feed(c, 2 * p, serial: 200, parallel: 100)
        XCTAssertEqual(feed(c, 2 * RunChooser.minPeriod, serial: 200, parallel: 100).filter { $0 }.count, 0)
        XCTAssertEqual(c.probes, 2)
        // Serial becomes faster: the next probe switches, with the period back at its minimum.
        _ = feed(c, 2 * p, serial: 100, parallel: 300)
        XCTAssertEqual(c.chosen, .serial)
        XCTAssertEqual(feed(c, RunChooser.minPeriod, serial: 100, parallel: 300), Array(repeating: true, count: RunChooser.minPeriod))
        XCTAssertEqual(c.serialWins, 1)
    }

    func testProbesEarlyWhenKeptRunsSlowDown() {
        let c = RunChooser()
        _ = feed(c, 2 * RunChooser.probePairs, serial: 200, parallel: 100)
        XCTAssertEqual(c.chosen, .parallel)
        // Parallel runs now take 3× their probe time (a competitor started): after driftRuns of
        // them the chooser probes, finds serial faster and keeps it.
        let modes = feed(c, RunChooser.driftRuns + 2 * RunChooser.probePairs, serial: 150, parallel: 300)
        XCTAssertEqual(Array(modes.prefix(RunChooser.driftRuns)), Array(repeating: false, count: RunChooser.driftRuns))
        XCTAssertEqual(c.chosen, .serial)
        XCTAssertEqual(c.probes, 2)
    }

    /// The pool's loops run on the caller alone in the chooser's serial runs (the first probe
    /// run is serial), shared in its parallel ones, with the same results.
    func testRunsLoopsSeriallyWhenChosen() {
        let pool = ThreadPool(threads: 2)
        let c = RunChooser()
        let caller = pthread_self()
        let lock = NSLock()
        var outs: [[Float]] = [], foreign: [Int] = [], modes: [Bool] = []
        for _ in 0..<(2 * RunChooser.probePairs) {
            var out = [Float](repeating: 0, count: 4096)
            var others = 0
            modes.append(pool.forcedSerial)
            out.withUnsafeMutableBufferPointer { o in
                let base = o.baseAddress!
                pool.run(choosingWith: c) {
                    modes[modes.count - 1] = pool.forcedSerial
                    pool.parallelFor(4096, chunks: 64) { r in
                        if pthread_equal(pthread_self(), caller) == 0 { lock.lock(); others += 1; lock.unlock() }
                        for i in r { base[i] = Float(i).squareRoot() * 1.5 }
                    }
                }
            }
            outs.append(out); foreign.append(others)
        }
        XCTAssertEqual(modes, [true, false, false, true])
        XCTAssertEqual(foreign[0], 0)
        XCTAssertEqual(foreign[3], 0)
        for o in outs { XCTAssertEqual(o, outs[0]) }
        XCTAssertFalse(pool.forcedSerial)
        XCTAssertEqual(c.serialRuns, 2)
        XCTAssertEqual(c.parallelRuns, 2)
    }
}
