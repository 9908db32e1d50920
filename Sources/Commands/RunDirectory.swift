// RunDirectory: a training run's directory, held by one run at a time, never silently reused.
//
// Contract: `RunDirectory(path, fresh:overwrite:)` creates the directory (and frames/), takes an
// exclusive flock(2) on `<dir>/.gannet.lock` held until the object is released (process exit
// releases it too, so a killed run never leaves a stale lock), and refuses a second holder at
// once with a message naming the holder's pid. A fresh run into a directory that already holds
// a run (a checkpoint, metrics or spec copy) is an error unless `overwrite`, which removes that
// run's files (and only them). Temporaries left by an interrupted write (`*.tmp`,
// `*.tmp<pid>`) are removed under the lock. `truncateMetrics(after:)` cuts metrics.jsonl back
// to the rows of steps ≤ the checkpoint's iteration (and drops a torn last line), so a resumed
// run never repeats rows.

import Foundation
import GraphIR
#if canImport(Glibc)
import Glibc
#endif

final class RunDirectory {
    let path: String
    private let lockFD: Int32

    /// Files that mark a directory as holding a run.
    static let markers = ["checkpoint.gck", "metrics.jsonl", "spec.yaml"]
    static let lockName = ".gannet.lock"

    init(_ path: String, fresh: Bool, overwrite: Bool) throws {
        self.path = path
        try IOFailure.createDirectory((path as NSString).appendingPathComponent("frames"))
        let lockPath = (path as NSString).appendingPathComponent(Self.lockName)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CommandError("\(lockPath): cannot open the run lock: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw CommandError("\(path): the run directory is in use by another gan-train\(holder.isEmpty ? "" : " (pid \(holder))"); wait for it to finish or choose another --out")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        lockFD = fd
        if fresh, let marker = Self.markers.first(where: { FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent($0)) }) {
            guard overwrite else {
                // deinit closes the lock (the object is fully initialised here).
                throw CommandError("\(path): already holds a run (\(marker)); continue it with --resume \(path), or pass --overwrite to replace it")
            }
            try removeRun()
        }
        removeStaleTemporaries()
    }

    deinit { close(lockFD) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func contents(_ dir: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] }

    /// Removes the files a run writes (for --overwrite).
    func removeRun() throws {
        let outputs: Set<String> = Set(Self.markers + ["generator.pb", "generator_raw.pb", "discriminator.pb", "critic.pb", "training.mp4", "training.gif"])
        for name in contents(path) where outputs.contains(name) || name.hasPrefix("events.out.tfevents.") {
            try remove(file(name))
        }
        let frames = file("frames")
        for name in contents(frames) where name.hasPrefix("frame_") && name.hasSuffix(".png") {
            try remove((frames as NSString).appendingPathComponent(name))
        }
    }

    func remove(_ p: String) throws {
        guard unlink(p) == 0 || errno == ENOENT else { throw CommandError("\(p): cannot remove: \(String(cString: strerror(errno)))") }
    }

    /// Whether `name` is a temporary of an atomic write (`x.tmp`, `x.tmp<pid>`).
    static func isTemporary(_ name: String) -> Bool {
        guard let r = name.range(of: ".tmp", options: .backwards) else { return false }
        return name[r.upperBound...].allSatisfy(\.isNumber)
    }

    func removeStaleTemporaries() {
        for dir in [path, file("frames")] {
            for name in contents(dir) where Self.isTemporary(name) { unlink((dir as NSString).appendingPathComponent(name)) }
        }
    }

    /// Keeps the rows of metrics.jsonl whose step is at most `iteration`; returns how many were
    /// dropped.
    @discardableResult
    func truncateMetrics(after iteration: Int) throws -> Int {
        let p = file("metrics.jsonl")
        guard let data = FileManager.default.contents(atPath: p) else { return 0 }
        var kept: [UInt8] = []
        var dropped = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) where !line.isEmpty {
            let row = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            if let step = row?["step"] as? Int, step <= iteration {
                kept += line
                kept.append(UInt8(ascii: "\n"))
            } else {
                dropped += 1
            }
        }
        if dropped > 0 {
            do { try AtomicFile.write(kept, to: p) } catch { throw IOFailure.error(error, path: p, doing: "write") }
        }
        return dropped
    }
}
