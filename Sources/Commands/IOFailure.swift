// IOFailure: file-system failures as one-line messages naming the path and the reason, never
// Foundation's wrapped texts ("The operation could not be completed. (NSCocoaErrorDomain error
// 512.)").
//
// Contract: `reason` prefers the POSIX error behind a Foundation error; when Foundation gives
// none (error 512 for a directory under a plain file, say) it looks at the path: the nearest
// existing ancestor that is not a directory, or is not writable, is named. `error(_:path:doing:)`
// builds `path: cannot <doing>: <reason>`; AtomicFile's errors already read that way and pass
// through.

import Foundation
import GraphIR
#if canImport(Glibc)
import Glibc
#endif

enum IOFailure {
    /// Why `error` happened, for `path` when known.
    static func reason(_ error: Error, path: String? = nil) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "no space left on device"
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or directory"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        default: break
        }
        if let path, let diagnosis = diagnose(path) { return diagnosis }
        return ns.localizedDescription
    }

    /// What in `path`'s ancestry blocks writing there, if anything.
    static func diagnose(_ path: String) -> String? {
        var p = (path as NSString).deletingLastPathComponent
        while !p.isEmpty && p != "/" {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir) {
                if !isDir.boolValue { return "\(p) is not a directory" }
                if access(p, W_OK) != 0 { return "\(p) is not writable (\(String(cString: strerror(errno))))" }
                return nil
            }
            p = (p as NSString).deletingLastPathComponent
        }
        return nil
    }

    /// `path: cannot <doing>: <reason>`.
    static func error(_ error: Error, path: String, doing: String) -> CommandError {
        if let e = error as? AtomicFile.WriteError { return CommandError(e.description) }
        return CommandError("\(path): cannot \(doing): \(reason(error, path: path))")
    }

    /// Creates `dir` and its parents.
    static func createDirectory(_ dir: String) throws {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        catch { throw Self.error(error, path: dir, doing: "create the directory") }
    }
}
