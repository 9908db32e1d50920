// Tensor: constant data held by a graph (initializers, Constant attributes, run inputs/outputs).

/// A dense row-major tensor. Float data is stored as `Float`; integer and boolean data as
/// `Int64` (the runtime narrows on demand), so one tensor type serves every constant.
public struct Tensor: Equatable, Sendable {
    public enum Storage: Equatable, Sendable {
        case float([Float])
        case int64([Int64])
    }

    public var dtype: DType
    public var shape: [Int]
    public var storage: Storage

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) holds \(shape.reduce(1, *)) elements, data has \(floats.count)")
        self.dtype = .float32
        self.shape = shape
        self.storage = .float(floats)
    }

    public init(shape: [Int], int64s: [Int64], dtype: DType = .int64) {
        precondition(shape.reduce(1, *) == int64s.count, "shape \(shape) holds \(shape.reduce(1, *)) elements, data has \(int64s.count)")
        precondition(dtype != .float32)
        self.dtype = dtype
        self.shape = shape
        self.storage = .int64(int64s)
    }

    /// A float tensor filled with `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, floats: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var count: Int { shape.reduce(1, *) }
    public var type: TensorType { TensorType(dtype, fixed: shape) }

    /// Float elements (integers converted).
    public var floats: [Float] {
        switch storage {
        case .float(let f): return f
        case .int64(let i): return i.map { Float($0) }
        }
    }

    /// Integer elements (floats truncated toward zero, saturating at the Int64 range;
    /// non-finite floats become 0).
    public var int64s: [Int64] {
        switch storage {
        case .int64(let i): return i
        case .float(let f): return f.map(Self.int64)
        }
    }

    /// `v` truncated toward zero and clamped to the Int64 range (NaN, ±inf: 0).
    static func int64(_ v: Float) -> Int64 {
        guard v.isFinite else { return 0 }
        if v >= 0x1p63 { return .max }
        if v < -0x1p63 { return .min }
        return Int64(v)
    }
}
