import Kernels
import XCTest

/// ThreadPool: parallelFor's split is fixed by n and the thread count; dynamicFor runs every
/// index exactly once whoever takes it; nested loops run serially; loops issued back to back
/// and after the workers went to sleep all complete.
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
        pool.parallelFor(10) { r in ranges.lock.lock(); seen.append(r); ranges.lock.unlock() }
        XCTAssertEqual(seen.sorted { $0.lowerBound < $1.lowerBound }, [0..<4, 4..<8, 8..<10])
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
}
