// ThreadPool: a fixed set of worker threads that run `parallelFor` loops.
//
// Contract: `parallelFor(n, chunks: c) { range in ... }` splits 0..<n into c contiguous chunks
// (chunk i is i·n/c ..< (i+1)·n/c; default c = min(n, 4·threads)) and runs each exactly once;
// it returns when all chunks are done. The split depends only on n, c and the thread count,
// never on timing, so a kernel whose chunks write disjoint outputs is deterministic. Which
// thread runs a chunk is decided at run time: the caller and the workers claim chunks one at a
// time, so a thread that the OS deschedules (a busy machine) takes fewer. `dynamicFor` is the
// same with one index per chunk. Nested calls from inside a chunk run serially on the caller.
// Workers hold only the shared state, so releasing the pool stops them without touching freed
// memory.
//
// Hand-off: a loop is published by storing a new ticket (generation, and the unclaimed chunks
// as a range [front, back)) that every claim narrows by compare-and-swap, so a worker that wakes
// late can never claim a chunk of a loop other than the one it read. The caller claims from the
// front and the workers from the back: on two threads, when neither is slowed, the caller runs a
// loop's first chunks and the worker its last, so consecutive loops split alike (a GEMM over the
// pixels a convolution just wrote) find their part of the data in their own core's cache.
// Idle workers poll the ticket for up to `spin`
// (yielding the core now and then, so a descheduled caller on the same core gets it back), then
// sleep on a condition; the publisher signals only when some worker sleeps, so back-to-back
// loops cost no system call. When no chunk is left to claim, the caller polls until the chunks
// other threads hold are done for about twice its own mean chunk time, then sleeps until the
// last one finishes (a worker preempted inside its chunk then gets the caller's core).
// A `Governor` runs loops on the caller alone for a while when, over a window, the caller
// waited longer for the workers' chunks than those chunks would have taken it. `serially`
// runs a whole unit of work on the caller (a program's choice, ThreadPool+Choice.swift).
// Serial and parallel runs compute the same bits (chunks write disjoint outputs).
//
// Why (a 2-core VM): with equal static chunks and spin-waiting, a D step of mnist_gan ran
// 6× slower on 2 threads than on 1 when other processes kept the cores busy: each of the
// hundreds of loops per step waited a scheduler time slice for its descheduled worker.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that share the work, the caller included (>= 1).
    public let threads: Int
    private let state: State

    /// How long an idle worker polls for the next loop before it sleeps, by default.
    public static let defaultSpinNanoseconds: UInt64 = 1_000_000
    /// Default chunks per thread of a loop.
    static let chunksPerThread = 4
    /// How long an idle worker polls before it starts yielding its core between polls.
    static let yieldAfter: UInt64 = 50_000

    // Ticket layout: generation (28 bits) | back (18 bits) | front (18 bits).
    static let indexBits: UInt64 = 18
    static let indexMask: UInt64 = (1 << indexBits) - 1
    /// The most chunks one loop may have.
    public static let maxChunks = Int(indexMask)

    /// What the caller and the workers share.
    private final class State: @unchecked Sendable {
        let ticket = Atomic<UInt64>(0)
        /// Chunks of the current loop not finished yet.
        let pending = Atomic<Int>(0)
        let sleepingWorkers = Atomic<Int>(0)
        let callerSleeping = Atomic<Bool>(false)
        let shuttingDown = Atomic<Bool>(false)
        /// Workers sleep here between loops.
        let wake = NSCondition()
        /// The caller sleeps here until the last chunk is done.
        let done = NSCondition()
        let spinNanoseconds: UInt64
        /// Written by the caller before the ticket is published (release), read by a thread only
        /// after it claimed a chunk of that ticket's loop (acquire): stable while chunks are pending.
        var job: ((Range<Int>) -> Void)?
        var n = 0, count = 0
        var inLoop = false
        /// Caller-side only.
        var governor = Governor()

        init(spin: UInt64) { spinNanoseconds = spin }

        @inline(__always) static func generation(_ t: UInt64) -> UInt64 { t >> (2 * indexBits) }

        /// Claims a chunk of generation `gen`: the first unclaimed one (the caller), or the last
        /// (`fromBack`: the workers); nil when none is left (or the loop is over).
        @inline(__always)
        func claim(_ gen: UInt64, fromBack: Bool = false) -> Int? {
            var t = ticket.load(ordering: .acquiring)
            while true {
                let front = t & indexMask, back = (t >> indexBits) & indexMask
                if State.generation(t) != gen || front >= back { return nil }
                let desired = fromBack ? t - (1 << indexBits) : t + 1
                let (ok, seen) = ticket.compareExchange(expected: t, desired: desired, ordering: .acquiringAndReleasing)
                if ok { return Int(fromBack ? back - 1 : front) }
                t = seen
            }
        }

        /// Runs chunk `c` of the current loop and counts it done, waking a sleeping caller after the last.
        @inline(__always)
        func run(_ c: Int) {
            let lo = c * n / count, hi = (c + 1) * n / count
            job!(lo..<hi)
            if pending.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 && callerSleeping.load(ordering: .sequentiallyConsistent) {
                done.lock(); done.signal(); done.unlock()
            }
        }

        func workerLoop() {
            var seen: UInt64 = 0
            while true {
                guard let t = waitForLoop(after: seen) else { return }
                seen = State.generation(t)
                while let c = claim(seen, fromBack: !Baseline.sharedChunkClaims) { run(c) }
            }
        }

        /// Polls, then sleeps, until a ticket of a generation other than `seen` appears; nil on shutdown.
        func waitForLoop(after seen: UInt64) -> UInt64? {
            var t = ticket.load(ordering: .acquiring)
            if State.generation(t) != seen { return t }
            let start = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while true {
                if shuttingDown.load(ordering: .relaxed) { return nil }
                t = ticket.load(ordering: .acquiring)
                if State.generation(t) != seen { return t }
                spins += 1
                if spins & 127 == 0 {
                    let elapsed = DispatchTime.now().uptimeNanoseconds - start
                    if elapsed > spinNanoseconds { break }
                    // Past 50 µs, give the core to whoever waits for it (on a busy machine, maybe the caller).
                    if elapsed > ThreadPool.yieldAfter { sched_yield() }
                }
            }
            wake.lock()
            sleepingWorkers.add(1, ordering: .sequentiallyConsistent)
            while true {
                t = ticket.load(ordering: .sequentiallyConsistent)
                if State.generation(t) != seen || shuttingDown.load(ordering: .relaxed) { break }
                wake.wait()
            }
            sleepingWorkers.subtract(1, ordering: .sequentiallyConsistent)
            wake.unlock()
            return shuttingDown.load(ordering: .relaxed) ? nil : t
        }
    }

    /// Decides, from what the workers' chunks saved the caller against how long the caller waited
    /// for them, whether loops run in parallel or (for a while) on the caller alone. On a machine
    /// whose cores are all busy, a worker is often descheduled while it holds a chunk, and the
    /// caller then waits a whole scheduler time slice for it: worse than doing the work itself.
    /// Over each window of 25 ms, it compares the caller time the workers' chunks would have taken
    /// (their count × the caller's mean chunk time) with the caller time spent waiting for them;
    /// when the waiting was longer, loops run on the caller for 20 ms, doubling (up to 640 ms)
    /// while windows keep losing.
    public struct Governor {
        /// Length of an accounting window and the shortest and longest serial period (ns).
        public static let window: UInt64 = 25_000_000
        public static let minSerial: UInt64 = 20_000_000, maxSerial: UInt64 = 640_000_000
        public init() {}
        var windowStart: UInt64 = 0
        /// Caller time the workers' chunks would have taken, and caller time spent waiting for them.
        var saved: UInt64 = 0, waited: UInt64 = 0
        public private(set) var serialUntil: UInt64 = 0
        var backoff = Governor.minSerial
        /// Totals since the pool started, for reports (see `ThreadPool.Stats`).
        public internal(set) var stats = Stats()

        /// Whether loops issued at `now` (uptime ns) run on the caller alone.
        @inline(__always) public func serial(_ now: UInt64) -> Bool { now < serialUntil }

        /// Accounts one parallel loop that ended at `now`.
        public mutating func record(now: UInt64, saved s: UInt64, waited w: UInt64) {
            stats.parallelLoops += 1
            stats.savedNanoseconds += s
            stats.waitedNanoseconds += w
            if windowStart == 0 || windowStart < serialUntil { windowStart = now; saved = 0; waited = 0 }
            saved += s; waited += w
            guard now - windowStart >= Governor.window else { return }
            if waited > saved {
                serialUntil = now + backoff
                backoff = min(2 * backoff, Governor.maxSerial)
            } else {
                backoff = Governor.minSerial
            }
            windowStart = now; saved = 0; waited = 0
        }
    }

    /// What the pool did since it started.
    public struct Stats: Equatable, Sendable {
        /// Loops shared with the workers, and loops the governor ran on the caller alone.
        public var parallelLoops = 0, serialLoops = 0
        /// Caller time the workers' chunks would have taken, and caller time spent waiting for them.
        public var savedNanoseconds: UInt64 = 0, waitedNanoseconds: UInt64 = 0
    }

    /// What the pool did since it started (read it from the thread that issues the loops).
    public var stats: Stats { state.governor.stats }

    /// A pool that runs everything on the calling thread.
    public static let serial = ThreadPool(threads: 1)

    /// `spinNanoseconds`: how long idle workers poll for the next loop before sleeping.
    public init(threads: Int, spinNanoseconds: UInt64 = ThreadPool.defaultSpinNanoseconds) {
        self.threads = max(1, threads)
        let state = State(spin: spinNanoseconds)
        self.state = state
        for _ in 1..<self.threads {
            let t = Thread { state.workerLoop() }
            t.stackSize = 8 << 20
            t.start()
        }
    }

    deinit {
        state.shuttingDown.store(true, ordering: .sequentiallyConsistent)
        state.wake.lock()
        state.wake.broadcast()
        state.wake.unlock()
    }

    /// The default number of chunks for a loop of `n` units.
    public func defaultChunks(_ n: Int) -> Int { min(n, ThreadPool.chunksPerThread * threads) }

    /// Runs `body` over `chunks` contiguous chunks of 0..<n (see the file header); by default
    /// `defaultChunks(n)`.
    public func parallelFor(_ n: Int, chunks: Int? = nil, _ body: (Range<Int>) -> Void) {
        if n <= 0 { return }
        let count = min(max(1, chunks ?? defaultChunks(n)), n, ThreadPool.maxChunks)
        let s = state
        if threads == 1 || count == 1 || s.inLoop {
            body(0..<n)
            return
        }
        let start = DispatchTime.now().uptimeNanoseconds
        if s.governor.serial(start) {
            s.governor.stats.serialLoops += 1
            body(0..<n)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            s.inLoop = true
            s.job = escapable
            s.n = n
            s.count = count
            s.pending.store(count, ordering: .relaxed)
            let gen = (State.generation(s.ticket.load(ordering: .relaxed)) + 1) & ((1 << 28) - 1)
            s.ticket.store(gen << (2 * ThreadPool.indexBits) | UInt64(count) << ThreadPool.indexBits,
                           ordering: .sequentiallyConsistent)
            if s.sleepingWorkers.load(ordering: .sequentiallyConsistent) > 0 {
                s.wake.lock(); s.wake.broadcast(); s.wake.unlock()
            }
            var mine = 0
            while let c = s.claim(gen) { s.run(c); mine += 1 }
            let now = DispatchTime.now().uptimeNanoseconds
            let perChunk = (now - start) / UInt64(max(mine, 1))
            if s.pending.load(ordering: .acquiring) > 0 {
                // Poll for about twice the caller's mean chunk time, then sleep.
                let budget = min(2_000_000, max(20_000, 2 * perChunk))
                var spins = 0
                while s.pending.load(ordering: .acquiring) > 0 {
                    spins += 1
                    if spins & 63 == 0 && DispatchTime.now().uptimeNanoseconds - now > budget {
                        s.done.lock()
                        s.callerSleeping.store(true, ordering: .sequentiallyConsistent)
                        while s.pending.load(ordering: .sequentiallyConsistent) > 0 { s.done.wait() }
                        s.callerSleeping.store(false, ordering: .relaxed)
                        s.done.unlock()
                    }
                }
            }
            let end = DispatchTime.now().uptimeNanoseconds
            s.governor.record(now: end, saved: UInt64(count - mine) * perChunk, waited: end - now)
            s.job = nil
            s.inLoop = false
        }
    }

    /// Runs `body` with every loop it issues on the calling thread alone (the same bits as a
    /// parallel run: chunks write disjoint outputs). Call it from the thread that issues loops.
    public func serially<R>(_ body: () throws -> R) rethrows -> R {
        let s = state
        if s.inLoop || threads == 1 { return try body() }
        s.inLoop = true
        defer { s.inLoop = false }
        return try body()
    }

    /// The threads a loop issued now would share: 1 inside a loop's chunk or `serially`, else
    /// `threads`. A kernel that splits its work by thread count (Gemm) splits by this, so a
    /// serial run does not pay for a split it will not use.
    public var sharingThreads: Int { state.inLoop ? 1 : threads }

    /// Runs `body(i)` once for every i in 0..<n, each index claimed by whichever thread is free
    /// next. Which thread runs an index depends on timing: use it only where an index's result
    /// does not depend on the thread that computes it.
    public func dynamicFor(_ n: Int, _ body: (Int) -> Void) {
        parallelFor(n, chunks: n) { r in for i in r { body(i) } }
    }

    /// Runs `body(i)` for every i in 0..<n, split as `parallelFor` splits.
    public func forEach(_ n: Int, _ body: (Int) -> Void) {
        parallelFor(n) { range in for i in range { body(i) } }
    }
}
