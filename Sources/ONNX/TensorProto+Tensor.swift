// TensorProto+Tensor: ONNX TensorProto bytes ↔ GraphIR `Tensor`.
//
// Contract: decoding reads FLOAT, DOUBLE (narrowed to f32), FLOAT16 (widened to f32; in int32_data as bit patterns when not raw), INT64, INT32 and BOOL tensors
// (integers and booleans in Int64 storage with the declared dtype) from `raw_data`
// (little-endian) or the typed repeated fields. Sizes are checked before anything is
// allocated: negative dims, an element count over 2^31 (or overflowing), data whose length
// disagrees with the dims, external or segmented data and other element types are an
// `ONNXError` naming the file and the tensor. Encoding always writes `raw_data`.
import CONNXProto
import CProtobufC
import Foundation
import GraphIR

public enum TensorProtoIO {
    /// The largest element count a tensor may declare.
    public static let maxElements = 1 << 31

    /// Decodes a serialized TensorProto; `file` names the source in errors.
    public static func decode(_ bytes: [UInt8], file: String) throws -> (name: String, tensor: Tensor) {
        let p = bytes.withUnsafeBufferPointer { onnx__tensor_proto__unpack(nil, $0.count, $0.baseAddress) }
        guard let p else { throw ONNXError("\(file): not a valid ONNX TensorProto (protobuf decoding failed)") }
        defer { onnx__tensor_proto__free_unpacked(p, nil) }
        let name = swiftString(p.pointee.name)
        let what = name.isEmpty ? "\(file): tensor" : "\(file): tensor '\(name)'"
        return (name, try tensor(from: p, context: what))
    }

    /// Serializes `t` as a TensorProto named `name` (data in raw_data).
    public static func encode(_ t: Tensor, name: String) -> [UInt8] {
        let arena = CArena()
        let p = build(t, name: name, in: arena)
        return packMessage(size: { onnx__tensor_proto__get_packed_size(p) },
                           pack: { onnx__tensor_proto__pack(p, $0) })
    }

    /// Reads a TensorProto file.
    public static func read(path: String) throws -> (name: String, tensor: Tensor) {
        try decode(readFileBytes(path), file: path)
    }

    /// Writes `t` as a TensorProto file.
    public static func write(_ t: Tensor, name: String, path: String) throws {
        try writeFileBytes(encode(t, name: name), path: path)
    }

    // MARK: C message ↔ Tensor

    /// The tensor a decoded TensorProto holds; `context` prefixes errors ("FILE: tensor 'w'").
    static func tensor(from p: UnsafePointer<Onnx__TensorProto>, context: String) throws -> Tensor {
        let m = p.pointee
        if m.n_external_data > 0 || (m.has_data_location != 0 && m.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
            throw ONNXError("\(context) keeps its data in an external file (external_data), which Gannet does not read; save the model with its weights inside")
        }
        if m.segment != nil { throw ONNXError("\(context) is a segment of a larger tensor, which Gannet does not support") }
        var shape: [Int] = []
        var count = 1
        for d in cArray(m.dims, m.n_dims) {
            guard d >= 0 else { throw ONNXError("\(context) has a negative dimension \(d) in dims \(Array(cArray(m.dims, m.n_dims)))") }
            guard d <= Int64(maxElements) else {
                throw ONNXError("\(context) has dims \(Array(cArray(m.dims, m.n_dims))), more than the \(maxElements) elements Gannet accepts")
            }
            let (c, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, c <= maxElements else {
                throw ONNXError("\(context) has dims \(Array(cArray(m.dims, m.n_dims))), more than the \(maxElements) elements Gannet accepts")
            }
            count = c
            shape.append(Int(d))
        }
        let code = m.data_type
        guard ONNXDataType.dtype(code) != nil else {
            let what = m.has_data_type == 0 ? "no data type" : "element type \(ONNXDataType.name(code))"
            throw ONNXError("\(context) has \(what); Gannet reads FLOAT, DOUBLE, FLOAT16, INT64, INT32 and BOOL tensors")
        }
        let dimsText = "dims \(shape)"
        if m.has_raw_data != 0 {
            let raw = cBytes(m.raw_data)
            let size: Int
            switch code {
            case ONNXDataType.double, ONNXDataType.int64: size = 8
            case ONNXDataType.bool: size = 1
            case ONNXDataType.float16: size = 2
            default: size = 4
            }
            guard raw.count == count * size else {
                throw ONNXError("\(context): raw_data holds \(raw.count) bytes but \(dimsText) of \(ONNXDataType.name(code)) need \(count * size)")
            }
            switch code {
            case ONNXDataType.float:
                return Tensor(shape: shape, floats: (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) })
            case ONNXDataType.double:
                return Tensor(shape: shape, floats: (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) })
            case ONNXDataType.float16:
                return Tensor(shape: shape, floats: (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))) })
            case ONNXDataType.int64:
                return Tensor(shape: shape, int64s: (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }, dtype: .int64)
            case ONNXDataType.int32:
                return Tensor(shape: shape, int64s: (0..<count).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }, dtype: .int32)
            default: // bool
                return Tensor(shape: shape, int64s: (0..<count).map { raw[$0] != 0 ? 1 : 0 }, dtype: .bool)
            }
        }
        func typed<T>(_ field: String, _ p: UnsafeMutablePointer<T>?, _ n: Int) throws -> UnsafeBufferPointer<T> {
            guard n == count else {
                throw ONNXError("\(context): \(field) holds \(n) values but \(dimsText) need \(count)")
            }
            return cArray(p, n)
        }
        switch code {
        case ONNXDataType.float:
            return Tensor(shape: shape, floats: Array(try typed("float_data", m.float_data, m.n_float_data)))
        case ONNXDataType.double:
            return Tensor(shape: shape, floats: try typed("double_data", m.double_data, m.n_double_data).map { Float($0) })
        case ONNXDataType.float16:
            return Tensor(shape: shape, floats: try typed("int32_data", m.int32_data, m.n_int32_data).map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) })
        case ONNXDataType.int64:
            return Tensor(shape: shape, int64s: Array(try typed("int64_data", m.int64_data, m.n_int64_data)), dtype: .int64)
        case ONNXDataType.int32:
            return Tensor(shape: shape, int64s: try typed("int32_data", m.int32_data, m.n_int32_data).map { Int64($0) }, dtype: .int32)
        default: // bool
            return Tensor(shape: shape, int64s: try typed("int32_data", m.int32_data, m.n_int32_data).map { $0 != 0 ? 1 : 0 }, dtype: .bool)
        }
    }

    /// A TensorProto holding `t` in raw_data, allocated in `arena`.
    static func build(_ t: Tensor, name: String, in arena: CArena) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let p = arena.alloc(Onnx__TensorProto.self)
        onnx__tensor_proto__init(p)
        p.pointee.name = arena.string(name)
        p.pointee.n_dims = t.shape.count
        p.pointee.dims = arena.array(t.shape.map { Int64($0) })
        p.pointee.has_data_type = 1
        p.pointee.data_type = ONNXDataType.code(t.dtype)
        p.pointee.has_raw_data = 1
        p.pointee.raw_data = arena.bytes(rawBytes(t))
        return p
    }

    /// The little-endian raw_data bytes of `t`.
    static func rawBytes(_ t: Tensor) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(t.count * t.dtype.byteSize)
        switch t.dtype {
        case .float32:
            for f in t.floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case .int64:
            for i in t.int64s { withUnsafeBytes(of: i.littleEndian) { out.append(contentsOf: $0) } }
        case .int32:
            for i in t.int64s { withUnsafeBytes(of: Int32(truncatingIfNeeded: i).littleEndian) { out.append(contentsOf: $0) } }
        case .bool:
            for i in t.int64s { out.append(i != 0 ? 1 : 0) }
        }
        return out
    }
}

// MARK: files

/// The bytes of a file, or an `ONNXError` naming it.
func readFileBytes(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            throw ONNXError("\(path): cannot read \(isDir.boolValue ? "a directory" : "the file")")
        }
        throw ONNXError("\(path): no such file")
    }
    return [UInt8](data)
}

/// Writes bytes to `path` through a temporary file and a rename.
func writeFileBytes(_ bytes: [UInt8], path: String) throws {
    do {
        try AtomicFile.write(bytes, to: path)
    } catch {
        throw ONNXError("\(error)")
    }
}
