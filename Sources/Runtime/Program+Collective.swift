// Program+Collective: a training program's hook for data-parallel training — one collective
// over its flat gradient region, in place, between the gradient computation and the optimizer
// update.
//
// Contract: `reduceBeforeUpdate(folding:scale:with:)` inserts one extra step before the
// program's first optimizer instruction (adam / sgd / rmsprop). Lowering pinned, back to back
// at the start of the arena, every gradient an optimizer reads and then every value a state
// assignment copies (BatchNorm running statistics), each at its 16-float slot, then a tail
// (`reducedBuffers` lists them in that order). The step zeroes the slots' padding, multiplies
// the whole region by `scale()` in place (read once per run; skipped at 1), writes into the
// tail — with `folding` — the scalar outputs it names (×scale too) and then `trailing` zeros
// the caller fills itself, and calls `reduce` once on the region from the first gradient to the
// last trailing float (data-parallel training passes an in-place allreduce-sum). No pack or
// unpack copy: the optimizer then reads the reduced gradients where they are, and the
// assignments copy the reduced statistics; folded scalars are copied back to their outputs.
// With `gradientNormOutput` that output then holds √Σg² over the reduced gradients (the norm of
// the averaged gradient; summed in Float blocks of 4096 per gradient, then Double). Every graph
// output is computed before the first update (updates run after the graph), so folded outputs
// are final values. The layout is fixed by the program, so every rank of a job reduces the same
// layout. Only arena buffers take part (a constant gradient is the same on every rank; a scalar
// output that is not a one-float arena value is not foldable, `canFold`). A program without the
// hook runs exactly as before: nothing is inserted, the printed instructions are unchanged.
// Call it at most once per program, before the first run; it throws when the program has no
// flat region that fits (not lowered with its updates, or more scalars and trailing floats than
// its tail holds). The collective is a step without an instruction: `text` does not show it
// and `runProfiled` returns one more time (its own, at the first update's index).
// Sharded (`sharded`, ZeRO-1; only for a program whose updates are one fused run,
// Program+FusedUpdate — otherwise the plain collective above): the gradient span is split into
// one block per rank by size (`ShardedUpdate.blocks`); the step reduce-scatters it (each rank
// gets the sums of its block in a shard buffer), writes the scalars, the block's Σg² (the
// norm's part) and the trailing zeros into the tail, and calls `reduce` on the region after the
// gradient span (statistics and tail); the fused update then updates only the rank's block
// and allgathers the parameters — an allreduce's bytes on the wire, 1/K of the optimizer's work
// per rank. The optimizer state is current on each rank for its block only until
// `gatherShardedState`.
// `setCollective(_:)` gives the program's AllReduce instructions (synchronised BatchNorm
// statistics) their collective: each copies its input to its output and calls the hook on the
// output with `sum` (plain sum over ranks) or not (share-weighted mean). Without a hook they are
// copies, so a single process computes the same values with or without one.

import Kernels

extension Program {
    /// The arena locations and float counts the collective covers, in region order: the
    /// gradients the optimizer instructions read, then the values state assignments copy.
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

    /// Whether output `i` can be folded into the collective: one float in the arena.
    public func canFold(output i: Int) -> Bool {
        guard outputs.indices.contains(i), case .arena = outputs[i].location else { return false }
        return outputs[i].dtype == .float32 && outputs[i].count == 1
    }

    /// The flat gradient region: its first float, the float offset of its tail, and each
    /// reduced buffer's pointer and count in region order (nil when the buffers do not tile
    /// the region up to the tail).
    func gradientRegion() -> (start: UnsafeMutablePointer<Float>, tail: Int, parts: [(UnsafeMutablePointer<Float>, Int)])? {
        guard case .arena(let tailOffset)? = collectiveTail else { return nil }
        let buffers = reducedBuffers
        let offsets = buffers.map { b -> Int in if case .arena(let o) = b.location { return o }; return -1 }
        var expected = offsets.first ?? tailOffset
        for (o, b) in zip(offsets, buffers) {
            guard o == expected else { return nil }
            expected += ParameterStore.slot(b.count) * 4
        }
        guard expected == tailOffset else { return nil }
        let first = offsets.first ?? tailOffset
        return (f(Location.arena(first)), (tailOffset - first) / 4, buffers.map { (f($0.location), $0.count) })
    }

    /// Inserts the gradient collective (see the file header). Returns the size in floats of the
    /// region it reduces (0: nothing to reduce, nothing inserted); sharded, of the region the
    /// reduce-scatter and `reduce` cover together.
    @discardableResult
    public func reduceBeforeUpdate(folding extras: FusionExtras = FusionExtras(), scale: @escaping () -> Float = { 1 },
                                   sharded: ShardedUpdate? = nil,
                                   with reduce: @escaping (UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> Int {
        guard let at = firstUpdateIndex else { return 0 }
        let scalars = extras.scalarOutputs.filter { canFold(output: $0) }.map { f(outputs[$0].location) }
        let norm = extras.gradientNormOutput.flatMap { canFold(output: $0) ? f(outputs[$0].location) : nil }
        let buffers = reducedBuffers
        guard buffers.reduce(0, { $0 + $1.count }) > 0 else { return 0 }
        guard let region = gradientRegion(), scalars.count + extras.trailing <= Self.collectiveTailFloats(outputs: outputs.count) else {
            throw RuntimeError("the program's gradients and statistics do not form one flat region with room for \(scalars.count + extras.trailing) tail floats")
        }
        let gradientParts = buffers.filter { !$0.label.hasPrefix("assign ") }.count
        let start = region.start, tail = start + region.tail, trailing = extras.trailing
        let total = region.tail + scalars.count + trailing
        let padding = region.parts.map { ($0.0 + $0.1, ParameterStore.slot($0.1) - $0.1) }
        let gradients = Array(region.parts.prefix(gradientParts))
        if let sharded, sharded.size > 1, fusedLayouts.count == 1, let layout = fusedLayouts.first, layout.grad == start,
           layout.instructions.count == gradientParts, scalars.count + 1 + trailing <= Self.collectiveTailFloats(outputs: outputs.count) {
            return shardBeforeUpdate(sharded, layout: layout, at: at, scale: scale, scalars: scalars, norm: norm,
                                     region: (start, region.tail), padding: padding, trailing: trailing, reduce: reduce)
        }
        thunks.insert({
            for (q, n) in padding { q.update(repeating: 0, count: n) }
            let w = scale()
            if w != 1 { FusionBuffer.scale(start, count: region.tail, by: w) }
            for (k, s) in scalars.enumerated() { tail[k] = s.pointee * w }
            (tail + scalars.count).update(repeating: 0, count: trailing)
            try reduce(UnsafeMutableBufferPointer(start: start, count: total))
            for (k, s) in scalars.enumerated() { s.pointee = tail[k] }
            if let norm {
                norm.pointee = Float(gradients.reduce(0.0) { $0 + FusionBuffer.sumOfSquares($1.0, count: $1.1) }.squareRoot())
            }
        }, at: at)
        return total
    }
}

/// ZeRO-1 sharding of a program's optimizer update over the ranks (Program.reduceBeforeUpdate).
public struct ShardedUpdate {
    public var rank: Int
    public var size: Int
    /// Sums a buffer over the ranks and hands this rank its block (Communicator.reduceScatterSum).
    public var reduceScatter: (UnsafeBufferPointer<Float>, [Int], UnsafeMutablePointer<Float>) throws -> Void
    /// Each rank's block to every rank, in place (Communicator.allgather).
    public var allgather: (UnsafeMutableBufferPointer<Float>, [Int]) throws -> Void

    public init(rank: Int, size: Int, reduceScatter: @escaping (UnsafeBufferPointer<Float>, [Int], UnsafeMutablePointer<Float>) throws -> Void,
                allgather: @escaping (UnsafeMutableBufferPointer<Float>, [Int]) throws -> Void) {
        self.rank = rank
        self.size = size
        self.reduceScatter = reduceScatter
        self.allgather = allgather
    }

    /// The block sizes of a span of `n` floats: rank r takes [b_r, b_{r+1}) with b_r = r·n/size
    /// rounded down to a multiple of 16 (b_size = n), so blocks depend on sizes only.
    public func blocks(_ n: Int) -> [Int] {
        let bounds = (0...size).map { $0 == size ? n : ($0 * n / size) / 16 * 16 }
        return zip(bounds, bounds.dropFirst()).map { $1 - $0 }
    }
}

extension Program {
    /// The sharded collective and update (see the file header's "Sharded" paragraph).
    func shardBeforeUpdate(_ sharded: ShardedUpdate, layout: FusedLayout, at: Int, scale: @escaping () -> Float,
                           scalars: [UnsafeMutablePointer<Float>], norm: UnsafeMutablePointer<Float>?,
                           region: (start: UnsafeMutablePointer<Float>, tail: Int), padding: [(UnsafeMutablePointer<Float>, Int)],
                           trailing: Int, reduce: @escaping (UnsafeMutableBufferPointer<Float>) throws -> Void) -> Int {
        let span = layout.span, counts = sharded.blocks(span)
        let lo = counts.prefix(sharded.rank).reduce(0, +), mine = counts[sharded.rank]
        let storage = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(mine, 1))
        storage.initialize(repeating: 0)
        let shardGrad = storage.baseAddress!
        updateShard.storage = storage
        updateShard.range = lo..<(lo + mine)
        updateShard.grad = shardGrad
        let params = layout.param, states = layout.states
        updateShard.gather = { try sharded.allgather(UnsafeMutableBufferPointer(start: params, count: span), counts) }
        updateShard.gatherStates = {
            for s in states { try sharded.allgather(UnsafeMutableBufferPointer(start: s, count: span), counts) }
        }
        let start = region.start, tail = start + region.tail
        // After the gradient span: the statistics, the folded scalars, the partial Σg², trailing.
        let rest = region.tail - span + scalars.count + 1 + trailing
        thunks.insert({
            for (q, n) in padding { q.update(repeating: 0, count: n) }
            let w = scale()
            if w != 1 { FusionBuffer.scale(start, count: region.tail, by: w) }
            try sharded.reduceScatter(UnsafeBufferPointer(start: start, count: span), counts, shardGrad)
            for (k, s) in scalars.enumerated() { tail[k] = s.pointee * w }
            tail[scalars.count] = norm == nil ? 0 : Float(FusionBuffer.sumOfSquares(shardGrad, count: mine))
            (tail + scalars.count + 1).update(repeating: 0, count: trailing)
            try reduce(UnsafeMutableBufferPointer(start: start + span, count: rest))
            for (k, s) in scalars.enumerated() { s.pointee = tail[k] }
            norm?.pointee = tail[scalars.count].squareRoot()
        }, at: at)
        return region.tail + scalars.count + 1 + trailing
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

/// The arithmetic of the collective over the flat region.
enum FusionBuffer {
    /// p[i] *= scale, in place.
    static func scale(_ p: UnsafeMutablePointer<Float>, count n: Int, by scale: Float) {
        let d = UnsafeMutableRawPointer(p)
        let w = SIMD16<Float>(repeating: scale)
        var i = 0
        while i + 16 <= n {
            d.storeBytes(of: d.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * w, toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { p[i] *= scale; i += 1 }
    }

    /// Σ p[i]² (Float lanes over blocks of 4096, blocks summed in Double).
    static func sumOfSquares(_ p: UnsafePointer<Float>, count n: Int) -> Double {
        let s = UnsafeRawPointer(p)
        var total = 0.0
        var i = 0
        while i < n {
            let end = min(n, i + 4096)
            var acc = SIMD16<Float>(repeating: 0)
            while i + 16 <= end {
                let v = s.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                acc += v * v
                i += 16
            }
            var tail: Float = 0
            while i < end { let v = p[i]; tail += v * v; i += 1 }
            total += Double(acc.sum()) + Double(tail)
        }
        return total
    }
}
