// DataParallel: what the training loop does differently when K ranks train one model
// (data-parallel, as Horovod and PyTorch DDP do).
//
// Contract:
// - Batches: the spec's batch size is the *global* batch. The data order is keyed by
//   (seed, epoch) whatever K is; rank r takes rows [r·n/K, (r+1)·n/K) of each global batch
//   (`rows`, DistributedSampler's "same global order, each rank its slice") and builds only
//   those: its images (BatchSource.batch(rows:)) and the random inputs of its rows (latents, α,
//   dropout mask rows), drawn from the same counter-based streams seeked to the row
//   (GANSteps.dInputs/gInputs), so global row i gets the same numbers for any K. A recipe whose
//   inputs need the whole batch (DRAGAN's std) builds it and keeps its rows (`shard`). A global
//   batch smaller than K is an error.
// - Gradients: each step program gets one collective before its optimizer update
//   (Program.reduceBeforeUpdate): the gradients and the new BatchNorm running statistics, where
//   the program computed them (its flat gradient region, a fixed layout), are scaled by this
//   rank's share n_r/n (`setShare`, before each step) and summed over ranks with one in-place
//   allreduce — the gradient of the global batch's mean loss — so every rank applies the same
//   update and ends each step with the same weights.
// - Logged scalars (losses, scores) ride in the region's tail, scaled by the share, with
//   the stop flag (a signal on any rank) as one more float: one collective per step, and rank 0
//   logs global-batch losses, every rank sees the same NaN / stop decisions and all ranks stop
//   after the same iteration. The gradient norm logged (d_grad_norm, g_grad_norm) is the norm
//   of the averaged gradient, what one process with the global batch logs (up to summation
//   order). A step whose scalars cannot ride along (not one-float arena outputs) reduces them
//   with one small allreduce after the step (`reduce`).
// - Synchronised BatchNorm (`sync_batchnorm: true`): a step program's AllReduce instructions
//   get the communicator too (Program.setCollective): mode mean scales by the share and sums.
// - Optimizer sharding (ZeRO-1, `shardOptimizer`, on by default): a step whose updates form one
//   fused run reduce-scatters its gradients instead, updates only this rank's block of the
//   parameters and allgathers them (Program.reduceBeforeUpdate(sharded:)); the optimizer state
//   is then current on each rank for its block only, and `gatherOptimizerState` (every rank at
//   the same point: the trainer calls it after an iteration that ends an epoch, stops or ends
//   the run — where checkpoints are written — and `checkReplicas` before hashing) makes it
//   whole on every rank. The weights are identical on every rank after every step either way.
// - `broadcastState` copies rank 0's parameters, optimizer state and counters to every rank.
// - `replicaHash` / `checkReplicas`: a hash of every stored buffer, compared over ranks.
// With K = 1 none of this changes a step (no collective is inserted, rows are the whole batch).

import Distributed
import Foundation
import GraphIR
import Kernels
import Runtime
import Training

public final class DataParallel {
    public let communicator: Communicator
    /// Read before each iteration's scalar collective: whether this rank was asked to stop.
    public var stopSignal: () -> Bool = { false }
    /// This rank's share n_r/n of the current step's global batch.
    private var share: Float = 1
    private var prepared = Set<ObjectIdentifier>()
    /// Floats of each prepared step program's collective (gradient region and tail; for benchmarks).
    public private(set) var fusionFloats: [String: Int] = [:]
    /// Seconds spent in gradient collectives (scale, allreduce, norm) since the start.
    public private(set) var collectiveSeconds: Double = 0

    /// ZeRO-1: each rank updates only its block of each network's parameters (and keeps only
    /// that block's optimizer state current), reduce-scattering the gradients and allgathering
    /// the parameters instead of one allreduce (Program.reduceBeforeUpdate(sharded:)). On by
    /// default with more than one rank; `GANNET_BASELINE=zero1` turns it off (for A/B runs).
    public var shardOptimizer: Bool
    /// The step programs whose update is sharded, in preparation order (the same on every rank).
    private var sharded: [Program] = []
    /// Whether any prepared step reduce-scatters its gradients and allgathers its parameters
    /// (ZeRO-1) instead of one allreduce.
    public var anyStepSharded: Bool { !sharded.isEmpty }

    public init(communicator: Communicator) {
        self.communicator = communicator
        shardOptimizer = !Baseline.names.contains("zero1")
    }

    public var rank: Int { communicator.rank }
    public var size: Int { communicator.size }

    /// Rows [lo, hi) of a global batch of `n` that this rank takes.
    public func rows(of n: Int) throws -> Range<Int> {
        guard n >= size else {
            throw RuntimeError("a global batch of \(n) cannot be split over \(size) ranks (each rank needs at least one sample)")
        }
        return (rank * n / size)..<((rank + 1) * n / size)
    }

    /// This rank's batch size for a global batch of `n`.
    public func local(_ n: Int) throws -> Int { try rows(of: n).count }

    /// Sets this rank's share of the step about to run: `local` of a global batch of `global`.
    public func setShare(_ local: Int, of global: Int) {
        share = Float(local) / Float(global)
    }

    /// This rank's rows of every input whose first dimension is the global batch `n`; other
    /// inputs (k, scalars) pass unchanged. Sets the share.
    public func shard(_ inputs: [String: Tensor], global n: Int) throws -> [String: Tensor] {
        guard size > 1 else { return inputs }
        let r = try rows(of: n)
        setShare(r.count, of: n)
        var out: [String: Tensor] = [:]
        for (name, t) in inputs {
            guard let first = t.shape.first, first == n else { out[name] = t; continue }
            out[name] = t.rows(r)
        }
        return out
    }

    /// Per step program: whether its scalars ride in the gradient collective, and the stop flag the
    /// last run agreed on.
    private final class Folded {
        var stop = false
    }
    private var folded: [ObjectIdentifier: Folded] = [:]

    /// Gives `step` its gradient collective (once per step program; sharded when
    /// `shardOptimizer` and the step's updates allow), folding its scalar metrics, gradient norm
    /// and the stop flag into the collective when they are foldable.
    public func prepare(_ step: TrainStep) throws {
        guard size > 1, prepared.insert(ObjectIdentifier(step)).inserted else { return }
        let comm = communicator
        let program = step.program
        let index = { (name: String) in step.outputNames.firstIndex(of: name) }
        let normName = step.metrics.first { $0.output == "grad_norm" }?.output
        let scalarIndices = step.metrics.filter { $0.output != normName }.compactMap { index($0.output) }
        let normIndex = normName.flatMap(index)
        let foldable = scalarIndices.count == step.metrics.count - (normName == nil ? 0 : 1)
            && scalarIndices.allSatisfy(program.canFold(output:)) && (normIndex.map(program.canFold(output:)) ?? true)
        let state = Folded()
        let stopSignal = { [unowned self] in self.stopSignal() }
        let shard = shardOptimizer ? ShardedUpdate(
            rank: rank, size: size,
            reduceScatter: { [unowned self] buffer, counts, block in
                let t0 = DispatchTime.now().uptimeNanoseconds
                try comm.reduceScatterSum(buffer, counts: counts, into: block)
                self.collectiveSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            },
            allgather: { [unowned self] buffer, counts in
                let t0 = DispatchTime.now().uptimeNanoseconds
                try comm.allgather(buffer, counts: counts)
                self.collectiveSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            }) : nil
        let n = try program.reduceBeforeUpdate(
            folding: foldable ? FusionExtras(scalarOutputs: scalarIndices, gradientNormOutput: normIndex, trailing: 1) : FusionExtras(),
            scale: { [unowned self] in self.share }, sharded: shard
        ) { [unowned self] buffer in
            let t0 = DispatchTime.now().uptimeNanoseconds
            if foldable { buffer[buffer.count - 1] = stopSignal() ? 1 : 0 }
            try comm.allreduceSum(buffer)
            if foldable { state.stop = buffer[buffer.count - 1] > 0 }
            self.collectiveSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        if foldable && n > 0 { folded[ObjectIdentifier(step)] = state }
        if shard != nil && program.isSharded { sharded.append(program) }
        if program.hasAllReduce {
            // Synchronised BatchNorm: batch statistics (and their gradients) as the share-weighted
            // mean over ranks, element counts as the plain sum.
            program.setCollective { [unowned self] buffer, sum in
                if !sum {
                    let w = self.share
                    for i in buffer.indices { buffer[i] *= w }
                }
                try comm.allreduceSum(buffer)
            }
        }
        fusionFloats[step.graph.name, default: 0] = max(fusionFloats[step.graph.name] ?? 0, n)
    }

    /// Makes every rank's optimizer state whole again after sharded updates (each rank's
    /// block to every rank): call on every rank at the same point, before anything reads all
    /// of the state (a checkpoint, the replica check). A no-op without sharded programs.
    public func gatherOptimizerState() throws {
        for p in sharded { try p.gatherShardedState() }
    }

    /// The weighted mean over ranks of `step`'s `scalars` (in `order`), and whether any rank
    /// asked to stop: already in hand when the step's gradient collective carried them, else one
    /// small allreduce.
    public func reduce(_ step: TrainStep, _ scalars: [String: Float], order: [String]) throws -> (scalars: [String: Float], stop: Bool) {
        if size > 1, let f = folded[ObjectIdentifier(step)] { return (scalars, f.stop) }
        return try reduce(scalars, order: order)
    }

    /// The weighted mean over ranks of `scalars` (in `order`), and whether any rank asked to stop.
    public func reduce(_ scalars: [String: Float], order: [String]) throws -> (scalars: [String: Float], stop: Bool) {
        let stop = stopSignal()
        guard size > 1 else { return (scalars, stop) }
        let keys = order.filter { scalars[$0] != nil }
        var v = keys.map { scalars[$0]! * share } + [stop ? 1 : 0]
        try v.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0) }
        var out = scalars
        for (k, x) in zip(keys, v) { out[k] = x }
        return (out, v.last! > 0)
    }

    /// Copies rank 0's stored buffers (sorted by name) and counters to every rank.
    public func broadcastState(_ store: ParameterStore, counters: inout TrainerCounters) throws {
        guard size > 1 else { return }
        for e in store.entries.sorted(by: { $0.name < $1.name }) {
            try communicator.broadcast(UnsafeMutableBufferPointer(start: e.pointer, count: e.count))
        }
        let names = store.counters.map(\.0)
        var values = store.counters.map { Int64($0.1) }
        values += [counters.iteration, counters.epoch, counters.cursor, counters.generatorCounter,
                   counters.frameCounter, counters.framesWritten, counters.generatorSteps].map(Int64.init)
        try communicator.broadcast(&values)
        for (name, v) in zip(names, values) { store.setCounter(name, Int(v)) }
        let c = values.suffix(7).map(Int.init)
        counters.iteration = c[0]; counters.epoch = c[1]; counters.cursor = c[2]; counters.generatorCounter = c[3]
        counters.frameCounter = c[4]; counters.framesWritten = c[5]; counters.generatorSteps = c[6]
    }

    /// FNV-1a over every stored buffer's bytes, in name order (weights, optimizer state,
    /// running statistics).
    public static func replicaHash(_ store: ParameterStore) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for e in store.entries.sorted(by: { $0.name < $1.name }) {
            for b in e.name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            let bytes = UnsafeRawBufferPointer(start: e.pointer, count: e.count * 4)
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        return h
    }

    /// Throws when any rank's stored state differs from rank 0's (compared by `replicaHash`).
    public func checkReplicas(_ store: ParameterStore, iteration: Int) throws {
        guard size > 1 else { return }
        try gatherOptimizerState()
        let mine = Self.replicaHash(store)
        var root: [Int64] = [Int64(bitPattern: mine)]
        try communicator.broadcast(&root)
        if try communicator.any(root[0] != Int64(bitPattern: mine)) {
            throw RuntimeError("replica check: the ranks' weights differ after iteration \(iteration) (rank \(rank) hash \(String(mine, radix: 16)), rank 0 \(String(UInt64(bitPattern: root[0]), radix: 16)))")
        }
    }
}
