// Session: compiles a graph once per input-shape signature and runs it.
//
// Contract: `Session(graph:)` verifies the graph. `run(inputs)` binds each symbolic dim of
// the graph inputs from the given tensors (a symbol must get one size everywhere), runs the
// inference pipeline on a copy with those sizes, lowers and plans it, and caches the Program
// under the signature; later calls with the same shapes reuse it. Input names must match the
// graph's inputs exactly; missing, extra or mis-shaped inputs are errors that name them.

import GraphIR
import Passes
import Kernels

public final class Session {
    public let graph: Graph
    public let pool: ThreadPool
    public let passes: [Pass]
    private var cache: [[[Int]]: Program] = [:]

    public init(graph: Graph, threads: Int = 1, passes: [Pass] = Pipelines.inference) throws {
        try graph.verify()
        self.graph = graph
        self.pool = ThreadPool(threads: threads)
        self.passes = passes
    }

    /// The names of the graph inputs, in order.
    public var inputNames: [String] { graph.inputs.map { graph.name(of: $0) } }

    /// The compiled program for these input shapes (ordered as the graph inputs).
    public func program(for shapes: [[Int]]) throws -> Program {
        if let p = cache[shapes] { return p }
        let bound = try Self.bind(graph, shapes)
        var g = bound
        try Pipelines.run(passes, on: &g)
        let p = try Lowering.lower(g, pool: pool)
        cache[shapes] = p
        return p
    }

    /// Number of programs compiled so far.
    public var compiledCount: Int { cache.count }

    /// Returns the graph with its inputs' symbolic dims replaced by the given sizes.
    public static func bind(_ graph: Graph, _ shapes: [[Int]]) throws -> Graph {
        guard shapes.count == graph.inputs.count else {
            throw RuntimeError("graph '\(graph.name)' has \(graph.inputs.count) inputs, got \(shapes.count)")
        }
        var bindings: [String: Int] = [:]
        for (v, s) in zip(graph.inputs, shapes) {
            let t = graph.type(of: v)!
            let name = graph.name(of: v)
            guard t.rank == s.count else {
                throw RuntimeError("input '\(name)' must have rank \(t.rank) (\(t)), got shape \(s)")
            }
            for (d, size) in zip(t.shape, s) {
                switch d {
                case .fixed(let f) where f != size:
                    throw RuntimeError("input '\(name)' must have shape \(t), got \(s)")
                case .symbol(let sym):
                    if let b = bindings[sym], b != size {
                        throw RuntimeError("input '\(name)': dim \(sym) is \(b) elsewhere but \(size) here")
                    }
                    bindings[sym] = size
                default: break
                }
            }
        }
        var g = graph
        for v in g.inputs { g[v].type = g[v].type!.binding(bindings) }
        for i in g.values.indices where !g.inputs.contains(ValueID(i)) && g.initializers[ValueID(i)] == nil {
            g.values[i].type = nil
        }
        return g
    }

    /// Runs the graph on named inputs and returns the named outputs.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        var ordered: [Tensor] = []
        for name in inputNames {
            guard let t = inputs[name] else { throw RuntimeError("missing input '\(name)' (graph inputs: \(inputNames.joined(separator: ", ")))") }
            ordered.append(t)
        }
        if let extra = inputs.keys.first(where: { !inputNames.contains($0) }) {
            throw RuntimeError("unknown input '\(extra)' (graph inputs: \(inputNames.joined(separator: ", ")))")
        }
        let outs = try run(ordered)
        var result: [String: Tensor] = [:]
        for (v, t) in zip(graph.outputs, outs) { result[graph.name(of: v)] = t }
        return result
    }

    /// Runs the graph on inputs ordered as the graph's.
    public func run(_ inputs: [Tensor]) throws -> [Tensor] {
        let p = try program(for: inputs.map(\.shape))
        for (i, t) in inputs.enumerated() { try p.setInput(i, t) }
        try p.run()
        return p.outputs.indices.map { p.output($0) }
    }
}
