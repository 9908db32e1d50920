import Kernels
import Synchronization
import XCTest

/// ThreadPool: parallelFor's split is fixed by n, the chunk count and the thread count; chunks
/// go to whichever thread is free, so a stalled thread takes fewer; dynamicFor runs every index
/// exactly once whoever takes it; nested loops run serially; loops issued back to back and after
/// the workers went to sleep all complete.
final class ThreadPoolTests: XCTestCase {
    final class Counts: @unchecked Sendable {
        var c: [Int]
        let lock = NSLock()
        init(_ n: Int) { c = Array(repeating: 0, count: n) }
        func hit(_ i: Int) { lock.lock(); c[i] += 1; lock.unlock() }
    }

    func testEveryIndexExactlyOnce() {
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threads: threads)
            for n in [0, 1, 2, 3, 7, 64, 1001] {
                let a = Counts(n), b = Counts(n)
                pool.parallelFor(n) { r in for i in r { a.hit(i) } }
                pool.dynamicFor(n) { i in b.hit(i) }
                XCTAssertEqual(a.c, Array(repeating: 1, count: n), "parallelFor n=\(n) threads=\(threads)")
                XCTAssertEqual(b.c, Array(repeating: 1, count: n), "dynamicFor n=\(n) threads=\(threads)")
            }
        }
    }

    func testParallelForSplitIsFixed() {
        let pool = ThreadPool(threads: 3)
        let ranges = Counts(0)
        var seen: [Range<Int>] = []
        pool.parallelFor(10, chunks: 3) { r in ranges.lock.lock(); seen.append(r); ranges.lock.unlock() }
        XCTAssertEqual(seen.sorted { $0.lowerBound < $1.lowerBound }, [0..<3, 3..<6, 6..<10])
        // By default 4 chunks per thread (at most one per index).
        seen = []
        pool.parallelFor(25) { r in ranges.lock.lock(); seen.append(r); ranges.lock.unlock() }
        XCTAssertEqual(seen.count, 12)
        XCTAssertEqual(seen.sorted { $0.lowerBound < $1.lowerBound }.map(\.count), [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3])
        seen = []
        pool.parallelFor(5) { r in ranges.lock.lock(); seen.append(r); ranges.lock.unlock() }
        XCTAssertEqual(seen.sorted { $0.lowerBound < $1.lowerBound }, (0..<5).map { $0..<($0 + 1) })
    }

    /// A thread stalled inside a chunk (as one the OS deschedules) keeps only the chunk it holds:
    /// the caller claims all the others instead of waiting for it.
    func testStalledThreadTakesFewerChunks() {
        let caller = pthread_self()
        for _ in 0..<3 {
            // A fresh pool each time: after such a loop the governor rightly runs the next ones serially.
            let pool = ThreadPool(threads: 2)
            let c = Counts(64)
            let workerStarted = Atomic<Bool>(false)
            var byWorker = 0
            pool.parallelFor(64, chunks: 64) { r in
                if pthread_equal(pthread_self(), caller) == 0 {
                    workerStarted.store(true, ordering: .releasing)
                    Thread.sleep(forTimeInterval: 0.2)
                    c.lock.lock(); byWorker += r.count; c.lock.unlock()
                } else {
                    // Let the worker take its first chunk (bounded, so a busy machine cannot hang the test).
                    let t0 = Date()
                    while !workerStarted.load(ordering: .acquiring) && Date().timeIntervalSince(t0) < 2 { sched_yield() }
                }
                for i in r { c.hit(i) }
            }
            XCTAssertEqual(c.c, Array(repeating: 1, count: 64))
            XCTAssertEqual(byWorker, 1, "the stalled worker should hold only the chunk it took")
        }
    }

    /// The caller claims a loop's chunks from the front, the workers from the back: on two
    /// threads the caller's chunks are a prefix of 0..<count and the worker's the rest, whatever
    /// the timing, so loops split alike give each thread the same part of the data.
    func testCallerTakesTheFrontWorkersTheBack() {
        let caller = pthread_self()
        let pool = ThreadPool(threads: 2)
        for count in [2, 7, 64] {
            for _ in 0..<20 {
                let c = Counts(count)
                let byCaller = Counts(count)
                pool.parallelFor(count, chunks: count) { r in
                    for i in r {
                        c.hit(i)
                        if pthread_equal(pthread_self(), caller) != 0 { byCaller.hit(i) }
                    }
                    // Long enough that the worker, when it is awake, takes some chunks.
                    var x = 0.0
                    for k in 0..<2000 { x += Double(k) }
                    if x < 0 { print(x) }
                }
                XCTAssertEqual(c.c, Array(repeating: 1, count: count))
                // (Empty when the caller was descheduled and the worker took everything.)
                let prefix = byCaller.c.prefix { $0 == 1 }.count
                XCTAssertEqual(Array(byCaller.c[prefix...]), Array(repeating: 0, count: count - prefix),
                               "the caller's chunks are not a prefix: \(byCaller.c)")
            }
        }
    }

    func testNestedAndAfterSleep() {
        let pool = ThreadPool(threads: 2)
        let c = Counts(16)
        pool.parallelFor(4) { outer in
            for o in outer { pool.dynamicFor(4) { i in c.hit(o * 4 + i) } }
        }
        XCTAssertEqual(c.c, Array(repeating: 1, count: 16))
        // Past the spin window the workers sleep; the next loops must wake them.
        Thread.sleep(forTimeInterval: 0.02)
        for _ in 0..<200 {
            let d = Counts(8)
            pool.dynamicFor(8) { i in d.hit(i) }
            XCTAssertEqual(d.c, Array(repeating: 1, count: 8))
        }
    }

    /// The governor goes serial after a window where waiting cost more than the workers saved,
    /// for twice as long after each further losing window, and back to the first period after a
    /// winning one.
    func testGovernorBacksOffWhenWaitingCostsMore() {
        typealias G = ThreadPool.Governor
        var g = G()
        var t: UInt64 = 1_000_000_000
        // A winning window: stays parallel.
        g.record(now: t, saved: 5_000_000, waited: 1_000_000)
        t += G.window
        g.record(now: t, saved: 5_000_000, waited: 1_000_000)
        XCTAssertFalse(g.serial(t + 1))
        // A losing window: serial for minSerial.
        g.record(now: t + 1, saved: 0, waited: 3_000_000)
        t += 1 + G.window
        g.record(now: t, saved: 0, waited: 3_000_000)
        XCTAssertTrue(g.serial(t + G.minSerial - 1))
        XCTAssertFalse(g.serial(t + G.minSerial))
        // Losing again right after: twice as long.
        t += G.minSerial
        g.record(now: t, saved: 0, waited: 1)
        t += G.window
        g.record(now: t, saved: 0, waited: 1)
        XCTAssertTrue(g.serial(t + 2 * G.minSerial - 1))
        XCTAssertFalse(g.serial(t + 2 * G.minSerial))
        XCTAssertEqual(g.stats.parallelLoops, 6)
    }
}
