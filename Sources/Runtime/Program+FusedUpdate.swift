// Program+FusedUpdate: a training program's optimizer updates as one flat kernel call over
// each run of consecutive updates whose parameters, optimizer state and gradients lie back to
// back.
//
// Contract: `fuseUpdates` (Program.init, after binding) finds maximal runs of consecutive
// optimizer instructions of one kind and one configuration in which each instruction's
// parameter, each of its state buffers and its gradient sit exactly one 16-float slot
// (ParameterStore.slot) after the previous instruction's: a flat group in the store
// (ParameterStore.arrange) and Lowering's flat gradient region. A run of two or more becomes
// one thunk at its first instruction (the others run nothing; the printed program and the
// instruction count are unchanged). Each run of the thunk advances every step counter of the
// run; when they agree (always, unless something set them apart) it zeroes the gradients' slot
// padding and calls the optimizer kernel once over the whole span, padding included — a zero
// parameter, gradient and state stay zero under every update rule, and each element's
// arithmetic is the per-buffer kernel's, so the result is bit-identical to one call per buffer
// (Optimizers: element i depends on element i only; chunks are fixed by size). Counters that
// disagree fall back to one call per buffer, each with its own step. `GANNET_BASELINE=fusedupdate`
// (Kernels' Baseline) leaves every update unfused, for interleaved before/after measurements.
// Sharded (ZeRO-1, set by Program+Collective's `reduceBeforeUpdate(sharded:)` on a program with
// one fused run): the thunk updates only this rank's block of the span, reading the block's
// reduced gradient from the shard buffer the collective filled, then allgathers the parameters;
// `gatherShardedState` allgathers the optimizer state (each rank holds current state for its
// block only) before anything reads all of it.

import Kernels

extension Program {
    /// An optimizer instruction's rule with its settings (updates fuse only under one rule).
    enum UpdateRule: Equatable {
        case adam(AdamConfig)
        case sgd(SGDConfig)
        case rmsprop(RMSpropConfig)

        init?(_ call: KernelCall) {
            switch call {
            case let .adam(c, _, _): self = .adam(c)
            case let .sgd(c, _, _): self = .sgd(c)
            case let .rmsprop(c, _): self = .rmsprop(c)
            default: return nil
            }
        }
    }

    /// One optimizer instruction's operands: element count, step counter, parameter, gradient
    /// and state pointers.
    struct UpdateOperands {
        var count: Int
        var counter: String?
        var param: UnsafeMutablePointer<Float>
        var grad: UnsafeMutablePointer<Float>
        var states: [UnsafeMutablePointer<Float>]
    }

    func updateOperands(_ ins: Instruction) -> UpdateOperands? {
        guard let g = ins.inputs.first ?? nil else { return nil }
        let count: Int, counter: String?
        switch ins.call {
        case let .adam(_, n, c), let .sgd(_, n, c): count = n; counter = c
        case let .rmsprop(_, n): count = n; counter = nil
        default: return nil
        }
        return UpdateOperands(count: count, counter: counter, param: f(ins.outputs[0]), grad: f(g),
                              states: ins.outputs.dropFirst().map { f($0) })
    }

    /// A fused run's flat layout: its instruction range, the span in floats (first element
    /// of the first buffer to the last element of the last), and the first parameter,
    /// gradient and state pointers.
    struct FusedLayout {
        var instructions: Range<Int>
        var span: Int
        var param: UnsafeMutablePointer<Float>
        var grad: UnsafeMutablePointer<Float>
        var states: [UnsafeMutablePointer<Float>]
    }

    /// Whether the update is sharded over ranks (reduceBeforeUpdate(sharded:) took effect).
    public var isSharded: Bool { updateShard.grad != nil }

    /// The allgather of every optimizer state buffer of the sharded run (a no-op unsharded).
    /// Every rank calls it at the same point.
    public func gatherShardedState() throws { try updateShard.gatherStates?() }

    /// Replaces the thunks of each fusable run of optimizer instructions (see the file header).
    func fuseUpdates() {
        guard let store, !Baseline.names.contains("fusedupdate") else { return }
        var i = 0
        while i < instructions.count {
            guard let rule = UpdateRule(instructions[i].call), let first = updateOperands(instructions[i]) else { i += 1; continue }
            var run = [first]
            var j = i + 1
            while j < instructions.count, UpdateRule(instructions[j].call) == rule, let next = updateOperands(instructions[j]) {
                let prev = run.last!, slot = ParameterStore.slot(prev.count)
                guard next.param == prev.param + slot, next.grad == prev.grad + slot, next.states.count == prev.states.count,
                      zip(prev.states, next.states).allSatisfy({ $0 + slot == $1 }) else { break }
                run.append(next)
                j += 1
            }
            if run.count > 1 {
                thunks[i] = fusedUpdate(rule, run, store: store, at: i..<j)
                for k in (i + 1)..<j { thunks[k] = {} }
            }
            i = j
        }
    }

    /// The thunk of one fused run.
    private func fusedUpdate(_ rule: UpdateRule, _ run: [UpdateOperands], store: ParameterStore, at range: Range<Int>) -> () throws -> Void {
        let pool = self.pool
        var offsets: [Int] = []
        var o = 0
        for u in run { offsets.append(o); o += ParameterStore.slot(u.count) }
        let span = offsets.last! + run.last!.count
        let p = run[0].param, g = run[0].grad, s = run[0].states
        fusedLayouts.append(FusedLayout(instructions: range, span: span, param: p, grad: g, states: s))
        let counters = run.compactMap { $0.counter.map(store.counter) }
        let padding = zip(run.dropLast(), offsets).map { (g + $1 + $0.count, ParameterStore.slot($0.count) - $0.count) }
        /// The rule over `count` elements from `offset` at step `step`, the gradient of element
        /// `offset` at `grad`.
        let update: (_ step: Int, _ offset: Int, _ count: Int, _ grad: UnsafeMutablePointer<Float>) -> Void
        switch rule {
        case .adam(let c):
            update = { Optimizers.adam(c, step: $0, param: p + $1, grad: $3, m: s[0] + $1, v: s[1] + $1, count: $2, pool: pool) }
        case .sgd(let c):
            update = { Optimizers.sgd(c, step: $0, param: p + $1, grad: $3, buffer: s[0] + $1, count: $2, pool: pool) }
        case .rmsprop(let c):
            update = { _, offset, count, grad in Optimizers.rmsprop(c, param: p + offset, grad: grad, square: s[0] + offset, count: count, pool: pool) }
        }
        let shard = updateShard
        return {
            for c in counters { c.pointee += 1 }
            let step = counters.first?.pointee ?? 0
            let agree = counters.allSatisfy { $0.pointee == step }
            if let sg = shard.grad {
                // This rank's block [lo, hi) of the span; its reduced gradient is at sg.
                let lo = shard.range.lowerBound, hi = shard.range.upperBound
                if agree {
                    update(step, lo, hi - lo, sg)
                } else {
                    for (k, u) in run.enumerated() {
                        let a = max(lo, offsets[k]), b = min(hi, offsets[k] + u.count)
                        if a < b { update(counters.isEmpty ? 0 : counters[k].pointee, a, b - a, sg + (a - lo)) }
                    }
                }
                try shard.gather?()
            } else if agree {
                for (q, n) in padding { q.update(repeating: 0, count: n) }
                update(step, 0, span, g)
            } else {
                for (k, u) in run.enumerated() { update(counters[k].pointee, offsets[k], u.count, g + offsets[k]) }
            }
        }
    }
}

/// A data-parallel rank's part of a sharded fused update (set by reduceBeforeUpdate(sharded:)).
final class UpdateShard {
    /// The rank's elements of the fused span.
    var range: Range<Int> = 0..<0
    /// The reduced gradient of the rank's elements (nil: not sharded).
    var grad: UnsafeMutablePointer<Float>?
    /// After the rank's update: the allgather of the parameters.
    var gather: (() throws -> Void)?
    /// The allgather of the optimizer state.
    var gatherStates: (() throws -> Void)?
    /// Owns the shard's gradient buffer.
    var storage: UnsafeMutableBufferPointer<Float>?
    deinit { storage?.deallocate() }
}
