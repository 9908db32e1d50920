// ThreadPool+Choice: choosing, for a unit of work that runs again and again (a compiled
// program's step), between sharing its loops with the pool's workers and running them on the
// caller alone, from the wall times measured each way.
//
// Contract: a `RunChoice` belongs to one repeated unit. Before each run, `serialNext()` says how
// to run it; after, `record` takes the wall time and the mode it ran in. The first run is not
// recorded (page faults, caches); then it runs parallel until it has 2 samples,
// explores serial once, and from then on runs the mode with the lower estimate, exploring the
// other one every `period` runs: 8, doubling to 64 while exploring confirms the choice by a wide
// margin (the other mode 25% slower), back to 8 when it switches or the margin is narrow (on an
// idle machine, where parallel runs are nearly twice as fast, one serial run in 65 costs about
// 1%; where the modes are close, exploring often costs little and corrects an unlucky sample). Serial is sticky: it is chosen on a tie and kept until
// parallel is 3% faster (at near-equal times it is as fast, leaves the other core to whoever
// needs it, and a choice that flips on noise pays for more exploring runs).
// An estimate is an exponential average (weight 1/4 for runs in the preferred mode, 1/2 for
// exploring runs, which are rarer); one sample counts at most 4× the estimate it updates.
// Only timing decides the mode, and both modes compute the same bits (ThreadPool), so results
// never depend on the choice.
//
// Why: when another process keeps a core busy, a 2-thread step is slower than a 1-thread one
// (the worker is descheduled while it holds chunks, and the caller shares its core) even with
// the loop-level governor, which sees only the caller's waits. Timing whole steps both ways
// measures what the choice changes. Choosing per instruction was tried and lost on an idle
// machine (mnist_gan D 109–114 ms against 104: the worker falls asleep between serial
// instructions and each parallel one pays to wake it).

extension ThreadPool {
    /// How one repeated unit of work runs its loops (see the file header).
    public struct RunChoice: Sendable {
        /// Estimated wall time (ns) in parallel and in serial mode; 0: no sample yet.
        public private(set) var parallelEstimate = 0.0, serialEstimate = 0.0
        /// Whether the best mode known is serial.
        public private(set) var prefersSerial = false
        /// Runs so far, in each mode (warm-up included).
        public private(set) var serialRuns = 0, parallelRuns = 0
        var parallelSamples = 0
        var countdown = 0
        var period = RunChoice.minPeriod
        static let warmUp = 1, firstSamples = 2
        static let minPeriod = 8, maxPeriod = 64
        /// Serial is left only for a parallel estimate below this fraction of serial's.
        static let leaveSerial = 0.97
        /// Exploring runs grow rarer only while the modes differ by more than this factor.
        static let wideMargin = 1.25

        public init() {}

        /// Whether the next run should issue its loops on the caller alone.
        @inline(__always)
        public func serialNext() -> Bool {
            if parallelSamples < RunChoice.firstSamples { return false }
            if serialEstimate == 0 { return true }
            return countdown == 0 ? !prefersSerial : prefersSerial
        }

        /// Records one run of `nanoseconds` in the given mode.
        public mutating func record(serial: Bool, nanoseconds: UInt64) {
            if serial { serialRuns += 1 } else { parallelRuns += 1 }
            if serialRuns + parallelRuns <= RunChoice.warmUp { return }
            let x = Double(nanoseconds)
            let exploring = serial != prefersSerial
            func update(_ e: inout Double) {
                if e == 0 { e = x; return }
                let w = exploring ? 0.5 : 0.25
                e += w * (min(x, 4 * e) - e)
            }
            if serial { update(&serialEstimate) } else { update(&parallelEstimate); parallelSamples += 1 }
            guard parallelEstimate > 0, serialEstimate > 0 else { return }
            let best = prefersSerial ? parallelEstimate >= RunChoice.leaveSerial * serialEstimate
                                     : serialEstimate <= parallelEstimate
            if exploring {
                let wide = max(serialEstimate, parallelEstimate) > RunChoice.wideMargin * min(serialEstimate, parallelEstimate)
                if best != prefersSerial || !wide { prefersSerial = best; period = RunChoice.minPeriod }
                else { period = min(2 * period, RunChoice.maxPeriod) }
                countdown = period
            } else if best != prefersSerial {
                prefersSerial = best; period = RunChoice.minPeriod; countdown = period
            } else if countdown > 0 {
                countdown -= 1
            }
        }
    }
}
