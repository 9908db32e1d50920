// NonFiniteGuard: stops training in the step where a NaN or an infinity appears, naming the
// iteration, the network whose step produced it and the first tensor that went bad.
//
// Contract: after each D or G step `check` looks at the step's scalar outputs (loss, its terms,
// the gradient norm — a finite gradient norm means every gradient element and its square is
// finite) and then at the state the step wrote: the trained network's parameters and every
// non-parameter state of both networks (BatchNorm running statistics; both networks run in
// train mode in each step). Optimizer moments are not scanned: with finite gradients they stay
// finite, and a non-finite moment shows in the next update's parameters. Any non-finite value
// throws `NonFiniteError`; the store is then poisoned and must not be checkpointed
// (Checkpoint.write refuses non-finite buffers anyway). The scan is one read of the watched
// buffers per step, SIMD, without allocation.

import GraphIR
import Runtime

/// A NaN or infinity found by the guard.
public struct NonFiniteError: Error, CustomStringConvertible {
    /// The D iteration whose step went bad (0-based, as `TrainerCounters.iteration` before it).
    public var iteration: Int
    /// The same as metrics.jsonl's `step` (1-based).
    public var step: Int { iteration + 1 }
    /// The network whose step it was (`discriminator`, `critic` or `generator`).
    public var network: String
    /// Non-finite scalar outputs (label, value), in output order.
    public var outputs: [(label: String, value: Float)]
    /// The first state buffer holding non-finite values: its name, how many, of how many.
    public var state: (name: String, count: Int, total: Int)?

    public var description: String {
        var parts: [String] = []
        if !outputs.isEmpty {
            parts.append(outputs.map { "\($0.label) = \($0.value)" }.joined(separator: ", "))
        }
        if let s = state {
            parts.append("first non-finite tensor '\(s.name)' (\(s.count) of \(s.total) values)")
        }
        return "step \(step): non-finite values in the \(network) step: " + parts.joined(separator: "; ")
    }
}

/// The per-step check of one trainer's steps.
public final class NonFiniteGuard {
    let store: ParameterStore
    /// Buffers to scan after a step of the key network.
    let watched: [String: [String]]

    public init(steps: GANSteps) {
        store = steps.store
        let params = [steps.generator.name: steps.generatorParameters, steps.discriminator.name: steps.discriminatorParameters]
        let all = Set(params.values.joined())
        var state: [String] = []
        for net in [steps.generator, steps.discriminator] {
            for (v, t) in net.initializers.sorted(by: { $0.key.index < $1.key.index }) where t.dtype == .float32 {
                let name = "\(net.name)/\(net.name(of: v))"
                if !all.contains(name) && steps.store.contains(name) { state.append(name) }
            }
        }
        watched = params.mapValues { $0 + state }
    }

    /// Throws when an output in `scalars` (checked in `order`) or a buffer the step of
    /// `network` wrote is not finite.
    public func check(_ scalars: [String: Float], order: [String], network: String, iteration: Int) throws {
        let badOutputs = order.compactMap { label in scalars[label].flatMap { $0.isFinite ? nil : (label: label, value: $0) } }
        var bad: (name: String, count: Int, total: Int)? = nil
        for name in watched[network] ?? [] {
            guard let e = store.entry(name), !Self.allFinite(e.pointer, count: e.count) else { continue }
            bad = (name, Self.nonFiniteCount(e.pointer, count: e.count), e.count)
            break
        }
        if badOutputs.isEmpty && bad == nil { return }
        if bad == nil, let first = Self.firstNonFinite(in: store) { bad = (first.name, first.count, store.entry(first.name)!.count) }
        throw NonFiniteError(iteration: iteration, network: network, outputs: badOutputs, state: bad)
    }

    /// Whether all `count` floats at `p` are finite: x − x is 0 for finite x and NaN for NaN
    /// and ±∞, and a NaN survives the sum.
    public static func allFinite(_ p: UnsafePointer<Float>, count: Int) -> Bool {
        let raw = UnsafeRawPointer(p)
        var a = SIMD16<Float>(repeating: 0), b = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 32 <= count {
            let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let y = raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            a += x - x
            b += y - y
            i += 32
        }
        var s: Float = 0
        while i < count { s += p[i] - p[i]; i += 1 }
        return s == 0 && a + b == SIMD16<Float>(repeating: 0)
    }

    /// How many of `count` floats at `p` are NaN or infinite.
    public static func nonFiniteCount(_ p: UnsafePointer<Float>, count: Int) -> Int {
        if allFinite(p, count: count) { return 0 }
        var n = 0
        for i in 0..<count where !p[i].isFinite { n += 1 }
        return n
    }

    /// How many of `values` are NaN or infinite.
    public static func nonFiniteCount(_ values: [Float]) -> Int {
        values.withUnsafeBufferPointer { b in b.baseAddress.map { nonFiniteCount($0, count: b.count) } ?? 0 }
    }

    /// The first buffer of `store` (in store order) holding non-finite values, with their count.
    public static func firstNonFinite(in store: ParameterStore) -> (name: String, count: Int)? {
        for e in store.entries where !allFinite(e.pointer, count: e.count) {
            return (e.name, nonFiniteCount(e.pointer, count: e.count))
        }
        return nil
    }
}
