// GanTrainTests: `gan-train` end to end on a tiny spec over a folder of PNGs — the run
// directory (issue 6 item 3), the spec's `output` switches, resume through the command line,
// the notebook loop's run length, and errors that name the file.

import Core
import TestSupport
import Commands
import Foundation
import GAN
import Media
import XCTest

final class GanTrainTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        // 14 images of 8×8: batches of 6, 6, 2.
        root = try TestImageFolder.make(prefix: "gantrain", count: 14)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A tiny no-BN GAN over the image folder; `schedule` and `output` are spliced in.
    func writeSpec(schedule: String = "{epochs: 2, batch_size: 6, image_frequency: 2}", output: String = "{}",
                   latent: String = "{size: 8}", loss: String = "gan_bce_logits",
                   optimizer: String = "{kind: adam, lr: 1.0e-3}", name: String = "tiny_run") throws -> String {
        let yaml = TinySpec.yaml(name: "tiny_run", datasetPath: "\(root)/images", latent: latent, loss: loss, schedule: schedule,
                                 optimizer: optimizer, output: output)
        let path = root + "/\(name).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func train(_ args: [String]) throws { try GanTrain.parse(args + ["--quiet", "--threads", "1"]).run() }

    func files(_ dir: String) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
    }

    func metricSteps(_ dir: String) throws -> [Int] {
        try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { line in
            try JSONTestData.object(Data(line.utf8), "metrics.jsonl line").value("step", as: Int.self)
        }
    }

    func testRunDirectoryHoldsEverything() throws {
        let spec = try writeSpec()
        let dir = root + "/run"
        try train([spec, "--out", dir])
        let names = files(dir)
        for f in ["spec.yaml", "metrics.jsonl", "checkpoint.gck", "generator.pb", "discriminator.pb", "frames"] {
            XCTAssertTrue(names.contains(f), "missing \(f) in \(names.sorted())")
        }
        XCTAssertTrue(names.contains { $0.hasPrefix("events.out.tfevents.") }, "\(names.sorted())")
        XCTAssertTrue(names.contains("training.mp4") || names.contains("training.gif"), "\(names.sorted())")
        // 2 epochs × 3 batches + 1 iterations; a frame every 3 of them.
        XCTAssertEqual(files(dir + "/frames").count, 7 / 3)
        let c = try Checkpoint.read(dir + "/checkpoint.gck")
        XCTAssertEqual(c.counters.iteration, 7)

        // Resuming with more epochs continues the same run directory.
        try train(["--resume", dir, "--epochs", "3"])
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").counters.iteration, 10)
        XCTAssertEqual(try metricSteps(dir).last, 10)
        XCTAssertEqual(files(dir).filter { $0.hasPrefix("events.out.tfevents.") }.count, 2)
    }

    func testEMAExportsTheAverageAndTheRawWeights() throws {
        // With `ema`, generator.pb holds the average (the checkpoint's generator_ema buffers)
        // and generator_raw.pb the trained weights.
        let spec = try writeSpec()
        try (try String(contentsOfFile: spec, encoding: .utf8) + "\nema: {decay: 0.5, start: 1}\n").write(toFile: spec, atomically: true, encoding: .utf8)
        let dir = root + "/ema"
        try train([spec, "--out", dir])
        let c = try Checkpoint.read(dir + "/checkpoint.gck")
        let state = Dictionary(uniqueKeysWithValues: c.tensors.map { ($0.name, $0.values) })
        let average = try loadGraph(path: dir + "/generator.pb"), raw = try loadGraph(path: dir + "/generator_raw.pb")
        var differ = 0
        for (v, t) in average.initializers where t.dtype == .float32 {
            let name = average.name(of: v)
            XCTAssertEqual(t.floats, state["\(GeneratorEMA.prefix)/\(name)"], name)
            let r = try XCTUnwrap(raw.initializers.first { raw.name(of: $0.key) == name }?.value, name)
            XCTAssertEqual(r.floats, state["generator/\(name)"], name)
            if r.floats != t.floats { differ += 1 }
        }
        XCTAssertGreaterThan(differ, 0)
        // Both are samplable generators.
        XCTAssertEqual(try GeneratorModel.load(dir + "/generator.pb").latentSize, 8)
        XCTAssertEqual(try GeneratorModel.load(dir + "/generator_raw.pb").latentSize, 8)
    }

    func testOutputSwitchesAreHonoured() throws {
        let spec = try writeSpec(output: "{frames: false, video: false, tensorboard: false, checkpoint: never}")
        let dir = root + "/quiet"
        try train([spec, "--out", dir])
        let names = files(dir)
        XCTAssertFalse(names.contains { $0.hasPrefix("events.out.tfevents.") }, "\(names.sorted())")
        XCTAssertFalse(names.contains("training.mp4") || names.contains("training.gif"), "\(names.sorted())")
        XCTAssertEqual(files(dir + "/frames").count, 0)
        // The final checkpoint is still written, so the run can be resumed.
        XCTAssertTrue(names.contains("checkpoint.gck"))
        XCTAssertTrue(names.contains("metrics.jsonl"))
        XCTAssertTrue(names.contains("generator.pb"))
    }

    /// The delay (centiseconds) of a GIF's first frame.
    func gifDelay(_ path: String) throws -> Int {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Graphic Control Extension: 21 F9 04 <flags> <delay lo> <delay hi>.
        let gce = try XCTUnwrap((0..<(bytes.count - 6)).first { bytes[$0] == 0x21 && bytes[$0 + 1] == 0xF9 && bytes[$0 + 2] == 4 })
        return Int(bytes[gce + 4]) | Int(bytes[gce + 5]) << 8
    }

    func testGIFFollowsTheSpecFrameRate() throws {
        // Without ffmpeg the animation is a GIF whose delay is 100 / fps centiseconds.
        let saved = ProcessInfo.processInfo.environment["PATH"]
        let savedFFmpeg = ProcessInfo.processInfo.environment["GANNET_FFMPEG"]
        setenv("PATH", "/nonexistent", 1)
        unsetenv("GANNET_FFMPEG")
        defer {
            setenv("PATH", saved ?? "/usr/bin:/bin", 1)
            if let savedFFmpeg { setenv("GANNET_FFMPEG", savedFFmpeg, 1) }
        }
        let spec = try writeSpec(output: "{video: {fps: 25}}")
        let dir = root + "/gif"
        try train([spec, "--out", dir])
        XCTAssertEqual(try gifDelay(dir + "/training.gif"), 4)
    }

    func testNotebookLoopRunsEpochsTimesBatches() throws {
        // As dcgan_mnist64: per-epoch frames, and a 5 fps GIF of them even when ffmpeg is installed.
        let spec = try writeSpec(schedule: "{epochs: 2, batch_size: 6, image_frequency: epoch, loop: epochs}",
                                 output: "{video: {fps: 5, format: gif}}")
        let dir = root + "/notebook"
        try train([spec, "--out", dir])
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").counters.iteration, 6)
        XCTAssertEqual(files(dir + "/frames").count, 2)
        XCTAssertFalse(files(dir).contains("training.mp4"))
        XCTAssertEqual(try gifDelay(dir + "/training.gif"), 20)
    }

    func testUniformLatentsReachTheSamplers() throws {
        let spec = try writeSpec(latent: "{size: 8, distribution: uniform}")
        let dir = root + "/uniform"
        try train([spec, "--out", dir])
        let model = try GeneratorModel.load(dir + "/generator.pb")
        XCTAssertEqual(model.latentDistribution, "uniform")
        let out = root + "/uniform.png"
        try GanSample.parse([dir + "/generator.pb", "--n", "4", "--seed", "0", "--out", out, "--quiet"]).run()
        let meta = try JSONTestData.object(path: root + "/uniform.json")
        XCTAssertEqual(meta["latent_distribution"] as? String, "uniform")
        let z = try XCTUnwrap(((meta["tiles"] as? [[String: Any]])?.first?["z"]) as? [Double])
        XCTAssertEqual(z.map(Float.init), Latents.vector(seed: 0, index: 0, size: 8, distribution: "uniform"))
    }

    func testBadSpecValueNamesTheFile() throws {
        let spec = try writeSpec(schedule: "{epochs: 2, batch_size: 6, loop: forever}")
        let message = errorMessage { try self.train([spec, "--out", self.root + "/bad"]) }
        XCTAssertTrue(message.contains("tiny_run.yaml"), message)
        XCTAssertTrue(message.contains("schedule.loop"), message)
    }
}
