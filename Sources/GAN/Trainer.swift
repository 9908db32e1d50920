// Trainer: the seed experiments' training loop (inferno semantics), with checkpoints and exact
// resume.
//
// Contract (seed-experiments.md §2.3–§2.4): before each iteration the loop stops when the
// epoch count reaches `epochs` (or the iteration count reaches `maxSteps`); fetching past the
// last batch advances the epoch and takes the first batch of the next, so a full run is
// epochs × batches + 1 D iterations. Each iteration runs one D step on the batch; then the
// frame saver's and the generator's counters advance (count += 1; when count > frequency the
// action fires and count = 0; never reset at epoch ends); the G step uses the schedule's batch
// size. With `schedule.loop: epochs` (the DCGAN notebook, §7) the run is epochs × batches
// iterations, the G step draws as many latents as this iteration's real batch, and per-epoch
// frames are sampled after each epoch's last iteration (G step included). A checkpoint is
// written whenever the epoch advanced since the last one, and on request (signals). Every
// random draw is keyed by (seed, iteration, purpose) and the data order by (seed, epoch), so a
// run resumed from a checkpoint ends bit-identical to an uninterrupted one, at any thread count.
// A NaN or infinity in a step's outputs or written state throws NonFiniteError from `iterate`
// in that step; the trainer's state is then unusable (restore a checkpoint to continue).

import Core
import Foundation
import GraphIR
import Runtime
import SpecFormat
import Training

/// Batches of real data by (epoch, index within the epoch).
public protocol BatchSource {
    var batchesPerEpoch: Int { get }
    /// Images (N,C,H,W) in the spec's range, and labels (N) when the data has them.
    func batch(epoch: Int, index: Int) throws -> (images: Tensor, labels: Tensor?)
    /// N of `batch(epoch:index:)` (the global batch size of that batch).
    func batchCount(epoch: Int, index: Int) throws -> Int
    /// Rows `rows` (within 0..<N) of `batch(epoch:index:)`: a data-parallel rank's shard,
    /// built without the other rows.
    func batch(epoch: Int, index: Int, rows: Range<Int>) throws -> (images: Tensor, labels: Tensor?)
}

extension BatchSource {
    /// Builds the whole batch (a source that can do better implements it).
    public func batchCount(epoch: Int, index: Int) throws -> Int { try batch(epoch: epoch, index: index).images.shape[0] }

    /// Builds the whole batch and slices it (a source that can do better implements it).
    public func batch(epoch: Int, index: Int, rows: Range<Int>) throws -> (images: Tensor, labels: Tensor?) {
        let (images, labels) = try batch(epoch: epoch, index: index)
        if rows == 0..<images.shape[0] { return (images, labels) }
        return (images.rows(rows), labels?.rows(rows))
    }
}

extension Tensor {
    /// Rows `r` of the leading dimension.
    public func rows(_ r: Range<Int>) -> Tensor {
        let row = shape.dropFirst().reduce(1, *)
        let shape = [r.count] + shape.dropFirst()
        switch storage {
        case .float(let f): return Tensor(shape: shape, floats: Array(f[(r.lowerBound * row)..<(r.upperBound * row)]))
        case .int64(let i): return Tensor(shape: shape, int64s: Array(i[(r.lowerBound * row)..<(r.upperBound * row)]), dtype: dtype)
        }
    }
}

/// What the loop reports after each iteration.
public struct IterationReport {
    public var counters: TrainerCounters
    public var dOutputs: [String: Float]
    public var gOutputs: [String: Float]?
    public var frame: Tensor?
    public var epochEnded: Bool
    /// A stop was asked for (a signal; over MPI: on any rank, agreed by all after this iteration).
    public var stopRequested = false
}

public final class Trainer {
    public let steps: GANSteps
    public let data: BatchSource
    public var counters = TrainerCounters()
    public let sampler: Sampler
    public let fixedLatents: Tensor
    public let fixedLabels: Tensor?
    public var maxSteps: Int?
    public var epochs: Int
    public var generatorFrequency: Int
    /// Frames every (frequency + 1) iterations; nil: once per epoch.
    public var frameFrequency: Int?
    /// Saved with each checkpoint (spec text, overrides); nil: none.
    public var run: RunConfig?
    /// Checks each step's outputs and written state for NaN and infinity (NonFiniteGuard).
    public lazy var nonFiniteGuard = NonFiniteGuard(steps: steps)
    /// Data-parallel training over several ranks (DataParallel.swift); nil: this process alone.
    public var parallel: DataParallel?
    /// Wall time per phase of `iterate` since the start (Trainer+Timing.swift).
    public internal(set) var phases = PhaseTimes()

    public init(steps: GANSteps, data: BatchSource, epochs: Int? = nil, maxSteps: Int? = nil,
                generatorFrequency: Int? = nil, fixedSamples: Int = 100) {
        self.steps = steps
        self.data = data
        let schedule = steps.spec.schedule
        self.epochs = epochs ?? schedule.epochs
        self.maxSteps = maxSteps
        self.generatorFrequency = generatorFrequency ?? schedule.generatorFrequency
        self.frameFrequency = schedule.imageEvery == "epoch" ? nil : schedule.imageFrequency
        sampler = Sampler(generator: steps.generator, store: steps.store, pool: steps.pool)
        // Latent i of the run's seed, as `gan-sample --seed <seed>` draws tile i (Core's Latents).
        fixedLatents = Tensor(shape: [fixedSamples, steps.latentSize], floats: (0..<fixedSamples).flatMap {
            Latents.vector(seed: steps.seed, index: UInt64($0), size: steps.latentSize, distribution: steps.latentDistribution) })
        if let k = steps.classes {
            // Row r of the 10×10 grid is class r.
            let perClass = max(1, fixedSamples / k)
            fixedLabels = Tensor(shape: [fixedSamples], int64s: (0..<fixedSamples).map { Int64(min($0 / perClass, k - 1)) })
        } else {
            fixedLabels = nil
        }
    }

    /// True for the notebook's plain epoch loop, false for the inferno loop.
    var epochLoop: Bool { steps.spec.schedule.loop == .epochs }

    /// The total number of D iterations of a full run.
    public var plannedIterations: Int {
        let full = epochs * data.batchesPerEpoch + (epochLoop ? 0 : 1)
        return maxSteps.map { min($0, full) } ?? full
    }

    public var isFinished: Bool {
        if counters.epoch >= epochs { return true }
        if epochLoop && counters.epoch == epochs - 1 && counters.cursor == data.batchesPerEpoch { return true }
        return maxSteps.map { counters.iteration >= $0 } ?? false
    }

    /// Runs one iteration; nil when the run is finished.
    public func iterate() throws -> IterationReport? {
        if isFinished { return nil }
        var epochEnded = false
        if counters.cursor == data.batchesPerEpoch {
            counters.epoch += 1
            counters.cursor = 0
            epochEnded = true
        }
        let it = counters.iteration
        // The global batch's size; this rank builds only its rows (all of them in one process),
        // unless the recipe's D inputs need the whole batch (DRAGAN's std).
        let global = try timed(.data) { try data.batchCount(epoch: counters.epoch, index: counters.cursor) }
        let dRows = try rows(of: global)
        let whole = parallel != nil && steps.recipe.needsWholeBatch
        let (images, labels) = try timed(.data) {
            try data.batch(epoch: counters.epoch, index: counters.cursor, rows: whole ? 0..<global : dRows)
        }
        counters.cursor += 1
        let d = try timed(.compile) { try step(steps.dStep(batch: dRows.count)) }
        let dIn = try timed(.inputs) {
            if whole { return try shard(steps.dInputs(real: images, labels: labels, iteration: it), global: global) }
            return steps.dInputs(real: images, labels: labels, iteration: it, rows: dRows)
        }
        let local = whole ? (images.rows(dRows), labels?.rows(dRows)) : (images, labels)
        try setShare(dRows.count, of: global)
        let dOut = try timed(.dStep) { try d.run(dIn) }
        let dOrder = d.metrics.map(\.name)
        var (dScalars, stop) = try timed(.scalars) { try reduceScalars(d, d.metricValues(dOut), order: dOrder) }
        try timed(.nanCheck) { try nonFiniteGuard.check(dScalars, order: dOrder, network: steps.discriminator.name, iteration: it) }
        dScalars.merge(try steps.advanceBEGAN(dScalars)) { a, _ in a }
        var frame: Tensor? = nil
        if let f = frameFrequency {
            counters.frameCounter += 1
            if counters.frameCounter > f {
                counters.frameCounter = 0
                frame = try timed(.frame) { try sampleFixed() }
            }
        } else if !epochLoop && (epochEnded || it == 0) {
            frame = try timed(.frame) { try sampleFixed() }
        }
        var gScalars: [String: Float]? = nil
        counters.generatorCounter += 1
        if counters.generatorCounter > generatorFrequency {
            counters.generatorCounter = 0
            let n = epochLoop ? global : steps.spec.schedule.batchSize
            let gRows = try rows(of: n)
            // Feature matching: the G step also reads this iteration's real batch (this rank's rows).
            let real = steps.gStepNeedsRealBatch
            let g = try timed(.compile) { try step(steps.gStep(batch: gRows.count, realBatch: real ? dRows.count : nil)) }
            let gIn = timed(.inputs) {
                steps.gInputs(batch: n, iteration: it, rows: gRows, real: real ? local.0 : nil, realLabels: real ? local.1 : nil)
            }
            try setShare(gRows.count, of: n)
            let gOut = try timed(.gStep) { try g.run(gIn) }
            let gOrder = g.metrics.map(\.name)
            let scalars = try timed(.scalars) { try reduceScalars(g, g.metricValues(gOut), order: gOrder).scalars }
            try timed(.nanCheck) { try nonFiniteGuard.check(scalars, order: gOrder, network: steps.generator.name, iteration: it) }
            gScalars = scalars
            counters.generatorSteps += 1
            steps.ema?.update(generatorStep: counters.generatorSteps)
        }
        if frameFrequency == nil && epochLoop && counters.cursor == data.batchesPerEpoch {
            frame = try timed(.frame) { try sampleFixed() }
        }
        if frame != nil { counters.framesWritten += 1 }
        counters.iteration += 1
        // Sharded optimizer state is made whole where a checkpoint may follow (every rank agrees
        // on these conditions).
        if epochEnded || stop || isFinished { try parallel?.gatherOptimizerState() }
        return IterationReport(counters: counters, dOutputs: dScalars,
                               gOutputs: gScalars, frame: frame, epochEnded: epochEnded, stopRequested: stop)
    }

    /// The fixed-latent samples (inference mode). Data-parallel: each rank generates its rows of
    /// the grid (the running statistics are the same on every rank) and one allreduce of the
    /// zero-padded grid gathers them; rank 0 alone gets the grid (it writes the frames), the
    /// other ranks an empty tensor. A grid smaller than the rank count is rank 0's alone.
    public func sampleFixed() throws -> Tensor {
        let n = fixedLatents.shape[0]
        guard let p = parallel, p.size > 1, n >= p.size else {
            if let p = parallel, p.rank != 0 { return Tensor(shape: [0], floats: []) }
            return try sampler.sample(z: fixedLatents, labels: fixedLabels)
        }
        let r = try p.rows(of: n)
        let part = try sampler.sample(z: fixedLatents.rows(r), labels: fixedLabels?.rows(r))
        let row = part.shape.dropFirst().reduce(1, *)
        var grid = [Float](repeating: 0, count: n * row)
        grid.replaceSubrange((r.lowerBound * row)..<(r.upperBound * row), with: part.floats)
        try grid.withUnsafeMutableBufferPointer { try p.communicator.allreduceSum($0) }
        return p.rank == 0 ? Tensor(shape: [n] + part.shape.dropFirst(), floats: grid) : Tensor(shape: [0], floats: [])
    }

    // MARK: checkpoints

    public func saveCheckpoint(to path: String, specPath: String) throws {
        try Checkpoint.write(steps.store, counters: counters, spec: specPath, seed: steps.seed,
                             threads: steps.pool.threads, run: run, to: path)
    }

    /// Restores the store and counters from a checkpoint of the same spec (compile the steps
    /// first so optimizer state exists); throws when the checkpoint does not fit
    /// (Checkpoint.checkFits).
    public func restore(_ c: Checkpoint.Contents, file: String) throws {
        // A weight average that the spec dropped (--allow-spec-change) is left behind; one the
        // checkpoint lacks starts as a copy of its weights.
        let emaPrefix = GeneratorEMA.prefix + "/"
        var c = c
        if steps.ema == nil { c.tensors.removeAll { $0.name.hasPrefix(emaPrefix) } }
        let hasAverage = c.tensors.contains { $0.name.hasPrefix(emaPrefix) }
        try Checkpoint.checkFits(c, store: steps.store, required: steps.generatorParameters + steps.discriminatorParameters,
                                 batchesPerEpoch: data.batchesPerEpoch, file: file)
        for t in c.tensors {
            let e = steps.store.entry(t.name)!  // checkFits: every buffer exists
            guard e.shape == t.shape else {
                throw CheckpointError(message: "\(file): '\(t.name)' has shape \(t.shape), the spec's network has \(e.shape)")
            }
            try steps.store.set(t.name, Tensor(shape: t.shape, floats: t.values))
        }
        if !hasAverage { steps.ema?.copy() }
        for (name, value) in c.optimizerCounters { steps.store.setCounter(name, value) }
        counters = c.counters
    }
}
