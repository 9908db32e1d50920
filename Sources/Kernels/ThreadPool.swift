// ThreadPool: a fixed set of worker threads that run `parallelFor` loops.
//
// Contract: `parallelFor(n) { range in ... }` splits 0..<n into at most `threads` contiguous
// chunks of equal size (the last may be shorter) and runs each chunk exactly once; it returns
// when all chunks are done. The split depends only on n and the thread count, never on timing,
// so a kernel whose chunks write disjoint outputs is deterministic. The calling thread runs
// chunk 0 itself. Nested calls from inside a chunk run serially on the caller. Workers hold
// only the shared state, so releasing the pool stops them without touching freed memory.
import Foundation

public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that share the work, the caller included (>= 1).
    public let threads: Int
    private let state: State

    /// What the caller and the workers share.
    private final class State: @unchecked Sendable {
        let lock = NSCondition()
        var job: ((Int) -> Void)?
        var generation = 0
        var pending = 0
        var shuttingDown = false
        var inLoop = false

        func workerLoop(index: Int) {
            var seen = 0
            while true {
                lock.lock()
                while generation == seen && !shuttingDown { lock.wait() }
                if shuttingDown { lock.unlock(); return }
                seen = generation
                runCurrentJob(index)
                lock.lock()
                pending -= 1
                if pending == 0 { lock.broadcast() }
                lock.unlock()
            }
        }

        /// Called with the lock held; returns with it released, holding no reference to the job.
        @inline(never)
        func runCurrentJob(_ index: Int) {
            let body = job!
            lock.unlock()
            body(index)
        }
    }

    /// A pool that runs everything on the calling thread.
    public static let serial = ThreadPool(threads: 1)

    public init(threads: Int) {
        self.threads = max(1, threads)
        let state = State()
        self.state = state
        for worker in 1..<self.threads {
            let t = Thread { state.workerLoop(index: worker) }
            t.stackSize = 8 << 20
            t.start()
        }
    }

    deinit {
        state.lock.lock()
        state.shuttingDown = true
        state.lock.broadcast()
        state.lock.unlock()
    }

    /// Runs `body` over `threads` contiguous chunks of 0..<n (see the file header).
    public func parallelFor(_ n: Int, _ body: (Range<Int>) -> Void) {
        if n <= 0 { return }
        let parts = min(threads, n)
        let s = state
        if parts == 1 || s.inLoop {
            body(0..<n)
            return
        }
        let chunk = (n + parts - 1) / parts
        withoutActuallyEscaping(body) { escapable in
            let run: (Int) -> Void = { part in
                let lo = part * chunk
                let hi = min(n, lo + chunk)
                if lo < hi { escapable(lo..<hi) }
            }
            s.lock.lock()
            s.inLoop = true
            s.job = { part in if part < parts { run(part) } }
            s.pending = threads - 1
            s.generation &+= 1
            s.lock.broadcast()
            s.lock.unlock()
            run(0)
            s.lock.lock()
            while s.pending > 0 { s.lock.wait() }
            s.job = nil
            s.inLoop = false
            s.lock.unlock()
        }
    }

    /// Runs `body(i)` for every i in 0..<n, split as `parallelFor` splits.
    public func forEach(_ n: Int, _ body: (Int) -> Void) {
        parallelFor(n) { range in for i in range { body(i) } }
    }
}
