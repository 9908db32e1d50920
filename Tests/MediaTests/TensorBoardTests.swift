import Foundation
import Media
import XCTest

final class TensorBoardTests: XCTestCase {
    func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
    func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "gannet-tb-\(getpid())-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func testCRC32CVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), 0xC78A_B0E5)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        // RFC 3720 (iSCSI) B.4 vectors.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
    }

    func testProtobufWire() throws {
        var w = ProtobufWriter()
        w.int(1, 150)
        XCTAssertEqual(hex(w.bytes), "089601")
        var n = ProtobufWriter()
        n.int(2, -1)
        XCTAssertEqual(hex(n.bytes), "10ffffffffffffffffff01")
        var s = ProtobufWriter()
        s.string(2, "testing")
        s.float(3, 1.5)
        s.double(4, -2)
        s.message(5) { $0.int(1, 7) }
        let f = try ProtobufReader.fields(w.bytes + n.bytes + s.bytes)
        XCTAssertEqual(f.map(\.number), [1, 2, 2, 3, 4, 5])
        XCTAssertEqual(f[0].int64, 150)
        XCTAssertEqual(f[1].int64, -1)
        XCTAssertEqual(f[2].string, "testing")
        XCTAssertEqual(f[3].float, 1.5)
        XCTAssertEqual(f[4].double, -2)
        XCTAssertEqual(try ProtobufReader.fields(f[5].data!).first?.int64, 7)
        XCTAssertThrowsError(try ProtobufReader.fields([0x0A, 0x05, 0x01]))   // length past end
        XCTAssertThrowsError(try ProtobufReader.fields([0x08, 0x80]))         // truncated varint
    }

    func testEventVectorsFromReference() {
        let v0 = TensorBoardEvent.fileVersion(wallTime: 1_700_000_000)
        XCTAssertEqual(hex(v0), "0900000040fc54d9411a0d627261696e2e4576656e743a32")
        XCTAssertEqual(hex(TFRecord.frame(v0)),
                       "1800000000000000" + "a37f4b22" + "0900000040fc54d9411a0d627261696e2e4576656e743a32" + "eced8f9d")
        XCTAssertEqual(hex(TensorBoardEvent.scalar(tag: "loss/D", value: 0.5, step: 1, wallTime: 1_700_000_001)),
                       "0900004040fc54d94110012a0f0a0d0a066c6f73732f44150000003f")
        XCTAssertEqual(hex(TensorBoardEvent.sessionLog(.start, step: 100, wallTime: 1_700_000_000)),
                       "0900000040fc54d94110643a020801")
    }

    func testRecordsDetectCorruption() throws {
        let a = TFRecord.frame(TensorBoardEvent.fileVersion(wallTime: 1))
        let b = TFRecord.frame(TensorBoardEvent.scalar(tag: "x", value: 2, step: 3, wallTime: 4))
        XCTAssertEqual(try TFRecord.records(a + b).count, 2)
        var bad = a + b
        bad[8] ^= 1   // header CRC
        XCTAssertThrowsError(try TFRecord.records(bad))
        bad = a + b
        bad[a.count + 14] ^= 1   // data of the second record
        XCTAssertThrowsError(try TFRecord.records(bad))
        let torn = Array((a + b).dropLast(3))
        XCTAssertThrowsError(try TFRecord.records(torn))
        XCTAssertEqual(try TFRecord.records(torn, allowPartialTail: true).count, 1)
    }

    func testWriterRoundTrip() throws {
        let dir = tempDir()
        let w = try EventWriter(directory: dir + "/run", flushEvery: 3, wallTime: 1_700_000_000)
        let name = (w.path as NSString).lastPathComponent
        XCTAssertTrue(name.hasPrefix("events.out.tfevents.1700000000."), name)
        // The file_version record is on disk at once.
        XCTAssertEqual(try DecodedEvent.read(file: w.path).first?.fileVersion, "brain.Event:2")
        for s in 0..<5 { try w.scalar(tag: "loss/D", value: Float(s) * 0.25, step: Int64(s), wallTime: 1_700_000_001 + Double(s)) }
        // Three events flushed, two buffered.
        XCTAssertEqual(try DecodedEvent.read(file: w.path).count, 4)
        let img = Image8(width: 3, height: 2, channels: 3, pixels: (0..<18).map { UInt8($0 * 10) })
        try w.image(tag: "real_images/0", image: img, step: 4)
        try w.sessionLogStart(step: 2)
        try w.close()
        try w.close()
        XCTAssertThrowsError(try w.scalar(tag: "late", value: 1, step: 9))

        let events = try DecodedEvent.read(file: w.path)
        XCTAssertEqual(events.count, 8)
        XCTAssertEqual(events[0].wallTime, 1_700_000_000)
        XCTAssertEqual(events[1...5].map { $0.scalars["loss/D"] }, [0, 0.25, 0.5, 0.75, 1.0])
        XCTAssertEqual(events[1...5].map(\.step), [0, 1, 2, 3, 4])
        XCTAssertEqual(events[3].wallTime, 1_700_000_003)
        let im = try XCTUnwrap(events[6].images.first)
        XCTAssertEqual([im.tag, "\(im.width)x\(im.height)x\(im.colorspace)"], ["real_images/0", "3x2x3"])
        XCTAssertEqual(Array(im.png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let png = dir + "/back.png"
        try Data(im.png).write(to: URL(fileURLWithPath: png))
        XCTAssertEqual(try PNG.read(png), img)
        XCTAssertEqual(events[7].sessionStatus, .start)
        XCTAssertEqual(events[7].step, 2)

        // A second writer in the same second gets a different file.
        let w2 = try EventWriter(directory: dir + "/run", wallTime: 1_700_000_000)
        XCTAssertNotEqual(w2.path, w.path)
        try w2.close()
    }

    /// Writes the sample that Tools/interop/check_tensorboard.py checks with TensorBoard,
    /// into $GANNET_TENSORBOARD_SAMPLE_DIR (skipped when unset).
    func testWriteInteropSample() throws {
        guard let dir = ProcessInfo.processInfo.environment["GANNET_TENSORBOARD_SAMPLE_DIR"] else {
            throw XCTSkip("set GANNET_TENSORBOARD_SAMPLE_DIR to write the TensorBoard interop sample")
        }
        let t0 = 1_700_000_000.0
        // First run: SessionLog START at 0, steps 0…9; an image at steps 0 and 5; a text summary at step 3.
        let w = try EventWriter(directory: dir, wallTime: t0)
        try w.sessionLogStart(step: 0, wallTime: t0)
        for s in 0..<10 {
            try w.scalar(tag: "training_loss", value: Float(s) * 0.5, step: Int64(s), wallTime: t0 + Double(s))
            try w.scalar(tag: "learning_rate", value: 3e-4, step: Int64(s), wallTime: t0 + Double(s))
            if s % 5 == 0 {
                let gray = Image8(width: 28, height: 20, channels: 1, pixels: (0..<(28 * 20)).map { UInt8(($0 % 28 * 7 + $0 / 28 * 13 + s) % 256) })
                try w.image(tag: "real_images/0", image: gray, step: Int64(s), wallTime: t0 + Double(s))
                let rgb = Image8(width: 4, height: 3, channels: 3, pixels: (0..<36).map { UInt8($0 * 7) })
                try w.image(tag: "generated_images/0", image: rgb, step: Int64(s), wallTime: t0 + Double(s))
            }
            if s == 3 {
                try w.text(tag: "health/mode_collapse", text: "iteration 3: frame diversity 0.5 < 4 — *Gannet* ✓", step: 3, wallTime: t0 + Double(s))
            }
        }
        try w.close()
        // "Resumed" run: a new file, SessionLog START at step 5, then steps 6 and 7 with new values.
        let r = try EventWriter(directory: dir, wallTime: t0 + 100)
        try r.sessionLogStart(step: 5, wallTime: t0 + 100)
        for s in 6..<8 {
            try r.scalar(tag: "training_loss", value: 100 + Float(s), step: Int64(s), wallTime: t0 + 100 + Double(s))
        }
        try r.close()
    }
}
