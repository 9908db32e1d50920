import Foundation
import GraphIR
import XCTest

/// AtomicFile: the new content replaces the old in one rename, no temporary file is left
/// behind, and a failed write names the path.
final class AtomicFileTests: XCTestCase {
    func testWriteReplacesAndLeavesNothingBehind() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.ir").path
        try AtomicFile.write(Array("old".utf8), to: path)
        try AtomicFile.write(Array("new content".utf8), to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new content")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.ir"])
        let missing = dir.appendingPathComponent("no/such/dir/x.pb").path
        XCTAssertThrowsError(try AtomicFile.write([1, 2, 3], to: missing)) { e in
            XCTAssertTrue("\(e)".contains(missing), "\(e)")
        }
    }
}
