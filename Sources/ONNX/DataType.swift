// DataType: ONNX TensorProto.DataType codes and their mapping to Gannet's DType.

import GraphIR

enum ONNXDataType {
    static let float: Int32 = 1, uint8: Int32 = 2, int8: Int32 = 3, uint16: Int32 = 4, int16: Int32 = 5
    static let int32: Int32 = 6, int64: Int32 = 7, string: Int32 = 8, bool: Int32 = 9, float16: Int32 = 10
    static let double: Int32 = 11, uint32: Int32 = 12, uint64: Int32 = 13, bfloat16: Int32 = 16

    /// The ONNX name of a data type code, for messages.
    static func name(_ code: Int32) -> String {
        let names = ["UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
                     "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
                     "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
                     "FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2"]
        return code >= 0 && Int(code) < names.count ? names[Int(code)] : "data type \(code)"
    }

    /// The Gannet element type of a value declared with `code` (DOUBLE and FLOAT16 values are
    /// held as f32).
    static func dtype(_ code: Int32) -> DType? {
        switch code {
        case float, double, float16: return .float32
        case int64: return .int64
        case int32: return .int32
        case bool: return .bool
        default: return nil
        }
    }

    static func code(_ d: DType) -> Int32 {
        switch d {
        case .float32: return float
        case .int64: return int64
        case .int32: return int32
        case .bool: return bool
        }
    }
}
