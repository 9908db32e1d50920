// ThreadPool: a fixed set of worker threads that run `parallelFor` loops.
//
// Contract: `parallelFor(n) { range in ... }` splits 0..<n into at most `threads` contiguous
// chunks of equal size (the last may be shorter) and runs each chunk exactly once; it returns
// when all chunks are done. The split depends only on n and the thread count, never on timing,
// so a kernel whose chunks write disjoint outputs is deterministic. `dynamicFor` hands single
// indices to free threads instead (timing decides who runs what, not what is computed). The calling thread runs
// chunk 0 itself. Nested calls from inside a chunk run serially on the caller. Workers hold
// only the shared state, so releasing the pool stops them without touching freed memory.
//
// Hand-off: a loop is published by bumping an atomic generation; idle workers spin on it for
// up to `spinNanoseconds` (5 ms, as OpenMP runtimes' block times) after their last chunk before
// sleeping on a condition (woken by every publish), and the caller spins until the pending
// count drops to 0. Kernels issue loops back to back (hundreds per training step), and waking
// a sleeping thread costs up to a millisecond in a VM (a halted vCPU): with sleeps between
// loops, a 512³ SGEMM on 2 threads ran at 1.03× one thread; with warm workers, 1.8×.
import Foundation
import Synchronization

public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that share the work, the caller included (>= 1).
    public let threads: Int
    private let state: State

    /// How long an idle worker spins for the next loop before it sleeps.
    static let spinNanoseconds: UInt64 = 5_000_000

    /// What the caller and the workers share.
    private final class State: @unchecked Sendable {
        let lock = NSCondition()
        /// Written before `generation` is bumped (release), read after it is seen (acquire).
        var job: ((Int) -> Void)?
        let generation = Atomic<Int>(0)
        let pending = Atomic<Int>(0)
        let shuttingDown = Atomic<Bool>(false)
        /// The next index `dynamicFor` hands out.
        let claim = Atomic<Int>(0)
        var inLoop = false

        func workerLoop(index: Int) {
            var seen = 0
            while true {
                if generation.load(ordering: .acquiring) == seen && !shuttingDown.load(ordering: .relaxed) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    var spins = 0
                    while generation.load(ordering: .acquiring) == seen && !shuttingDown.load(ordering: .relaxed) {
                        spins += 1
                        if spins & 255 == 0 && DispatchTime.now().uptimeNanoseconds - start > ThreadPool.spinNanoseconds {
                            lock.lock()
                            while generation.load(ordering: .acquiring) == seen && !shuttingDown.load(ordering: .relaxed) { lock.wait() }
                            lock.unlock()
                        }
                    }
                }
                if shuttingDown.load(ordering: .relaxed) { return }
                seen = generation.load(ordering: .acquiring)
                runCurrentJob(index)
                pending.subtract(1, ordering: .releasing)
            }
        }

        @inline(never)
        func runCurrentJob(_ index: Int) {
            let body = job!
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
        state.shuttingDown.store(true, ordering: .relaxed)
        state.lock.lock()
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
            s.inLoop = true
            s.job = { part in if part < parts { run(part) } }
            s.pending.store(threads - 1, ordering: .relaxed)
            s.generation.add(1, ordering: .releasing)
            // Sleeping workers re-check the generation under the lock before waiting: no lost wake-up.
            s.lock.lock()
            s.lock.broadcast()
            s.lock.unlock()
            run(0)
            var spins = 0
            while s.pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins & 1023 == 0 { sched_yield() }
            }
            s.job = nil
            s.inLoop = false
        }
    }

    /// Runs `body(i)` once for every i in 0..<n, each index going to whichever thread is free
    /// next, so threads that run slower (a busy or throttled core) take fewer. Which thread runs
    /// an index depends on timing: use it only where an index's result does not depend on the
    /// thread that computes it.
    public func dynamicFor(_ n: Int, _ body: (Int) -> Void) {
        if n <= 0 { return }
        let s = state
        if threads == 1 || n == 1 || s.inLoop {
            for i in 0..<n { body(i) }
            return
        }
        s.claim.store(0, ordering: .relaxed)
        parallelFor(threads) { _ in
            while true {
                let i = s.claim.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= n { break }
                body(i)
            }
        }
    }

    /// Runs `body(i)` for every i in 0..<n, split as `parallelFor` splits.
    public func forEach(_ n: Int, _ body: (Int) -> Void) {
        parallelFor(n) { range in for i in range { body(i) } }
    }
}
