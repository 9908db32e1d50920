// FileBytes: reading plain or gzip-compressed files through zlib, with allocations bounded by
// the bytes actually present (a corrupt header cannot make us allocate gigabytes).

import CZlib
import Foundation

/// A sequential reader over a plain or gzipped file (zlib's gzread reads both transparently).
final class GzipReader {
    let path: String
    private var file: gzFile?
    /// The file's size in bytes.
    let fileSize: Int
    /// Bytes delivered so far.
    private(set) var offset = 0

    init(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw DataError("\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw DataError("\(path): not a regular file") }
        guard let f = gzopen(path, "rb") else {
            throw DataError("\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        // zlib's buffers (in: size, out: 2 × size) need not be larger than the file: a 10 KB
        // labels file gets 8 KiB, a 26 MB gzipped image file 128 KiB.
        fileSize = Int(st.st_size)
        _ = gzbuffer(f, UInt32(min(1 << 17, max(1 << 13, fileSize))))
        self.path = path
        self.file = f
    }

    deinit { if let f = file { gzclose(f) } }

    /// Reads up to `count` bytes, appending them to `out`; returns how many arrived (fewer
    /// only at the end of the data). `out` grows as data arrives, in chunks that start at
    /// 64 KiB and double up to 4 MiB, so a header that claims more than the file holds costs
    /// at most one 64 KiB chunk beyond what the file really has.
    @discardableResult
    func read(_ count: Int, appendingTo out: inout [UInt8]) throws -> Int {
        guard let f = file, count > 0 else { return 0 }
        var remaining = count
        var got = 0
        var step = 1 << 16
        while remaining > 0 {
            let want = min(remaining, step)
            let base = out.count
            out.append(contentsOf: repeatElement(0, count: want))
            let n = out.withUnsafeMutableBytes { gzread(f, $0.baseAddress! + base, UInt32(want)) }
            // Invariant: `out` holds exactly the bytes read so far when this loop exits.
            out.removeLast(want - max(Int(n), 0))
            if n < 0 { throw DataError("\(path): read error: \(errorMessage())") }
            if n == 0 {
                // End of data; a truncated gzip stream reports an error here.
                var errnum: Int32 = 0
                _ = gzerror(f, &errnum)
                if errnum != Z_OK && errnum != Z_STREAM_END {
                    throw DataError("\(path): read error: \(errorMessage()) (corrupt or truncated gzip data)")
                }
                break
            }
            got += Int(n)
            offset += Int(n)
            remaining -= Int(n)
            step = min(step * 2, 1 << 22)
        }
        return got
    }

    /// The bytes left to read when the file is not compressed (known from its size without
    /// reading them); nil for gzip data, or before the first read tells which it is.
    func remainingPlainBytes() -> Int? {
        guard let f = file, offset > 0, gzdirect(f) == 1 else { return nil }
        return fileSize - offset
    }

    /// Whether any byte remains after what was read so far.
    func atEnd() throws -> Bool {
        var extra: [UInt8] = []
        return try read(1, appendingTo: &extra) == 0
    }

    private func errorMessage() -> String {
        guard let f = file else { return "closed" }
        var errnum: Int32 = 0
        guard let msg = gzerror(f, &errnum) else { return "unknown error" }
        if errnum == Z_ERRNO { return String(cString: strerror(errno)) }
        return String(cString: msg)
    }
}

/// Writes `bytes` to `path`, gzip-compressed when `gzip` is true (for tests and tools).
func writeFile(_ bytes: [UInt8], to path: String, gzip: Bool) throws {
    if gzip {
        guard let f = gzopen(path, "wb") else {
            throw DataError("\(path): cannot create: \(String(cString: strerror(errno)))")
        }
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, 1 << 20)
            let w = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress! + offset, UInt32(n)) }
            if w <= 0 { gzclose(f); throw DataError("\(path): write failed") }
            offset += Int(w)
        }
        guard gzclose(f) == Z_OK else { throw DataError("\(path): write failed on close") }
    } else {
        guard FileManager.default.createFile(atPath: path, contents: Foundation.Data(bytes)) else {
            throw DataError("\(path): cannot create")
        }
    }
}

/// Multiplies dimensions, failing on overflow or on anything above `limit`.
func checkedProduct(_ dims: [Int], limit: Int = 1 << 40) -> Int? {
    var p = 1
    for d in dims {
        guard d >= 0 else { return nil }
        let (r, o) = p.multipliedReportingOverflow(by: d)
        if o || r > limit { return nil }
        p = r
    }
    return p
}

func fileExists(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
}

func directoryExists(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
}
