import Core
import Data
import Foundation
import GraphIR
import Media
import XCTest

func makeTempDir() -> String {
    let d = NSTemporaryDirectory() + "gannet-data-\(getpid())-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

final class IDXTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func images(_ n: Int, _ h: Int, _ w: Int) -> IDXFile {
        IDXFile(dims: [n, h, w], bytes: (0..<(n * h * w)).map { UInt8(($0 * 31 + 7) % 256) })
    }

    func assertError(_ body: @autoclosure () throws -> Any, contains parts: [String],
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            let msg = "\(e)"
            for p in parts { XCTAssertTrue(msg.contains(p), "\(msg) lacks \(p)", file: file, line: line) }
        }
    }

    func testRoundTripGzipAndPlain() throws {
        for gz in [true, false] {
            let img = images(5, 4, 3)
            let lab = IDXFile(dims: [5], bytes: [3, 1, 4, 1, 5])
            let ip = "\(dir)/img\(gz)", lp = "\(dir)/lab\(gz)"
            try IDX.write(img, to: ip, gzip: gz)
            try IDX.write(lab, to: lp, gzip: gz)
            if gz {
                let raw = try [UInt8](Foundation.Data(contentsOf: URL(fileURLWithPath: ip)))
                XCTAssertEqual(Array(raw.prefix(2)), [0x1F, 0x8B])
            }
            XCTAssertEqual(try IDX.read(ip, magic: IDX.imagesMagic), img)
            XCTAssertEqual(try IDX.read(lp, magic: IDX.labelsMagic), lab)
            let ds = try IDX.dataset(images: ip, labels: lp)
            XCTAssertEqual(ds.count, 5)
            XCTAssertEqual(ds.imageShape, [1, 4, 3])
            XCTAssertEqual(ds.labels, [3, 1, 4, 1, 5])
            XCTAssertEqual(ds.floats(at: 1), img.bytes[12..<24].map { Float($0) / 255 })
        }
    }

    func testCorruptFiles() throws {
        let good = images(4, 3, 2)
        let p = "\(dir)/x.gz"
        // Wrong magic: labels where images are expected.
        try IDX.write(IDXFile(dims: [24], bytes: good.bytes), to: p, gzip: true)
        assertError(try IDX.read(p, magic: IDX.imagesMagic), contains: [p, "magic", "00000801", "00000803"])
        // Not IDX at all.
        try Foundation.Data("hello world, not idx".utf8).write(to: URL(fileURLWithPath: "\(dir)/text"))
        assertError(try IDX.read("\(dir)/text", magic: IDX.imagesMagic), contains: ["\(dir)/text", "magic"])
        // Unsupported data type (0x0D float).
        try Foundation.Data([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: "\(dir)/f"))
        assertError(try IDX.read("\(dir)/f"), contains: ["\(dir)/f", "type"])
        // Truncated data (plain and gzipped).
        var bytes: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 2] + good.bytes
        for gz in [false, true] {
            let t = "\(dir)/trunc\(gz)"
            try writeRaw(Array(bytes.dropLast(5)), t, gz)
            assertError(try IDX.read(t, magic: IDX.imagesMagic), contains: [t, "truncated", "24", "19"])
        }
        // Extra data after what the dims say.
        try writeRaw(bytes + [1, 2], "\(dir)/long", false)
        assertError(try IDX.read("\(dir)/long"), contains: ["\(dir)/long", "longer"])
        // Dims that claim 4 GB: an error, no huge allocation.
        bytes = [0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 1, 2, 3]
        try writeRaw(bytes, "\(dir)/huge", false)
        assertError(try IDX.read("\(dir)/huge"), contains: ["\(dir)/huge"])
        // Dims that claim a terabyte over 3 data bytes: a plain file's size settles it before
        // anything is read; a gzipped one is read to its end. The same message either way.
        bytes = [0, 0, 8, 3, 0, 0x0F, 0x42, 0x40, 0, 0, 0x03, 0xE8, 0, 0, 0x03, 0xE8, 1, 2, 3]
        for gz in [false, true] {
            let t = "\(dir)/tera\(gz)"
            try writeRaw(bytes, t, gz)
            assertError(try IDX.read(t), contains: ["\(t): truncated: dimensions 1000000×1000×1000 need 1000000000000 data bytes, the file has 3"])
        }
        // Truncated header.
        try writeRaw([0, 0, 8, 3, 0, 0], "\(dir)/hdr", false)
        assertError(try IDX.read("\(dir)/hdr"), contains: ["\(dir)/hdr", "header"])
        // A gzip stream cut in the middle.
        try IDX.write(images(50, 28, 28), to: "\(dir)/cut.gz", gzip: true)
        let gzBytes = try [UInt8](Foundation.Data(contentsOf: URL(fileURLWithPath: "\(dir)/cut.gz")))
        try writeRaw(Array(gzBytes.prefix(gzBytes.count / 2)), "\(dir)/cut.gz", false)
        assertError(try IDX.read("\(dir)/cut.gz"), contains: ["\(dir)/cut.gz"])
        // Missing file.
        assertError(try IDX.read("\(dir)/nope"), contains: ["\(dir)/nope"])
    }

    func testImageLabelCountsDisagree() throws {
        try IDX.write(images(4, 2, 2), to: "\(dir)/i", gzip: false)
        try IDX.write(IDXFile(dims: [3], bytes: [1, 2, 3]), to: "\(dir)/l", gzip: false)
        assertError(try IDX.dataset(images: "\(dir)/i", labels: "\(dir)/l"), contains: ["\(dir)/l", "3 labels", "4 images"])
        try IDX.write(IDXFile(dims: [4, 4], bytes: [UInt8](repeating: 0, count: 16)), to: "\(dir)/i2", gzip: false)
        assertError(try IDX.dataset(images: "\(dir)/i2", labels: nil), contains: ["\(dir)/i2", "magic", "00000802"])
    }

    func testMNISTDirectoryLayoutAndMissingHints() throws {
        let mn = "\(dir)/mnist"
        try FileManager.default.createDirectory(atPath: mn + "/MNIST/raw", withIntermediateDirectories: true)
        try IDX.write(images(6, 28, 28), to: mn + "/MNIST/raw/train-images-idx3-ubyte", gzip: false)
        try IDX.write(IDXFile(dims: [6], bytes: [0, 1, 2, 3, 4, 5]), to: mn + "/MNIST/raw/train-labels-idx1-ubyte", gzip: false)
        let ds = try Dataset.mnist(directory: mn, range: .minusOneToOne)
        XCTAssertEqual(ds.count, 6)
        XCTAssertEqual(ds.classNames?.count, 10)
        XCTAssertTrue(ds.floats(at: 0).allSatisfy { $0 >= -1 && $0 <= 1 })
        assertError(try Dataset.mnist(directory: mn, split: .test), contains: [mn, "t10k-images-idx3-ubyte", "download"])
        assertError(try Dataset.fashionMNIST(directory: "\(dir)/none"),
                    contains: ["\(dir)/none/train-images-idx3-ubyte.gz", "apt-get install dataset-fashion-mnist"])
        assertError(try Dataset.cifar10(directory: "\(dir)/none"), contains: ["\(dir)/none", "cifar-10-binary.tar.gz"])
    }

    func writeRaw(_ bytes: [UInt8], _ path: String, _ gz: Bool) throws {
        if gz {
            // Compress with the gzip tool, so the reader is tested against an independent writer.
            let tmp = path + ".tmp"
            try Foundation.Data(bytes).write(to: URL(fileURLWithPath: tmp))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "gzip -c '\(tmp)' > '\(path)' && rm '\(tmp)'"]
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
        } else {
            try Foundation.Data(bytes).write(to: URL(fileURLWithPath: path))
        }
    }
}

final class CIFARAndFolderTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDir() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testCIFAR10Batches() throws {
        let root = "\(dir)/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for b in 1...5 {
            let labels = (0..<3).map { UInt8(($0 + b) % 10) }
            let px = (0..<(3 * 3072)).map { UInt8(($0 + b) % 251) }
            try Dataset.writeCIFAR10Batch(labels: labels, pixels: px, to: "\(root)/data_batch_\(b).bin")
        }
        try Dataset.writeCIFAR10Batch(labels: [9], pixels: [UInt8](repeating: 255, count: 3072), to: "\(root)/test_batch.bin")
        let train = try Dataset.cifar10(directory: dir)
        XCTAssertEqual(train.count, 15)
        XCTAssertEqual(train.imageShape, [3, 32, 32])
        XCTAssertEqual(train.labels?.prefix(4), [1, 2, 3, 2])
        // CHW as stored: record 1 of batch 1, channel 1, row 0, column 5.
        XCTAssertEqual(train.bytes(at: 1)[train.bytes(at: 1).startIndex + 1024 + 5], UInt8((3072 + 1024 + 5 + 1) % 251))
        let test = try Dataset.cifar10(directory: root, split: .test, range: .minusOneToOne)
        XCTAssertEqual(test.count, 1)
        XCTAssertEqual(test.floats(at: 0).first, 1)
        XCTAssertEqual(test.classNames?[9], "truck")
        // Corrupt: partial record, bad label.
        try Foundation.Data([UInt8](repeating: 1, count: 3073 + 10)).write(to: URL(fileURLWithPath: "\(root)/test_batch.bin"))
        XCTAssertThrowsError(try Dataset.cifar10(directory: root, split: .test)) { XCTAssertTrue("\($0)".contains("test_batch.bin")) }
        try Foundation.Data([UInt8](repeating: 12, count: 3073)).write(to: URL(fileURLWithPath: "\(root)/test_batch.bin"))
        XCTAssertThrowsError(try Dataset.cifar10(directory: root, split: .test)) { XCTAssertTrue("\($0)".contains("label 12")) }
    }

    func testPNGFolderWithClasses() throws {
        for (k, cls) in ["cats", "dogs"].enumerated() {
            let d = "\(dir)/pets/\(cls)"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            for i in 0..<(2 + k) {
                let img = Image8(width: 4, height: 2, channels: 3, pixels: (0..<24).map { UInt8($0 * 10 + i + k) })
                try PNG.write(img, to: "\(d)/\(i).png")
            }
        }
        try Foundation.Data("ignored".utf8).write(to: URL(fileURLWithPath: "\(dir)/pets/cats/readme.txt"))
        let ds = try Dataset.imageFolder("\(dir)/pets")
        XCTAssertEqual(ds.count, 5)
        XCTAssertEqual(ds.classNames, ["cats", "dogs"])
        XCTAssertEqual(ds.labels, [0, 0, 1, 1, 1])
        XCTAssertEqual(ds.imageShape, [3, 2, 4])
        // HWC → CHW: channel 1 of pixel (0,1) of image 0 is interleaved byte 1*3+1 = 4.
        XCTAssertEqual(ds.bytes(at: 0)[8 + 1], 40)
        let gray = try Dataset.imageFolder("\(dir)/pets", channels: 1, size: (height: 4, width: 8), filter: .nearest)
        XCTAssertEqual(gray.imageShape, [1, 4, 8])
    }

    func testPNGFolderFlatAndMismatchedSizes() throws {
        let d = "\(dir)/flat"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        try PNG.write(Image8(width: 2, height: 2, channels: 1, pixels: [0, 64, 128, 255]), to: "\(d)/a.png")
        try PNG.write(Image8(width: 3, height: 2, channels: 1, pixels: [UInt8](repeating: 9, count: 6)), to: "\(d)/b.png")
        XCTAssertThrowsError(try Dataset.imageFolder(d)) { e in
            XCTAssertTrue("\(e)".contains("\(d)/b.png"), "\(e)")
        }
        let ds = try Dataset.imageFolder(d, size: (height: 2, width: 2), range: .minusOneToOne)
        XCTAssertNil(ds.labels)
        XCTAssertEqual(ds.count, 2)
        XCTAssertEqual(ds.floats(at: 0), [-1, (64 / 255 - 0.5) / 0.5, (128 / 255 - 0.5) / 0.5, 1])
        XCTAssertEqual(ds.bytes(at: 1).map { $0 }, [9, 9, 9, 9])
        XCTAssertThrowsError(try Dataset.imageFolder("\(dir)/empty-missing"))
        try FileManager.default.createDirectory(atPath: "\(dir)/empty", withIntermediateDirectories: true)
        XCTAssertThrowsError(try Dataset.imageFolder("\(dir)/empty")) { XCTAssertTrue("\($0)".contains("no .png")) }
    }
}

final class ResizeTests: XCTestCase {
    func dataset(_ px: [UInt8], _ h: Int, _ w: Int) throws -> Dataset {
        try Dataset(pixels: px, labels: nil, count: 1, channels: 1, height: h, width: w)
    }

    func testBilinearMatchesPillow() throws {
        // Pillow 10: Image.frombytes("L", (4, 1), bytes([0, 100, 200, 255])).resize((8, 1), BILINEAR)
        // → [0, 25, 75, 125, 175, 214, 241, 255]; upscaling 2×2 [[0, 255], [255, 0]] to 4×4 gives
        // the separable half-pixel blend with edge clamping.
        let row = try dataset([0, 100, 200, 255], 1, 4).resized(height: 1, width: 8)
        XCTAssertEqual(Array(row.pixels), [0, 25, 75, 125, 175, 214, 241, 255])
        let sq = try dataset([0, 255, 255, 0], 2, 2).resized(height: 4, width: 4)
        XCTAssertEqual(Array(sq.pixels), [0, 64, 191, 255,
                                          64, 96, 159, 191,
                                          191, 159, 96, 64,
                                          255, 191, 64, 0])
        // Constant images stay constant; shrinking averages (antialiased).
        let c = try dataset([UInt8](repeating: 77, count: 28 * 28), 28, 28).resized(height: 64, width: 64)
        XCTAssertTrue(c.pixels.allSatisfy { $0 == 77 })
        let down = try dataset([0, 255, 0, 255], 1, 4).resized(height: 1, width: 2)
        XCTAssertEqual(Array(down.pixels), [109, 146])
    }

    /// Goldens from Pillow 13.0: Image.frombytes("L", (7, 5), src).resize(size, filter).
    func testPillowGoldens() throws {
        let src = try dataset((0..<35).map { UInt8(($0 * 73 + 11) % 256) }, 5, 7)
        let golden1: [UInt8] = [11, 22, 54, 86, 118, 150, 182, 214, 190, 110, 54, 86, 118, 150, 182, 193, 11, 22, 54, 86, 118, 150, 182, 214, 190, 110, 54, 86, 118, 150, 182, 193, 10, 21, 53, 85, 117, 149, 181, 213, 189, 109, 53, 85, 117, 149, 181, 192, 10, 21, 53, 85, 117, 149, 181, 213, 189, 109, 53, 85, 117, 149, 181, 192, 9, 20, 52, 84, 116, 148, 180, 212, 188, 108, 52, 84, 116, 148, 180, 191, 9, 20, 52, 84, 116, 148, 180, 212, 188, 108, 52, 84, 116, 148, 180, 191, 9, 20, 52, 84, 116, 148, 180, 212, 188, 108, 52, 84, 116, 148, 180, 191, 8, 19, 51, 83, 115, 147, 179, 211, 187, 107, 51, 83, 115, 147, 179, 190, 8, 19, 51, 83, 115, 147, 179, 211, 187, 107, 51, 83, 115, 147, 179, 190, 7, 18, 50, 82, 114, 146, 178, 210, 186, 106, 50, 82, 114, 146, 178, 189, 7, 18, 50, 82, 114, 146, 178, 210, 186, 106, 50, 82, 114, 146, 178, 189]
        XCTAssertEqual(Array(try src.resized(height: 11, width: 16).pixels), golden1)
        XCTAssertEqual(Array(try src.resized(height: 2, width: 3).pixels), [73, 154, 129, 71, 152, 127])
        let golden2: [UInt8] = [11, 11, 84, 84, 84, 157, 157, 230, 230, 47, 47, 120, 120, 120, 193, 193, 11, 11, 84, 84, 84, 157, 157, 230, 230, 47, 47, 120, 120, 120, 193, 193, 10, 10, 83, 83, 83, 156, 156, 229, 229, 46, 46, 119, 119, 119, 192, 192, 10, 10, 83, 83, 83, 156, 156, 229, 229, 46, 46, 119, 119, 119, 192, 192, 9, 9, 82, 82, 82, 155, 155, 228, 228, 45, 45, 118, 118, 118, 191, 191, 9, 9, 82, 82, 82, 155, 155, 228, 228, 45, 45, 118, 118, 118, 191, 191, 9, 9, 82, 82, 82, 155, 155, 228, 228, 45, 45, 118, 118, 118, 191, 191, 8, 8, 81, 81, 81, 154, 154, 227, 227, 44, 44, 117, 117, 117, 190, 190, 8, 8, 81, 81, 81, 154, 154, 227, 227, 44, 44, 117, 117, 117, 190, 190, 7, 7, 80, 80, 80, 153, 153, 226, 226, 43, 43, 116, 116, 116, 189, 189, 7, 7, 80, 80, 80, 153, 153, 226, 226, 43, 43, 116, 116, 116, 189, 189]
        XCTAssertEqual(Array(try src.resized(height: 11, width: 16, filter: .nearest).pixels), golden2)
        XCTAssertEqual(Array(try src.resized(height: 2, width: 3, filter: .nearest).pixels), [83, 229, 119, 81, 227, 117])
        // MNIST-sized: 28×28 → 64×64 (DCGAN), every 97th byte.
        let mnPixels: [UInt8] = (0..<(28 * 28)).map { (i: Int) -> UInt8 in UInt8((i * i * 7 + i * 3 + 1) % 256) }
        let mn = try dataset(mnPixels, 28, 28)
        let up = try mn.resized(height: 64, width: 64).pixels
        let golden3: [UInt8] = [1, 132, 132, 91, 135, 148, 177, 141, 205, 102, 174, 132, 100, 152, 34, 79, 193, 170, 171, 172, 132, 154, 151, 164, 124, 64, 165, 89, 121, 95, 73, 188, 158, 215, 107, 76, 130, 128, 93, 83, 97, 103, 24]
        XCTAssertEqual(stride(from: 0, to: up.count, by: 97).map { up[$0] }, golden3)
    }

    /// The float resize gan-eval uses has Pillow's bilinear weights: on byte images it equals the
    /// byte resizer up to the byte rounding of each of its two passes, shrinking (64×64 → 28×28)
    /// and growing, and stays within the input range.
    func testFloatResizeMatchesPillowBilinear() throws {
        let pixels: [UInt8] = (0..<(64 * 64)).map { (i: Int) -> UInt8 in UInt8((i * i * 5 + i * 11 + 3) % 256) }
        for (h, w) in [(28, 28), (11, 16), (64, 64)] {
            let bytes = try dataset(pixels, 64, 64).resized(height: h, width: w).pixels
            let floats = FloatResize.bilinear(pixels.map(Float.init), planes: 1, inH: 64, inW: 64, outH: h, outW: w)
            XCTAssertEqual(floats.count, h * w)
            for (b, f) in zip(bytes, floats) { XCTAssertEqual(Float(b), f, accuracy: 1.01, "\(h)x\(w)") }
            XCTAssertTrue(floats.allSatisfy { $0 >= 0 && $0 <= 255 })
        }
        let two = FloatResize.bilinear([Float](repeating: 0.25, count: 2 * 9), planes: 2, inH: 3, inW: 3, outH: 2, outW: 2)
        XCTAssertEqual(two, [Float](repeating: 0.25, count: 8))
    }

    func testNearest() throws {
        let d = try dataset([1, 2, 3, 4], 2, 2).resized(height: 4, width: 4, filter: .nearest)
        XCTAssertEqual(Array(d.pixels), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let s = try dataset([1, 2, 3, 4, 5, 6], 1, 6).resized(height: 1, width: 3, filter: .nearest)
        XCTAssertEqual(Array(s.pixels), [2, 4, 6])
    }
}

final class SamplerTests: XCTestCase {
    func testCountsAndLastBatch() {
        let s = BatchSampler(count: 60_000, batchSize: 128, seed: 1)
        XCTAssertEqual(s.batchesPerEpoch, 469)
        let b = s.batches(epoch: 0)
        XCTAssertEqual(b.count, 469)
        XCTAssertEqual(b.last?.count, 96)
        XCTAssertEqual(BatchSampler(count: 60_000, batchSize: 128, dropLast: true, seed: 1).batches(epoch: 0).count, 468)
        XCTAssertEqual(BatchSampler(count: 50_000, batchSize: 64, seed: 1).batches(epoch: 0).last?.count, 16)
        XCTAssertEqual(BatchSampler(count: 0, batchSize: 64, seed: 1).batches(epoch: 0).count, 0)
    }

    func testCoverageAndDeterminism() {
        let s = BatchSampler(count: 1000, batchSize: 30, seed: 42)
        var seen = Set<Int>()
        var perms: [[Int]] = []
        for e in 0..<4 {
            let flat = s.batches(epoch: e).flatMap { $0 }
            XCTAssertEqual(flat.count, 1000)
            XCTAssertEqual(Set(flat).count, 1000)
            XCTAssertEqual(flat.sorted(), Array(0..<1000))
            seen.formUnion(flat)
            perms.append(flat)
        }
        XCTAssertEqual(seen.count, 1000)
        XCTAssertEqual(Set(perms).count, 4)                       // epochs differ
        XCTAssertNotEqual(perms[0], Array(0..<1000))               // shuffled
        // Depends only on (seed, epoch): a fresh sampler ("resumed run") agrees.
        let again = BatchSampler(count: 1000, batchSize: 30, seed: 42)
        XCTAssertEqual(again.permutation(epoch: 2), perms[2])
        XCTAssertEqual(again.batch(5, epoch: 3), s.batches(epoch: 3)[5])
        XCTAssertNotEqual(BatchSampler(count: 1000, batchSize: 30, seed: 43).permutation(epoch: 0), perms[0])
        XCTAssertEqual(BatchSampler(count: 10, batchSize: 4, seed: 1, shuffle: false).batches(epoch: 3),
                       [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        XCTAssertTrue(s.position(ofIteration: 34) == (1, 0))
        XCTAssertTrue(s.position(ofIteration: 40) == (1, 6))
    }

    func testShuffleIsTheSharedPhiloxStream() {
        // One generator: epoch e's order is Core's RandomStream(seed, step: e, purpose: .shuffle)
        // permutation, the same stream the classifier trainer shuffles with.
        for (seed, epoch) in [(UInt64(42), 0), (7, 3), (1, 100)] {
            var r = RandomStream(seed: seed, step: UInt64(epoch), purpose: .shuffle)
            XCTAssertEqual(BatchSampler(count: 257, batchSize: 16, seed: seed).permutation(epoch: epoch), r.permutation(257))
        }
    }

    func testShuffleIsRoughlyUniform() {
        // Where index 0 lands over many epochs: every position of 8 about equally often.
        let s = BatchSampler(count: 8, batchSize: 8, seed: 7)
        var hits = [Int](repeating: 0, count: 8)
        for e in 0..<8000 { hits[s.permutation(epoch: e).firstIndex(of: 0)!] += 1 }
        for h in hits { XCTAssertTrue((850...1150).contains(h), "\(hits)") }
    }

    func testMakeBatch() throws {
        let px: [UInt8] = (0..<(4 * 2 * 3)).map { UInt8($0 * 10) }
        let ds = try Dataset(pixels: px, labels: [7, 8, 9, 6], count: 4, channels: 2, height: 1, width: 3)
        let loader = BatchLoader(dataset: ds)
        var (img, lab) = loader.makeBatch([2, 0])
        XCTAssertEqual(img.shape, [2, 2, 1, 3])
        XCTAssertEqual(img.floats, (px[12..<18] + px[0..<6]).map { Float($0) / 255 })
        XCTAssertEqual(lab?.shape, [2])
        XCTAssertEqual(lab?.int64s, [9, 7])
        let keep = img
        (img, lab) = loader.makeBatch([1, 3])
        XCTAssertEqual(keep.floats, (px[12..<18] + px[0..<6]).map { Float($0) / 255 })   // earlier batch untouched
        XCTAssertEqual(lab?.int64s, [8, 6])
        (img, lab) = loader.makeBatch([3])
        XCTAssertEqual(img.shape, [1, 2, 1, 3])
        var m1 = ds
        m1.range = .minusOneToOne
        let unlabeled = try Dataset(pixels: px, labels: nil, count: 4, channels: 2, height: 1, width: 3, range: .minusOneToOne)
        let (u, ul) = BatchLoader(dataset: unlabeled).makeBatch([0])
        XCTAssertNil(ul)
        XCTAssertEqual(u.floats.first, -1)
        XCTAssertEqual(m1.floats(at: 0), u.floats)
    }
}

final class FashionMNISTTests: XCTestCase {
    func testRealTrainSet() throws {
        guard FileManager.default.fileExists(atPath: Dataset.defaultFashionMNISTDirectory) else {
            throw XCTSkip("\(Dataset.defaultFashionMNISTDirectory) missing (apt-get install dataset-fashion-mnist)")
        }
        let ds = try Dataset.fashionMNIST()
        XCTAssertEqual(ds.count, 60_000)
        XCTAssertEqual(ds.imageShape, [1, 28, 28])
        let counts = ds.labelCounts()
        XCTAssertEqual(counts.count, 10)
        for k in 0..<10 { XCTAssertEqual(counts[Int64(k)], 6_000, "class \(k)") }
        XCTAssertEqual(ds.classCount, 10)
        let test = try Dataset.fashionMNIST(split: .test)
        XCTAssertEqual(test.count, 10_000)
        // DCGAN preprocessing: 64×64 bilinear, [-1, 1].
        var small = try test.prefix(16).resized(height: 64, width: 64)
        small.range = .minusOneToOne
        let (b, l) = BatchLoader(dataset: small).makeBatch(Array(0..<16))
        XCTAssertEqual(b.shape, [16, 1, 64, 64])
        XCTAssertEqual(l?.int64s.count, 16)
        XCTAssertTrue(b.floats.allSatisfy { $0 >= -1 && $0 <= 1 })
    }
}
