// Trainer+Distributed: the loop's few data-parallel hooks, identities without `parallel`.
//
// Contract: `rows(of: n)` is this rank's rows of a global batch of n (all n without
// `parallel`); `setShare` tells the collectives this rank's share of the step about to run;
// `step` gives a step program its gradient collective before it first runs; `shard` keeps this
// rank's rows of a step's inputs (only for a recipe whose inputs need the whole batch);
// `reduceScalars` averages a step's logged scalars over ranks (or takes those its gradient
// collective already averaged) and returns the agreed stop flag. Without `parallel` they
// return their input (and the local stop flag is false), so a single-process run executes
// exactly the code it did before.

import GraphIR
import Runtime
import Training

extension Trainer {
    func rows(of n: Int) throws -> Range<Int> { try parallel?.rows(of: n) ?? 0..<n }

    func setShare(_ local: Int, of global: Int) throws { parallel?.setShare(local, of: global) }

    func step(_ s: TrainStep) throws -> TrainStep {
        try parallel?.prepare(s)
        return s
    }

    func shard(_ inputs: [String: Tensor], global n: Int) throws -> [String: Tensor] {
        try parallel?.shard(inputs, global: n) ?? inputs
    }

    func reduceScalars(_ step: TrainStep, _ s: [String: Float], order: [String]) throws -> (scalars: [String: Float], stop: Bool) {
        try parallel?.reduce(step, s, order: order) ?? (s, false)
    }

    /// Checks that every batch can be split over the ranks (each needs a sample), then copies
    /// rank 0's weights, optimizer state and counters to every rank (call after restore).
    public func broadcastInitialState() throws {
        guard let parallel, parallel.size > 1 else { return }
        let last = try data.batchCount(epoch: 0, index: data.batchesPerEpoch - 1)
        let smallest = min(last, steps.spec.schedule.batchSize)
        if smallest < parallel.size {
            throw RuntimeError("\(steps.spec.file): a batch of \(smallest) cannot be split over \(parallel.size) ranks (each rank needs at least one sample); use a larger batch_size, drop_last: true, or fewer ranks")
        }
        try parallel.broadcastState(steps.store, counters: &counters)
    }
}
