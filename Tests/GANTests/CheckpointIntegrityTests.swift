// CheckpointIntegrityTests: damaged or foreign checkpoints are clear errors naming the file and
// the problem (issue 15: flipped payload bytes, NaN buffers, a renamed buffer, `version: 99`, a
// negative Adam step, iteration −5 and cursor 1e9 were resumed silently or trapped), and a
// store holding a NaN is never written over a good checkpoint.

import Foundation
import GAN
import GraphIR
import Runtime
import SpecFormat
import TestSupport
import XCTest

final class CheckpointIntegrityTests: XCTestCase {
    var path = ""

    override func setUp() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("gannet-integrity-\(getpid())-\(UUID().uuidString.prefix(8)).gck").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    /// A tiny_gan trainer after `steps` iterations, both steps compiled.
    func trainer(steps: Int = 2) throws -> Trainer {
        let s = try Spec.load(path: ResumeTests.fixtures.appendingPathComponent("tiny_gan.yaml").path)
        let g = try GANSteps(spec: s, seed: 5, threads: 1)
        let t = Trainer(steps: g, data: SyntheticBatches(batchSize: 16), epochs: 2, generatorFrequency: 0, fixedSamples: 4)
        _ = try g.dStep(batch: 16)
        _ = try g.gStep(batch: 16)
        for _ in 0..<steps { _ = try t.iterate() }
        return t
    }

    /// The file split into its JSON header (as a mutable object) and payload.
    func parts() throws -> (header: [String: Any], payload: [UInt8]) { try CheckpointFile.parts(path) }

    func assemble(_ header: [String: Any], _ payload: [UInt8]) throws { try CheckpointFile.assemble(header, payload, to: path) }

    /// Edits the header, keeping the payload.
    func editHeader(_ edit: (inout [String: Any]) throws -> Void) throws {
        var (h, p) = try parts()
        try edit(&h)
        try assemble(h, p)
    }

    func readError() -> String {
        do { _ = try Checkpoint.read(path); return "read without error" } catch { return "\(error)" }
    }

    func testWrittenCheckpointCarriesVersionAndChecksums() throws {
        let t = try trainer()
        try t.saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        let (h, _) = try parts()
        XCTAssertEqual(h["version"] as? Int, 2)
        let buffers = try XCTUnwrap(h["buffers"] as? [[String: Any]])
        XCTAssertEqual(buffers.count, t.steps.store.entries.count)
        XCTAssertTrue(buffers.allSatisfy { $0["crc32"] is Int }, "\(buffers.first!)")
        let c = try Checkpoint.read(path)
        XCTAssertEqual(c.version, 2)
        XCTAssertEqual(c.counters.iteration, 2)
    }

    func testVersionOneStillLoads() throws {
        // Written before checksums and run configurations: no CRC to check, no RunConfig.
        let t = try trainer()
        try t.saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        try CheckpointFile.downgradeToVersion1(path)
        let c = try Checkpoint.read(path)
        XCTAssertEqual(c.version, 1)
        XCTAssertNil(c.run)
        let fresh = try trainer(steps: 0)
        try fresh.restore(c, file: path)
        XCTAssertEqual(fresh.counters, t.counters)
        for e in t.steps.store.entries { XCTAssertEqual(fresh.steps.store.tensor(e.name)!.floats, t.steps.store.tensor(e.name)!.floats, e.name) }
    }

    func testBuffersAreWrittenInNameOrderAndAnyOrderStillLoads() throws {
        // The store's order follows dictionary order (it differs between processes); the file's
        // is sorted by name, so equal states give equal bytes (GanTrainReliabilityTests checks
        // two processes).
        let t = try trainer()
        try t.saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        var (h, p) = try parts()
        let buffers: [[String: Any]] = try h.value("buffers")
        let names = try buffers.map { try $0.value("name", as: String.self) }
        XCTAssertEqual(names, names.sorted())
        XCTAssertEqual(Set(names), Set(t.steps.store.entries.map(\.name)))
        // Written again from the same state: the same bytes.
        let first = try Data(contentsOf: URL(fileURLWithPath: path))
        try t.saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), first)
        // A file written before the order was fixed (here: reversed) reads and restores the same.
        var chunks: [[UInt8]] = []
        var offset = 0
        for b in buffers {
            let n = try b.value("shape", as: [Int].self).reduce(1, *) * 4
            chunks.append(Array(p[offset..<(offset + n)]))
            offset += n
        }
        XCTAssertEqual(offset, p.count)
        h["buffers"] = Array(buffers.reversed())
        p = chunks.reversed().flatMap { $0 }
        try assemble(h, p)
        let c = try Checkpoint.read(path)
        XCTAssertEqual(c.tensors.map(\.name), names.reversed())
        let fresh = try trainer(steps: 0)
        try fresh.restore(c, file: path)
        for e in t.steps.store.entries { XCTAssertEqual(fresh.steps.store.tensor(e.name)!.floats, t.steps.store.tensor(e.name)!.floats, e.name) }
    }

    func testFlippedPayloadByteFailsTheChecksum() throws {
        try trainer().saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        let (h, q) = try parts()
        var p = q
        p[p.count / 2] ^= 0x10
        try assemble(h, p)
        let m = readError()
        XCTAssertTrue(m.hasPrefix(path + ": buffer '"), m)
        XCTAssertTrue(m.contains("fails its CRC-32 check"), m)
    }

    func testNaNBufferIsRejectedEvenWithAMatchingChecksum() throws {
        try trainer().saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        var (h, p) = try parts()
        // Buffer 0's first float becomes NaN; its CRC is recomputed so only the value is wrong.
        var buffers: [[String: Any]] = try h.value("buffers")
        let count = try buffers[0].value("shape", as: [Int].self).reduce(1, *)
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { for i in 0..<4 { p[i] = $0[i] } }
        buffers[0]["crc32"] = Int(crc32(Array(p[0..<(count * 4)])))
        h["buffers"] = buffers
        try assemble(h, p)
        let m = readError()
        XCTAssertTrue(m.contains("buffer '\(buffers[0]["name"]!)' holds 1 non-finite values"), m)
    }

    /// zlib's CRC-32, bitwise (the reference for the checkpoint's table-free zlib call).
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c >> 1) ^ (c & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~c
    }

    func testCRCIsZlibs() {
        // The standard check value of CRC-32/ISO-HDLC (zlib's): "123456789" → cbf43926.
        XCTAssertEqual(crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(RunConfig.hash("123456789"), "cbf43926")
    }

    func testHeaderDamageIsAClearError() throws {
        try trainer().saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let cases: [(String, (inout [String: Any]) throws -> Void)] = [
            ("unsupported checkpoint format version 99", { $0["version"] = 99 }),
            ("counter 'iteration' is -5", { h in var c: [String: Any] = try h.value("counters"); c["iteration"] = -5; h["counters"] = c }),
            ("counter 'cursor' is -1", { h in var c: [String: Any] = try h.value("counters"); c["cursor"] = -1; h["counters"] = c }),
            ("counter 'epoch' is 1000000000000000000", { h in var c: [String: Any] = try h.value("counters"); c["epoch"] = 1_000_000_000_000_000_000; h["counters"] = c }),
            ("optimizer counter", { h in
                var o: [String: Int] = try h.value("optimizerCounters")
                o[o.keys.sorted()[0]] = -3
                h["optimizerCounters"] = o
            }),
            ("has no checksum", { h in var b: [[String: Any]] = try h.value("buffers"); b[1]["crc32"] = nil; h["buffers"] = b }),
        ]
        for (expected, edit) in cases {
            try good.write(to: URL(fileURLWithPath: path))
            try editHeader(edit)
            let m = readError()
            XCTAssertTrue(m.hasPrefix(path + ": "), m)
            XCTAssertTrue(m.contains(expected), "\(expected): \(m)")
        }
    }

    func testBufferShapeWhoseProductOverflowsIsAClearError() throws {
        // Found while writing the checkpoint fuzz target: every dim is under the per-dim bound,
        // but their product overflows 64 bits; the reader trapped computing the byte count.
        try trainer().saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        try editHeader { h in
            var b: [[String: Any]] = try h.value("buffers")
            b[0]["shape"] = [1_073_741_824, 1_073_741_824, 1_073_741_824]
            h["buffers"] = b
        }
        let m = readError()
        XCTAssertTrue(m.hasPrefix(path + ": "), m)
        XCTAssertTrue(m.contains("truncated at buffer"), m)
    }

    func testRenamedBufferAndForeignCursorAreRejectedOnRestore() throws {
        let t = try trainer()
        try t.saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        func restoreError() throws -> String {
            let c = try Checkpoint.read(path)
            do { try trainer(steps: 0).restore(c, file: path); return "restored" } catch { return "\(error)" }
        }
        XCTAssertEqual(try restoreError(), "restored")
        try editHeader { h in
            var b: [[String: Any]] = try h.value("buffers")
            b[0]["name"] = "generator/renamed"
            h["buffers"] = b
        }
        XCTAssertTrue(try restoreError().contains("buffer 'generator/renamed' is not a state of the spec's networks"))
        // A cursor past the dataset's 3 batches per epoch (1e9 in the issue).
        try good.write(to: URL(fileURLWithPath: path))
        try editHeader { h in var c: [String: Any] = try h.value("counters"); c["cursor"] = 1_000_000_000; h["counters"] = c }
        let m = try restoreError()
        XCTAssertTrue(m.contains("data cursor is batch 1000000000 of its epoch, but the dataset has 3 batches per epoch"), m)
    }

    func testNonFiniteStoreNeverReplacesAGoodCheckpoint() throws {
        let t = try trainer()
        try t.saveCheckpoint(to: path, specPath: "tiny_gan.yaml")
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let w = t.steps.discriminatorParameters[0]
        t.steps.store.pointer(w)![3] = .infinity
        XCTAssertThrowsError(try t.saveCheckpoint(to: path, specPath: "tiny_gan.yaml")) { e in
            XCTAssertTrue("\(e)".contains("not written: state '\(w)' holds 1 non-finite values"), "\(e)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), good)
        let dir = (path as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix((path as NSString).lastPathComponent + ".tmp") }
        XCTAssertEqual(leftovers, [])
    }

    /// Regression (found while writing the checkpoint fuzz target): a v1 header whose buffer
    /// shape is three dims of 2^30 (each under the per-dim check) overflowed the element count.
    /// It must be a clear truncation error naming the buffer, not a trap.
    func testHeaderShapeWhoseProductOverflowsIsAnError() throws {
        let header = #"{"version":1,"spec":"x","seed":1,"threads":1,"counters":{"iteration":0,"epoch":0,"cursor":0,"generatorCounter":0,"frameCounter":0,"framesWritten":0,"generatorSteps":0},"buffers":[{"name":"w","shape":[1073741824,1073741824,1073741824]}],"optimizerCounters":{}}"#
        let json = Array(header.utf8)
        var bytes = Array("GANNETCK".utf8)
        let n = UInt32(json.count)
        bytes += [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
        bytes += json
        let path = NSTemporaryDirectory() + "gannet-overflow-\(getpid()).ckpt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.read(path)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains(path) && m.contains("'w'"), m)
        }
    }
}
