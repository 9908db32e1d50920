// InferShapes: gives every value its type from the graph inputs, initializers and op rules.
//
// Contract: input — a verified graph whose inputs have types (dims fixed or symbolic).
// Output — the same graph with every node output typed. Shape-like operands (Reshape's
// shape, Slice's starts/ends, axes inputs, Expand's shape) must be constants (initializers,
// Constant nodes, Shape/Size of a value whose type is fully fixed, or small integer
// computations on those: `ShapeRules.shapeConstant`). A symbolic dim passes
// through ops that keep it; arithmetic that would need
// its value (a symbolic spatial dim under Conv, say) is an error naming the node. Existing
// output types are replaced. Errors name the node and op and say what does not fit.
// Sizes: initializer and graph input types and every inferred type are checked with `Limits` (no negative
// dim, no overflow, at most `Limits.maxTensorBytes` per sample with symbols counted as 1),
// and all arithmetic on dims is overflow-checked, so a hostile model is an error, not a trap.

import Core
import GraphIR

public struct InferShapes: Pass {
    public let name = "InferShapes"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        for (v, t) in graph.initializers {
            graph[v].type = t.type
            try Limits.checkType(t.type, "initializer '\(graph.name(of: v))'")
        }
        for v in graph.inputs {
            if let t = graph.type(of: v) { try Limits.checkType(t, "graph input '\(graph.name(of: v))'") }
        }
        try run(&graph, fromNode: 0)
    }

    /// Types the outputs of nodes `start...` only (earlier nodes and initializers are already
    /// typed): a builder that appends nodes re-infers just what it added, in linear time.
    public func run(_ graph: inout Graph, fromNode start: Int) throws {
        for i in start..<graph.nodes.count {
            let node = graph.nodes[i]
            let types: [TensorType?] = node.inputs.map { $0.flatMap { graph.type(of: $0) } }
            for (k, v) in node.inputs.enumerated() where v != nil && types[k] == nil {
                throw GraphError("\(graph.describeNode(i)): input \(k) '\(graph.name(of: v!))' has no known type")
            }
            try rethrowing(GraphError.self, as: { GraphError("\(graph.describeNode(i)): \($0.message)") }) {
                let outs = try ShapeRules.infer(node, types, graph)
                for (k, (o, t)) in zip(node.outputs, outs).enumerated() {
                    try Limits.checkType(t, "output \(k) '\(graph.name(of: o))'")
                    graph[o].type = t
                }
            }
        }
    }
}

/// A product of a constant and symbols, for Reshape and Flatten over symbolic dims.
struct SymbolicProduct: Equatable {
    var coefficient = 1
    var symbols: [String: Int] = [:]

    init(_ dims: ArraySlice<Dim>) throws {
        for d in dims {
            switch d {
            case .fixed(let v): coefficient = try Limits.multiply(coefficient, v, "element count")
            case .symbol(let s): symbols[s, default: 0] += 1
            }
        }
    }

    init(_ dims: [Dim]) throws { try self.init(dims[...]) }
    init() {}

    /// The single dim this product equals, if it is a constant or one symbol.
    var dim: Dim? {
        let live = symbols.filter { $0.value != 0 }
        if live.isEmpty { return .fixed(coefficient) }
        if live.count == 1, live.first!.value == 1, coefficient == 1 { return .symbol(live.first!.key) }
        return nil
    }

    /// self / other when exact.
    func divided(by other: SymbolicProduct) -> SymbolicProduct? {
        guard other.coefficient != 0, coefficient % other.coefficient == 0 else { return nil }
        var r = self
        r.coefficient /= other.coefficient
        for (s, p) in other.symbols { r.symbols[s, default: 0] -= p }
        if r.symbols.values.contains(where: { $0 < 0 }) { return nil }
        return r
    }
}

/// The entry to the per-op output type rules, and the helpers the family files share.
public enum ShapeRules {
    static func fail(_ msg: String) -> GraphError { GraphError(msg) }

    static func fixed(_ t: TensorType, _ what: String) throws -> [Int] {
        guard let s = t.fixedShape else { throw fail("\(what) needs static sizes, got \(t)") }
        return s
    }

    /// The constant integer values of operand `i`, or nil when the operand is absent. Counts as
    /// constant what `shapeConstant` computes: a constant, Shape/Size of a value with fixed dims,
    /// or integer arithmetic on those (PyTorch's TorchScript exporter computes `x.view(x.size(0),
    /// -1)` as Shape → Gather → Unsqueeze → Concat, known once the batch is bound).
    static func constantInts(_ node: Node, _ i: Int, _ g: Graph, _ what: String) throws -> [Int]? {
        guard let v = node.input(i) else { return nil }
        if let t = shapeConstant(v, g) { return t.int64s.map { Int(clamping: $0) } }
        throw fail("\(what) ('\(g.name(of: v))') must be a constant")
    }

    /// The value of `v` if shape inference can know it: a constant (initializer or Constant
    /// node), Shape/Size of a value whose (already inferred) type has fixed dims, or the single
    /// integer output (at most 4096 elements, already typed) of a node whose inputs are all such
    /// values, evaluated by ConstantEvaluator; chains up to 64 nodes deep. Nil otherwise.
    static func shapeConstant(_ v: ValueID, _ g: Graph, depth: Int = 0) -> Tensor? {
        if let t = g.constantValue(v) { return t }
        guard depth < 64, let p = g.nodes.first(where: { $0.outputs.first == v }), p.outputs.count == 1,
              !p.op.isInternal, p.op.inputArity.lowerBound > 0 else { return nil }
        if p.op == .shape || p.op == .size {
            guard let x = p.inputs.first ?? nil, let fixed = g.type(of: x)?.fixedShape else { return nil }
            return try? ShapeOfOps.value(p, fixed)
        }
        guard let t = g.type(of: v), t.dtype != .float32, let n = t.elementCount, n <= 4096 else { return nil }
        var inputs: [Tensor?] = []
        for x in p.inputs {
            guard let x else { inputs.append(nil); continue }
            guard let c = shapeConstant(x, g, depth: depth + 1) else { return nil }
            inputs.append(c)
        }
        return try? ConstantEvaluator.evaluate(p, inputs, [t], graph: g).first
    }

    static func normalizeAxis(_ a: Int, _ rank: Int) throws -> Int {
        let r = a < 0 ? a + rank : a
        guard r >= 0 && r < rank else { throw fail("axis \(a) is out of range for rank \(rank)") }
        return r
    }

    /// numpy broadcasting of two shapes.
    public static func broadcast(_ a: [Dim], _ b: [Dim]) throws -> [Dim] {
        let r = max(a.count, b.count)
        var out: [Dim] = []
        for i in 0..<r {
            let x = i < r - a.count ? Dim.fixed(1) : a[i - (r - a.count)]
            let y = i < r - b.count ? Dim.fixed(1) : b[i - (r - b.count)]
            if x == y || y == .fixed(1) { out.append(x) }
            else if x == .fixed(1) { out.append(y) }
            else if case .fixed = x, case .fixed = y {
                throw fail("shapes [\(a.map(\.description).joined(separator: ","))] and [\(b.map(\.description).joined(separator: ","))] do not broadcast")
            } else if case .fixed = x { out.append(x) } else { out.append(y) }
        }
        return out
    }

    /// The output types of `node` from its input types: the rule of the op's family
    /// (Operators/). Errors say what does not fit; the caller names the node.
    static func infer(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        var ts = ts
        if let first = ts.first, first == nil { ts[0] = TensorType(.float32, []) }   // as the verifier's error would be
        return try node.op.family.outputTypes(node, ts, g)
    }
}
