// Graph: values, nodes in topological order, inputs, outputs and initializers.

/// Identifies a value of one graph (an index into `Graph.values`).
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
    public var description: String { "v\(index)" }
}

/// A named value and its type, when known.
public struct Value: Equatable, Sendable {
    public var name: String
    public var type: TensorType?
    public init(name: String, type: TensorType?) {
        self.name = name
        self.type = type
    }
}

/// One operator application. An absent optional input is `nil`.
public struct Node: Equatable, Sendable {
    public var op: Op
    public var name: String
    public var inputs: [ValueID?]
    public var outputs: [ValueID]
    public var attributes: Attributes

    public init(_ op: Op, name: String = "", inputs: [ValueID?], outputs: [ValueID], attributes: Attributes = Attributes()) {
        self.op = op
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// Input `i` if present.
    public func input(_ i: Int) -> ValueID? { i < inputs.count ? inputs[i] : nil }
}

/// A static dataflow graph. Nodes are kept in topological order (the verifier checks it);
/// initializers are constant inputs (weights), graph inputs are fed at run time.
public struct Graph: Equatable, Sendable {
    public var name: String
    public var values: [Value]
    public var nodes: [Node]
    public var inputs: [ValueID]
    public var outputs: [ValueID]
    public var initializers: [ValueID: Tensor]
    /// Free-form key/value metadata (exported as ONNX metadata_props).
    public var metadata: [String: String]
    public var docString: String

    public init(name: String = "graph") {
        self.name = name
        values = []
        nodes = []
        inputs = []
        outputs = []
        initializers = [:]
        metadata = [:]
        docString = ""
    }

    // MARK: building

    /// Adds a value. Names need not be unique while building, but the verifier requires it.
    @discardableResult
    public mutating func addValue(_ name: String, _ type: TensorType? = nil) -> ValueID {
        values.append(Value(name: name, type: type))
        return ValueID(values.count - 1)
    }

    /// Adds a graph input.
    @discardableResult
    public mutating func addInput(_ name: String, _ type: TensorType) -> ValueID {
        let v = addValue(name, type)
        inputs.append(v)
        return v
    }

    /// Adds an initializer (a constant tensor).
    @discardableResult
    public mutating func addInitializer(_ name: String, _ tensor: Tensor) -> ValueID {
        let v = addValue(name, tensor.type)
        initializers[v] = tensor
        return v
    }

    /// Appends a node with fresh output values named after `outputNames` and returns them.
    @discardableResult
    public mutating func addNode(_ op: Op, _ inputs: [ValueID?], outputs outputNames: [String],
                                 attributes: [String: Attribute] = [:], name: String = "") -> [ValueID] {
        let outs = outputNames.map { addValue($0) }
        nodes.append(Node(op, name: name, inputs: inputs, outputs: outs, attributes: Attributes(attributes)))
        return outs
    }

    /// Appends a single-output node whose output is named `output` and returns it.
    @discardableResult
    public mutating func add(_ op: Op, _ inputs: ValueID?..., output: String,
                             attributes: [String: Attribute] = [:]) -> ValueID {
        addNode(op, inputs, outputs: [output], attributes: attributes)[0]
    }

    // MARK: queries

    public subscript(v: ValueID) -> Value {
        get { values[v.index] }
        set { values[v.index] = newValue }
    }

    public func type(of v: ValueID) -> TensorType? { values[v.index].type }
    public func name(of v: ValueID) -> String { values[v.index].name }

    /// The first value with this name.
    public func value(named name: String) -> ValueID? {
        values.firstIndex { $0.name == name }.map(ValueID.init)
    }

    /// For each value, the index of the node that produces it (absent for inputs and initializers).
    public func producers() -> [ValueID: Int] {
        var p: [ValueID: Int] = [:]
        for (i, n) in nodes.enumerated() { for o in n.outputs { p[o] = i } }
        return p
    }

    /// For each value, the indices of the nodes that read it.
    public func consumers() -> [ValueID: [Int]] {
        var c: [ValueID: [Int]] = [:]
        for (i, n) in nodes.enumerated() {
            for case let v? in n.inputs { c[v, default: []].append(i) }
        }
        return c
    }

    /// The constant tensor behind a value: an initializer or the output of a Constant node.
    public func constantValue(_ v: ValueID) -> Tensor? {
        if let t = initializers[v] { return t }
        for n in nodes where n.op == .constant && n.outputs.first == v {
            return try? Self.constantTensor(of: n)
        }
        return nil
    }

    /// The tensor a Constant node holds (value, value_float(s), value_int(s)).
    public static func constantTensor(of node: Node) throws -> Tensor {
        let a = node.attributes
        if let t = try a.tensor("value") { return t }
        if let f = try a.float("value_float"), case .float = a["value_float"] { return Tensor(shape: [], floats: [f]) }
        if let f = try a.floats("value_floats") { return Tensor(shape: [f.count], floats: f) }
        if case .int(let i)? = a["value_int"] { return Tensor(shape: [], int64s: [Int64(i)]) }
        if let i = try a.ints("value_ints") { return Tensor(shape: [i.count], int64s: i.map(Int64.init)) }
        throw GraphError("Constant node '\(node.name)' has no value attribute")
    }

    /// Drops values that nothing references, renumbering the rest; keeps the order.
    public mutating func compactValues() {
        var used = Set<ValueID>(inputs + outputs + initializers.keys)
        for n in nodes {
            for case let v? in n.inputs { used.insert(v) }
            for v in n.outputs { used.insert(v) }
        }
        var map: [ValueID: ValueID] = [:]
        var kept: [Value] = []
        for (i, value) in values.enumerated() where used.contains(ValueID(i)) {
            map[ValueID(i)] = ValueID(kept.count)
            kept.append(value)
        }
        values = kept
        inputs = inputs.map { map[$0]! }
        outputs = outputs.map { map[$0]! }
        initializers = Dictionary(uniqueKeysWithValues: initializers.map { (map[$0.key]!, $0.value) })
        for i in nodes.indices {
            nodes[i].inputs = nodes[i].inputs.map { $0.map { map[$0]! } }
            nodes[i].outputs = nodes[i].outputs.map { map[$0]! }
        }
    }
}
