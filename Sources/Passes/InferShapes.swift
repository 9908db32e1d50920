// InferShapes: gives every value its type from the graph inputs, initializers and op rules.
//
// Contract: input — a verified graph whose inputs have types (dims fixed or symbolic).
// Output — the same graph with every node output typed. Shape-like operands (Reshape's
// shape, Slice's starts/ends, axes inputs, Expand's shape) must be constants (initializers or
// Constant nodes). A symbolic dim passes through ops that keep it; arithmetic that would need
// its value (a symbolic spatial dim under Conv, say) is an error naming the node. Existing
// output types are replaced. Errors name the node and op and say what does not fit.
// Sizes: initializer and graph input types and every inferred type are checked with `Limits` (no negative
// dim, no overflow, at most `Limits.maxTensorBytes` per sample with symbols counted as 1),
// and all arithmetic on dims is overflow-checked, so a hostile model is an error, not a trap.

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
            do {
                let outs = try ShapeRules.infer(node, types, graph)
                for (k, (o, t)) in zip(node.outputs, outs).enumerated() {
                    try Limits.checkType(t, "output \(k) '\(graph.name(of: o))'")
                    graph[o].type = t
                }
            } catch let e as GraphError {
                throw GraphError("\(graph.describeNode(i)): \(e.message)")
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

/// Per-op output type rules.
public enum ShapeRules {
    static func fail(_ msg: String) -> GraphError { GraphError(msg) }

    static func fixed(_ t: TensorType, _ what: String) throws -> [Int] {
        guard let s = t.fixedShape else { throw fail("\(what) needs static sizes, got \(t)") }
        return s
    }

    /// The constant integer values of operand `i`, or nil when the operand is absent.
    static func constantInts(_ node: Node, _ i: Int, _ g: Graph, _ what: String) throws -> [Int]? {
        guard let v = node.input(i) else { return nil }
        guard let t = g.constantValue(v) else {
            throw fail("\(what) ('\(g.name(of: v))') must be a constant")
        }
        return t.int64s.map { Int(clamping: $0) }
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

    static func infer(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        if node.op == .fusedConvTransposeBatchNorm {
            // (Y, Z, mean, var): Y and Z are ConvTranspose's output, the statistics per channel.
            let z = try infer(node.fusedConvTransposePart, Array(ts.prefix(3)), g)[0]
            guard z.rank >= 3, let c = z.shape[1].value else { throw fail("needs a static channel count, Z is \(z)") }
            for (i, what) in [(3, "scale"), (4, "bias")] {
                guard let t = ts[i], t.shape == [.fixed(c)] else { throw fail("\(what) must be f32[\(c)], got \(ts[i]?.description ?? "nothing")") }
            }
            let stat = TensorType(z.dtype, [.fixed(c)])
            return [z, z, stat, stat]
        }
        if node.op.isInternal {
            var base = node
            base.op = node.op.baseOp
            base.attributes.values = base.attributes.values.filter { !$0.key.hasPrefix("activation") }
            return try infer(base, ts, g)
        }
        let a = node.attributes
        let x = (ts.first ?? nil) ?? TensorType(.float32, [])  // Constant has no inputs
        switch node.op {
        case .identity, .relu, .leakyRelu, .sigmoid, .tanh, .softplus, .exp, .log, .sqrt, .neg, .abs, .sign:
            return [x]
        case .dropout:
            if ts.count > 1, let r = ts[1], r.dtype != .float32 || r.rank != 0 { throw fail("ratio must be a float scalar, got \(r)") }
            if ts.count > 2, let m = ts[2], m.dtype != .bool || m.rank != 0 { throw fail("training_mode must be a bool scalar, got \(m)") }
            return node.outputs.count > 1 ? [x, TensorType(.bool, x.shape)] : [x]
        case .leakyReluGrad:
            guard ts[1]!.shape == x.shape else { throw fail("dY \(x) and Y \(ts[1]!) must have the same shape") }
            return [x]
        case .gatherGrad:
            let idx = ts[1]!
            guard idx.dtype != .float32 else { throw fail("indices must be integers, got \(idx)") }
            guard let size = try a.int("size"), size > 0 else { throw fail("GatherGrad needs a positive size") }
            let axis = try a.int("axis", default: 0)
            guard axis >= 0, axis <= x.rank - idx.rank else { throw fail("axis \(axis) does not fit dY \(x) with indices \(idx)") }
            if Array(x.shape[axis..<(axis + idx.rank)]) != idx.shape { throw fail("dY \(x) does not hold indices \(idx) at axis \(axis)") }
            return [TensorType(x.dtype, Array(x.shape[..<axis]) + [.fixed(size)] + Array(x.shape[(axis + idx.rank)...]))]
        case .softmax, .logSoftmax:
            _ = try normalizeAxis(try a.int("axis", default: -1), x.rank)
            return [x]
        case .batchNormalization:
            guard x.rank >= 2 else { throw fail("input must have rank >= 2, got \(x)") }
            for k in 1..<5 {
                if let t = ts[k], t.rank != 1 || (t.shape[0] != x.shape[1] && x.shape[1].value != nil) {
                    throw fail("parameter \(k) has type \(t), expected [\(x.shape[1])]")
                }
            }
            let c = TensorType(.float32, [x.shape[1]])
            return [x, c, c, c, c].prefix(node.outputs.count).map { $0 }
        case .add, .sub, .mul, .div, .pow:
            let y = ts[1]!
            return [TensorType(x.dtype, try broadcast(x.shape, y.shape))]
        case .gemm:
            let b = ts[1]!
            guard x.rank == 2, b.rank == 2 else { throw fail("A and B must be 2-D, got \(x) and \(b)") }
            let tA = try a.int("transA", default: 0) != 0, tB = try a.int("transB", default: 0) != 0
            let m = tA ? x.shape[1] : x.shape[0], k1 = tA ? x.shape[0] : x.shape[1]
            let k2 = tB ? b.shape[1] : b.shape[0], n = tB ? b.shape[0] : b.shape[1]
            if k1 != k2 { throw fail("inner dimensions differ: \(k1) and \(k2) (A \(x), B \(b))") }
            if let c = ts.count > 2 ? ts[2] : nil {
                let out = try broadcast([m, n], c.shape)
                if out != [m, n] { throw fail("C \(c) does not broadcast to [\(m),\(n)]") }
            }
            return [TensorType(.float32, [m, n])]
        case .matMul:
            var p = x.shape, q = ts[1]!.shape
            guard !p.isEmpty, !q.isEmpty else { throw fail("MatMul operands must have rank >= 1") }
            let pv = p.count == 1, qv = q.count == 1
            if pv { p.insert(.fixed(1), at: 0) }
            if qv { q.append(.fixed(1)) }
            if p[p.count - 1] != q[q.count - 2] {
                throw fail("inner dimensions differ: \(p[p.count - 1]) and \(q[q.count - 2])")
            }
            var out = try broadcast(Array(p.dropLast(2)), Array(q.dropLast(2)))
            if !pv { out.append(p[p.count - 2]) }
            if !qv { out.append(q[q.count - 1]) }
            return [TensorType(.float32, out)]
        case .conv, .convTranspose:
            let w = ts[1]!
            guard x.rank >= 3, w.rank == x.rank else { throw fail("X \(x) and W \(w) must have equal rank >= 3") }
            let spatial = try fixed(TensorType(x.dtype, Array(x.shape[2...])), "spatial dims")
            let ws = try fixed(w, "W")
            let geo = node.op == .conv
                ? try ConvGeometry.conv(node, input: spatial, weightKernel: Array(ws[2...]))
                : try ConvGeometry.convTranspose(node, input: spatial, weightKernel: Array(ws[2...]))
            let channels: Dim
            if node.op == .conv {
                if let c = x.shape[1].value, c != (try Limits.multiply(ws[1], geo.group, "input channels")) {
                    throw fail("X has \(c) channels, W expects \(ws[1]) × group \(geo.group)")
                }
                guard ws[0] % geo.group == 0 else { throw fail("W's \(ws[0]) output channels do not divide by group \(geo.group)") }
                channels = .fixed(ws[0])
            } else {
                if let c = x.shape[1].value, c != ws[0] {
                    throw fail("X has \(c) channels, W expects \(ws[0])")
                }
                channels = .fixed(try Limits.multiply(ws[1], geo.group, "output channels"))
            }
            if let b = ts.count > 2 ? ts[2] : nil, b.shape != [channels] {
                throw fail("bias \(b) must be [\(channels)]")
            }
            return [TensorType(.float32, [x.shape[0], channels] + geo.output.map { .fixed($0) })]
        case .maxPool, .averagePool:
            guard x.rank >= 3 else { throw fail("input must have rank >= 3, got \(x)") }
            let spatial = try fixed(TensorType(x.dtype, Array(x.shape[2...])), "spatial dims")
            let geo = try ConvGeometry.pool(node, input: spatial)
            let shape = [x.shape[0], x.shape[1]] + geo.output.map { Dim.fixed($0) }
            return [TensorType(x.dtype, shape), TensorType(.int64, shape)].prefix(node.outputs.count).map { $0 }
        case .globalAveragePool:
            guard x.rank >= 3 else { throw fail("input must have rank >= 3, got \(x)") }
            return [TensorType(x.dtype, [x.shape[0], x.shape[1]] + Array(repeating: .fixed(1), count: x.rank - 2))]
        case .reshape:
            guard let spec = try constantInts(node, 1, g, "shape") else { throw fail("missing shape") }
            let allowZero = try a.int("allowzero", default: 0) != 0
            var out: [Dim?] = []
            var inferred: Int? = nil
            for (i, s) in spec.enumerated() {
                if s == -1 {
                    if inferred != nil { throw fail("shape \(spec) has more than one -1") }
                    inferred = i
                    out.append(nil)
                } else if s == 0 && !allowZero {
                    guard i < x.rank else { throw fail("shape \(spec) copies dim \(i) of rank-\(x.rank) input") }
                    out.append(x.shape[i])
                } else if s < 0 {
                    throw fail("shape \(spec) has negative size \(s)")
                } else {
                    out.append(.fixed(s))
                }
            }
            let total = try SymbolicProduct(x.shape)
            let known = try SymbolicProduct(out.compactMap { $0 })
            if let i = inferred {
                guard let q = total.divided(by: known), let d = q.dim else {
                    throw fail("cannot reshape \(x) to \(spec)")
                }
                out[i] = d
            } else if total != known {
                throw fail("cannot reshape \(x) (\(total.coefficient) elements\(total.symbols.isEmpty ? "" : " per batch")) to \(spec)")
            }
            return [TensorType(x.dtype, out.map { $0! })]
        case .flatten:
            var axis = try a.int("axis", default: 1)
            if axis < 0 { axis += x.rank }
            guard axis >= 0 && axis <= x.rank else { throw fail("axis \(axis) is out of range for \(x)") }
            guard let d0 = try SymbolicProduct(x.shape[..<axis]).dim, let d1 = try SymbolicProduct(x.shape[axis...]).dim else {
                throw fail("cannot flatten \(x) at axis \(axis) with symbolic dims")
            }
            return [TensorType(x.dtype, [d0, d1])]
        case .transpose:
            let perm = try a.ints("perm") ?? Array((0..<x.rank).reversed())
            guard perm.sorted() == Array(0..<x.rank) else { throw fail("perm \(perm) is not a permutation of \(x.rank) axes") }
            return [TensorType(x.dtype, perm.map { x.shape[$0] })]
        case .concat:
            guard let ax = try a.int("axis") else { throw fail("Concat needs an axis") }
            let axis = try normalizeAxis(ax, x.rank)
            var sum = 0
            var symbolic: Dim? = nil
            for t in ts {
                guard let t, t.rank == x.rank else { throw fail("inputs must all have rank \(x.rank)") }
                for i in 0..<x.rank where i != axis && t.shape[i] != x.shape[i] {
                    throw fail("input \(t) does not match \(x) off the concat axis")
                }
                if let v = t.shape[axis].value { sum = try Limits.add(sum, v, "concatenated size") } else { symbolic = t.shape[axis] }
            }
            if symbolic != nil && (sum != 0 || ts.count != 1) { throw fail("cannot concatenate along a symbolic dim") }
            var shape = x.shape
            shape[axis] = symbolic ?? .fixed(sum)
            return [TensorType(x.dtype, shape)]
        case .gather:
            let idx = ts[1]!
            guard idx.dtype != .float32 else { throw fail("indices must be integers, got \(idx)") }
            let axis = try normalizeAxis(try a.int("axis", default: 0), x.rank)
            return [TensorType(x.dtype, Array(x.shape[..<axis]) + idx.shape + Array(x.shape[(axis + 1)...]))]
        case .unsqueeze:
            guard let axes = try a.ints("axes") ?? constantInts(node, 1, g, "axes") else { throw fail("missing axes") }
            let r = x.rank + axes.count
            let norm = try axes.map { try normalizeAxis($0, r) }
            guard Set(norm).count == norm.count else { throw fail("axes \(axes) repeat") }
            var out: [Dim] = []
            var it = x.shape.makeIterator()
            for i in 0..<r { out.append(norm.contains(i) ? .fixed(1) : it.next()!) }
            return [TensorType(x.dtype, out)]
        case .squeeze:
            let axes = try a.ints("axes") ?? constantInts(node, 1, g, "axes")
            let norm: Set<Int>
            if let axes {
                norm = Set(try axes.map { try normalizeAxis($0, x.rank) })
                for i in norm where x.shape[i] != .fixed(1) { throw fail("cannot squeeze axis \(i) of \(x)") }
            } else {
                norm = Set(x.shape.indices.filter { x.shape[$0] == .fixed(1) })
            }
            return [TensorType(x.dtype, x.shape.indices.filter { !norm.contains($0) }.map { x.shape[$0] })]
        case .slice:
            let plan = try SliceRule.resolve(node, x, g)
            return [TensorType(x.dtype, plan.outShape)]
        case .expand:
            guard let spec = try constantInts(node, 1, g, "shape") else { throw fail("missing shape") }
            return [TensorType(x.dtype, try broadcast(x.shape, spec.map { .fixed($0) }))]
        case .reduceMean, .reduceSum:
            let axes = try ReduceRule.axes(node, x.rank, g)
            let keep = try a.int("keepdims", default: 1) != 0
            var out: [Dim] = []
            for (i, d) in x.shape.enumerated() {
                if axes.contains(i) { if keep { out.append(.fixed(1)) } } else { out.append(d) }
            }
            return [TensorType(x.dtype, out)]
        case .constant:
            return [try Graph.constantTensor(of: node).type]
        case .fusedConv, .fusedConvTranspose, .fusedGemm, .fusedConvTransposeBatchNorm:
            throw fail("internal: fused op reached the base rules")
        }
    }
}

/// Resolved axes of ReduceMean/ReduceSum (attribute, or constant input 2 from opset 13/18).
public enum ReduceRule {
    public static func axes(_ node: Node, _ rank: Int, _ g: Graph) throws -> [Int] {
        let given = try node.attributes.ints("axes") ?? ShapeRules.constantInts(node, 1, g, "axes")
        if let given, !given.isEmpty {
            let n = try given.map { try ShapeRules.normalizeAxis($0, rank) }
            guard Set(n).count == n.count else { throw GraphError("axes \(given) repeat") }
            return n.sorted()
        }
        if try node.attributes.int("noop_with_empty_axes", default: 0) != 0 { return [] }
        return Array(0..<rank)
    }
}

/// Resolved Slice parameters: per-axis start and step over the input, and the output shape.
public struct SliceRule {
    public var starts: [Int]
    public var steps: [Int]
    public var outShape: [Dim]

    public static func resolve(_ node: Node, _ x: TensorType, _ g: Graph) throws -> SliceRule {
        let a = node.attributes
        let startsIn: [Int], endsIn: [Int]
        var axesIn: [Int]?, stepsIn: [Int]?
        if let s = try a.ints("starts") {
            guard let e = try a.ints("ends") else { throw GraphError("Slice needs ends") }
            startsIn = s; endsIn = e; axesIn = try a.ints("axes")
        } else {
            guard let s = try ShapeRules.constantInts(node, 1, g, "starts"),
                  let e = try ShapeRules.constantInts(node, 2, g, "ends") else {
                throw GraphError("Slice needs starts and ends")
            }
            startsIn = s; endsIn = e
            axesIn = try ShapeRules.constantInts(node, 3, g, "axes")
            stepsIn = try ShapeRules.constantInts(node, 4, g, "steps")
        }
        let axes = axesIn ?? Array(0..<startsIn.count)
        let steps = stepsIn ?? Array(repeating: 1, count: startsIn.count)
        guard endsIn.count == startsIn.count, axes.count == startsIn.count, steps.count == startsIn.count else {
            throw GraphError("Slice starts, ends, axes and steps differ in length")
        }
        var rule = SliceRule(starts: Array(repeating: 0, count: x.rank), steps: Array(repeating: 1, count: x.rank), outShape: x.shape)
        for (k, axis0) in axes.enumerated() {
            let axis = try ShapeRules.normalizeAxis(axis0, x.rank)
            guard let dim = x.shape[axis].value else { throw GraphError("cannot slice symbolic dim \(axis)") }
            let step = steps[k]
            guard step != 0 else { throw GraphError("Slice step must not be 0") }
            var s = startsIn[k], e = endsIn[k]
            if s < 0 { s = s < -dim ? -1 : s + dim }
            if e < 0 { e = e < -dim ? -1 : e + dim }
            let count: Int
            if step > 0 {
                s = min(max(s, 0), dim); e = min(max(e, 0), dim)
                count = e > s ? (e - s - 1) / step + 1 : 0
            } else {
                s = min(max(s, 0), dim - 1); e = min(max(e, -1), dim - 1)
                count = s > e ? (s - e - 1) / (step == Int.min ? Int.max : -step) + 1 : 0
            }
            rule.starts[axis] = s
            rule.steps[axis] = step
            rule.outShape[axis] = .fixed(count)
        }
        return rule
    }
}
