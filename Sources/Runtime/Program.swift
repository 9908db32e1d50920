// Program: a lowered graph — kernel calls over arena slots and constants — and its execution.
//
// Contract: a Program is built by `Lowering` for one set of concrete input shapes. It owns one
// arena (sized by `MemoryPlan`) and one constant pool; `bind` (Program+Bind.swift) turns each
// instruction into a closure over fixed pointers once, so `run()` performs no allocation and no
// shape logic; constant convolution and GEMM weights are packed for the GEMM there, once.
// Inputs are copied in with `setInput`, outputs read with `output`. The state buffers a
// program binds are pinned in its store (they never move). Consecutive optimizer
// updates over flat groups run as one fused update (Program+FusedUpdate). A chunked program
// (Program+BatchChunks) holds only its inputs and outputs and runs a large batch as chunks of
// a smaller program's. The printed form is in Program+Text.swift, the operand types in
// Instruction.swift.

import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import GraphIR
import Kernels

/// A compiled, memory-planned program ready to run.
public final class Program {
    public let instructions: [Instruction]
    public let inputs: [ProgramValue]
    public let outputs: [ProgramValue]
    public let plan: MemoryPlan
    public let constantBytes: Int
    public let pool: ThreadPool
    let arena: UnsafeMutableRawPointer
    let constants: UnsafeMutableRawPointer
    /// Constant convolution and GEMM weights packed for the GEMM once, at bind time
    /// (Program+Bind; `Instruction.prepackedWeightFloats`); `packedWeightFloats` floats.
    let packedWeights: UnsafeMutablePointer<Float>
    public let packedWeightFloats: Int
    /// Persistent state the program reads and updates (nil for pure inference programs).
    public let store: ParameterStore?
    var thunks: [() throws -> Void] = []
    /// Whether a run shares its loops with the pool's workers (`run`).
    public private(set) var choice = ThreadPool.RunChoice()
    /// Where AllReduce instructions send their buffers (Program+Collective).
    let collectiveHook = CollectiveHook()
    /// The end of a training program's flat gradient region (Lowering): floats the collective
    /// fills with folded scalars and trailing values; nil without updates.
    let collectiveTail: Location?
    /// The instruction ranges whose optimizer updates run as one fused kernel call each
    /// (Program+FusedUpdate).
    public var fusedUpdateRuns: [Range<Int>] { fusedLayouts.map(\.instructions) }
    /// Each fused run's layout (Program+FusedUpdate).
    var fusedLayouts: [FusedLayout] = []
    /// The rank's part of a sharded update (Program+FusedUpdate; inactive unless sharded).
    let updateShard = UpdateShard()
    /// The chunk programs a chunked program runs (Program+BatchChunks); nil for others.
    public let chunks: BatchChunks?
    /// The program whose constants and packed weights this copy reads (`init(copying:)`),
    /// kept alive by this reference; nil when the program owns them.
    let constantsOwner: Program?

    /// The tail floats of a program with `outputs` graph outputs: one per output (folded
    /// scalars) and 8 trailing (a stop flag, a partial norm).
    public static func collectiveTailFloats(outputs: Int) -> Int { outputs + 8 }

    init(instructions: [Instruction], inputs: [ProgramValue], outputs: [ProgramValue], plan: MemoryPlan,
         constantData: [UInt8], pool: ThreadPool, store: ParameterStore? = nil, collectiveTail: Location? = nil) {
        self.chunks = nil
        self.constantsOwner = nil
        self.store = store
        self.collectiveTail = collectiveTail
        self.instructions = instructions
        self.inputs = inputs
        self.outputs = outputs
        self.plan = plan
        self.pool = pool
        let (packOffsets, packFloats) = Program.packOffsets(instructions)
        packedWeightFloats = packFloats
        packedWeights = HugePages.allocateIfLarge(max(packFloats * 4, 64)).assumingMemoryBound(to: Float.self)
        constantBytes = constantData.count
        arena = HugePages.allocateIfLarge(max(plan.arenaBytes, 64))
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(plan.arenaBytes, 64))
        constants = HugePages.allocateIfLarge(max(constantData.count, 64))
        constantData.withUnsafeBytes { constants.copyMemory(from: $0.baseAddress!, byteCount: constantData.count) }
        for ins in instructions {
            for case .state(let name)? in ins.inputs + ins.outputs.map(Optional.some) { store?.pin(name) }
        }
        let packBase = packedWeights
        thunks = zip(instructions, packOffsets).map { ins, offset in bind(ins, packed: offset.map { packBase + $0 }) }
        fuseUpdates()
    }

    /// A copy of an inference program `other` with an arena of its own and `other`'s constants
    /// and packed weights (read-only once bound), for running two batches at once.
    init(copying other: Program, pool: ThreadPool) {
        precondition(other.store == nil && other.chunks == nil, "only plain inference programs are copied")
        chunks = nil
        constantsOwner = other
        store = nil
        collectiveTail = nil
        instructions = other.instructions
        inputs = other.inputs
        outputs = other.outputs
        plan = other.plan
        self.pool = pool
        packedWeights = other.packedWeights
        packedWeightFloats = other.packedWeightFloats
        constantBytes = other.constantBytes
        constants = other.constants
        arena = HugePages.allocateIfLarge(max(plan.arenaBytes, 64))
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(plan.arenaBytes, 64))
        let packBase = packedWeights
        thunks = zip(instructions, Program.packOffsets(instructions).offsets).map { ins, offset in
            bind(ins, packed: offset.map { packBase + $0 }, packNow: false)
        }
        fuseUpdates()
    }

    /// Where each instruction's prepacked weights start in the packed-weight buffer (nil when
    /// it packs none), and the buffer's size in floats.
    static func packOffsets(_ instructions: [Instruction]) -> (offsets: [Int?], floats: Int) {
        var offsets: [Int?] = []
        var floats = 0
        for ins in instructions {
            let n = Baseline.packWeightsPerCall ? 0 : ins.prepackedWeightSlotFloats
            offsets.append(n > 0 ? floats : nil)
            floats += n
        }
        return (offsets, floats)
    }

    /// A chunked program: an arena with only `inputs` and `outputs` (placed by `plan`), run
    /// by `chunks`; its `instructions` are those of one chunk.
    init(chunks: BatchChunks, inputs: [ProgramValue], outputs: [ProgramValue], plan: MemoryPlan, pool: ThreadPool) {
        self.chunks = chunks
        constantsOwner = nil
        store = nil
        collectiveTail = nil
        instructions = chunks.programs[0].instructions
        self.inputs = inputs
        self.outputs = outputs
        self.plan = plan
        self.pool = pool
        packedWeights = HugePages.allocateIfLarge(64).assumingMemoryBound(to: Float.self)
        packedWeightFloats = 0
        constantBytes = 0
        constants = HugePages.allocateIfLarge(64)
        arena = HugePages.allocateIfLarge(max(plan.arenaBytes, 64))
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(plan.arenaBytes, 64))
    }

    deinit {
        free(arena)
        if constantsOwner == nil {
            free(constants)
            free(packedWeights)
        }
    }

    /// The raw address of a location.
    public func address(_ l: Location) -> UnsafeMutableRawPointer {
        switch l {
        case .arena(let o): return arena + o
        case .constant(let o): return constants + o
        case .state(let n): return UnsafeMutableRawPointer(store!.pointer(n)!)
        }
    }

    func f(_ l: Location?) -> UnsafeMutablePointer<Float> {
        address(l!).assumingMemoryBound(to: Float.self)
    }

    /// Runs every instruction in order over the arena (inputs must have been written).
    /// On a pool of several threads, a run shares its loops with the workers or runs them on the
    /// caller alone, whichever the measured times of earlier runs favour (`ThreadPool.RunChoice`;
    /// the same bits either way). `GANNET_BASELINE=runChoice` always shares them.
    public func run() throws {
        if let chunks { try chunks.run(self); return }
        if pool.threads == 1 || Baseline.alwaysParallel {
            for t in thunks { try t() }
            return
        }
        let serial = choice.serialNext()
        let t0 = DispatchTime.now().uptimeNanoseconds
        if serial { try pool.serially { for t in thunks { try t() } } } else { for t in thunks { try t() } }
        choice.record(serial: serial, nanoseconds: DispatchTime.now().uptimeNanoseconds - t0)
    }

    /// Runs every instruction, returning each one's wall time in milliseconds.
    public func runProfiled() throws -> [Double] {
        if let chunks { return try chunks.runProfiled(self) }
        var times: [Double] = []
        times.reserveCapacity(thunks.count)
        for t in thunks {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try t()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        return times
    }

    /// Copies `tensor` into input `i` (shape must match; integers are stored as Int64).
    public func setInput(_ i: Int, _ tensor: Tensor) throws {
        let v = inputs[i]
        guard tensor.shape == v.shape else {
            throw RuntimeError("input '\(v.name)' has shape \(tensor.shape), the program was compiled for \(v.shape)")
        }
        let p = address(v.location)
        switch (v.dtype, tensor.storage) {
        case (.float32, .float(let data)):
            data.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        case (.float32, .int64):
            throw RuntimeError("input '\(v.name)' must be float32, got \(tensor.dtype.rawValue)")
        case (_, .int64(let data)):
            data.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        case (_, .float):
            throw RuntimeError("input '\(v.name)' must be \(v.dtype.rawValue), got float32")
        }
    }

    /// Sets every program input from a name → tensor map (for profiling and tools).
    public func setInputsForProfile(_ tensors: [String: Tensor]) throws {
        for (i, v) in inputs.enumerated() {
            guard let t = tensors[v.name] else { throw RuntimeError("input '\(v.name)' was not given") }
            try setInput(i, t)
        }
    }

    /// Reads output `i` into a tensor.
    public func output(_ i: Int) -> Tensor {
        let v = outputs[i]
        let p = address(v.location)
        if v.dtype == .float32 {
            return Tensor(shape: v.shape, floats: Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: v.count)))
        }
        return Tensor(shape: v.shape, int64s: Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Int64.self), count: v.count)), dtype: v.dtype)
    }

    /// Pointer to output `i`'s floats, valid until the next run.
    public func outputPointer(_ i: Int) -> UnsafePointer<Float> {
        UnsafePointer(f(outputs[i].location))
    }
}
