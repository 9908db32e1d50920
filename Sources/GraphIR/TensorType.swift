// TensorType: element types, dimensions with a symbolic batch, and tensor types.

/// Element type of a tensor. Float tensors carry data; integer tensors carry indices and shapes.
public enum DType: String, Hashable, CaseIterable, Sendable {
    case float32 = "f32"
    case int64 = "i64"
    case int32 = "i32"
    case bool = "bool"

    /// Bytes per element in a runtime buffer.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .int64: return 8
        case .bool: return 1
        }
    }
}

/// One dimension of a shape: a fixed size, or a symbol bound when a session compiles
/// (by convention `N`, the batch).
public enum Dim: Hashable, CustomStringConvertible, Sendable {
    case fixed(Int)
    case symbol(String)

    public var value: Int? {
        if case .fixed(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let v): return String(v)
        case .symbol(let s): return s
        }
    }
}

/// The type of a value: element type and shape. A rank-0 shape is a scalar.
public struct TensorType: Hashable, CustomStringConvertible, Sendable {
    public var dtype: DType
    public var shape: [Dim]

    public init(_ dtype: DType, _ shape: [Dim]) {
        self.dtype = dtype
        self.shape = shape
    }

    /// A fully static type.
    public init(_ dtype: DType, fixed: [Int]) {
        self.init(dtype, fixed.map { .fixed($0) })
    }

    public var rank: Int { shape.count }

    /// The concrete sizes when no dimension is symbolic.
    public var fixedShape: [Int]? {
        var out: [Int] = []
        out.reserveCapacity(shape.count)
        for d in shape {
            guard let v = d.value else { return nil }
            out.append(v)
        }
        return out
    }

    /// Element count when static (nil also when a dim is negative or the count overflows).
    public var elementCount: Int? { fixedShape.flatMap { Limits.elementCountIfValid($0) } }

    /// Replaces each symbol found in `bindings` by its size.
    public func binding(_ bindings: [String: Int]) -> TensorType {
        TensorType(dtype, shape.map { d in
            if case .symbol(let s) = d, let v = bindings[s] { return .fixed(v) }
            return d
        })
    }

    /// `f32[N,1,28,28]`; a scalar is `f32[]`.
    public var description: String {
        "\(dtype.rawValue)[\(shape.map(\.description).joined(separator: ","))]"
    }
}
