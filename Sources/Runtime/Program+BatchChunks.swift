// Program+BatchChunks: a large inference batch run as chunks of a smaller one, each chunk
// through the whole network while its activations are still in cache.
//
// Why: a program runs one layer over the whole batch before the next. When a layer's
// activations for the batch outgrow the last-level cache, every layer reads its input back from
// memory. On memory-bound networks (depthwise and 1×1 convolutions, concatenations) that costs
// more than the batch saves: on the Zen 4 VM, at batch 32 on one thread, mobilenet_v2 took
// 9.6 ms an image against 7.5 at batch 1, densenet121 65.7 against 57.3, efficientnet_b0 14.5
// against 12.1, shufflenet_v2 4.7 against 3.8.
//
// Contract: `BatchChunks.chunkBatch(_:batch:)` is the rule: given a graph's per-sample
// footprint (SampleSeparability.footprint) at batch N, the chunk size s < N to run it as, or
// nil to run it whole. It chunks when the whole batch's largest node (bytes read and written)
// exceeds `cacheBytes`, and the network moves at least `minTrafficPerFlop` bytes of activations
// per FLOP (compute-bound networks, whose kernels gain from wide batches, stay whole), and
// every chunk re-reading the weights costs less than the activations it keeps in cache; s is
// the largest divisor of N whose largest node fits `chunkCacheBytes` (1 if none). A Session
// compiles the graph at s (only where SampleSeparability says that gives the same values) and
// makes a chunked Program (`Program.init(chunks:…)`): its arena holds the batch's inputs and
// outputs; `run` copies each chunk's slice of every input into a chunk program, runs it and
// copies its outputs back. On a pool of T threads, min(T, 63) chunk programs (copies sharing
// constants and packed weights) run chunks at once, each on one thread, claimed dynamically; what a
// chunk computes depends only on N and s, so the bits are the same for any thread count.
// `runProfiled` sums each instruction's time over the chunks. `GANNET_BASELINE=batchChunks`
// runs every batch whole.

import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GraphIR
import Passes
import Kernels

public final class BatchChunks {
    /// The batch a run computes, and the chunk size it runs it as (a divisor of `batch`).
    public let batch: Int
    public let chunkBatch: Int
    /// One chunk program per thread that may run a chunk at once.
    public let programs: [Program]
    /// Bytes of one chunk's slice of each input and output.
    let inputBytes: [Int]
    let outputBytes: [Int]
    /// Which `programs` a thread is running (bit i: programs[i] busy).
    private let busy = Atomic<Int>(0)
    /// The most chunk programs (one bit each in `busy`).
    public static let maxPrograms = Int.bitWidth - 1

    /// The last-level cache the rule sizes against (the Zen 4 VM's 32 MiB L3; also a common size).
    static let cacheBytes = 32 << 20
    /// What a chunk's largest node should fit: one core's L2.
    static let chunkCacheBytes = 1 << 20
    /// Fewest bytes of activations per FLOP for chunking to pay, counted on the optimised graph
    /// (SampleSeparability.footprint): mobilenet_v2 moves 0.094, densenet121 0.047, squeezenet1_1
    /// 0.052, shufflenet_v2 0.18 (each faster in chunks); cyclegan_resnet 0.023 (even),
    /// pix2pix_unet 0.023, inception_v3 0.013, resnet18 0.010 and vgg11_bn 0.005 (even or faster
    /// whole: their kernels gain from a wide batch or re-read large weights).
    static let minTrafficPerFlop = 0.035

    /// The chunk size for a graph with footprint `f` at batch `batch`, or nil to run it whole
    /// (see the file header).
    public static func chunkBatch(_ f: SampleSeparability.Footprint, batch: Int) -> Int? {
        guard batch > 1, f.largestNodeBytes > 0 else { return nil }
        let whole = batch.multipliedReportingOverflow(by: f.largestNodeBytes)
        guard whole.overflow || whole.partialValue > cacheBytes else { return nil }
        guard Double(f.trafficBytes) >= minTrafficPerFlop * f.flops else { return nil }
        let most = max(1, chunkCacheBytes / f.largestNodeBytes)
        let s = (1...min(most, batch)).last { batch % $0 == 0 } ?? 1
        guard s < batch, f.weightBytes / s <= f.trafficBytes else { return nil }
        return s
    }

    /// A chunked program over `programs` (one compiled at `chunkBatch`, then copies of it):
    /// inputs and outputs are theirs with axis 0 `batch`.
    static func program(_ programs: [Program], batch: Int, chunkBatch: Int, pool: ThreadPool) -> Program {
        let first = programs[0]
        func whole(_ v: ProgramValue) -> ProgramValue {
            var w = v
            w.shape[0] = batch
            return w
        }
        func bytes(_ v: ProgramValue) -> Int { v.count * Lowering.runtimeBytes(v.dtype) }
        let ins = first.inputs.map(whole), outs = first.outputs.map(whole)
        let requests = (ins + outs).map { BufferRequest(bytes: bytes($0), first: -1, last: Int.max) }
        let plan = MemoryPlan.plan(requests)
        let placed = ins.enumerated().map { i, v in ProgramValue(name: v.name, dtype: v.dtype, shape: v.shape, location: .arena(plan.offsets[i])) }
        let placedOuts = outs.enumerated().map { i, v in
            ProgramValue(name: v.name, dtype: v.dtype, shape: v.shape, location: .arena(plan.offsets[ins.count + i]))
        }
        let chunks = BatchChunks(batch: batch, chunkBatch: chunkBatch, programs: programs,
                                 inputBytes: first.inputs.map(bytes), outputBytes: first.outputs.map(bytes))
        return Program(chunks: chunks, inputs: placed, outputs: placedOuts, plan: plan, pool: pool)
    }

    init(batch: Int, chunkBatch: Int, programs: [Program], inputBytes: [Int], outputBytes: [Int]) {
        precondition(!programs.isEmpty && programs.count <= Self.maxPrograms && batch % chunkBatch == 0)
        self.batch = batch
        self.chunkBatch = chunkBatch
        self.programs = programs
        self.inputBytes = inputBytes
        self.outputBytes = outputBytes
    }

    /// Bytes of every chunk program's arena.
    public var arenaBytes: Int { programs.reduce(0) { $0 + $1.plan.arenaBytes } }

    /// Runs every chunk of `outer`'s inputs into its outputs.
    func run(_ outer: Program) throws {
        let count = batch / chunkBatch
        if programs.count == 1 || outer.pool.threads == 1 {
            for c in 0..<count { try runChunk(c, programs[0], outer) { try $0.runThunks() } }
            return
        }
        let failure = Mutex<Error?>(nil)
        outer.pool.dynamicFor(count) { c in
            let slot = claim()
            defer { busy.bitwiseXor(1 << slot, ordering: .releasing) }
            do {
                try runChunk(c, programs[slot], outer) { try $0.runThunks() }
            } catch {
                failure.withLock { if $0 == nil { $0 = error } }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Runs the chunks one after another, returning each instruction's time summed over them.
    func runProfiled(_ outer: Program) throws -> [Double] {
        var sums = [Double](repeating: 0, count: programs[0].instructions.count)
        for c in 0..<(batch / chunkBatch) {
            try runChunk(c, programs[0], outer) { p in
                for (i, t) in try p.runProfiled().enumerated() { sums[i] += t }
            }
        }
        return sums
    }

    /// A free chunk program's index. Pools of more than `maxPrograms` threads have fewer
    /// programs than threads: a thread that finds none free yields until one is.
    private func claim() -> Int {
        while true {
            let b = busy.load(ordering: .relaxed)
            let i = (~b).trailingZeroBitCount
            if i >= programs.count {
                sched_yield()
                continue
            }
            if busy.compareExchange(expected: b, desired: b | 1 << i, ordering: .acquiring).exchanged { return i }
        }
    }

    /// Copies chunk `c` of `outer`'s inputs into `p`, runs `body(p)`, copies `p`'s outputs back.
    private func runChunk(_ c: Int, _ p: Program, _ outer: Program, _ body: (Program) throws -> Void) throws {
        for (i, v) in outer.inputs.enumerated() {
            p.address(p.inputs[i].location).copyMemory(from: outer.address(v.location) + c * inputBytes[i], byteCount: inputBytes[i])
        }
        try body(p)
        for (i, v) in outer.outputs.enumerated() {
            (outer.address(v.location) + c * outputBytes[i]).copyMemory(from: p.address(p.outputs[i].location), byteCount: outputBytes[i])
        }
    }
}

extension Program {
    /// Every instruction in order, on this program's pool (a chunk program's: one thread).
    func runThunks() throws {
        for t in thunks { try t() }
    }
}
