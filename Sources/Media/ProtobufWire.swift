// ProtobufWire: the few pieces of the protobuf wire format that TensorBoard event files need,
// written by hand (see Sources/Media/TensorBoard.swift for why there is no generated code).
// Encoding: varints, fixed32/fixed64 little-endian, length-delimited fields. Decoding: a
// field iterator, enough to read our own events back in tests and tools.

/// Protobuf wire types.
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// Appends protobuf fields to a byte buffer.
public struct ProtobufWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func key(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// An int32/int64/enum/bool field (negative values take 10 bytes, as protobuf does).
    public mutating func int(_ field: Int, _ v: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: v))
    }

    public mutating func double(_ field: Int, _ v: Double) {
        key(field, .fixed64)
        littleEndian(v.bitPattern)
    }

    public mutating func float(_ field: Int, _ v: Float) {
        key(field, .fixed32)
        littleEndian(v.bitPattern)
    }

    public mutating func bytes(_ field: Int, _ v: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }

    public mutating func string(_ field: Int, _ v: String) {
        bytes(field, Array(v.utf8))
    }

    /// An embedded message.
    public mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }

    public mutating func littleEndian<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// A malformed protobuf message.
public struct ProtobufError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One decoded field.
public struct ProtobufField: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes([UInt8])
        case fixed32(UInt32)
    }

    public var number: Int
    public var value: Value

    public var uint64: UInt64? {
        switch value {
        case .varint(let v), .fixed64(let v): return v
        case .fixed32(let v): return UInt64(v)
        case .bytes: return nil
        }
    }
    public var int64: Int64? { uint64.map { Int64(bitPattern: $0) } }
    public var double: Double? { if case .fixed64(let v) = value { return Double(bitPattern: v) }; return nil }
    public var float: Float? { if case .fixed32(let v) = value { return Float(bitPattern: v) }; return nil }
    public var data: [UInt8]? { if case .bytes(let b) = value { return b }; return nil }
    public var string: String? { data.map { String(decoding: $0, as: UTF8.self) } }
}

/// Decodes the fields of one message, in order.
public enum ProtobufReader {
    public static func fields(_ bytes: [UInt8]) throws -> [ProtobufField] {
        var out: [ProtobufField] = []
        var i = 0
        func varint() throws -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < bytes.count else { throw ProtobufError("truncated varint at byte \(i)") }
                guard shift < 64 else { throw ProtobufError("varint longer than 10 bytes at byte \(i)") }
                let b = bytes[i]
                i += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }
        func fixed(_ n: Int) throws -> UInt64 {
            guard bytes.count - i >= n else { throw ProtobufError("truncated fixed\(n * 8) at byte \(i)") }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            i += n
            return v
        }
        while i < bytes.count {
            let key = try varint()
            let number = Int(truncatingIfNeeded: key >> 3)
            guard number > 0 else { throw ProtobufError("field number 0 at byte \(i)") }
            switch key & 7 {
            case 0: out.append(ProtobufField(number: number, value: .varint(try varint())))
            case 1: out.append(ProtobufField(number: number, value: .fixed64(try fixed(8))))
            case 5: out.append(ProtobufField(number: number, value: .fixed32(UInt32(try fixed(4)))))
            case 2:
                let n = try varint()
                guard n <= UInt64(bytes.count - i) else { throw ProtobufError("length \(n) runs past the end at byte \(i)") }
                out.append(ProtobufField(number: number, value: .bytes(Array(bytes[i ..< i + Int(n)]))))
                i += Int(n)
            default:
                throw ProtobufError("unsupported wire type \(key & 7) at byte \(i)")
            }
        }
        return out
    }
}
