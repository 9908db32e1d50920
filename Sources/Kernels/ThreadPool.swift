// ThreadPool: a fixed set of worker threads that run `parallelFor` loops.
//
// Contract: `parallelFor(n) { range in ... }` splits 0..<n into at most `threads` contiguous
// chunks of equal size (the last may be shorter) and runs each chunk exactly once; it returns
// when all chunks are done. The split depends only on n and the thread count, never on timing,
// so a kernel whose chunks write disjoint outputs is deterministic. The calling thread runs
// chunk 0 itself. Nested calls from inside a chunk run serially on the caller.
import Foundation

public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that share the work, the caller included (>= 1).
    public let threads: Int
    private var workers: [Thread] = []
    private let lock = NSCondition()
    private var job: ((Int) -> Void)?
    private var generation = 0
    private var pending = 0
    private var shuttingDown = false
    private var inLoop = false

    /// A pool that runs everything on the calling thread.
    public static let serial = ThreadPool(threads: 1)

    public init(threads: Int) {
        self.threads = max(1, threads)
        for worker in 1..<self.threads {
            let t = Thread { [unowned self] in self.workerLoop(index: worker) }
            t.stackSize = 8 << 20
            t.start()
            workers.append(t)
        }
    }

    deinit {
        lock.lock()
        shuttingDown = true
        lock.broadcast()
        lock.unlock()
    }

    private func workerLoop(index: Int) {
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
    private func runCurrentJob(_ index: Int) {
        let body = job!
        lock.unlock()
        body(index)
    }

    /// Runs `body` over `threads` contiguous chunks of 0..<n (see the file header).
    public func parallelFor(_ n: Int, _ body: (Range<Int>) -> Void) {
        if n <= 0 { return }
        let parts = min(threads, n)
        if parts == 1 || inLoop {
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
            lock.lock()
            inLoop = true
            job = { part in if part < parts { run(part) } }
            pending = threads - 1
            generation &+= 1
            lock.broadcast()
            lock.unlock()
            run(0)
            lock.lock()
            while pending > 0 { lock.wait() }
            job = nil
            inLoop = false
            lock.unlock()
        }
    }

    /// Runs `body(i)` for every i in 0..<n, split as `parallelFor` splits.
    public func forEach(_ n: Int, _ body: (Int) -> Void) {
        parallelFor(n) { range in for i in range { body(i) } }
    }
}
