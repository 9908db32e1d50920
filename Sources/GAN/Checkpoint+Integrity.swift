// Checkpoint+Integrity: the checks that make a damaged or foreign checkpoint a clear error
// instead of a silently resumed run.
//
// Contract: a checkpoint's format version is 1 (no checksums, no run configuration; still
// loaded) or 2 (`formatVersion`); any other is rejected. In version 2 every buffer carries
// zlib's CRC-32 of its little-endian bytes and a mismatch names the buffer. Every buffer must
// be finite, every trainer and optimizer counter in 0...2^48. When a checkpoint is restored
// into a store, each of its buffers must name a buffer the spec's networks have (a renamed
// buffer is an error, never dropped) and every trained parameter must be present; the data
// cursor must not pass the dataset's batch count.

import CZlib
import Foundation
import Runtime

extension Checkpoint {
    /// The version this build writes.
    public static let formatVersion = 2
    /// The versions this build reads.
    public static let readableVersions = 1...2
    /// Counter values a real run can reach (far beyond any run's length, far from overflow).
    static let plausible = 0...(1 << 48)

    /// zlib's CRC-32 of `count` floats' bytes.
    static func crc32(_ p: UnsafePointer<Float>?, count: Int) -> UInt32 {
        var crc: uLong = CZlib.crc32(0, nil, 0)
        guard let p, count > 0 else { return UInt32(truncatingIfNeeded: crc) }
        var bytes = UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self)
        var left = count * 4
        while left > 0 {
            // zlib takes a 32-bit length.
            let n = min(left, 1 << 30)
            crc = CZlib.crc32(crc, bytes, uInt(n))
            bytes += n
            left -= n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    /// Version and counters of a decoded header.
    static func verify(_ h: Header, file: String) throws {
        func fail(_ m: String) -> CheckpointError { CheckpointError(message: "\(file): \(m)") }
        guard readableVersions.contains(h.version) else {
            throw fail("unsupported checkpoint format version \(h.version) (this Gannet reads versions \(readableVersions.lowerBound)–\(readableVersions.upperBound))")
        }
        let c = h.counters
        for (name, v) in [("iteration", c.iteration), ("epoch", c.epoch), ("cursor", c.cursor),
                          ("generatorCounter", c.generatorCounter), ("frameCounter", c.frameCounter),
                          ("framesWritten", c.framesWritten), ("generatorSteps", c.generatorSteps)] where !plausible.contains(v) {
            throw fail("counter '\(name)' is \(v); counters lie in 0...2^48")
        }
        for (name, v) in h.optimizerCounters.sorted(by: { $0.key < $1.key }) where !plausible.contains(v) {
            throw fail("optimizer counter '\(name)' is \(v); optimizer steps lie in 0...2^48")
        }
        if h.version >= 2, let bad = h.buffers.first(where: { $0.crc32 == nil }) {
            throw fail("buffer '\(bad.name)' has no checksum")
        }
    }

    /// One buffer's checksum (version 2) and finiteness.
    static func verify(_ b: Header.Buffer, values: [Float], version: Int, file: String) throws {
        if version >= 2, let stored = b.crc32 {
            let actual = values.withUnsafeBufferPointer { b in b.baseAddress.map { crc32($0, count: b.count) } ?? crc32(nil, count: 0) }
            guard actual == stored else {
                throw CheckpointError(message: String(format: "%@: buffer '%@' fails its CRC-32 check (stored %08x, computed %08x): the file is corrupt",
                                                      file, b.name, stored, actual))
            }
        }
        let bad = NonFiniteGuard.nonFiniteCount(values)
        guard bad == 0 else {
            throw CheckpointError(message: "\(file): buffer '\(b.name)' holds \(bad) non-finite values (NaN or infinity)")
        }
    }

    /// Checks that `c` fits a store whose networks have been built and whose steps compiled:
    /// no buffer the store lacks, every parameter in `required` present, the cursor within
    /// `batchesPerEpoch`.
    public static func checkFits(_ c: Contents, store: ParameterStore, required: [String], batchesPerEpoch: Int, file: String) throws {
        func fail(_ m: String) -> CheckpointError { CheckpointError(message: "\(file): \(m)") }
        let names = Set(c.tensors.map(\.name))
        if let unknown = c.tensors.first(where: { !store.contains($0.name) }) {
            throw fail("buffer '\(unknown.name)' is not a state of the spec's networks (renamed, or another spec's checkpoint?)")
        }
        if let missing = required.first(where: { !names.contains($0) }) {
            throw fail("parameter '\(missing)' is missing from the checkpoint")
        }
        guard c.counters.cursor <= batchesPerEpoch else {
            throw fail("the checkpoint's data cursor is batch \(c.counters.cursor) of its epoch, but the dataset has \(batchesPerEpoch) batches per epoch (another dataset or batch size?)")
        }
    }
}
