// CIFAR10PathTests: the CIFAR-10 path of `gan-train` proven without the real data — synthetic
// records in the CIFAR-10 binary format (one label byte + 3,072 CHW pixel bytes each, files
// data_batch_1.bin … data_batch_5.bin) train the shipped `Specs/cifar10_wgangp.yaml` for a few
// steps through `--dataset cifar10:DIR`, G step and frame included.

import Commands
import Foundation
import GAN
import TestSupport
import XCTest

final class CIFAR10PathTests: XCTestCase {
    func testCIFAR10WGANGPTrainsFromSyntheticBinaryBatches() throws {
        let root = NSTemporaryDirectory() + "gannet-cifar10-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        // The archive unpacks into cifar-10-batches-bin/; the loader looks there too.
        let bin = root + "/data/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        // 5 files × 4 records = 20 images: one batch of 20 per epoch (batch_size 64, drop_last false).
        for file in 1...5 {
            var bytes: [UInt8] = []
            for r in 0..<4 {
                let index = (file - 1) * 4 + r
                bytes.append(UInt8(index % 10))
                // Per channel a different ramp, so the planes are distinguishable.
                for c in 0..<3 { for p in 0..<1024 { bytes.append(UInt8((p * (c + 1) + index * 37) % 256)) } }
            }
            XCTAssertEqual(bytes.count, 4 * 3073)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(bin)/data_batch_\(file).bin"))
        }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let spec = url.appendingPathComponent("Specs/cifar10_wgangp.yaml").path
        let dir = root + "/run"
        // 12 D iterations: G trains once (every 11th D step) and a frame is sampled at the 11th.
        try GanTrain.parse([spec, "--dataset", "cifar10:\(root)/data", "--out", dir, "--max-steps", "12",
                            "--threads", "2", "--quiet", "--log-every", "1"]).run()
        let c = try Checkpoint.read(dir + "/checkpoint.gck")
        XCTAssertEqual(c.counters.iteration, 12)
        XCTAssertEqual(c.counters.generatorSteps, 1)
        // 20 records, one batch per epoch: 12 iterations span epochs 0…11.
        XCTAssertEqual(c.counters.epoch, 11)
        XCTAssertEqual(c.counters.framesWritten, 1)
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 12)
        for line in lines {
            let o = try JSONTestData.object(Data(line.utf8), "metrics.jsonl line")
            for key in ["d_loss", "wdist", "gp"] {
                let v = try XCTUnwrap(o[key] as? Double, "\(key) missing or not finite in \(line)")
                XCTAssertTrue(v.isFinite, "\(key) = \(v)")
            }
        }
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        XCTAssertTrue(names.isSuperset(of: ["generator.pb", "critic.pb", "spec.yaml"]), "\(names.sorted())")
        let g = try GeneratorModel.load(dir + "/generator.pb")
        XCTAssertEqual(g.latentSize, 100)
        XCTAssertEqual(g.range, 0...1)
    }
}
