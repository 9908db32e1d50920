// CheckpointFile: a Gannet checkpoint file taken apart and put back together, for tests that
// damage, downgrade or reorder one (the format: `GANNETCK`, u32 little-endian header length,
// JSON header, raw float payload in header order — GAN/Checkpoint.swift).
//
// Contract: `parts(path)` returns the header as a mutable JSON object and the payload bytes;
// `assemble(header, payload, to:)` writes them back in the same format (JSON keys in
// JSONSerialization's order); `downgradeToVersion1(path)` rewrites a file as format version 1
// (no `run`, no per-buffer `crc32`), as Gannet wrote it before checksums. A header that is not
// what the format says is a thrown error (JSONTestData), not a trap.

import Foundation

public enum CheckpointFile {
    public static func parts(_ path: String) throws -> (header: [String: Any], payload: [UInt8]) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let n = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let header = try JSONTestData.object(Data(bytes[12..<(12 + n)]), "\(path): checkpoint header")
        return (header, Array(bytes[(12 + n)...]))
    }

    public static func assemble(_ header: [String: Any], _ payload: [UInt8], to path: String) throws {
        let json = try JSONSerialization.data(withJSONObject: header)
        var out = Array("GANNETCK".utf8)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { out += $0 }
        out += json
        out += payload
        try Data(out).write(to: URL(fileURLWithPath: path))
    }

    public static func downgradeToVersion1(_ path: String) throws {
        var (h, p) = try parts(path)
        h["version"] = 1
        h["run"] = nil
        h["buffers"] = try h.value("buffers", as: [[String: Any]].self).map { b in var b = b; b["crc32"] = nil; return b }
        try assemble(h, p, to: path)
    }
}
