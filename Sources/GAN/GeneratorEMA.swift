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

    /// Creates the average buffers as copies of `generatorBuffers` (store names `<net>/<name>`).
    init(_ spec: EMASpec, store: ParameterStore, generatorBuffers: [String]) throws {
        decay = Float(spec.decay)
        start = spec.start
        self.store = store
        pairs = generatorBuffers.map { name in
            let local = name.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? name
            return (name, "\(Self.prefix)/\(local)")
        }
        try copy()
    }

    /// avg = w for every buffer (the state before G's first step, and `start`'s copies).
    public func copy() throws {
        for p in pairs { try store.set(p.average, store.tensor(p.live)!) }
    }

    /// The update after G step `generatorStep` (1-based).
    public func update(generatorStep t: Int) throws {
        if t <= start { return try copy() }
        let b = decay, a = 1 - decay
        for p in pairs {
            let w = store.entry(p.live)!, e = store.entry(p.average)!
            for i in 0..<w.count { e.pointer[i] = b * e.pointer[i] + a * w.pointer[i] }
        }
    }
}
