// TFRecord framing for TensorBoard event files: length, masked CRC32C of the length, data,
// masked CRC32C of the data (reference/tensorboard-format.md §2).

/// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF.
/// Not zlib's CRC-32. crc32c("123456789") = 0xE3069283.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }

    /// TensorFlow's / LevelDB's mask: rotate right by 15, add 0xA282EAD8.
    public static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    public static func masked<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        mask(checksum(bytes))
    }
}

public enum TFRecord {
    /// One framed record: u64le length, u32le masked CRC of the length bytes, the data,
    /// u32le masked CRC of the data.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        append(data, to: &out)
        return out
    }

    public static func append(_ data: [UInt8], to out: inout [UInt8]) {
        var length: [UInt8] = []
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { length.append(contentsOf: $0) }
        out.append(contentsOf: length)
        withUnsafeBytes(of: CRC32C.masked(length).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: data)
        withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { out.append(contentsOf: $0) }
    }

    /// Splits a file's bytes into record payloads, checking both CRCs of each record.
    /// A partial record at the end is an error unless `allowPartialTail` (TensorBoard
    /// retries such a tail later).
    public static func records(_ bytes: [UInt8], allowPartialTail: Bool = false) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        func u32(_ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
        }
        while i < bytes.count {
            guard bytes.count - i >= 12 else {
                if allowPartialTail { break }
                throw ProtobufError("record at byte \(i): truncated header")
            }
            let lengthBytes = bytes[i ..< i + 8]
            let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i + $1]) << (8 * UInt64($1)) }
            guard u32(i + 8) == CRC32C.masked(lengthBytes) else {
                throw ProtobufError("record at byte \(i): failed header crc32 check")
            }
            guard length <= UInt64(bytes.count - i - 12), bytes.count - i - 12 - Int(length) >= 4 else {
                if allowPartialTail { break }
                throw ProtobufError("record at byte \(i): truncated data (\(length) bytes announced)")
            }
            let data = Array(bytes[i + 12 ..< i + 12 + Int(length)])
            guard u32(i + 12 + Int(length)) == CRC32C.masked(data) else {
                throw ProtobufError("record at byte \(i): failed event crc32 check")
            }
            out.append(data)
            i += 16 + Int(length)
        }
        return out
    }
}
