// AtomicFile: whole-file writes that readers never see half done.
//
// Contract: `write(bytes, to: path)` writes "<path>.tmp<pid>" and rename(2)s it over `path`, so
// `path` holds either its old content or the new one; on failure the temporary file is removed,
// `path` is untouched, and the error names the path and the reason. Every writer of model,
// IR, JSON and GIF files uses it, the way checkpoints and PNGs are written (temporary file in
// the target directory, then rename), instead of each choosing its own Foundation option.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let tmp = path + ".tmp\(getpid())"
        guard let f = fopen(tmp, "wb") else {
            throw WriteError(description: "\(path): cannot write: \(String(cString: strerror(errno)))")
        }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        let closed = fclose(f)
        guard written == bytes.count && closed == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw WriteError(description: "\(path): cannot write: \(reason)")
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw WriteError(description: "\(path): cannot write: \(reason)")
        }
    }
}
