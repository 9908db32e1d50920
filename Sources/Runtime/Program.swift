// Program: a lowered graph — kernel calls over arena slots and constants — and its execution.
//
// Contract: a Program is built by `Lowering` for one set of concrete input shapes. It owns one
// arena (sized by `MemoryPlan`) and one constant pool; `bind` turns each instruction into a
// closure over fixed pointers once, so `run()` performs no allocation and no shape logic.
// `text` prints every instruction with its operands' locations.

import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import GraphIR
import Kernels

/// Where a runtime buffer lives: a byte offset into the arena or into the constant pool.
public enum Location: Equatable, CustomStringConvertible {
    case arena(Int)
    case constant(Int)
    /// A persistent buffer of the program's ParameterStore.
    case state(String)

    public var description: String {
        switch self {
        case .arena(let o): return "arena+\(o)"
        case .constant(let o): return "const+\(o)"
        case .state(let n): return "state[\(n)]"
        }
    }
}

/// One kernel call: what to run, with all parameters resolved at compile time.
public enum KernelCall: CustomStringConvertible {
    /// Y = alpha·op(A)·op(B) + beta·Y, then the epilogue (bias operand when present); repeated
    /// over `batches` element offsets (A, B, Y) for batched MatMul.
    case gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
              lda: Int, ldb: Int, epilogue: [EpilogueOp], batches: [(Int, Int, Int)], fillC: BroadcastPlan?)
    case conv(Conv2DShape, epilogue: [EpilogueOp])
    case convTranspose(Conv2DShape, epilogue: [EpilogueOp])
    /// FusedConvTransposeBatchNorm: inputs (x, w, bias?, scale, beta), outputs (y, z, mean, var).
    case convTransposeBatchNorm(Conv2DShape, epsilon: Float, activation: Activation?)
    case batchNorm(batch: Int, channels: Int, spatial: Int, epsilon: Float, activation: Activation?)
    case unary(UnaryOp, count: Int)
    case binary(BinaryOp, BroadcastPlan)
    case expand(BroadcastPlan)
    case copy(bytes: Int)
    case transpose(TransposePlan)
    case concat(axisSizes: [Int], outer: Int, inner: Int)
    case gather(outer: Int, axisSize: Int, inner: Int, indexCount: Int)
    case slice(SlicePlan)
    case reduce(ReduceKind, ReducePlan)
    case softmax(outer: Int, axis: Int, inner: Int, log: Bool)
    case pool(Pool2DShape, max: Bool)
    case globalAveragePool(planes: Int, size: Int)
    /// Sign (−1, 0, 1) of each element.
    case sign(count: Int)
    /// dY where Y > 0 else alpha·dY; inputs (dY, Y).
    case leakyReluGrad(alpha: Float, count: Int)
    /// Scatter-add of dY rows into a zeroed outer × axisSize × inner output; inputs (dY, indices).
    case gatherGrad(outer: Int, axisSize: Int, inner: Int, indexCount: Int)
    /// In-place optimizer updates of a state parameter from a gradient (inputs: grad; outputs:
    /// param and its optimizer state); the step counter lives in the store.
    case adam(AdamConfig, count: Int, counter: String)
    case sgd(SGDConfig, count: Int, counter: String)
    case rmsprop(RMSpropConfig, count: Int)

    public var description: String {
        switch self {
        case let .gemm(tA, tB, m, n, k, alpha, beta, _, _, epi, batches, _):
            var s = "gemm m=\(m) n=\(n) k=\(k)"
            if tA { s += " transA" }
            if tB { s += " transB" }
            if alpha != 1 { s += " alpha=\(alpha)" }
            if beta != 0 { s += " beta=\(beta)" }
            if batches.count > 1 { s += " batches=\(batches.count)" }
            if !epi.isEmpty { s += " epilogue=[\(epi.map(\.description).joined(separator: ", "))]" }
            return s
        case let .conv(c, epi), let .convTranspose(c, epi):
            var s = (self.isConv ? "conv2d" : "convTranspose2d")
            s += " n=\(c.batch) \(c.inChannels)x\(c.inHeight)x\(c.inWidth)->\(c.outChannels)x\(c.outHeight)x\(c.outWidth)"
            s += " k=\(c.kernelH)x\(c.kernelW) s=\(c.strideH)x\(c.strideW) p=\(c.padTop),\(c.padLeft)"
            if c.dilationH != 1 || c.dilationW != 1 { s += " d=\(c.dilationH)x\(c.dilationW)" }
            if c.group != 1 { s += " g=\(c.group)" }
            if !epi.isEmpty { s += " epilogue=[\(epi.map(\.description).joined(separator: ", "))]" }
            return s
        case let .convTransposeBatchNorm(c, eps, act):
            return "convTransposeBatchNorm(training) " + KernelCall.convTranspose(c, epilogue: []).description.dropFirst("convTranspose2d ".count)
                + " eps=\(eps)" + (act.map { " then \($0)" } ?? "")
        case let .batchNorm(b, c, sp, eps, act):
            return "batchNorm n=\(b) c=\(c) spatial=\(sp) eps=\(eps)" + (act.map { " then \($0)" } ?? "")
        case let .unary(op, n): return "\(op) count=\(n)"
        case let .binary(op, plan): return "\(op) \(plan)"
        case let .expand(plan): return "expand \(plan)"
        case let .copy(bytes): return "copy bytes=\(bytes)"
        case let .transpose(plan): return "transpose \(plan)"
        case let .concat(sizes, outer, inner): return "concat sizes=\(sizes) outer=\(outer) inner=\(inner)"
        case let .gather(outer, axis, inner, count): return "gather outer=\(outer) axis=\(axis) inner=\(inner) indices=\(count)"
        case let .slice(plan): return "slice \(plan)"
        case let .reduce(kind, plan): return "reduce\(kind == .sum ? "Sum" : "Mean") \(plan)"
        case let .softmax(o, a, i, log): return "\(log ? "logSoftmax" : "softmax") outer=\(o) axis=\(a) inner=\(i)"
        case let .pool(p, isMax):
            return "\(isMax ? "maxPool" : "averagePool") n=\(p.batch) c=\(p.channels) \(p.inH)x\(p.inW)->\(p.outH)x\(p.outW) k=\(p.kernelH)x\(p.kernelW) s=\(p.strideH)x\(p.strideW)"
        case let .globalAveragePool(planes, size): return "globalAveragePool planes=\(planes) size=\(size)"
        case let .sign(n): return "sign count=\(n)"
        case let .leakyReluGrad(alpha, n): return "leakyReluGrad(\(alpha)) count=\(n)"
        case let .gatherGrad(outer, axis, inner, count): return "gatherGrad outer=\(outer) axis=\(axis) inner=\(inner) indices=\(count)"
        case let .adam(c, count, _): return "adam lr=\(c.lr) betas=(\(c.beta1), \(c.beta2)) eps=\(c.eps) wd=\(c.weightDecay) count=\(count)"
        case let .sgd(c, count, _): return "sgd lr=\(c.lr) momentum=\(c.momentum) count=\(count)"
        case let .rmsprop(c, count): return "rmsprop lr=\(c.lr) alpha=\(c.alpha) count=\(count)"
        }
    }

    var isConv: Bool { if case .conv = self { return true }; return false }

    /// Scratch floats the kernel needs.
    func scratchFloats(threads: Int) -> Int {
        switch self {
        case .conv(let s, _): return Conv2D.scratchCount(s, threads: threads)
        case .convTranspose(let s, _): return ConvTranspose2D.scratchCount(s, threads: threads)
        case .convTransposeBatchNorm(let s, _, _): return ConvTransposeBatchNorm.scratchCount(s, threads: threads)
        default: return 0
        }
    }
}

/// A kernel call with its operand locations.
public struct Instruction {
    public var call: KernelCall
    public var inputs: [Location?]
    public var outputs: [Location]
    public var scratch: Location?
    /// The node it came from, for printing.
    public var label: String
}

/// A program input or output: a graph value at a location.
public struct ProgramValue {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var location: Location
    public var count: Int { shape.reduce(1, *) }
}

/// Errors raised while running a program on user data.
public struct RuntimeError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

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
    /// Persistent state the program reads and updates (nil for pure inference programs).
    public let store: ParameterStore?
    var thunks: [() throws -> Void] = []

    init(instructions: [Instruction], inputs: [ProgramValue], outputs: [ProgramValue], plan: MemoryPlan,
         constantData: [UInt8], pool: ThreadPool, store: ParameterStore? = nil) {
        self.store = store
        self.instructions = instructions
        self.inputs = inputs
        self.outputs = outputs
        self.plan = plan
        self.pool = pool
        constantBytes = constantData.count
        arena = HugePages.allocateIfLarge(max(plan.arenaBytes, 64))
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(plan.arenaBytes, 64))
        constants = HugePages.allocateIfLarge(max(constantData.count, 64))
        constantData.withUnsafeBytes { constants.copyMemory(from: $0.baseAddress!, byteCount: constantData.count) }
        thunks = instructions.map { bind($0) }
    }

    deinit {
        free(arena)
        free(constants)
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
    public func run() throws {
        for t in thunks { try t() }
    }

    /// Runs every instruction, returning each one's wall time in milliseconds.
    public func runProfiled() throws -> [Double] {
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

    /// The printed program: arena size, inputs, one line per instruction, outputs.
    public var text: String {
        var s = "program arena=\(plan.arenaBytes) bytes (unshared \(plan.unsharedBytes)) constants=\(constantBytes) bytes threads=\(pool.threads)\n"
        for v in inputs { s += "  input \(v.name) \(v.dtype.rawValue)\(v.shape) @\(v.location)\n" }
        for ins in instructions {
            let ins_ = ins.inputs.map { $0?.description ?? "_" }.joined(separator: ", ")
            let outs = ins.outputs.map(\.description).joined(separator: ", ")
            s += "  \(outs) = \(ins.call) (\(ins_))"
            if let sc = ins.scratch { s += " scratch=\(sc)" }
            s += "  # \(ins.label)\n"
        }
        for v in outputs { s += "  output \(v.name) \(v.dtype.rawValue)\(v.shape) @\(v.location)\n" }
        return s
    }

    // MARK: binding

    private func bind(_ ins: Instruction) -> () throws -> Void {
        let pool = self.pool
        let x = ins.inputs.map { $0.map { address($0) } }
        let y = ins.outputs.map { address($0) }
        func fin(_ i: Int) -> UnsafeMutablePointer<Float> { x[i]!.assumingMemoryBound(to: Float.self) }
        let out = y[0].assumingMemoryBound(to: Float.self)
        // Kernels that need no scratch get the arena base (never written).
        let scratch = ins.scratch.map { f($0) } ?? arena.assumingMemoryBound(to: Float.self)
        switch ins.call {
        case let .gemm(tA, tB, m, n, k, alpha, beta, lda, ldb, epi, batches, fill):
            let a = fin(0), b = fin(1)
            var bias = x.count > 2 ? x[2].map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) } : nil
            if let fill, let c = bias {
                bias = nil
                return {
                    Expand.run(fill, c, out, pool: pool)
                    Gemm.sgemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                               b: b, ldb: ldb, beta: beta, c: out, ldc: n, bias: nil, epilogue: [], pool: pool)
                }
            }
            return {
                for (ao, bo, yo) in batches {
                    Gemm.sgemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, a: a + ao, lda: lda,
                               b: b + bo, ldb: ldb, beta: beta, c: out + yo, ldc: n, bias: bias, epilogue: epi, pool: pool)
                }
            }
        case let .conv(shape, epi):
            let xp = fin(0), w = fin(1)
            let bias = x.count > 2 ? x[2].map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) } : nil
            return { Conv2D.forward(shape, x: xp, weight: w, bias: bias, y: out, epilogue: epi, scratch: scratch, pool: pool) }
        case let .convTranspose(shape, epi):
            let xp = fin(0), w = fin(1)
            let bias = x.count > 2 ? x[2].map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) } : nil
            return { ConvTranspose2D.forward(shape, x: xp, weight: w, bias: bias, y: out, epilogue: epi, scratch: scratch, pool: pool) }
        case let .convTransposeBatchNorm(shape, eps, act):
            let xp = fin(0), w = fin(1), sc = fin(3), be = fin(4)
            let bias = x[2].map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) }
            let z = y[1].assumingMemoryBound(to: Float.self), mean = y[2].assumingMemoryBound(to: Float.self)
            let variance = y[3].assumingMemoryBound(to: Float.self)
            return {
                ConvTransposeBatchNorm.forward(shape, x: xp, weight: w, bias: bias, scale: sc, beta: be, epsilon: eps, activation: act,
                                               y: out, z: z, mean: mean, variance: variance, scratch: scratch, pool: pool)
            }
        case let .batchNorm(n, c, sp, eps, act):
            let xp = fin(0), sc = fin(1), bi = fin(2), mean = fin(3), variance = fin(4)
            return {
                BatchNormInference.run(xp, out, scale: sc, bias: bi, mean: mean, variance: variance, epsilon: eps,
                                       batch: n, channels: c, spatial: sp, activation: act, pool: pool)
            }
        case let .unary(op, count):
            let xp = fin(0)
            return { Unary.run(op, xp, out, count: count, pool: pool) }
        case let .binary(op, plan):
            let a = fin(0), b = fin(1)
            return { Binary.run(op, plan, a, b, out, pool: pool) }
        case let .expand(plan):
            let xp = fin(0)
            return { Expand.run(plan, xp, out, pool: pool) }
        case let .copy(bytes):
            let src = x[0]!, dst = y[0]
            return { dst.copyMemory(from: src, byteCount: bytes) }
        case let .transpose(plan):
            let xp = fin(0)
            return { Transpose.run(plan, xp, out, pool: pool) }
        case let .concat(sizes, outer, inner):
            let parts = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: x.count)
            for (i, p) in x.enumerated() { parts[i] = UnsafePointer(p!.assumingMemoryBound(to: Float.self)) }
            let keep = ConcatParts(parts, sizes)
            return { Concat.run(inputs: UnsafeBufferPointer(keep.parts), axisSizes: UnsafeBufferPointer(keep.sizes), outer: outer, inner: inner, out, pool: pool) }
        case let .gather(outer, axis, inner, count):
            let data = fin(0), idx = UnsafePointer(x[1]!.assumingMemoryBound(to: Int64.self))
            return {
                try Gather.run(data, indices: idx, indexCount: count, out, outer: outer, axisSize: axis, inner: inner, pool: pool)
            }
        case let .slice(plan):
            let xp = fin(0)
            return { Slice.run(plan, xp, out, pool: pool) }
        case let .reduce(kind, plan):
            let xp = fin(0)
            return { Reduce.run(kind, plan, xp, out, pool: pool) }
        case let .softmax(o, a, i, log):
            let xp = fin(0)
            return { Softmax.run(xp, out, outer: o, axis: a, inner: i, log: log, pool: pool) }
        case let .pool(shape, isMax):
            let xp = fin(0)
            return {
                if isMax { Pool2D.max(shape, xp, out, pool: pool) } else { Pool2D.average(shape, xp, out, pool: pool) }
            }
        case let .globalAveragePool(planes, size):
            let xp = fin(0)
            return { Pool2D.globalAverage(xp, out, planes: planes, spatial: size, pool: pool) }
        case let .sign(count):
            let xp = fin(0)
            return { Grad.sign(xp, out, count: count, pool: pool) }
        case let .leakyReluGrad(alpha, count):
            let dy = fin(0), yv = fin(1)
            return { Grad.leakyReluGrad(alpha: alpha, dy, yv, out, count: count, pool: pool) }
        case let .gatherGrad(outer, axis, inner, count):
            let dy = fin(0), idx = UnsafePointer(x[1]!.assumingMemoryBound(to: Int64.self))
            return {
                try Grad.gatherGrad(dy, indices: idx, indexCount: count, out, outer: outer, axisSize: axis, inner: inner, pool: pool)
            }
        case let .adam(c, count, counter):
            let g = fin(0), m = y[1].assumingMemoryBound(to: Float.self), v = y[2].assumingMemoryBound(to: Float.self)
            let step = store!.counter(counter)
            return {
                step.pointee += 1
                Optimizers.adam(c, step: step.pointee, param: out, grad: g, m: m, v: v, count: count, pool: pool)
            }
        case let .sgd(c, count, counter):
            let g = fin(0), b = y[1].assumingMemoryBound(to: Float.self)
            let step = store!.counter(counter)
            return {
                step.pointee += 1
                Optimizers.sgd(c, step: step.pointee, param: out, grad: g, buffer: b, count: count, pool: pool)
            }
        case let .rmsprop(c, count):
            let g = fin(0), s = y[1].assumingMemoryBound(to: Float.self)
            return { Optimizers.rmsprop(c, param: out, grad: g, square: s, count: count, pool: pool) }
        }
    }
}

/// Owns the pointer array a Concat thunk reads.
final class ConcatParts {
    let parts: UnsafeMutableBufferPointer<UnsafePointer<Float>>
    let sizes: UnsafeMutableBufferPointer<Int>
    init(_ p: UnsafeMutableBufferPointer<UnsafePointer<Float>>, _ s: [Int]) {
        parts = p
        sizes = .allocate(capacity: s.count)
        _ = sizes.initialize(from: s)
    }
    deinit { parts.deallocate(); sizes.deallocate() }
}
