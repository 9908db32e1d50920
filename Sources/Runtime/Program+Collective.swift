// Program+Collective: a training program's hook for data-parallel training — one collective
// over a flat fusion buffer between the gradient computation and the optimizer update.
//
// Contract: `reduceBeforeUpdate(with:)` inserts one extra step before the program's first
// optimizer instruction (adam / sgd / rmsprop). That step copies, in instruction order, every
// gradient an optimizer reads and then every value a state assignment copies (BatchNorm running
// statistics) into one contiguous float buffer, calls `reduce` on it (data-parallel training
// passes an in-place allreduce-mean), and copies the results back before the updates run. The
// order is fixed by the program, so every rank of a job packs the same layout. Only arena
// buffers take part (a constant gradient is the same on every rank). A program without the hook
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

    /// Inserts the gradient collective (see the file header). Returns the fusion buffer's size
    /// in floats (0: nothing to reduce, nothing inserted).
    @discardableResult
    public func reduceBeforeUpdate(with reduce: @escaping (UnsafeMutableBufferPointer<Float>) throws -> Void) -> Int {
        guard let at = firstUpdateIndex else { return 0 }
        let parts = reducedBuffers.map { (address($0.location).assumingMemoryBound(to: Float.self), $0.count) }
        let total = parts.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return 0 }
        let fusion = FusionBuffer(count: total)
        thunks.insert({
            let buf = fusion.buffer
            var o = 0
            for (p, n) in parts {
                (buf.baseAddress! + o).update(from: p, count: n)
                o += n
            }
            try reduce(buf)
            o = 0
            for (p, n) in parts {
                p.update(from: buf.baseAddress! + o, count: n)
                o += n
            }
        }, at: at)
        return total
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
}
