// GraphBuilder: the one way to grow and rewrite a Graph — nodes typed as they are appended,
// fresh names, a constant cache, replace-all-uses and dead-node removal.
//
// Contract: a builder owns a copy of a graph (`graph`) and every change to it goes through the
// builder, which keeps a name index (for `value(named:)` and fresh names) and a reader index
// (for `readers(of:)`) in step with the graph. GraphIR knows no math: nodes are typed by the
// `typer` given at construction (Passes supplies the shape rules, `GraphBuilder.typed`);
// without one, appended nodes keep whatever output types their values were created with.
// Fresh names never repeat a name the graph holds or one handed out since the graph was
// last replaced (`replaceGraph`, `removeDeadNodes`); they are spelled in one of four styles
// (`FreshNameStyle`) so that every producer keeps the names it always made (golden IR stays
// byte-identical). Node rewrites: `remove(nodeAt:)` marks a node and `finish()` drops the
// marked ones, keeping order; indices stay valid until then. `replaceAllUses` redirects node
// inputs and graph outputs; `removeDeadNodes` keeps exactly the nodes some graph output
// depends on (and the initializers they read) and renumbers values compactly. The value
// list only grows, except in `removeDeadNodes` (compacted) and `orderValuesCanonically`.

/// Gives the output types of node `i` of `graph` (already appended, inputs typed or nil) or
/// throws a GraphError; supplied by the shape rules in Passes.
public typealias NodeTyper = (_ graph: Graph, _ node: Int) throws -> [TensorType]

/// How a fresh name is spelled when `base` is taken.
public enum FreshNameStyle: Hashable, Sendable {
    /// `base`, then `base_1`, `base_2`, … (passes, autodiff).
    case underscore
    /// `base`, then `base#2`, `base#3`, …, the count kept per base (training-graph composition).
    case hash
    /// `base`, then `base2`, `base3`, … (fusion and folding constants).
    case suffix
    /// Always numbered: `base1`, `base2`, …, the count kept per base (spec layer names).
    case numbered
}

public final class GraphBuilder {
    /// The graph built so far (node removals pending until `finish`).
    public private(set) var graph: Graph
    /// Types appended nodes; nil: outputs keep the types they were created with.
    public let typer: NodeTyper?
    /// Names `emit` gives: values `<scope>/<tag or op>`, nodes `<scope>` (made fresh).
    public var scope: String
    /// Base name of cached constants made without a name.
    public var constantName: String
    /// Values this builder added.
    public private(set) var created: Set<ValueID> = []
    /// For pullback rules (Autodiff's `createGraph`): true — emit only differentiable ops, so the
    /// gradient can be differentiated again; false — backward-only kernels are allowed.
    public var createGraph = true

    private var taken: Set<String>
    private var counters: [FreshNameStyle: [String: Int]] = [:]
    private var nodeNameCounts: [String: Int] = [:]
    private var constants: [TensorType: [(Tensor, ValueID)]] = [:]
    private var byName: [String: ValueID] = [:]
    private var indexed = 0
    private var removed = Set<Int>()
    private var readerIndex: [ValueID: [Int]]?

    public init(_ graph: Graph, typer: NodeTyper? = nil, scope: String = "graph", constantName: String = "const") {
        self.graph = graph
        self.typer = typer
        self.scope = scope
        self.constantName = constantName
        taken = Set(graph.values.map(\.name))
    }

    /// A new, empty graph named `name`.
    public convenience init(name: String, typer: NodeTyper? = nil) {
        self.init(Graph(name: name), typer: typer)
    }

    /// Replaces the whole graph (e.g. with one a pass transformed): the name and reader indexes
    /// are rebuilt from it, the constant cache and `created` start empty, fresh-name counters
    /// carry on.
    public func replaceGraph(_ g: Graph) {
        graph = g
        taken = Set(g.values.map(\.name))
        byName = [:]
        indexed = 0
        removed = []
        readerIndex = nil
        created = []
        constants = [:]
    }

    // MARK: names

    /// A name spelled from `base` in `style` that no value has and none was handed out; it is
    /// reserved.
    public func freshName(_ base: String, style: FreshNameStyle = .underscore) -> String {
        var name: String
        switch style {
        case .underscore:
            name = base
            var k = 1
            while taken.contains(name) { name = "\(base)_\(k)"; k += 1 }
        case .suffix:
            name = base
            var k = 1
            while taken.contains(name) { k += 1; name = "\(base)\(k)" }
        case .hash:
            name = base
            while taken.contains(name) {
                let k = counters[style, default: [:]][base, default: 1] + 1
                counters[style, default: [:]][base] = k
                name = "\(base)#\(k)"
            }
        case .numbered:
            var k = counters[style, default: [:]][base, default: 0] + 1
            name = "\(base)\(k)"
            while taken.contains(name) { k += 1; name = "\(base)\(k)" }
            counters[style, default: [:]][base] = k
        }
        taken.insert(name)
        return name
    }

    /// A node name from `base`: `base`, then `base_1`, `base_2`, … per base, among the names
    /// this builder handed out.
    public func freshNodeName(_ base: String) -> String {
        let k = nodeNameCounts[base, default: 0]
        nodeNameCounts[base] = k + 1
        return k == 0 ? base : "\(base)_\(k)"
    }

    /// The first value named `name`.
    public func value(named name: String) -> ValueID? {
        while indexed < graph.values.count {
            let n = graph.values[indexed].name
            if byName[n] == nil { byName[n] = ValueID(indexed) }
            indexed += 1
        }
        return byName[name]
    }

    /// Renames `v` to a name from `base` (underscore style) that no other value has.
    public func rename(_ v: ValueID, freshFrom base: String) {
        var others = Set<String>()
        for (i, value) in graph.values.enumerated() where i != v.index { others.insert(value.name) }
        var name = base, k = 1
        while others.contains(name) { name = "\(base)_\(k)"; k += 1 }
        graph[v].name = name
        taken.insert(name)
        byName = [:]
        indexed = 0
    }

    // MARK: types

    /// The type of `v`, or an error asking for shape inference.
    public func type(_ v: ValueID) throws -> TensorType {
        guard let t = graph.type(of: v) else { throw GraphError("value '\(graph.name(of: v))' has no type (run InferShapes first)") }
        return t
    }
    public func dims(_ v: ValueID) throws -> [Dim] { try type(v).shape }
    public func rank(_ v: ValueID) throws -> Int { try type(v).rank }
    /// The static shape of `v`, or an error.
    public func fixed(_ v: ValueID) throws -> [Int] {
        guard let s = try type(v).fixedShape else { throw GraphError("'\(graph.name(of: v))' needs a static shape here, got \(try type(v))") }
        return s
    }

    // MARK: adding

    /// Adds a value named `name` exactly (not made fresh).
    @discardableResult
    public func addValue(_ name: String, _ type: TensorType? = nil) -> ValueID {
        let v = graph.addValue(name, type)
        taken.insert(name)
        created.insert(v)
        return v
    }

    /// Adds a graph input named `name`.
    @discardableResult
    public func addInput(_ name: String, _ type: TensorType) -> ValueID {
        let v = addValue(name, type)
        graph.inputs.append(v)
        return v
    }

    /// Adds an initializer named `name` holding `tensor`.
    @discardableResult
    public func addInitializer(_ name: String, _ tensor: Tensor) -> ValueID {
        let v = addValue(name, tensor.type)
        graph.initializers[v] = tensor
        return v
    }

    /// Sets (or, with nil, clears) the initializer behind `v`.
    public func setInitializer(_ v: ValueID, _ tensor: Tensor?) {
        graph.initializers[v] = tensor
    }

    /// Sets the type of `v`.
    public func setType(_ v: ValueID, _ type: TensorType?) { graph[v].type = type }

    /// Sets the graph outputs.
    public func setOutputs(_ outputs: [ValueID]) { graph.outputs = outputs }

    /// Sets a metadata entry.
    public func setMetadata(_ key: String, _ value: String?) { graph.metadata[key] = value }

    /// Sets all metadata and the doc string.
    public func setMetadata(_ m: [String: String], docString: String) {
        graph.metadata = m
        graph.docString = docString
    }

    /// Appends `node` (its output values already exist) and types its outputs with the typer;
    /// when typing fails the node is not appended.
    public func append(_ node: Node) throws {
        graph.nodes.append(node)
        readerIndex = nil
        guard let typer else { return }
        let types: [TensorType]
        do { types = try typer(graph, graph.nodes.count - 1) } catch {
            graph.nodes.removeLast()
            throw error
        }
        for (o, t) in zip(node.outputs, types) { graph[o].type = t }
    }

    /// Appends `node` (its output values already exist) without typing it, whatever the typer:
    /// for composers whose values carry their types already.
    public func appendUntyped(_ node: Node) {
        graph.nodes.append(node)
        readerIndex = nil
    }

    /// Appends a node whose outputs are new values named `outputs` exactly, and returns them typed.
    @discardableResult
    public func addNode(_ op: Op, _ inputs: [ValueID?], outputs: [String], attributes: [String: Attribute] = [:],
                        name: String = "") throws -> [ValueID] {
        let outs = outputs.map { addValue($0) }
        try append(Node(op, name: name, inputs: inputs, outputs: outs, attributes: Attributes(attributes)))
        return outs
    }

    /// Appends a single-output node whose output is named `output` exactly.
    @discardableResult
    public func add(_ op: Op, _ inputs: [ValueID?], output: String, attributes: [String: Attribute] = [:],
                    name: String = "") throws -> ValueID {
        try addNode(op, inputs, outputs: [output], attributes: attributes, name: name)[0]
    }

    /// Appends a node named after `scope` with `count` outputs named `<scope>/<tag or op>`
    /// (fresh), typed.
    public func emitNode(_ op: Op, _ inputs: [ValueID?], outputs count: Int = 1,
                         attributes: [String: Attribute] = [:], tag: String? = nil) throws -> [ValueID] {
        let base = scope + "/" + (tag ?? op.rawValue)
        let outs = (0..<count).map { _ in addValue(freshName(base)) }
        try append(Node(op, name: freshNodeName(scope), inputs: inputs, outputs: outs, attributes: Attributes(attributes)))
        return outs
    }

    /// `emitNode` with one output.
    public func emit(_ op: Op, _ inputs: [ValueID?], _ attributes: [String: Attribute] = [:], tag: String? = nil) throws -> ValueID {
        try emitNode(op, inputs, attributes: attributes, tag: tag)[0]
    }

    /// A Constant node holding `t`, one per distinct tensor per builder: a tensor equal to one
    /// made before returns that value. Named from `name` (default `constantName`), made fresh.
    public func constant(_ t: Tensor, name: String? = nil) -> ValueID {
        if let hit = constants[t.type]?.first(where: { $0.0 == t }) { return hit.1 }
        let base = name ?? constantName
        let v = addValue(freshName(base), t.type)
        graph.nodes.append(Node(.constant, name: freshNodeName(base), inputs: [], outputs: [v],
                                attributes: Attributes(["value": .tensor(t)])))
        readerIndex = nil
        constants[t.type, default: []].append((t, v))
        return v
    }

    /// A float scalar constant (shape []).
    public func scalar(_ x: Float) -> ValueID { constant(Tensor(shape: [], floats: [x])) }
    /// An int64 vector constant.
    public func ints(_ x: [Int]) -> ValueID { constant(Tensor(shape: [x.count], int64s: x.map(Int64.init))) }

    // MARK: rewriting

    /// Node `i` (removal pending or not).
    public func node(_ i: Int) -> Node { graph.nodes[i] }

    /// Replaces node `i` (same position).
    public func setNode(_ i: Int, _ node: Node) {
        graph.nodes[i] = node
        readerIndex = nil
    }

    /// Removes every node and returns them, to re-append a rewritten list.
    public func takeNodes() -> [Node] {
        precondition(removed.isEmpty, "takeNodes with removals pending")
        let old = graph.nodes
        graph.nodes = []
        readerIndex = nil
        return old
    }

    /// Marks node `i` for removal by `finish` (indices stay valid until then).
    public func remove(nodeAt i: Int) {
        removed.insert(i)
        readerIndex = nil
    }

    public func isRemoved(_ i: Int) -> Bool { removed.contains(i) }

    /// The nodes (not marked removed) reading `v`, once per input slot, in order.
    public func readers(of v: ValueID) -> [Int] {
        if readerIndex == nil {
            var r: [ValueID: [Int]] = [:]
            for (i, n) in graph.nodes.enumerated() where !removed.contains(i) {
                for case let u? in n.inputs { r[u, default: []].append(i) }
            }
            readerIndex = r
        }
        return readerIndex![v, default: []]
    }

    /// The one node reading `v` through exactly one input slot, when `v` is not a graph output.
    public func soleReader(of v: ValueID) -> Int? {
        if graph.outputs.contains(v) { return nil }
        let r = readers(of: v)
        return r.count == 1 ? r[0] : nil
    }

    /// Redirects every node input and graph output reading `old` to `new`.
    public func replaceAllUses(of old: ValueID, with new: ValueID) {
        for i in graph.nodes.indices where graph.nodes[i].inputs.contains(old) {
            graph.nodes[i].inputs = graph.nodes[i].inputs.map { $0 == old ? new : $0 }
        }
        graph.outputs = graph.outputs.map { $0 == old ? new : $0 }
        readerIndex = nil
    }

    /// Drops the nodes marked removed and returns the graph.
    @discardableResult
    public func finish() -> Graph {
        if !removed.isEmpty {
            graph.nodes = graph.nodes.indices.filter { !removed.contains($0) }.map { graph.nodes[$0] }
            removed = []
            readerIndex = nil
        }
        return graph
    }

    /// Keeps exactly the nodes with an output some graph output depends on (in order) and the
    /// initializers they read (graph inputs stay), renumbering values compactly; returns the graph.
    @discardableResult
    public func removeDeadNodes() -> Graph {
        finish()
        var live = Set(graph.outputs)
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        for i in graph.nodes.indices.reversed() {
            let n = graph.nodes[i]
            if n.outputs.contains(where: live.contains) {
                keep[i] = true
                for case let v? in n.inputs { live.insert(v) }
            }
        }
        graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
        graph.initializers = graph.initializers.filter { live.contains($0.key) }
        graph.compactValues()
        replaceGraph(graph)
        return graph
    }

    /// Moves inputs, then initializers (by id), to the front of the value list, keeping the
    /// order otherwise — the canonical text order, so a print/parse round trip is equal.
    public func orderValuesCanonically() {
        finish()
        let g = graph
        var order: [Int] = g.inputs.map(\.index)
        order += g.initializers.keys.map(\.index).sorted()
        let front = Set(order)
        order += g.values.indices.filter { !front.contains($0) }
        var map = [Int](repeating: 0, count: order.count)
        for (new, old) in order.enumerated() { map[old] = new }
        var out = g
        out.values = order.map { g.values[$0] }
        out.inputs = g.inputs.map { ValueID(map[$0.index]) }
        out.outputs = g.outputs.map { ValueID(map[$0.index]) }
        out.initializers = Dictionary(uniqueKeysWithValues: g.initializers.map { (ValueID(map[$0.key.index]), $0.value) })
        for i in out.nodes.indices {
            out.nodes[i].inputs = out.nodes[i].inputs.map { $0.map { ValueID(map[$0.index]) } }
            out.nodes[i].outputs = out.nodes[i].outputs.map { ValueID(map[$0.index]) }
        }
        created = Set(created.map { ValueID(map[$0.index]) })
        for (k, list) in constants { constants[k] = list.map { ($0.0, ValueID(map[$0.1.index])) } }
        graph = out
        byName = [:]
        indexed = 0
    }
}
