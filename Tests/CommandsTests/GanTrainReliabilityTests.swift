// GanTrainReliabilityTests: `gan-train` never loses a run and never writes NaN silently
// (issue 15): run directories refuse a second fresh run and a concurrent one, --resume keeps
// the run's spec, overrides and dataset, hyperparameters are validated, a NaN stops the run
// with the last good checkpoint kept (or rolls back with halved learning rates), and a run
// killed with SIGKILL resumes bit-identically without duplicate metrics rows or temporaries.

import Commands
import Foundation
import GAN
import Media
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

extension GanTrainTests {
    /// The LSGAN / SGD variant of the tiny spec: a linear critic head under SGD diverges
    /// (to ∞ within a few steps) for a D learning rate of 0.3 or more and trains for 20 epochs at 0.075.
    func writeDivergingSpec(output: String = "{}") throws -> String {
        try writeSpec(output: output, loss: "lsgan", optimizer: "{kind: sgd, lr: 1.0e-3}", name: "sgd_run")
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func metricRows(_ dir: String) throws -> [[String: Any]] {
        try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
            try JSONTestData.object(Data($0.utf8), "\(dir)/metrics.jsonl line")
        }
    }

    func assertStrictlyIncreasing(_ steps: [Int], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(steps, Array(Set(steps)).sorted(), "duplicate or unordered rows: \(steps)", file: file, line: line)
    }

    // MARK: run directories

    func testFreshRunIntoAnExistingRunIsAnError() throws {
        let spec = try writeSpec()
        let dir = root + "/run"
        try train([spec, "--out", dir])
        let checkpoint = try bytes(dir + "/checkpoint.gck")
        let metrics = try bytes(dir + "/metrics.jsonl")
        let message = errorMessage { try self.train([spec, "--out", dir]) }
        XCTAssertEqual(message, "\(dir): already holds a run (checkpoint.gck); continue it with --resume \(dir), or pass --overwrite to replace it")
        XCTAssertEqual(try bytes(dir + "/checkpoint.gck"), checkpoint)
        XCTAssertEqual(try bytes(dir + "/metrics.jsonl"), metrics)
        // --overwrite replaces the run: one run's rows and one event file.
        try train([spec, "--out", dir, "--overwrite"])
        XCTAssertEqual(try metricSteps(dir), [1, 4, 7])
        XCTAssertEqual(files(dir).filter { $0.hasPrefix("events.out.tfevents.") }.count, 1)
    }

    func testALockedRunDirectoryIsRefusedAtOnce() throws {
        let spec = try writeSpec()
        let dir = root + "/locked"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Another process's lock, as a running gan-train holds it.
        let fd = open(dir + "/.gannet.lock", O_RDWR | O_CREAT, 0o644)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        _ = "4242\n".withCString { write(fd, $0, 5) }
        let message = errorMessage { try self.train([spec, "--out", dir]) }
        XCTAssertEqual(message, "\(dir): the run directory is in use by another gan-train (pid 4242); wait for it to finish or choose another --out")
        XCTAssertFalse(files(dir).contains("metrics.jsonl"))
        close(fd)
        try train([spec, "--out", dir])
        // The lock is released when the run ends: the run can be resumed at once.
        try train(["--resume", dir, "--epochs", "3"])
        XCTAssertEqual(try metricSteps(dir).last, 10)
    }

    func testResumeIntoAnotherDirectoryStartsARunThere() throws {
        let spec = try writeSpec()
        let dir = root + "/first"
        try train([spec, "--out", dir])
        let before = try bytes(dir + "/checkpoint.gck")
        let branch = root + "/branch"
        try train(["--resume", dir, "--out", branch, "--epochs", "3"])
        XCTAssertEqual(try Checkpoint.read(branch + "/checkpoint.gck").counters.iteration, 10)
        XCTAssertEqual(try bytes(dir + "/checkpoint.gck"), before)
        // The branch now holds a run of its own.
        XCTAssertTrue(errorMessage { try self.train(["--resume", dir, "--out", branch, "--epochs", "3"]) }.contains("already holds a run"))
        try train(["--resume", dir, "--out", branch, "--epochs", "3", "--overwrite"])
        XCTAssertEqual(try metricSteps(branch), [10])
    }

    // MARK: resume keeps the run's configuration

    func testResumeEnforcesTheSpecAndOverrides() throws {
        let spec = try writeSpec()
        let dir = root + "/enforced"
        try train([spec, "--out", dir, "--g-lr", "2e-3", "--max-steps", "4"])
        let saved = try XCTUnwrap(try Checkpoint.read(dir + "/checkpoint.gck").run)
        XCTAssertEqual(saved.gLR, 2e-3)
        XCTAssertEqual(saved.spec, try String(contentsOfFile: spec, encoding: .utf8))
        XCTAssertEqual(saved.specHash, RunConfig.hash(saved.spec))

        // The spec file changed since: an error naming both hashes, unless allowed.
        let changed = try writeSpec(schedule: "{epochs: 3, batch_size: 6, image_frequency: 2}")
        let m = errorMessage { try self.train([changed, "--resume", dir]) }
        XCTAssertTrue(m.hasPrefix("\(dir): cannot resume: \(changed) (spec hash \(RunConfig.hash(try String(contentsOfFile: changed, encoding: .utf8)))) differs from the spec the run was started with (hash \(saved.specHash))"), m)
        XCTAssertTrue(m.hasSuffix("pass --allow-spec-change"), m)
        XCTAssertEqual(errorMessage { try self.train(["--resume", dir, "--g-lr", "1e-3"]) },
                       "\(dir): cannot resume: --g-lr 0.001 differs from the run's 0.002. Resume without them to continue the same run, or pass --allow-spec-change")
        XCTAssertTrue(errorMessage { try self.train(["--resume", dir, "--d-lr", "1e-3"]) }.contains("--d-lr 0.001 differs from the run's spec value"))
        XCTAssertEqual(errorMessage { try self.train(["--resume", dir, "--seed", "9"]) },
                       "--seed 9: the run in \(dir) was started with seed 3; a resumed run keeps its seed")
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").counters.iteration, 4)

        // Without SPEC the saved text is used, not the (edited) copy in the run directory.
        try "garbage: [".write(toFile: dir + "/spec.yaml", atomically: true, encoding: .utf8)
        try train(["--resume", dir, "--max-steps", "5"])
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").run, saved)
        XCTAssertEqual(try String(contentsOfFile: dir + "/spec.yaml", encoding: .utf8), saved.spec)

        // Allowed: the new spec and learning rate are saved for the next resume.
        try train([changed, "--resume", dir, "--g-lr", "1e-3", "--allow-spec-change"])
        let now = try XCTUnwrap(try Checkpoint.read(dir + "/checkpoint.gck").run)
        XCTAssertEqual(now.gLR, 1e-3)
        XCTAssertEqual(now.spec, try String(contentsOfFile: changed, encoding: .utf8))
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").counters.iteration, 10)
    }

    func testDatasetOverrideIsSavedAndResumed() throws {
        // The spec names images/; the run trains on other/ (--dataset), and so does its resume
        // even after images/ is gone.
        let spec = try writeSpec()
        try FileManager.default.copyItem(atPath: root + "/images", toPath: root + "/other")
        let dir = root + "/dataset"
        try train([spec, "--out", dir, "--dataset", "folder:\(root)/other", "--max-steps", "4"])
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").run?.dataset, "folder:\(root)/other")
        try FileManager.default.removeItem(atPath: root + "/images")
        try train(["--resume", dir])
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").counters.iteration, 7)
    }

    func testResumingOnFewerBatchesThanTheCursorIsAClearError() throws {
        let spec = try writeSpec()
        let dir = root + "/cursor"
        try train([spec, "--out", dir, "--max-steps", "3"])
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").counters.cursor, 3)
        // 6 images: one batch per epoch.
        let small = root + "/small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        for i in 0..<6 { try FileManager.default.copyItem(atPath: root + String(format: "/images/%02d.png", i), toPath: small + String(format: "/%02d.png", i)) }
        let m = errorMessage { try self.train(["--resume", dir, "--dataset", "folder:\(small)", "--allow-spec-change"]) }
        XCTAssertEqual(m, "\(dir)/checkpoint.gck: the checkpoint's data cursor is batch 3 of its epoch, but the dataset has 1 batches per epoch (another dataset or batch size?)")
    }

    func testCommandLineHyperparametersAreValidatedLikeTheSpec() throws {
        let spec = try writeSpec()
        let dir = root + "/hp"
        let cases: [([String], String)] = [
            (["--d-lr", "nan"], "--d-lr must be a finite number, got nan"),
            (["--d-lr", "inf"], "--d-lr must be a finite number, got inf"),
            (["--d-lr", "1e30"], "--d-lr must be at most 10.0, got 1e+30"),
            (["--d-lr", "-1"], "--d-lr must be positive, got -1.0"),
            (["--g-lr", "0"], "--g-lr must be positive, got 0.0"),
            (["--betas", "1,1"], "--betas: beta1 must be in [0, 1), got 1.0"),
            (["--betas", "0.5"], "--betas must be b1,b2, got '0.5'"),
            (["--generator-frequency", "-1"], "--generator-frequency must not be negative, got -1"),
        ]
        for (args, expected) in cases {
            XCTAssertEqual(errorMessage { try self.train([spec, "--out", dir] + args) }, expected, "\(args)")
        }
        // Nothing was created for the rejected runs.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
    }

    // MARK: non-finite values

    func testNonFiniteStopsAndKeepsTheLastGoodCheckpoint() throws {
        let spec = try writeDivergingSpec()
        // A fresh run that diverges before its first checkpoint leaves none.
        let fresh = root + "/diverged"
        let m0 = errorMessage { try self.train([spec, "--out", fresh, "--d-lr", "0.6", "--epochs", "20"]) }
        XCTAssertTrue(m0.hasPrefix("\(fresh): step 4: non-finite values in the discriminator step: d_grad_norm = inf"), m0)
        XCTAssertTrue(m0.hasSuffix("training stopped, no checkpoint had been written"), m0)
        XCTAssertFalse(files(fresh).contains("checkpoint.gck"))
        XCTAssertFalse(files(fresh).contains("generator.pb"))

        // A good run resumed with a diverging learning rate (issue 15: `--d-lr 1e30` overwrote
        // the good checkpoint with NaN): every checkpoint written stays finite and the last one
        // is kept.
        let dir = root + "/good"
        try train([spec, "--out", dir])
        let generator = try bytes(dir + "/generator.pb")
        let m = errorMessage { try self.train(["--resume", dir, "--d-lr", "0.6", "--allow-spec-change", "--epochs", "20"]) }
        XCTAssertTrue(m.contains(": non-finite values in the "), m)
        let c = try Checkpoint.read(dir + "/checkpoint.gck")
        XCTAssertTrue(m.hasSuffix("training stopped, the last good checkpoint (after step \(c.counters.iteration)) is kept in \(dir)/checkpoint.gck"), m)
        XCTAssertGreaterThanOrEqual(c.counters.iteration, 7)
        XCTAssertEqual(try bytes(dir + "/generator.pb"), generator)
    }

    func testRollbackHalvesTheLearningRates() throws {
        // Without per-epoch checkpoints a rollback restarts from the initial weights.
        let spec = try writeDivergingSpec(output: "{checkpoint: never}")
        let dir = root + "/rollback"
        try train([spec, "--out", dir, "--d-lr", "0.15", "--epochs", "20", "--on-nonfinite", "rollback", "--log-every", "1"])
        let c = try Checkpoint.read(dir + "/checkpoint.gck")
        XCTAssertEqual(c.counters.iteration, 61)
        XCTAssertEqual(c.run?.dLR, 0.075)
        XCTAssertEqual(c.run?.gLR, 5e-4)
        let rows = try metricRows(dir)
        assertStrictlyIncreasing(try rows.map { try $0.value("step", as: Int.self) })
        XCTAssertEqual(rows.count, 61)
        XCTAssertEqual(rows.last?["lr_d"] as? Double, 0.075)
        // A resume continues with the halved rates.
        try train(["--resume", dir, "--epochs", "21"])
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").run?.dLR, 0.075)
    }

    func testRollbackGivesUpAfterThreeTries() throws {
        let spec = try writeDivergingSpec()
        let dir = root + "/hopeless"
        let m = errorMessage { try self.train([spec, "--out", dir, "--d-lr", "0.6", "--epochs", "20", "--on-nonfinite", "rollback"]) }
        XCTAssertTrue(m.contains(" after 3 rollbacks; training stopped, the last good checkpoint (after step "), m)
        // The kept checkpoint is readable (finite, checksums intact).
        XCTAssertNoThrow(try Checkpoint.read(dir + "/checkpoint.gck"))
    }

    // MARK: interrupted runs

    /// The gan-train executable next to the test bundle (swift test builds every product).
    func ganTrainExecutable() throws -> String { try toolExecutable("gan-train") }

    func testKilledRunResumesBitIdenticallyWithoutDuplicateRows() throws {
        let spec = try writeSpec(schedule: "{epochs: 1000, batch_size: 2, image_frequency: 50}", output: "{frames: false, video: false, tensorboard: false}")
        let straight = root + "/straight"
        try train([spec, "--out", straight, "--log-every", "1"])

        let dir = root + "/killed"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try ganTrainExecutable())
        p.arguments = [spec, "--out", dir, "--log-every", "1", "--quiet", "--threads", "1"]
        try p.run()
        // Kill it once a checkpoint exists and rows past it were logged.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let c = try? Checkpoint.read(dir + "/checkpoint.gck"), c.counters.iteration >= 14,
               let rows = try? metricSteps(dir), (rows.last ?? 0) > c.counters.iteration + 2 { break }
            usleep(2000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, "the run finished before it was killed")
        let killedAt = try Checkpoint.read(dir + "/checkpoint.gck").counters.iteration
        XCTAssertGreaterThanOrEqual(try metricSteps(dir).last!, killedAt)
        // Rows past the checkpoint (the kill usually leaves some; one is added in case it fell
        // right after a checkpoint), and what a kill during a write leaves: a torn row and
        // temporaries.
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/metrics.jsonl"))
        try h.seekToEnd()
        try h.write(contentsOf: Data("{\"step\": \(killedAt + 1), \"epoch\": 0}\n{\"step\": 99".utf8))
        try h.close()
        for t in ["checkpoint.gck.tmp", "checkpoint.gck.tmp31337", "generator.pb.tmp42", "frames/frame_00001.png.tmp7"] {
            FileManager.default.createFile(atPath: dir + "/" + t, contents: Data("partial".utf8))
        }

        try train(["--resume", dir, "--log-every", "1"])
        XCTAssertFalse(files(dir).contains { $0.contains(".tmp") }, "\(files(dir).sorted())")
        XCTAssertFalse(files(dir + "/frames").contains { $0.contains(".tmp") })
        let a = try Checkpoint.read(straight + "/checkpoint.gck"), b = try Checkpoint.read(dir + "/checkpoint.gck")
        XCTAssertEqual(a.counters, b.counters)
        // Store order follows dictionary order, which differs between processes: compare by name.
        let resumed = Dictionary(uniqueKeysWithValues: b.tensors.map { ($0.name, $0.values) })
        XCTAssertEqual(Set(a.tensors.map(\.name)), Set(resumed.keys))
        for x in a.tensors { XCTAssertTrue(x.values == resumed[x.name], "state '\(x.name)' differs after kill -9 and resume") }
        XCTAssertEqual(try bytes(straight + "/generator.pb"), try bytes(dir + "/generator.pb"))
        // Every step logged once, the same steps as the uninterrupted run.
        XCTAssertEqual(try metricSteps(dir), try metricSteps(straight))
    }

    // MARK: checkpoint bytes and old checkpoints, through the executable

    func testTwoProcessesWriteByteIdenticalCheckpoints() throws {
        // Each process seeds Swift's hashing differently, so dictionary order differs between
        // them; the checkpoint's buffer order and JSON keys must not follow it.
        let spec = try writeSpec(output: "{frames: false, video: false, tensorboard: false}")
        // The same --out both times (the header records the run directory's spec copy), the
        // first run moved aside in between.
        let dir = root + "/run"
        var files: [Data] = []
        for name in ["first", "second"] {
            let r = try runTool("gan-train", [spec, "--out", dir, "--max-steps", "3", "--quiet", "--threads", "1"])
            XCTAssertEqual(r.status, 0, r.stderr)
            try FileManager.default.moveItem(atPath: dir, toPath: root + "/" + name)
            files.append(try bytes(root + "/" + name + "/checkpoint.gck"))
        }
        XCTAssertEqual(files[0].count, files[1].count)
        XCTAssertTrue(files[0] == files[1], "two processes wrote different checkpoint bytes for the same run")
        XCTAssertEqual(try bytes(root + "/first/generator.pb"), try bytes(root + "/second/generator.pb"))
    }

    func testResumeOfAVersionOneCheckpointThroughTheCommandLine() throws {
        // A run checkpointed by a Gannet before checksums and run configurations (format
        // version 1: no CRC-32s, no saved spec or overrides) resumes from the run directory's
        // spec copy, with a note, and continues exactly as an uninterrupted run.
        let spec = try writeSpec(output: "{frames: false, video: false, tensorboard: false}")
        let straight = root + "/straight"
        try train([spec, "--out", straight, "--epochs", "3", "--log-every", "1"])
        let dir = root + "/old"
        try train([spec, "--out", dir, "--epochs", "2", "--log-every", "1"])
        try CheckpointFile.downgradeToVersion1(dir + "/checkpoint.gck")
        XCTAssertEqual(try Checkpoint.read(dir + "/checkpoint.gck").version, 1)

        let r = try runTool("gan-train", ["--resume", dir, "--epochs", "3", "--log-every", "1", "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("note: the checkpoint (format version 1) does not record its spec and overrides; resuming with \(dir)/spec.yaml unchecked"), r.stderr)
        let a = try Checkpoint.read(straight + "/checkpoint.gck"), b = try Checkpoint.read(dir + "/checkpoint.gck")
        XCTAssertEqual(b.version, Checkpoint.formatVersion, "the resumed run writes the current format")
        XCTAssertNotNil(b.run)
        XCTAssertEqual(b.counters, a.counters)
        XCTAssertEqual(b.counters.iteration, 10)
        XCTAssertEqual(a.tensors.map(\.name), b.tensors.map(\.name))
        for (x, y) in zip(a.tensors, b.tensors) { XCTAssertTrue(x.values == y.values, "state '\(x.name)' differs after resuming a version-1 checkpoint") }
        XCTAssertEqual(try metricSteps(dir), try metricSteps(straight))
    }
}
