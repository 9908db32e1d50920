// FuzzInput: what every libFuzzer target shares — the input as bytes, and as a file for
// readers that take a path.
//
// Contract: `bytes(data, size)` copies libFuzzer's input; `withFile(data, size, ext) { path }`
// writes it to one per-process file under /dev/shm (or the temporary directory), calls
// `body` with the path and leaves the file for the next input to overwrite;
// `withFolder(bytes, name) { dir }` writes it as the one file `name` of a per-process
// directory (anything else in it is removed first), for readers that take a folder. Nothing here
// catches errors: a target catches the reader's own errors and lets traps through to
// libFuzzer.

import Foundation

public enum FuzzInput {
    public static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    static let directory: String = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()

    public static func withFile(_ data: UnsafePointer<UInt8>, _ size: Int, ext: String, _ body: (String) -> Void) {
        let path = "\(directory)/gannet-fuzz-\(getpid()).\(ext)"
        if write(data, size, to: path) { body(path) }
    }

    public static func withFolder(_ bytes: [UInt8], name: String, _ body: (String) -> Void) {
        let dir = "\(directory)/gannet-fuzz-\(getpid()).d"
        mkdir(dir, 0o700)
        for old in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where old != name {
            unlink("\(dir)/\(old)")
        }
        if write(bytes, bytes.count, to: "\(dir)/\(name)") { body(dir) }
    }

    static func write(_ data: UnsafeRawPointer, _ size: Int, to path: String) -> Bool {
        guard let f = fopen(path, "wb") else { return false }
        if size > 0 { fwrite(data, 1, size, f) }
        fclose(f)
        return true
    }
}
