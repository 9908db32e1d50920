import XCTest
import Foundation

/// Compares `actual` with `Tests/PassesTests/Golden/<name>.ir`. With the environment variable
/// `GANNET_RECORD_GOLDEN=1` it (re)writes the file instead and passes.
func assertGolden(_ actual: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    let url = dir.appendingPathComponent("\(name).ir")
    if ProcessInfo.processInfo.environment["GANNET_RECORD_GOLDEN"] == "1" {
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
        } catch {
            XCTFail("cannot record golden \(url.path): \(error)", file: file, line: line)
        }
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail("missing golden file \(url.path); run with GANNET_RECORD_GOLDEN=1 to record it", file: file, line: line)
        return
    }
    guard expected != actual else { return }
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let i = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
    let want = i < e.count ? String(e[i]) : "<end of file>"
    let got = i < a.count ? String(a[i]) : "<end of text>"
    XCTFail("""
        \(name).ir differs at line \(i + 1) (GANNET_RECORD_GOLDEN=1 re-records):
          expected: \(want)
          actual:   \(got)
        """, file: file, line: line)
}
