// Attribute: typed node attributes, as in ONNX AttributeProto (int, float, string, lists, tensor).

/// One attribute value.
public enum Attribute: Equatable, Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case tensor(Tensor)

    /// A short name of the kind, for error messages.
    public var kind: String {
        switch self {
        case .int: return "int"
        case .float: return "float"
        case .string: return "string"
        case .ints: return "ints"
        case .floats: return "floats"
        case .tensor: return "tensor"
        }
    }
}

/// An error found in a graph: the node, the op and what is wrong.
public struct GraphError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Attributes keyed by name. Lookups take the ONNX default; a present value of the wrong kind
/// is an error naming the node.
public struct Attributes: Equatable, Sendable {
    public var values: [String: Attribute]

    public init(_ values: [String: Attribute] = [:]) { self.values = values }

    public subscript(name: String) -> Attribute? {
        get { values[name] }
        set { values[name] = newValue }
    }

    public var isEmpty: Bool { values.isEmpty }
    public var sortedKeys: [String] { values.keys.sorted() }

    private func wrongKind(_ name: String, _ expected: String, _ got: Attribute) -> GraphError {
        GraphError("attribute '\(name)' must be \(expected), got \(got.kind)")
    }

    public func int(_ name: String) throws -> Int? {
        switch values[name] {
        case nil: return nil
        case .int(let v): return v
        case .some(let other): throw wrongKind(name, "an int", other)
        }
    }

    public func int(_ name: String, default d: Int) throws -> Int { try int(name) ?? d }

    public func float(_ name: String) throws -> Float? {
        switch values[name] {
        case nil: return nil
        case .float(let v): return v
        case .int(let v): return Float(v)
        case .some(let other): throw wrongKind(name, "a float", other)
        }
    }

    public func float(_ name: String, default d: Float) throws -> Float { try float(name) ?? d }

    public func ints(_ name: String) throws -> [Int]? {
        switch values[name] {
        case nil: return nil
        case .ints(let v): return v
        case .some(let other): throw wrongKind(name, "a list of ints", other)
        }
    }

    public func floats(_ name: String) throws -> [Float]? {
        switch values[name] {
        case nil: return nil
        case .floats(let v): return v
        case .some(let other): throw wrongKind(name, "a list of floats", other)
        }
    }

    public func string(_ name: String) throws -> String? {
        switch values[name] {
        case nil: return nil
        case .string(let v): return v
        case .some(let other): throw wrongKind(name, "a string", other)
        }
    }

    public func tensor(_ name: String) throws -> Tensor? {
        switch values[name] {
        case nil: return nil
        case .tensor(let v): return v
        case .some(let other): throw wrongKind(name, "a tensor", other)
        }
    }
}
