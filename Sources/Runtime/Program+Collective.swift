// Program+Collective: a training program's hook for data-parallel training — one collective
// over a flat fusion buffer between the gradient computation and the optimizer update.
//
// Contract: `reduceBeforeUpdate(folding:scale:with:)` inserts one extra step before the
// program's first optimizer instruction (adam / sgd / rmsprop). That step copies, in
// instruction order, every gradient an optimizer reads and then every value a state assignment
// copies (BatchNorm running statistics) into one contiguous float buffer, each multiplied by
// `scale()` (read once per run; 1 copies exactly), then — with `folding` — the scalar outputs it
// names (×scale too) and `trailing` floats the caller fills itself; calls `reduce` on the buffer
// (data-parallel training passes an in-place allreduce-sum), and copies the results back before
// the updates run: gradients and statistics to their slots, folded scalars to their outputs.
// With `gradientNormOutput` that output then holds √Σg² over the reduced gradients (the norm of
// the averaged gradient; summed in Float blocks of 4096, then Double). Every graph output is
// computed before the first update (updates run after the graph), so folded outputs are final
// values. The order is fixed by the program, so every rank of a job packs the same layout.
// Only arena buffers take part (a constant gradient is the same on every rank; a scalar output
// that is not a one-float arena value is not foldable, `canFold`). A program without the hook
// runs exactly as before: nothing is inserted, the printed instructions are unchanged. Call it
// at most once per program, before the first run. The collective is a step without an
// instruction: `text` does not show it and `runProfiled` returns one more time (its own, at the
// first update's index).
// `setCollective(_:)` gives the program's AllReduce instructions (synchronised BatchNorm
// statistics) their collective: each copies its input to its output and calls the hook on the
// output with `sum` (plain sum over ranks) or not (share-weighted mean). Without a hook they are
// copies, so a single process computes the same values with or without one.

import Kernels

extension Program {
    /// The arena locations and float counts the collective covers, in pack order: the gradients
    /// the optimizer instructions read, then the values state assignments copy.
    public var reducedBuffers: [(location: Location, count: Int, label: String)] {
        var out: [(Location, Int, String)] = []
        var seen = Set<Int>()
        func add(_ l: Location?, _ count: Int, _ label: String) {
            guard case .arena(let o)? = l, seen.insert(o).inserted else { return }
            out.append((l!, count, label))
        }
        for ins in instructions {
            switch ins.call {
            case let .adam(_, count, _), let .sgd(_, count, _), let .rmsprop(_, count): add(ins.inputs[0], count, ins.label)
            default: break
            }
        }
        for ins in instructions where ins.label.hasPrefix("assign ") {
            if case let .copy(bytes) = ins.call { add(ins.inputs[0], bytes / 4, ins.label) }
        }
        return out
    }

    /// The index of the first optimizer instruction (where the collective runs), nil when the
    /// program updates nothing.
    var firstUpdateIndex: Int? {
        instructions.firstIndex {
            switch $0.call {
            case .adam, .sgd, .rmsprop: return true
            default: return false
            }
        }
    }

    /// Whether output `i` can be folded into the fusion buffer: one float in the arena.
    public func canFold(output i: Int) -> Bool {
        guard outputs.indices.contains(i), case .arena = outputs[i].location else { return false }
        return outputs[i].dtype == .float32 && outputs[i].count == 1
    }

    /// Inserts the gradient collective (see the file header). Returns the fusion buffer's size
    /// in floats (0: nothing to reduce, nothing inserted).
    @discardableResult
    public func reduceBeforeUpdate(folding extras: FusionExtras = FusionExtras(), scale: @escaping () -> Float = { 1 },
                                   with reduce: @escaping (UnsafeMutableBufferPointer<Float>) throws -> Void) -> Int {
        guard let at = firstUpdateIndex else { return 0 }
        let buffers = reducedBuffers
        let parts = buffers.map { (address($0.location).assumingMemoryBound(to: Float.self), $0.count) }
        let gradientParts = buffers.filter { !$0.label.hasPrefix("assign ") }.count
        let scalars = extras.scalarOutputs.filter { canFold(output: $0) }.map { f(outputs[$0].location) }
        let norm = extras.gradientNormOutput.flatMap { canFold(output: $0) ? f(outputs[$0].location) : nil }
        let floats = parts.reduce(0) { $0 + $1.1 }
        guard floats > 0 else { return 0 }
        let total = floats + scalars.count + extras.trailing
        let fusion = FusionBuffer(count: total)
        thunks.insert({
            let buf = fusion.buffer.baseAddress!
            let w = scale()
            var o = 0
            for (p, n) in parts {
                FusionBuffer.copy(buf + o, from: p, count: n, scale: w)
                o += n
            }
            for s in scalars { buf[o] = s.pointee * w; o += 1 }
            try reduce(fusion.buffer)
            o = 0
            var squares = 0.0
            for (k, (p, n)) in parts.enumerated() {
                if k < gradientParts && norm != nil { squares += FusionBuffer.copySquares(p, from: buf + o, count: n) }
                else { p.update(from: buf + o, count: n) }
                o += n
            }
            for s in scalars { s.pointee = buf[o]; o += 1 }
            norm?.pointee = Float(squares.squareRoot())
        }, at: at)
        return total
    }
}

/// What a fusion buffer carries after the gradients and statistics (Program.reduceBeforeUpdate).
public struct FusionExtras {
    /// Output indices of scalar metrics averaged with the gradients (non-foldable ones are skipped).
    public var scalarOutputs: [Int]
    /// An output set to the norm of the reduced gradients after the collective.
    public var gradientNormOutput: Int?
    /// Floats at the end of the buffer that the reduce closure fills and reads itself.
    public var trailing: Int

    public init(scalarOutputs: [Int] = [], gradientNormOutput: Int? = nil, trailing: Int = 0) {
        self.scalarOutputs = scalarOutputs
        self.gradientNormOutput = gradientNormOutput
        self.trailing = trailing
    }
}

/// The run-time target of a program's AllReduce instructions (nil: single process, a copy).
final class CollectiveHook {
    var reduce: ((UnsafeMutableBufferPointer<Float>, _ sum: Bool) throws -> Void)?
}

extension Program {
    /// Whether the program has AllReduce instructions (synchronised BatchNorm).
    public var hasAllReduce: Bool { instructions.contains { if case .allReduce = $0.call { return true }; return false } }

    /// Sets the collective AllReduce instructions call (see the file header).
    public func setCollective(_ reduce: @escaping (UnsafeMutableBufferPointer<Float>, _ sum: Bool) throws -> Void) {
        collectiveHook.reduce = reduce
    }
}

/// The flat buffer a program's collective packs into (allocated once, freed with the program).
final class FusionBuffer {
    let buffer: UnsafeMutableBufferPointer<Float>
    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: 0)
    }
    deinit { buffer.deallocate() }

    /// dst[i] = src[i] · scale (a plain copy when scale is 1).
    static func copy(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, count n: Int, scale: Float) {
        guard scale != 1 else { return dst.update(from: src, count: n) }
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        let w = SIMD16<Float>(repeating: scale)
        var i = 0
        while i + 16 <= n {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * w, toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { dst[i] = src[i] * scale; i += 1 }
    }

    /// dst[i] = src[i]; returns Σ src[i]² (Float lanes over blocks of 4096, blocks summed in Double).
    static func copySquares(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, count n: Int) -> Double {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        var total = 0.0
        var i = 0
        while i < n {
            let end = min(n, i + 4096)
            var acc = SIMD16<Float>(repeating: 0)
            while i + 16 <= end {
                let v = s.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                d.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD16<Float>.self)
                acc += v * v
                i += 16
            }
            var tail: Float = 0
            while i < end { let v = src[i]; dst[i] = v; tail += v * v; i += 1 }
            total += Double(acc.sum()) + Double(tail)
        }
        return total
    }
}
