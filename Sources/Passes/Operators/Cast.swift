// Cast: ONNX Cast in an IR that holds FLOAT, DOUBLE and FLOAT16 values as float32.
//
// Contract: `to` (required) is an ONNX TensorProto data type code. FLOAT (1), DOUBLE (11) and
// FLOAT16 (10) give float32 values; INT64 (7), INT32 (6) and BOOL (9) give those types. On float
// data, Cast to FLOAT or DOUBLE is the identity (storage aliasing) and Cast to FLOAT16 rounds
// each value to the nearest binary16 value (`HalfPrecision`); on integer data, Cast to the same
// integer type is the identity; integer (or bool) data to FLOAT, DOUBLE or FLOAT16 converts
// each value (`IntegerCast`). Float → INT64/INT32 truncates toward zero, and NaN or a value
// outside the target's range gives the target's minimum (ONNX leaves it undefined; this is what
// ONNX Runtime gives on x86-64); float → BOOL is x ≠ 0 (NaN: true); integer → INT32 keeps the
// low 32 bits, integer → BOOL is x ≠ 0 (`IntegerCast.reference`, the same on constants and at
// run time). Other codes are an error naming the type. Pullback: on float → float it passes dY
// through (the FLOAT16 rounding is treated as the identity, a straight-through estimator).

import GraphIR
import Kernels

public enum CastOps: OperatorFamily {
    /// ONNX data type codes Cast accepts, with the IR element type of each.
    static let targets: [Int: DType] = [1: .float32, 11: .float32, 10: .float32, 7: .int64, 6: .int32, 9: .bool]
    static let names: [Int: String] = [1: "FLOAT", 11: "DOUBLE", 10: "FLOAT16", 7: "INT64", 6: "INT32", 9: "BOOL"]
    static let float16 = 10

    /// The `to` code, checked.
    static func target(_ node: Node) throws -> (code: Int, dtype: DType) {
        guard let code = try node.attributes.int("to") else { throw GraphError("Cast needs the 'to' attribute") }
        guard let d = targets[code] else {
            throw GraphError("Cast to data type \(code) is not supported (FLOAT, DOUBLE, FLOAT16, INT64, INT32 and BOOL are)")
        }
        return (code, d)
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        guard node.op == .cast else { throw notInFamily(node.op) }
        return [TensorType(try target(node).dtype, ts[0]!.shape)]
    }

    /// Converts a constant tensor.
    static func convert(_ node: Node, _ x: Tensor) throws -> Tensor {
        let (code, dtype) = try target(node)
        switch dtype {
        case .float32:
            let f = x.floats
            return Tensor(shape: x.shape, floats: code == float16 ? f.map(HalfPrecision.referenceHalf) : f)
        case .int64, .int32, .bool:
            let t = integerTarget(dtype)
            switch x.storage {
            case .float(let f): return Tensor(shape: x.shape, int64s: f.map { IntegerCast.reference($0, to: t) }, dtype: dtype)
            case .int64(let i): return Tensor(shape: x.shape, int64s: i.map { IntegerCast.reference($0, to: t) }, dtype: dtype)
            }
        }
    }

    /// The kernels' name for an integer element type.
    static func integerTarget(_ d: DType) -> IntegerTarget {
        switch d {
        case .int32: return .int32
        case .bool: return .bool
        default: return .int64
        }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        [try convert(node, x[0]!)]
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        try convert(node, x[0]!)
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let (code, dtype) = try target(node)
        guard let from = ctx.graph.type(of: node.inputs[0]!)?.dtype else { throw GraphError("Cast input has no type") }
        if from == dtype {
            if from == .float32 && code == float16 {
                return .kernel(.roundToHalf(count: try ctx.shape(node.outputs[0]).reduce(1, *)))
            }
            return .alias(constants: [:])
        }
        let count = try ctx.shape(node.outputs[0]).reduce(1, *)
        if dtype == .float32 { return .kernel(.intToFloat(count: count, half: code == float16)) }
        return .kernel(.toInteger(count: count, integerTarget(dtype), fromInteger: from != .float32))
    }

    /// Element by element.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        !batchAxesAligned(node, batched, graph)
    }
    public static func pullback(_ op: Op) -> Pullback? {
        guard op == .cast else { return nil }
        return { b, n, dy, _ in
            guard b.graph.type(of: n.inputs[0]!)?.dtype == .float32, b.graph.type(of: n.outputs[0])?.dtype == .float32 else {
                throw GraphError("Cast '\(n.name)' between float and integer data is not differentiable")
            }
            return [dy[0]]
        }
    }
}
