// Autodiff: reverse-mode differentiation as a graph-to-graph transformation.
//
// Contract: `Autodiff.gradients(of: loss, wrt: xs, in: &graph, seed:)` appends backward nodes
// to `graph` and returns, for each value in `xs`, the value holding d loss / d x — or nil when
// the loss does not depend on x (no zeros are materialised). The graph must be typed by
// InferShapes. The loss must be a float scalar (f32[] or f32[1]) unless `seed` — a cotangent
// of the loss's shape — is given; the gradient is then the vector-Jacobian product seed·J.
//
// Only nodes on a path from some `xs` value to the loss are differentiated (gradients only for
// what is asked; initializers and inputs off those paths get none), in reverse topological
// order; cotangents of a value read by several nodes are summed with Add nodes. Each backward
// node is an ordinary op with its own pullback (`Op.pullback`, in Operators/), so calling `gradients`
// again on the extended graph differentiates the gradient (double backward, as in WGAN-GP).
// New values are named "grad/<value>" (cotangents) or "grad/<node>/<op>" (temporaries), new
// nodes "grad/<node name>", with a numeric suffix when a name is taken; new nodes are typed
// as they are appended, the graph stays verified and topologically ordered, and graph
// outputs are left unchanged (add the returned values to `graph.outputs` to run them).
//
// Limits: shapes on the differentiated path may keep a symbolic batch dim only where no rule
// needs its size (reducing or broadcasting over a symbolic dim, or a zero pad along it, is an
// error naming the node); bind the batch first (Session.bind + InferShapes) otherwise.
// Training-mode BatchNormalization must be expanded first (ExpandTrainingBatchNorm) or fused
// into its ConvTranspose (FuseConvTransposeBatchNorm); the inference fusions are not
// differentiable (differentiate before fusion). Errors name the node and op.

import GraphIR

public enum Autodiff {
    /// Appends the backward graph of `loss` and returns d loss / d v per `wrt` value (nil when
    /// the loss does not depend on it).
    public static func gradients(of loss: ValueID, wrt: [ValueID], in graph: inout Graph,
                                 seed: ValueID? = nil) throws -> [ValueID?] {
        guard loss.index >= 0 && loss.index < graph.values.count else { throw GraphError("autodiff: loss value \(loss.index) is out of range") }
        guard let lt = graph.type(of: loss) else {
            throw GraphError("autodiff: loss '\(graph.name(of: loss))' has no type (run InferShapes first)")
        }
        guard lt.dtype == .float32 else { throw GraphError("autodiff: loss '\(graph.name(of: loss))' is \(lt), not float") }
        let b = GradientBuilder(graph)
        let seedValue: ValueID
        if let seed {
            guard let st = graph.type(of: seed), st == lt else {
                throw GraphError("autodiff: seed '\(graph.name(of: seed))' has type \(graph.type(of: seed)?.description ?? "unknown"), the loss is \(lt)")
            }
            seedValue = seed
        } else {
            guard let shape = lt.fixedShape, shape.reduce(1, *) == 1, shape.count <= 1 else {
                throw GraphError("autodiff: loss '\(graph.name(of: loss))' is \(lt); give a seed or reduce it to a scalar")
            }
            seedValue = b.constant(Tensor(shape: shape, repeating: 1), name: "grad/\(graph.name(of: loss))/seed")
        }

        // Values that depend on some wrt value (forward) and that the loss depends on (backward).
        let wrtSet = Set(wrt)
        var forward = wrtSet
        for n in graph.nodes where n.inputs.contains(where: { $0.map(forward.contains) ?? false }) {
            forward.formUnion(n.outputs)
        }
        var needed: Set<ValueID> = [loss]
        var active: [Int] = []
        for i in graph.nodes.indices.reversed() {
            let n = graph.nodes[i]
            guard n.outputs.contains(where: needed.contains), n.outputs.contains(where: forward.contains) else { continue }
            active.append(i)
            for case let v? in n.inputs where forward.contains(v) { needed.insert(v) }
        }

        var cot: [ValueID: ValueID] = [loss: seedValue]
        for i in active {
            let node = graph.nodes[i]
            let outCots = node.outputs.map { cot[$0] }
            if outCots.allSatisfy({ $0 == nil }) { continue }
            let wants = node.inputs.map { v in v.map { needed.contains($0) && forward.contains($0) } ?? false }
            if !wants.contains(true) { continue }
            guard let rule = node.op.pullback else {
                throw GraphError("autodiff: \(graph.describeNode(i)) has no pullback rule for \(node.op.rawValue)")
            }
            b.current = node
            let grads: [ValueID?]
            do {
                grads = try rule(b, node, outCots, wants)
            } catch let e as GraphError {
                throw GraphError("autodiff: \(graph.describeNode(i)): \(e.message)")
            }
            for (k, g) in grads.enumerated() where k < node.inputs.count && wants[k] {
                guard let g, let v = node.inputs[k] else { continue }
                if let old = cot[v] {
                    cot[v] = try b.emit(.add, [old, g], tag: "accumulate")
                } else {
                    cot[v] = g
                }
            }
        }
        // Name the final cotangents after the values they belong to.
        var result: [ValueID?] = []
        for v in wrt {
            guard let g = cot[v] else { result.append(nil); continue }
            result.append(g)
        }
        graph = b.graph
        for (v, g) in zip(wrt, result) {
            guard let g, b.fresh.contains(g), !b.renamed.contains(g) else { continue }
            b.renamed.insert(g)
            graph[g].name = b.uniqueValueName("grad/\(graph.name(of: v))", in: graph, excluding: g)
        }
        return result
    }
}

/// Appends typed nodes with fresh names; the state of one `gradients` call.
public final class GradientBuilder {
    public internal(set) var graph: Graph
    var names: Set<String>
    /// Values this builder created.
    var fresh: Set<ValueID> = []
    var renamed: Set<ValueID> = []
    var constants: [(Tensor, ValueID)] = []
    /// The forward node whose pullback is being built (names its backward nodes).
    var current: Node?

    init(_ g: Graph) {
        graph = g
        names = Set(g.values.map(\.name))
    }

    func uniqueName(_ base: String) -> String {
        var name = base, k = 1
        while names.contains(name) { name = "\(base)_\(k)"; k += 1 }
        names.insert(name)
        return name
    }

    func uniqueValueName(_ base: String, in g: Graph, excluding v: ValueID) -> String {
        let taken = Set(g.values.enumerated().filter { $0.offset != v.index }.map(\.element.name))
        var name = base, k = 1
        while taken.contains(name) { name = "\(base)_\(k)"; k += 1 }
        return name
    }

    var nodeBase: String {
        guard let n = current else { return "grad" }
        return "grad/" + (n.name.isEmpty ? graph.name(of: n.outputs[0]) : n.name)
    }

    // MARK: types

    public func type(_ v: ValueID) throws -> TensorType {
        guard let t = graph.type(of: v) else { throw GraphError("value '\(graph.name(of: v))' has no type (run InferShapes first)") }
        return t
    }
    public func dims(_ v: ValueID) throws -> [Dim] { try type(v).shape }
    public func rank(_ v: ValueID) throws -> Int { try type(v).rank }
    public func fixed(_ v: ValueID) throws -> [Int] {
        guard let s = try type(v).fixedShape else { throw GraphError("'\(graph.name(of: v))' needs a static shape here, got \(try type(v))") }
        return s
    }

    // MARK: emitting

    /// Appends a node and types its outputs with the InferShapes rule.
    public func emitNode(_ op: Op, _ inputs: [ValueID?], outputs count: Int = 1,
                         attributes: [String: Attribute] = [:], tag: String? = nil) throws -> [ValueID] {
        let base = nodeBase + "/" + (tag ?? op.rawValue)
        let outs = (0..<count).map { _ in graph.addValue(uniqueName(base)) }
        let node = Node(op, name: uniqueNodeName(nodeBase), inputs: inputs, outputs: outs, attributes: Attributes(attributes))
        let types = try inputs.map { try $0.map { try type($0) } }
        let ts = try ShapeRules.infer(node, types, graph)
        for (o, t) in zip(outs, ts) { graph[o].type = t }
        graph.nodes.append(node)
        fresh.formUnion(outs)
        return outs
    }

    var nodeNames: [String: Int] = [:]
    func uniqueNodeName(_ base: String) -> String {
        let k = nodeNames[base, default: 0]
        nodeNames[base] = k + 1
        return k == 0 ? base : "\(base)_\(k)"
    }

    public func emit(_ op: Op, _ inputs: [ValueID?], _ attributes: [String: Attribute] = [:], tag: String? = nil) throws -> ValueID {
        try emitNode(op, inputs, attributes: attributes, tag: tag)[0]
    }

    /// A Constant node holding `t` (one per distinct tensor in a `gradients` call).
    public func constant(_ t: Tensor, name: String? = nil) -> ValueID {
        if let hit = constants.first(where: { $0.0 == t }) { return hit.1 }
        let v = graph.addValue(uniqueName(name ?? "grad/const"), t.type)
        graph.nodes.append(Node(.constant, name: uniqueNodeName(name ?? "grad/const"), inputs: [], outputs: [v],
                                attributes: Attributes(["value": .tensor(t)])))
        constants.append((t, v))
        fresh.insert(v)
        return v
    }

    public func scalar(_ x: Float) -> ValueID { constant(Tensor(shape: [], floats: [x])) }
    public func ints(_ x: [Int]) -> ValueID { constant(Tensor(shape: [x.count], int64s: x.map(Int64.init))) }

    // MARK: arithmetic

    public func add(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.add, [a, b]) }
    public func sub(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.sub, [a, b]) }
    public func mul(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.mul, [a, b]) }
    public func div(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.div, [a, b]) }
    public func neg(_ a: ValueID) throws -> ValueID { try emit(.neg, [a]) }
    public func mul(_ a: ValueID, _ s: Float) throws -> ValueID { s == 1 ? a : try mul(a, scalar(s)) }

    public func transpose(_ a: ValueID, _ perm: [Int]) throws -> ValueID {
        perm == Array(perm.indices) ? a : try emit(.transpose, [a], ["perm": .ints(perm)])
    }

    public func reduceSum(_ a: ValueID, axes: [Int], keepdims: Bool) throws -> ValueID {
        if axes.isEmpty { return a }
        return try emit(.reduceSum, [a, ints(axes)], ["keepdims": .int(keepdims ? 1 : 0)])
    }

    /// Reshapes `g` to `target` (same element count): fixed dims literally, a symbolic dim by
    /// 0 when `g` has the same symbol at the same position, else by −1 (once).
    public func reshape(_ g: ValueID, to target: [Dim]) throws -> ValueID {
        let gd = try dims(g)
        if gd == target { return g }
        var spec: [Int] = []
        var inferred = false
        for (i, d) in target.enumerated() {
            switch d {
            case .fixed(let v):
                if v == 0 { throw GraphError("cannot reshape a gradient to a shape with a zero dim") }
                spec.append(v)
            case .symbol:
                if i < gd.count && gd[i] == d { spec.append(0) }
                else if !inferred { spec.append(-1); inferred = true }
                else { throw GraphError("cannot reshape a gradient to \(target): more than one symbolic dim moves") }
            }
        }
        return try emit(.reshape, [g, ints(spec)])
    }

    /// Sums a broadcast cotangent `g` back to `target` (numpy broadcasting in reverse).
    public func unbroadcast(_ g: ValueID, to target: [Dim]) throws -> ValueID {
        let gd = try dims(g)
        if gd == target { return g }
        let pad = gd.count - target.count
        guard pad >= 0 else { throw GraphError("cannot unbroadcast \(gd) to \(target)") }
        var axes = Array(0..<pad)
        for i in target.indices where target[i] == .fixed(1) && gd[i + pad] != .fixed(1) { axes.append(i + pad) }
        for i in target.indices where target[i] != .fixed(1) && gd[i + pad] != target[i] {
            throw GraphError("cannot unbroadcast \(gd) to \(target) (dim \(i))")
        }
        for a in axes where gd[a].value == nil { throw GraphError("cannot sum a gradient over symbolic dim \(gd[a])") }
        var r = try reduceSum(g, axes: axes, keepdims: true)
        if pad > 0 { r = try emit(.squeeze, [r, ints(Array(0..<pad))]) }
        return r
    }

    /// Broadcasts `g` (rank ≤ target rank, broadcast-compatible) to `target` with Expand.
    public func expand(_ g: ValueID, to target: [Dim]) throws -> ValueID {
        let gd = try dims(g)
        if gd == target { return g }
        let pad = target.count - gd.count
        let spec: [Int] = try target.enumerated().map { i, d in
            if i >= pad && gd[i - pad] == d { return 1 }
            guard let v = d.value else { throw GraphError("cannot broadcast a gradient over symbolic dim \(d)") }
            return v
        }
        return try emit(.expand, [g, ints(spec)])
    }

    /// A zeros constant of a static shape.
    public func zeros(_ shape: [Dim]) throws -> ValueID {
        guard let s = TensorType(.float32, shape).fixedShape else { throw GraphError("cannot make zeros of symbolic shape \(shape)") }
        return constant(Tensor(shape: s, repeating: 0))
    }

    /// Slice with step 1 along `axes`.
    public func slice(_ g: ValueID, starts: [Int], ends: [Int], axes: [Int]) throws -> ValueID {
        try emit(.slice, [g, ints(starts), ints(ends), ints(axes)])
    }
}
