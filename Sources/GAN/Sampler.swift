// Sampler: runs the generator in inference mode on the live weights of a ParameterStore.
//
// Contract: the generator graph is inlined with its float initializers bound to the store's
// `generator/<name>` buffers (BatchNorm uses the running statistics, as PyTorch's eval()),
// compiled once per batch size, and run on given latents (and labels). No weights are copied.

import GraphIR
import Kernels
import Passes
import Runtime
import Training

public final class Sampler {
    let generator: Graph
    let store: ParameterStore
    let pool: ThreadPool
    private var programs: [Int: Program] = [:]

    public init(generator: Graph, store: ParameterStore, pool: ThreadPool) {
        self.generator = generator
        self.store = store
        self.pool = pool
    }

    func program(batch n: Int) throws -> Program {
        if let p = programs[n] { return p }
        var c = GraphComposer(name: "sample")
        var args: [ValueID] = []
        for v in generator.inputs {
            let t = generator.type(of: v)!
            args.append(c.input(generator.name(of: v), t.binding(["N": n])))
        }
        let out = try c.call(generator, args, training: false)
        c.output(out)
        var g = c.graph
        try InferShapes().run(&g)
        let p = try Lowering.lower(g, pool: pool, store: store)
        programs[n] = p
        return p
    }

    /// Generates images for latents `z` (n × latent) and optional labels (n).
    public func sample(z: Tensor, labels: Tensor? = nil) throws -> Tensor {
        let p = try program(batch: z.shape[0])
        for (i, v) in p.inputs.enumerated() {
            if v.dtype == .float32 { try p.setInput(i, z) } else if let labels { try p.setInput(i, labels) }
            else { throw RuntimeError("the generator needs labels (input '\(v.name)')") }
        }
        try p.run()
        return p.output(0)
    }

    /// The generator graph with the store's current weights as initializers (for export), read
    /// from the buffers under `prefix` (default: the generator's name, the trained weights;
    /// `GeneratorEMA.prefix`: their average).
    public func exportGraph(prefix: String? = nil) -> Graph {
        var g = generator
        let prefix = prefix ?? generator.name
        for v in g.initializers.keys {
            if let t = store.tensor("\(prefix)/\(g.name(of: v))") { g.initializers[v] = t }
        }
        return g
    }
}
