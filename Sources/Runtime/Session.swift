// Session: compiles a graph once per input-shape signature and runs it.
//
// Contract: `Session(graph:)` verifies the graph. `run(inputs)` binds each symbolic dim of
// the graph inputs from the given tensors (a symbol must get one size everywhere), runs the
// inference pipeline on a copy with those sizes, lowers and plans it, and caches the Program
// under the signature; later calls with the same shapes reuse it. Input names must match the
// graph's inputs exactly; missing, extra or mis-shaped inputs are errors that name them.
// Where BatchChunks' rule says a batch runs faster as chunks, and SampleSeparability says the
// graph computes each sample on its own, the cached Program is a chunked one
// (Program+BatchChunks): the graph compiled at the chunk size, one copy per pool thread.

import GraphIR
import Passes
import Kernels

public final class Session {
    public let graph: Graph
    public let pool: ThreadPool
    public let passes: [Pass]
    public let chunking: Chunking
    private var cache: [[[Int]]: Program] = [:]

    /// Whether a batch may run as chunks of a smaller one (Program+BatchChunks).
    public enum Chunking: Equatable {
        /// Where BatchChunks' rule says it pays.
        case rule
        /// Never.
        case whole
        /// In chunks of this size wherever it divides the batch (for tests and measurements).
        case size(Int)
    }

    public init(graph: Graph, threads: Int = 1, passes: [Pass] = Pipelines.inference, chunking: Chunking = .rule) throws {
        try graph.verify()
        self.graph = graph
        self.pool = ThreadPool(threads: threads)
        self.passes = passes
        self.chunking = chunking
    }

    /// The names of the graph inputs, in order.
    public var inputNames: [String] { graph.inputs.map { graph.name(of: $0) } }

    /// The compiled program for these input shapes (ordered as the graph inputs).
    public func program(for shapes: [[Int]]) throws -> Program {
        if let p = cache[shapes] { return p }
        let bound = try Self.bind(graph, shapes)
        var g = bound
        try Pipelines.run(passes, on: &g)
        let p = try chunked(g, shapes) ?? Lowering.lower(g, pool: pool)
        cache[shapes] = p
        return p
    }

    /// A chunked program for `full` (the graph optimised for `shapes`), or nil where the batch
    /// runs whole: no batch dim shared by every input, BatchChunks' rule says no, or the graph
    /// does not compute its samples apart (a chunk graph that fails to compile counts as that).
    func chunked(_ full: Graph, _ shapes: [[Int]]) throws -> Program? {
        guard !Baseline.noBatchChunks, chunking != .whole, let batch = batchSize(shapes) else { return nil }
        let s: Int
        if case .size(let size) = chunking {
            guard size >= 1, size < batch, batch % size == 0 else { return nil }
            s = size
        } else {
            guard let size = BatchChunks.chunkBatch(SampleSeparability.footprint(full, batch: batch), batch: batch) else { return nil }
            s = size
        }
        var g: Graph
        do {
            g = try Self.bind(graph, shapes.map { [s] + $0.dropFirst() })
            try Pipelines.run(passes, on: &g)
            if try SampleSeparability.reason(full: full, chunk: g, batch: batch, chunkBatch: s) != nil { return nil }
        } catch {
            return nil
        }
        let first = try Lowering.lower(g, pool: ThreadPool(threads: 1))
        let copies = (1..<min(pool.threads, BatchChunks.maxPrograms)).map { _ in Program(copying: first, pool: ThreadPool(threads: 1)) }
        return BatchChunks.program([first] + copies, batch: batch, chunkBatch: s, pool: pool)
    }

    /// The batch size: axis 0 of every input, one symbol in the graph; nil otherwise.
    func batchSize(_ shapes: [[Int]]) -> Int? {
        var symbol: String?
        for v in graph.inputs {
            guard case .symbol(let name)? = graph.type(of: v)?.shape.first, symbol == nil || symbol == name else { return nil }
            symbol = name
        }
        guard symbol != nil, let n = shapes.first?.first, shapes.allSatisfy({ $0.first == n }) else { return nil }
        return n
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
