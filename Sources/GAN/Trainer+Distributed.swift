// Trainer+Distributed: the loop's few data-parallel hooks, identities without `parallel`.
//
// Contract: `localBatch(n)` is this rank's share of a global batch of n; `step` gives a step
// program its gradient collective before it first runs; `shard` keeps this rank's rows of a
// step's inputs; `reduceScalars` averages a step's logged scalars over ranks and returns the
// agreed stop flag. Without `parallel` they return their input (and the local stop flag is
// false), so a single-process run executes exactly the code it did before.

import GraphIR
import Runtime
import Training

extension Trainer {
    func localBatch(_ n: Int) throws -> Int { try parallel?.local(n) ?? n }

    func step(_ s: TrainStep) -> TrainStep {
        parallel?.prepare(s)
        return s
    }

    func shard(_ inputs: [String: Tensor], global n: Int, batches: [String: Int] = [:]) throws -> [String: Tensor] {
        try parallel?.shard(inputs, global: n, batches: batches) ?? inputs
    }

    func reduceScalars(_ s: [String: Float], order: [String]) throws -> (scalars: [String: Float], stop: Bool) {
        try parallel?.reduce(s, order: order) ?? (s, false)
    }

    /// Checks that every batch can be split over the ranks (each needs a sample), then copies
    /// rank 0's weights, optimizer state and counters to every rank (call after restore).
    public func broadcastInitialState() throws {
        guard let parallel, parallel.size > 1 else { return }
        let last = try data.batch(epoch: 0, index: data.batchesPerEpoch - 1).images.shape[0]
        let smallest = min(last, steps.spec.schedule.batchSize)
        if smallest < parallel.size {
            throw RuntimeError("\(steps.spec.file): a batch of \(smallest) cannot be split over \(parallel.size) ranks (each rank needs at least one sample); use a larger batch_size, drop_last: true, or fewer ranks")
        }
        try parallel.broadcastState(steps.store, counters: &counters)
    }
}
