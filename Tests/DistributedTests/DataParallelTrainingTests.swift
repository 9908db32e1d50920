// DataParallelTrainingTests: `mpirun -np K gan-train` on loopback (shared memory, `--mca btl
// self,vader`) against the single-process run with the same global batch (issue 16 item 2).
// Each test starts the release `gan-train` next to the test bundle under Open MPI's `mpirun`
// (Tools/scripts/install-deps.sh installs it) and compares the checkpoints' tensors: every
// weight, optimizer moment and BatchNorm statistic.

import Foundation
import GAN
import Media
import TestSupport
import XCTest

final class DataParallelTrainingTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        // 16 images of 8×8: two global batches of 8 per epoch.
        root = try TestImageFolder.make(prefix: "mpi", count: 16)
        try FileManager.default.createDirectory(atPath: rankTemp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// The tiny GAN (TestSupport's TinySpec) as a WGAN-GP with its D named `critic`; `critic` is
    /// the critic's layer list, `extra` more top-level spec lines. SGD by default: unlike Adam
    /// (whose first update is ±lr whatever the gradient's scale) it shows a wrongly scaled
    /// average as a wrong weight.
    func writeSpec(critic: [String] = TinySpec.Layers.discriminator(), generatorFirst: String = "linear: 32",
                   generatorNorm: [String] = [], extra: String? = nil,
                   optimizer: String = "{kind: sgd, lr: 0.05, momentum: 0.5}",
                   schedule: String = "{epochs: 3, batch_size: 8, generator_frequency: 1, image_frequency: 2}") throws -> String {
        let layers = TinySpec.Layers(generator: TinySpec.Layers.generator(first: generatorFirst, norm: generatorNorm),
                                     discriminator: critic, discriminatorName: "critic")
        let yaml = TinySpec.yaml(name: "tiny_mpi", datasetPath: "\(root)/images", loss: "wgan_gp", schedule: schedule,
                                 optimizer: optimizer, layers: layers, extra: extra)
        let path = root + "/spec.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The ranks' TMPDIR (`mpirun -x`), where the ranks other than 0 once kept scratch run
    /// directories (`gannet-rank-PID`) that an aborted job left behind.
    var rankTemp: String { root + "/tmp" }

    /// `mpirun -np ranks` with the options every test uses.
    func mpirunPrefix(_ mpirun: String, ranks: Int) -> [String] {
        [mpirun, "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader", "-x", "TMPDIR=\(rankTemp)", "-np", "\(ranks)"]
    }

    /// No rank left files in its TMPDIR.
    func assertNoRankScratch(file: StaticString = #filePath, line: UInt = #line) {
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: rankTemp)) ?? []).filter { $0.hasPrefix("gannet") }
        XCTAssertEqual(left, [], "left in the ranks' TMPDIR", file: file, line: line)
    }

    /// The release binaries sit next to the test bundle.
    var ganTrain: String {
        let dir = (CommandLine.arguments[0] as NSString).deletingLastPathComponent
        let candidates = [dir + "/gan-train", (dir as NSString).deletingLastPathComponent + "/gan-train"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs a command; returns its exit status and stderr.
    @discardableResult
    func execute(_ argv: [String], expect: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, expect, "\(argv.joined(separator: " ")): \(text)", file: file, line: line)
        return text
    }

    /// `gan-train SPEC --out DIR --threads 1 -q` plus `args`, under `mpirun -np ranks` (nil: directly).
    func train(_ spec: String, _ out: String, ranks: Int?, _ args: [String] = [], expect: Int32 = 0,
               file: StaticString = #filePath, line: UInt = #line) throws {
        guard let mpirun = Self.mpirun else {
            XCTFail("mpirun not found: run Tools/scripts/install-deps.sh (Open MPI)", file: file, line: line)
            return
        }
        let command = [ganTrain, spec, "--out", root + "/" + out, "--threads", "1", "-q"] + args
        let prefix = ranks.map { mpirunPrefix(mpirun, ranks: $0) } ?? []
        try execute(prefix + command, expect: expect, file: file, line: line)
    }

    func checkpoint(_ out: String) throws -> Checkpoint.Contents { try Checkpoint.read(root + "/" + out + "/checkpoint.gck") }

    /// Every tensor of `a` equals `b`'s within `tolerance` relative to the tensor's largest magnitude
    /// (0: bit-identical); the counters are equal.
    func assertSame(_ a: Checkpoint.Contents, _ b: Checkpoint.Contents, tolerance: Float,
                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.counters, b.counters, file: file, line: line)
        XCTAssertEqual(a.optimizerCounters, b.optimizerCounters, file: file, line: line)
        let ta = a.tensors.sorted { $0.name < $1.name }, tb = b.tensors.sorted { $0.name < $1.name }
        XCTAssertEqual(ta.map(\.name), tb.map(\.name), file: file, line: line)
        for (x, y) in zip(ta, tb) {
            XCTAssertEqual(x.shape, y.shape, x.name, file: file, line: line)
            let scale = x.values.map(abs).max() ?? 0
            let diff = zip(x.values, y.values).map { abs($0 - $1) }.max() ?? 0
            if tolerance == 0 {
                let differing = zip(x.values, y.values).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(differing, 0, "\(x.name): \(differing) values differ (max difference \(diff))", file: file, line: line)
            } else {
                XCTAssertLessThanOrEqual(diff, tolerance * max(scale, 1e-6), "\(x.name): max difference \(diff), largest magnitude \(scale)", file: file, line: line)
            }
        }
    }

    /// The logged scalars of a run directory, one dictionary per logged iteration.
    func metrics(_ out: String) throws -> [[String: Double]] {
        let text = try String(contentsOfFile: root + "/" + out + "/metrics.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
    }

    func testTwoRanksEqualOneProcessWithTheSameGlobalBatch() throws {
        let spec = try writeSpec()
        try train(spec, "single", ranks: nil, ["--max-steps", "6", "--log-every", "1"])
        try train(spec, "two", ranks: 2, ["--max-steps", "6", "--check-replicas", "--log-every", "1"])
        let a = try checkpoint("single"), b = try checkpoint("two")
        assertNoRankScratch()
        XCTAssertEqual(a.counters.iteration, 6)
        XCTAssertEqual(a.counters.generatorSteps, 3)
        assertSame(a, b, tolerance: 1e-5)
        // Rank 0 logs what the single process logs: the global batch's losses and the norm of the
        // averaged gradient (not the mean of the ranks' norms), iteration by iteration.
        let ma = try metrics("single"), mb = try metrics("two")
        XCTAssertEqual(ma.count, 6)
        XCTAssertEqual(ma.count, mb.count)
        for (x, y) in zip(ma, mb) {
            for key in ["d_loss", "wdist", "gp", "d_grad_norm", "g_loss", "g_grad_norm"] where x[key] != nil {
                let u = x[key]!, v = try XCTUnwrap(y[key], "\(key) missing at step \(x["step"] ?? -1)")
                XCTAssertEqual(u, v, accuracy: 1e-4 * max(abs(u), 1e-2), "\(key) at step \(x["step"] ?? -1)")
            }
        }
        XCTAssertNotNil(mb.first { $0["g_grad_norm"] != nil }, "no G step was logged")
        // Rank 0 alone wrote the run directory; no other rank left a scratch directory behind.
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: root + "/two"))
        XCTAssertTrue(files.isSuperset(of: ["checkpoint.gck", "metrics.jsonl", "generator.pb", "critic.pb", "spec.yaml"]), "\(files)")
    }

    func testOneRankUnderMpirunIsBitIdentical() throws {
        let spec = try writeSpec()
        try train(spec, "plain", ranks: nil, ["--max-steps", "5"])
        try train(spec, "mpi1", ranks: 1, ["--max-steps", "5"])
        assertSame(try checkpoint("plain"), try checkpoint("mpi1"), tolerance: 0)
    }

    /// A checkpoint written by K ranks resumes under another K, and the result equals the
    /// uninterrupted single-process run (both directions: 2 → 1 and 1 → 2).
    func testResumeWithAnotherRankCount() throws {
        let spec = try writeSpec(optimizer: "{kind: adam, lr: 1.0e-3, betas: [0.5, 0.9]}")  // Adam: its moments are resumed too
        try train(spec, "whole", ranks: nil, ["--max-steps", "6"])
        try train(spec, "twoThenOne", ranks: 2, ["--max-steps", "3"])
        try execute([ganTrain, "--resume", root + "/twoThenOne", "--max-steps", "6", "--threads", "1", "-q"])
        try train(spec, "oneThenTwo", ranks: nil, ["--max-steps", "3"])
        try execute([Self.mpirun!, "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader", "-np", "2",
                     ganTrain, "--resume", root + "/oneThenTwo", "--max-steps", "6", "--threads", "1", "-q", "--check-replicas"])
        let whole = try checkpoint("whole")
        assertSame(whole, try checkpoint("twoThenOne"), tolerance: 1e-5)
        assertSame(whole, try checkpoint("oneThenTwo"), tolerance: 1e-5)
    }

    /// SIGTERM to mpirun: every rank stops after the same iteration, rank 0's checkpoint is
    /// complete and resumes.
    func testSignalStopsAllRanksAfterRank0sCheckpoint() throws {
        let spec = try writeSpec()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.mpirun!)
        p.arguments = ["--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader", "-np", "2",
                       ganTrain, spec, "--out", root + "/stopped", "--threads", "1", "-q", "--epochs", "100000"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let metrics = root + "/stopped/metrics.jsonl"
        let deadline = Date().addingTimeInterval(60)
        while ((try? String(contentsOfFile: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 2 && Date() < deadline {
            usleep(50_000)
        }
        p.terminate()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertTrue(text.contains("interrupted at iteration"), text)
        let c = try checkpoint("stopped")
        XCTAssertGreaterThan(c.counters.iteration, 2)
        try execute([ganTrain, "--resume", root + "/stopped", "--epochs", "100000", "--max-steps", "\(c.counters.iteration + 2)", "--threads", "1", "-q"])
        XCTAssertEqual(try checkpoint("stopped").counters.iteration, c.counters.iteration + 2)
    }

    /// BatchNorm with per-rank batch statistics (DDP's default): the running statistics travel
    /// in the fusion buffer (averaged with the gradients), so every rank still ends each step
    /// with identical weights and statistics (the replica hash covers every stored buffer).
    func testPerRankBatchNormKeepsReplicasIdentical() throws {
        let spec = try writeSpec(generatorNorm: ["batchnorm1d"])
        try train(spec, "bn", ranks: 2, ["--max-steps", "6", "--check-replicas"])
        let c = try checkpoint("bn")
        XCTAssertEqual(c.counters.iteration, 6)
        let names = Set(c.tensors.map(\.name))
        XCTAssertTrue(names.isSuperset(of: ["generator/bn1.running_mean", "generator/bn1.running_var"]), "\(names)")
    }

    /// BatchNorm after a bias-free conv (a bias ahead of BatchNorm has a zero gradient in exact
    /// arithmetic, so its value would be rounding noise, meaningless to compare relatively).
    static let batchNormCritic = TinySpec.Layers.discriminator(conv: "conv: {out: 4, kernel: 4, stride: 2, padding: 1, bias: false}",
                                                               norm: ["batchnorm2d"])

    /// SGD at a rate that keeps a BatchNorm critic under WGAN-GP from blowing up within the
    /// test's steps (an exploding run amplifies summation-order rounding past any tolerance).
    static let gentleSGD = "{kind: sgd, lr: 0.01, momentum: 0.5}"

    /// `sync_batchnorm: true` (issue 16): a generator and a critic with BatchNorm trained by two
    /// ranks equal the single-process run with the same global batch — weights, optimizer state
    /// and running statistics — within float-summation rounding. The critic's BatchNorm sits
    /// under WGAN-GP's gradient penalty, so the double backward through the synchronised
    /// statistics is covered too. Without sync the same job differs (per-rank statistics), so
    /// the comparison is sensitive to the synchronisation.
    func testSyncBatchNormTwoRanksEqualOneProcess() throws {
        let spec = try writeSpec(critic: Self.batchNormCritic, generatorFirst: "linear: {out: 32, bias: false}",
                                 generatorNorm: ["batchnorm1d"], extra: "sync_batchnorm: true", optimizer: Self.gentleSGD)
        try train(spec, "single", ranks: nil, ["--max-steps", "6"])
        try train(spec, "two", ranks: 2, ["--max-steps", "6", "--check-replicas"])
        let a = try checkpoint("single"), b = try checkpoint("two")
        XCTAssertEqual(a.counters.iteration, 6)
        let names = Set(a.tensors.map(\.name))
        XCTAssertTrue(names.isSuperset(of: ["generator/bn1.running_var", "critic/bn1.running_var"]), "\(names)")
        assertSame(a, b, tolerance: 1e-5)
        print("sync_batchnorm K=2 vs 1 process: max relative difference \(maxRelativeDifference(a, b))")
        // The exported models are inference graphs: no collective in them.
        for model in ["generator.pb", "critic.pb"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: root + "/two/" + model))
            XCTAssertNil(bytes.range(of: Data("AllReduce".utf8)), model)
            XCTAssertNotNil(bytes.range(of: Data("BatchNormalization".utf8)), model)
        }

        let unsynced = try writeSpec(critic: Self.batchNormCritic, generatorFirst: "linear: {out: 32, bias: false}",
                                     generatorNorm: ["batchnorm1d"], optimizer: Self.gentleSGD)
        try train(unsynced, "perRank", ranks: 2, ["--max-steps", "6"])
        let perRank = maxRelativeDifference(a, try checkpoint("perRank"))
        print("per-rank BatchNorm K=2 vs 1 process: max relative difference \(perRank)")
        XCTAssertGreaterThan(perRank, 1e-3, "per-rank statistics should differ from the global batch's")
    }

    /// Synchronised statistics over uneven shards (2, 3, 3 of 8) are the share-weighted means, so
    /// three ranks still equal one process.
    func testSyncBatchNormUnevenShards() throws {
        let spec = try writeSpec(critic: Self.batchNormCritic, generatorFirst: "linear: {out: 32, bias: false}",
                                 generatorNorm: ["batchnorm1d"], extra: "sync_batchnorm: true", optimizer: Self.gentleSGD)
        try train(spec, "single", ranks: nil, ["--max-steps", "4"])
        try train(spec, "three", ranks: 3, ["--max-steps", "4", "--check-replicas"])
        assertSame(try checkpoint("single"), try checkpoint("three"), tolerance: 1e-5)
    }

    /// The largest per-tensor difference of two checkpoints relative to the tensor's largest magnitude.
    func maxRelativeDifference(_ a: Checkpoint.Contents, _ b: Checkpoint.Contents) -> Float {
        let tb = Dictionary(uniqueKeysWithValues: b.tensors.map { ($0.name, $0.values) })
        return a.tensors.map { t in
            let scale = max(t.values.map(abs).max() ?? 0, 1e-6)
            return (zip(t.values, tb[t.name] ?? []).map { abs($0 - $1) }.max() ?? 0) / scale
        }.max() ?? 0
    }

    /// Three ranks split a batch of 8 as 2, 3, 3: each rank's gradient is weighted by its share,
    /// so the result still equals the single-process run.
    func testUnevenShardsAreWeighted() throws {
        let spec = try writeSpec()
        try train(spec, "single", ranks: nil, ["--max-steps", "4"])
        try train(spec, "three", ranks: 3, ["--max-steps", "4", "--check-replicas"])
        assertSame(try checkpoint("single"), try checkpoint("three"), tolerance: 1e-5)
    }

    /// A batch smaller than the rank count is refused at the start, naming the spec, on every
    /// rank; the job ends (no rank waits in a collective), writes no checkpoint and leaves no
    /// scratch directory in any rank's TMPDIR.
    func testBatchSmallerThanRankCountIsAClearError() throws {
        let spec = try writeSpec(schedule: "{epochs: 1, batch_size: 2}")
        guard let mpirun = Self.mpirun else { return XCTFail("mpirun not found") }
        let text = try execute(mpirunPrefix(mpirun, ranks: 3) + [ganTrain, spec, "--out", root + "/tooSmall", "--threads", "1", "-q"], expect: 1)
        XCTAssertTrue(text.contains("\(spec): a batch of 2 cannot be split over 3 ranks"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/tooSmall/checkpoint.gck"))
        assertNoRankScratch()
    }

    /// ZeRO-1 (issue 16, optimizer sharding; on by default): two ranks that each update only
    /// their block of the parameters and allgather them end bit-identical to two ranks that
    /// allreduce and update everything (`GANNET_BASELINE=zero1`: the reduce-scatter sums the same
    /// two values), and equal the single process within rounding, with the optimizer state
    /// gathered whole into the checkpoint; a sharded 3-rank run resumed under 2 ranks (other
    /// blocks, and the replica check gathers the state each iteration) equals the uninterrupted
    /// single process.
    func testShardedOptimizerEqualsUnshardedAndResumesUnderAnotherRankCount() throws {
        guard let mpirun = Self.mpirun else { return XCTFail("mpirun not found") }
        let spec = try writeSpec(optimizer: "{kind: adam, lr: 1.0e-3, betas: [0.5, 0.9]}")
        let mpi = [mpirun, "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader"]
        try train(spec, "single", ranks: nil, ["--max-steps", "6"])
        try train(spec, "sharded", ranks: 2, ["--max-steps", "6"])
        try execute(mpi + ["-x", "GANNET_BASELINE=zero1", "-np", "2", ganTrain, spec, "--out", root + "/unsharded",
                           "--threads", "1", "-q", "--max-steps", "6"])
        let single = try checkpoint("single"), sharded = try checkpoint("sharded")
        assertSame(sharded, try checkpoint("unsharded"), tolerance: 0)
        assertSame(single, sharded, tolerance: 1e-5)
        XCTAssertTrue(sharded.tensors.contains { $0.name.hasSuffix("/adam.v") }, "the moments are in the checkpoint")
        try train(spec, "threeThenTwo", ranks: 3, ["--max-steps", "3"])
        try execute(mpi + ["-np", "2", ganTrain, "--resume", root + "/threeThenTwo", "--max-steps", "6", "--threads", "1", "-q", "--check-replicas"])
        assertSame(single, try checkpoint("threeThenTwo"), tolerance: 1e-5)
    }
}
