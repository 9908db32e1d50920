// GeneratorEMA: the spec's `ema` — an exponential moving average of the generator's weights and
// BatchNorm running statistics, the generator gan-train exports (Karras et al. 2018; Yazıcı et
// al. 2019 on why the average of a GAN generator's iterates scores better than the last one).
//
// Contract: for every float buffer `generator/<name>` of G's graph the store holds
// `generator_ema/<name>` (same shape; `GeneratorEMA.prefix`), so checkpoints carry the average
// and a resumed run stays bit-identical. After G step number t (1-based, `generatorSteps`):
// t ≤ start: avg = w (a copy); t > start: avg ← β·avg + (1−β)·w, element by element in Float
// in index order (results do not depend on the thread count or the rank). Only the average is
// written; the training steps never read it. `GANSteps.ema` is nil without an `ema` section.

import Runtime
import SpecFormat

public final class GeneratorEMA {
    /// The store prefix of the averaged buffers (in place of the generator's name).
    public static let prefix = "generator_ema"
    public let decay: Float
    public let start: Int
    /// (live buffer, average buffer) store names.
    public let pairs: [(live: String, average: String)]
    let store: ParameterStore

    /// Creates `generator_ema/<name>` as a copy of `<network>/<name>` for each of `names`.
    init(_ spec: EMASpec, store: ParameterStore, network: String, names: [String]) throws {
        decay = Float(spec.decay)
        start = spec.start
        self.store = store
        pairs = names.map { ("\(network)/\($0)", "\(Self.prefix)/\($0)") }
        for p in pairs { try store.set(p.average, store.tensor(p.live)!) }
    }

    /// avg = w for every buffer (the state before G's first step, and `start`'s copies); in
    /// place, no allocation.
    public func copy() {
        for p in pairs {
            let w = store.entry(p.live)!, e = store.entry(p.average)!
            e.pointer.update(from: w.pointer, count: w.count)
        }
    }

    /// The update after G step `generatorStep` (1-based).
    public func update(generatorStep t: Int) {
        if t <= start { return copy() }
        let b = decay, a = 1 - decay
        for p in pairs {
            let w = store.entry(p.live)!, e = store.entry(p.average)!
            for i in 0..<w.count { e.pointer[i] = b * e.pointer[i] + a * w.pointer[i] }
        }
    }
}
