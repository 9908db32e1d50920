// Checkpoint: the complete state of a training run, written atomically.
//
// Contract: a checkpoint holds every ParameterStore buffer (weights, optimizer moments, running
// statistics) and counter (optimizer steps), the trainer's counters, the spec path and, from
// format version 2, the run's configuration (spec text, its hash, command-line overrides:
// RunConfig). The file is `GANNETCK` + u32 header length + JSON header + raw little-endian
// floats in header order (buffers sorted by name, JSON keys sorted, so two processes that reach
// the same state write the same bytes; a reader takes any order); the header carries the format version and (version 2) zlib's CRC-32
// of each buffer's bytes. It is written to a temporary file and renamed (AtomicFile), so an
// interrupted write leaves the previous checkpoint intact, and a store holding a non-finite
// value is never written. Loading validates the version, sizes, checksums, finiteness and
// counters (Checkpoint+Integrity) and reports the file and the problem.

import Core
import Foundation
import GraphIR
import Runtime

public struct TrainerCounters: Codable, Equatable {
    /// D iterations done (resumes included).
    public var iteration = 0
    public var epoch = 0
    /// Batches of `epoch` already consumed.
    public var cursor = 0
    /// The seed's generator-frequency counter (never reset at epoch ends).
    public var generatorCounter = 0
    /// The frame saver's counter.
    public var frameCounter = 0
    public var framesWritten = 0
    public var generatorSteps = 0
    public init() {}
}

public struct CheckpointError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

public enum Checkpoint {
    static let magic = Array("GANNETCK".utf8)

    struct Header: Codable {
        var version = Checkpoint.formatVersion
        var spec: String
        var seed: UInt64
        var threads: Int
        var counters: TrainerCounters
        var buffers: [Buffer]
        var optimizerCounters: [String: Int]
        /// Absent in version 1.
        var run: RunConfig?
        struct Buffer: Codable {
            var name: String
            var shape: [Int]
            /// zlib's CRC-32 of the buffer's bytes; absent in version 1.
            var crc32: UInt32?
        }
    }

    /// Writes the store and counters to `path` atomically; throws, leaving `path` untouched,
    /// when a buffer holds a NaN or an infinity.
    public static func write(_ store: ParameterStore, counters: TrainerCounters, spec: String, seed: UInt64, threads: Int,
                             run: RunConfig? = nil, to path: String) throws {
        if let bad = NonFiniteGuard.firstNonFinite(in: store) {
            throw CheckpointError(message: "\(path): not written: state '\(bad.name)' holds \(bad.count) non-finite values")
        }
        // Sorted by name (the store's order follows the order its builders met dictionary keys,
        // which differs between processes) and JSON keys sorted: equal states, equal bytes.
        let entries = store.entries.sorted { $0.name < $1.name }
        let header = Header(spec: spec, seed: seed, threads: threads, counters: counters,
                            buffers: entries.map { .init(name: $0.name, shape: $0.shape, crc32: crc32($0.pointer, count: $0.count)) },
                            optimizerCounters: Dictionary(uniqueKeysWithValues: store.counters), run: run)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var data = Data(magic)
        var n = UInt32(json.count).littleEndian
        data.append(Data(bytes: &n, count: 4))
        data.append(json)
        for e in entries { data.append(Data(bytes: e.pointer, count: e.count * 4)) }
        // A temporary file renamed over the old checkpoint: readers see the old or the new one.
        try rethrowing(AtomicFile.WriteError.self, as: { CheckpointError(message: "\($0.description) (checkpoint)") }) {
            try AtomicFile.write([UInt8](data), to: path)
        }
    }

    /// What a checkpoint file holds.
    public struct Contents {
        public var spec: String
        public var seed: UInt64
        public var threads: Int
        public var counters: TrainerCounters
        public var tensors: [(name: String, shape: [Int], values: [Float])]
        public var optimizerCounters: [String: Int]
        /// The format version the file was written with.
        public var version: Int
        /// The run's configuration; nil in version-1 files.
        public var run: RunConfig?
    }

    public static func read(_ path: String) throws -> Contents {
        func fail(_ m: String) -> CheckpointError { CheckpointError(message: "\(path): \(m)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read checkpoint") }
        guard data.count >= 12, Array(data.prefix(8)) == magic else { throw fail("not a Gannet checkpoint (bad magic)") }
        let n = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        guard n > 0, 12 + n <= data.count else { throw fail("truncated header") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 12..<(12 + n))) }
        catch { throw fail("corrupt header: \(error.localizedDescription)") }
        try verify(header, file: path)
        var offset = 12 + n
        var tensors: [(String, [Int], [Float])] = []
        for b in header.buffers {
            guard b.shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else { throw fail("buffer '\(b.name)' has bad shape \(b.shape)") }
            // Checked: dims under 2^31 can still multiply past 64 bits.
            guard let count = Limits.elementCountIfValid(b.shape), count <= (data.count - offset) / 4 else {
                throw fail("truncated at buffer '\(b.name)' (shape \(b.shape) needs more bytes than the file holds)")
            }
            var values = [Float](repeating: 0, count: count)
            _ = values.withUnsafeMutableBytes { data.copyBytes(to: $0, from: offset..<(offset + count * 4)) }
            try verify(b, values: values, version: header.version, file: path)
            tensors.append((b.name, b.shape, values))
            offset += count * 4
        }
        guard offset == data.count else { throw fail("\(data.count - offset) unexpected trailing bytes") }
        return Contents(spec: header.spec, seed: header.seed, threads: header.threads, counters: header.counters,
                        tensors: tensors.map { (name: $0.0, shape: $0.1, values: $0.2) }, optimizerCounters: header.optimizerCounters,
                        version: header.version, run: header.run)
    }
}
