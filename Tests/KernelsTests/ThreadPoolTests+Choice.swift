import Kernels
import XCTest

/// ThreadPool.RunChoice: runs the faster mode (serial on a tie, kept until parallel is 3% faster), explores the other one
/// every 8–64 runs, follows a change of load, and is not flipped by one preempted run; `serially` keeps a loop on
/// the caller.
final class RunChoiceTests: XCTestCase {
    /// Drives a choice over `runs` runs where a run takes `parallel` or `serial` ns; returns how
    /// many ran serial.
    @discardableResult
    func drive(_ c: inout ThreadPool.RunChoice, runs: Int, parallel: UInt64, serial: UInt64) -> Int {
        var serialRuns = 0
        for _ in 0..<runs {
            let s = c.serialNext()
            if s { serialRuns += 1 }
            c.record(serial: s, nanoseconds: s ? serial : parallel)
        }
        return serialRuns
    }

    func testIdleMachinePrefersParallelAndExploresRarely() {
        var c = ThreadPool.RunChoice()
        let serialRuns = drive(&c, runs: 1000, parallel: 100_000, serial: 180_000)
        XCTAssertFalse(c.prefersSerial)
        // The first exploring run, then one per 8, 16, 32, 64, 64, ... runs.
        XCTAssertLessThanOrEqual(serialRuns, 1 + 3 + 1000 / 64 + 1)
        XCTAssertEqual(c.serialRuns, serialRuns)
        XCTAssertEqual(c.parallelRuns, 1000 - serialRuns)
        XCTAssertEqual(c.parallelEstimate, 100_000, accuracy: 1)
        XCTAssertEqual(c.serialEstimate, 180_000, accuracy: 1)
    }

    func testBusyMachinePrefersSerial() {
        var c = ThreadPool.RunChoice()
        let serialRuns = drive(&c, runs: 1000, parallel: 130_000, serial: 100_000)
        XCTAssertTrue(c.prefersSerial)
        // Warm-up and first samples (3 parallel runs), then one exploring run per 8, 16, 32, 64, ...
        XCTAssertGreaterThanOrEqual(serialRuns, 1000 - 3 - 3 - 1000 / 64 - 1)
    }

    /// Runs phases of (runs, parallel ns, serial ns) on one choice and checks the preference after each.
    func phases(_ steps: [(runs: Int, parallel: UInt64, serial: UInt64, serialAfter: Bool, why: String)]) {
        var c = ThreadPool.RunChoice()
        for p in steps {
            drive(&c, runs: p.runs, parallel: p.parallel, serial: p.serial)
            XCTAssertEqual(c.prefersSerial, p.serialAfter, p.why)
        }
    }

    func testATieGoesToSerial() {
        phases([(200, 100_000, 100_000, true, "a tie"),
                (100, 98_000, 100_000, true, "serial is kept until parallel is 3% faster"),
                (100, 90_000, 100_000, false, "parallel 10% faster")])
    }

    func testFollowsAChangeOfLoad() {
        phases([(500, 100_000, 180_000, false, "idle"),
                (8, 250_000, 180_000, true, "a competitor arrives: parallel runs cost 2.5×, noticed within a few runs"),
                (140, 100_000, 180_000, false, "it leaves: the next exploring runs switch back")])
    }

    func testOnePreemptedRunDoesNotFlipTheChoice() {
        var c = ThreadPool.RunChoice()
        drive(&c, runs: 300, parallel: 100_000, serial: 180_000)
        XCTAssertFalse(c.prefersSerial)
        c.record(serial: false, nanoseconds: 50_000_000)
        XCTAssertFalse(c.prefersSerial, "one 50 ms run counts at most 4× the estimate")
        XCTAssertLessThan(c.parallelEstimate, 180_000)
    }

    func testSeriallyRunsLoopsOnTheCaller() {
        let pool = ThreadPool(threads: 2)
        let before = pool.stats.parallelLoops
        let me = Thread.current
        let counts = ThreadPoolTests.Counts(64)
        pool.serially {
            pool.parallelFor(64) { r in
                XCTAssertTrue(Thread.current == me)
                for i in r { counts.hit(i) }
            }
        }
        XCTAssertEqual(counts.c, Array(repeating: 1, count: 64))
        XCTAssertEqual(pool.stats.parallelLoops, before)
        pool.parallelFor(64) { _ in }
        XCTAssertEqual(pool.stats.parallelLoops, before + 1, "serially ends with its body")
    }
}
