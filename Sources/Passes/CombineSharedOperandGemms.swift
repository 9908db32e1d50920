// CombineSharedOperandGemms: turns GEMMs that share their big operand into one GEMM over the
// concatenated small operands, so the big operand is packed and streamed once instead of once
// per GEMM. A GAN's D step applies the discriminator to the real and to the fake batch: each
// Linear layer's weight is multiplied by two activations forward and by two cotangents
// backward, and its gradient is the sum of two weight-gradient GEMMs.
//
// Contract: input — a typed graph in topological order, e.g. a training graph after Autodiff.
// Two rewrites, each only where every shape involved is static and f32:
// 1. Shared B. Gemm nodes with the same B value, the same C value (or none, or one without a row
//    dimension: [N], [1, N] or a scalar) and equal transB, alpha and beta, transA = 0, at least
//    Gemm.smallM rows each, that do not depend on each other (no path between any two),
//    become Concat(A₁…Aₙ, axis 0) → one Gemm → Split(axis 0) whose outputs are the original
//    output values. Only when the saved packing outweighs the copies: (n−1)·k·N > M·(k + N),
//    M the summed rows. Each output row is computed exactly as before (same bits; fewer rows
//    would take the GEMM's row-by-row path, which rounds differently).
// 2. Summed weight gradients. Add(P, Q) where P and Q are each the only use of a Gemm with
//    transA = 1, transB = 0, alpha 1 and no C (P = A₁ᵀB₁, Q = A₂ᵀB₂, the same [m, n]) becomes
//    one Gemm(Concat(A₁, A₂), Concat(B₁, B₂), transA = 1) writing the Add's output value, when
//    m·N > (k₁ + k₂)·(m + N) counting only the Concats that do not exist yet. The k sum runs
//    in one accumulation instead of two plus an Add (equal up to float rounding). A chain of
//    Adds folds into one GEMM over all its parts.
// Concats of the same parts are made once and shared (rewrite 2 reuses rewrite 1's: the
// activations forward are B of the weight gradient, the cotangents of dX are its A). Output
// value ids of rewritten nodes are kept, so values held outside the graph (gradients, state
// assignments) stay valid; the result is re-sorted topologically (stable otherwise).
// `GANNET_BASELINE=combineGemms` turns the pass off.

import GraphIR
import Kernels

public struct CombineSharedOperandGemms: Pass {
    public let name = "CombineSharedOperandGemms"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        if Baseline.separateGemms { return }
        var concats = ConcatCache()
        while let group = sharedBGroup(graph) {
            try combineSharedB(alignedWithPartners(group, graph, concats), &graph, &concats)
        }
        while let (add, parts) = summedWeightGradient(graph, concats) {
            try combineSum(add, parts, &graph, &concats)
        }
        removeUnreadConcats(&graph, concats)
    }

    // MARK: Gemm facts

    struct GemmFacts {
        let index: Int
        let a: ValueID, b: ValueID, c: ValueID?
        let transA: Bool, transB: Bool
        let alpha: Float, beta: Float
        let aShape: [Int], bShape: [Int]
    }

    func facts(_ i: Int, _ g: Graph) -> GemmFacts? {
        let node = g.nodes[i]
        guard node.op == .gemm, node.outputs.count == 1, let a = node.input(0), let b = node.input(1),
              let at = g.type(of: a), let bt = g.type(of: b), at.dtype == .float32, bt.dtype == .float32,
              let aShape = at.fixedShape, let bShape = bt.fixedShape, aShape.count == 2, bShape.count == 2,
              let tA = try? node.attributes.int("transA", default: 0), let tB = try? node.attributes.int("transB", default: 0),
              let alpha = try? node.attributes.float("alpha", default: 1), let beta = try? node.attributes.float("beta", default: 1)
        else { return nil }
        return GemmFacts(index: i, a: a, b: b, c: node.input(2), transA: tA != 0, transB: tB != 0,
                         alpha: alpha, beta: beta, aShape: aShape, bShape: bShape)
    }

    // MARK: 1. shared B

    struct SharedBKey: Hashable {
        let b: ValueID, c: ValueID?, transB: Bool, alpha: Float, beta: Float
    }

    /// The first group of two or more mutually independent Gemms sharing B where combining pays.
    func sharedBGroup(_ g: Graph) -> [GemmFacts]? {
        var groups: [SharedBKey: [GemmFacts]] = [:]
        var order: [SharedBKey] = []
        for i in g.nodes.indices {
            // Rows below Gemm.smallM take the GEMM's row-by-row path, whose sums round
            // differently from the tiled kernels' (the combined rows would not keep their bits);
            // a C with a row dimension cannot serve the stacked rows.
            guard let f = facts(i, g), !f.transA, f.aShape[0] >= Gemm.smallM, cHasNoRows(f.c, g) else { continue }
            let key = SharedBKey(b: f.b, c: f.c, transB: f.transB, alpha: f.alpha, beta: f.beta)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(f)
        }
        let reach = Reachability(g)
        for key in order {
            guard let candidates = groups[key], candidates.count >= 2 else { continue }
            var chosen: [GemmFacts] = []
            for f in candidates where chosen.allSatisfy({ !reach.path(from: $0.index, to: f.index) }) {
                chosen.append(f)
            }
            guard chosen.count >= 2 else { continue }
            let k = chosen[0].aShape[1], n = chosen[0].transB ? chosen[0].bShape[0] : chosen[0].bShape[1]
            let m = chosen.reduce(0) { $0 + $1.aShape[0] }
            if Double(chosen.count - 1) * Double(k) * Double(n) > Double(m) * Double(k + n) { return chosen }
        }
        return nil
    }

    /// The group reordered so that its A Concat can pair with an existing one in a later
    /// weight gradient: when each member's A is also the A of a transA Gemm (its weight-gradient
    /// partner) whose B values all lie in one Concat made before, in that Concat's order
    /// (input gradients, whose cotangents are A of the weight gradient, follow the forward
    /// pass's activations, its B). Otherwise unchanged.
    func alignedWithPartners(_ group: [GemmFacts], _ g: Graph, _ concats: ConcatCache) -> [GemmFacts] {
        var partnerB: [ValueID: ValueID] = [:]
        for i in g.nodes.indices {
            if let f = facts(i, g), f.transA, !f.transB, f.c == nil, partnerB[f.a] == nil { partnerB[f.a] = f.b }
        }
        let partners = group.compactMap { partnerB[$0.a] }
        guard partners.count == group.count else { return group }
        for parts in concats.orderedParts {
            let position = partners.map { p in parts.firstIndex(of: p) }
            guard position.allSatisfy({ $0 != nil }), Set(position.map { $0! }).count == group.count else { continue }
            return zip(group, position).sorted { $0.1! < $1.1! }.map(\.0)
        }
        return group
    }

    /// Whether C (absent, or broadcast to [M, N]) is the same for every row: rank ≤ 1, or a
    /// leading dimension of 1.
    func cHasNoRows(_ c: ValueID?, _ g: Graph) -> Bool {
        guard let c else { return true }
        guard let shape = g.type(of: c)?.fixedShape else { return false }
        return shape.count <= 1 || (shape.count == 2 && shape[0] == 1)
    }

    func combineSharedB(_ group: [GemmFacts], _ graph: inout Graph, _ concats: inout ConcatCache) throws {
        let b = GraphBuilder.typed(graph)
        let first = graph.nodes[group[0].index]
        let base = first.name.isEmpty ? graph.name(of: first.outputs[0]) : first.name
        let a = try concats.concat(group.map(\.a), in: b, base: base)
        let rows = group.map(\.aShape[0])
        let n = group[0].transB ? group[0].bShape[0] : group[0].bShape[1]
        let y = b.addValue(b.freshName("\(base)/combined"), TensorType(.float32, fixed: [rows.reduce(0, +), n]))
        try b.append(Node(.gemm, name: b.freshNodeName("\(base)/combined"), inputs: [a, group[0].b] + (group[0].c.map { [$0] } ?? []),
                          outputs: [y], attributes: first.attributes))
        let sizes = b.ints(rows)
        try b.append(Node(.split, name: b.freshNodeName("\(base)/split"), inputs: [y, sizes],
                          outputs: group.map { graph.nodes[$0.index].outputs[0] }, attributes: Attributes(["axis": .int(0)])))
        for f in group { b.remove(nodeAt: f.index) }
        graph = b.finish()
        try graph.sortTopologically()
    }

    // MARK: 2. summed weight gradients

    /// The first Add of two weight-gradient Gemms (each read only by it) where combining pays,
    /// with the parts (A, B) of each side.
    func summedWeightGradient(_ g: Graph, _ concats: ConcatCache) -> (Int, (a: [ValueID], b: [ValueID]))? {
        let b = GraphBuilder(g)
        let producer = g.producers()
        for (i, node) in g.nodes.enumerated() where node.op == .add && node.inputs.count == 2 {
            guard let p = node.inputs[0], let q = node.inputs[1], p != q, let ot = g.type(of: node.outputs[0])?.fixedShape else { continue }
            var sides: [(GemmFacts, [ValueID], [ValueID])] = []
            for v in [p, q] {
                guard let r = b.soleReader(of: v), r == i, let j = producer[v],
                      let f = facts(j, g), f.transA, !f.transB, f.alpha == 1, f.c == nil else { break }
                sides.append((f, concats.parts(of: f.a), concats.parts(of: f.b)))
            }
            guard sides.count == 2, ot.count == 2 else { continue }
            let (m, n) = (ot[0], ot[1])
            guard sides.allSatisfy({ $0.0.aShape[1] == m && $0.0.bShape[1] == n }) else { continue }
            let k = sides.reduce(0) { $0 + $1.0.aShape[0] }
            let order = pairOrder(sides.flatMap(\.1), sides.flatMap(\.2), concats, m: m, n: n)
            if Double(m) * Double(n) > Double(k) * Double(order.copied) { return (i, (order.a, order.b)) }
        }
        return nil
    }

    /// The order of the rank-kᵢ products (Aᵢ, Bᵢ) — the sum commutes — whose Concats exist
    /// already (the forward pass's activations, the input gradients' cotangents), and how many
    /// columns (m for A, n for B) would still be copied.
    func pairOrder(_ a: [ValueID], _ b: [ValueID], _ concats: ConcatCache, m: Int, n: Int) -> (a: [ValueID], b: [ValueID], copied: Int) {
        func copied(_ x: [ValueID], _ y: [ValueID]) -> Int {
            (concats.existing(x) == nil ? m : 0) + (concats.existing(y) == nil ? n : 0)
        }
        var best = (a: a, b: b, copied: copied(a, b))
        guard a.count == b.count else { return best }
        for parts in concats.orderedParts {
            for byB in [true, false] {
                let keys = byB ? b : a
                guard parts.count == keys.count, Set(parts) == Set(keys), Set(keys).count == keys.count else { continue }
                let perm = parts.map { p in keys.firstIndex(of: p)! }
                let (x, y) = (perm.map { a[$0] }, perm.map { b[$0] })
                let c = copied(x, y)
                if c < best.copied { best = (x, y, c) }
            }
        }
        return best
    }

    func combineSum(_ add: Int, _ parts: (a: [ValueID], b: [ValueID]), _ graph: inout Graph,
                    _ concats: inout ConcatCache) throws {
        let b = GraphBuilder.typed(graph)
        let node = graph.nodes[add]
        let base = node.name.isEmpty ? graph.name(of: node.outputs[0]) : node.name
        let a = try concats.concat(parts.a, in: b, base: "\(base)/a")
        let bb = try concats.concat(parts.b, in: b, base: "\(base)/b")
        try b.append(Node(.gemm, name: b.freshNodeName("\(base)/combined"), inputs: [a, bb], outputs: node.outputs,
                          attributes: Attributes(["transA": .int(1)])))
        b.remove(nodeAt: add)
        let producer = graph.producers()
        for v in node.inputs { if let v, let j = producer[v] { b.remove(nodeAt: j) } }
        graph = b.finish()
        try graph.sortTopologically()
    }

    // MARK: Concats

    /// The Concats (axis 0) this pass made, by their parts; a part that is itself such a Concat
    /// is flattened into its parts.
    struct ConcatCache {
        var byParts: [[ValueID]: ValueID] = [:]
        var partsOf: [ValueID: [ValueID]] = [:]

        func parts(of v: ValueID) -> [ValueID] { partsOf[v] ?? [v] }
        func existing(_ parts: [ValueID]) -> ValueID? { parts.count == 1 ? parts[0] : byParts[parts] }
        /// The part lists made so far, in a fixed order (by their value ids).
        var orderedParts: [[ValueID]] { byParts.keys.sorted { $0.map(\.index).lexicographicallyPrecedes($1.map(\.index)) } }

        mutating func concat(_ values: [ValueID], in b: GraphBuilder, base: String) throws -> ValueID {
            let parts = values.flatMap { self.parts(of: $0) }
            if let v = existing(parts) { return v }
            let v = b.addValue(b.freshName("\(base)/concat"))
            try b.append(Node(.concat, name: b.freshNodeName("\(base)/concat"), inputs: parts, outputs: [v],
                              attributes: Attributes(["axis": .int(0)])))
            byParts[parts] = v
            partsOf[v] = parts
            return v
        }
    }

    /// Drops the Concats this pass made that nothing reads any more (a chain's inner ones).
    func removeUnreadConcats(_ graph: inout Graph, _ concats: ConcatCache) {
        while true {
            var read = Set(graph.outputs)
            for n in graph.nodes { for case let v? in n.inputs { read.insert(v) } }
            let dead = graph.nodes.indices.filter {
                graph.nodes[$0].op == .concat && concats.partsOf[graph.nodes[$0].outputs[0]] != nil && !read.contains(graph.nodes[$0].outputs[0])
            }
            if dead.isEmpty { return }
            let drop = Set(dead)
            graph.nodes = graph.nodes.indices.filter { !drop.contains($0) }.map { graph.nodes[$0] }
        }
    }
}

/// Whether one node's result reaches another's inputs, in a topologically sorted graph.
struct Reachability {
    let graph: Graph
    let producer: [ValueID: Int]
    init(_ g: Graph) {
        graph = g
        producer = g.producers()
    }

    /// True when node `j` reads, directly or through other nodes, an output of node `i`
    /// (or the other way round).
    func path(from i: Int, to j: Int) -> Bool {
        let (lo, hi) = i < j ? (i, j) : (j, i)
        var seen = Set<Int>()
        var stack = [hi]
        while let x = stack.popLast() {
            for case let v? in graph.nodes[x].inputs {
                guard let p = producer[v], p >= lo else { continue }
                if p == lo { return true }
                if seen.insert(p).inserted { stack.append(p) }
            }
        }
        return false
    }
}
