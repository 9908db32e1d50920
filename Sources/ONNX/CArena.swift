// CArena: owns the malloc'd C memory of protobuf-c messages built from Swift for packing.
//
// Contract: every pointer handed out by an arena is freed by `freeAll()` (called by `deinit`);
// nothing the arena built may be used after that. Messages are initialised with their
// generated `__init` function before fields are set. Build, pack, then drop the arena.
import CONNXProto
import CProtobufC
import Foundation

final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { freeAll() }

    func freeAll() {
        for b in blocks { free(b) }
        blocks.removeAll()
    }

    /// An uninitialised single value of `T` (zeroed).
    func alloc<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        let raw = calloc(1, max(MemoryLayout<T>.stride, 1))!
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: 1)
    }

    /// A copy of `values` in C memory (nil when empty).
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        if values.isEmpty { return nil }
        let raw = malloc(MemoryLayout<T>.stride * values.count)!
        blocks.append(raw)
        let p = raw.bindMemory(to: T.self, capacity: values.count)
        p.initialize(from: values, count: values.count)
        return p
    }

    /// A NUL-terminated copy of `s` (strdup).
    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        blocks.append(UnsafeMutableRawPointer(p))
        return p
    }

    /// A copy of raw bytes as protobuf-c binary data.
    func bytes(_ b: [UInt8]) -> ProtobufCBinaryData {
        guard !b.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let raw = malloc(b.count)!
        blocks.append(raw)
        b.withUnsafeBytes { raw.copyMemory(from: $0.baseAddress!, byteCount: b.count) }
        return ProtobufCBinaryData(len: b.count, data: raw.assumingMemoryBound(to: UInt8.self))
    }

    func stringEntry(_ key: String, _ value: String) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
        let e = alloc(Onnx__StringStringEntryProto.self)
        onnx__string_string_entry_proto__init(e)
        e.pointee.key = string(key)
        e.pointee.value = string(value)
        return e
    }
}

// MARK: reading C messages

/// A Swift string from a C string (nil → ""); invalid UTF-8 is repaired.
func swiftString(_ p: UnsafePointer<CChar>?) -> String {
    guard let p else { return "" }
    return String(cString: p)
}

func swiftString(_ p: UnsafeMutablePointer<CChar>?) -> String {
    swiftString(UnsafePointer(p))
}

/// The elements of a protobuf-c repeated field (`n_x`, `x`).
func cArray<T>(_ p: UnsafeMutablePointer<T>?, _ n: Int) -> UnsafeBufferPointer<T> {
    guard let p, n > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
    return UnsafeBufferPointer(start: p, count: n)
}

/// Bytes of a protobuf-c binary field.
func cBytes(_ b: ProtobufCBinaryData) -> UnsafeRawBufferPointer {
    guard let d = b.data, b.len > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: d, count: b.len)
}

/// Packs a built message into bytes with its generated `get_packed_size`/`pack` pair.
func packMessage(size: () -> Int, pack: (UnsafeMutablePointer<UInt8>) -> Int) -> [UInt8] {
    let n = size()
    var out = [UInt8](repeating: 0, count: n)
    if n > 0 {
        let written = out.withUnsafeMutableBufferPointer { pack($0.baseAddress!) }
        precondition(written == n, "protobuf-c packed \(written) bytes, expected \(n)")
    }
    return out
}
