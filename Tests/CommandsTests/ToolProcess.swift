// ToolProcess: runs one of the package's executables (gan-train, gan-eval, …) as a separate
// process, as a user's shell would, for tests of exit statuses, stderr and cross-process
// behaviour.
//
// Contract: `toolExecutable(name)` finds the built executable by walking up from the test
// bundle (SwiftPM puts both in the same products directory) and throws when it is missing;
// `runTool(name, args)` runs it to completion and returns its exit status, stdout and stderr
// (read from scratch files, so a chatty child cannot block on a full pipe).

import Commands
import Foundation
import XCTest

func toolExecutable(_ name: String) throws -> String {
    var url = Bundle(for: GanTrainTests.self).bundleURL
    while url.pathComponents.count > 1 {
        let candidate = url.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        url.deleteLastPathComponent()
    }
    throw CommandError("\(name) executable not found near \(Bundle(for: GanTrainTests.self).bundleURL.path)")
}

func runTool(_ name: String, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try toolExecutable(name))
    p.arguments = args
    let base = NSTemporaryDirectory() + "gannet-tool-\(getpid())-\(UUID().uuidString.prefix(8))"
    var handles: [FileHandle] = []
    for suffix in [".out", ".err"] {
        FileManager.default.createFile(atPath: base + suffix, contents: nil)
        handles.append(try FileHandle(forWritingTo: URL(fileURLWithPath: base + suffix)))
    }
    defer { for suffix in [".out", ".err"] { try? FileManager.default.removeItem(atPath: base + suffix) } }
    p.standardOutput = handles[0]
    p.standardError = handles[1]
    try p.run()
    p.waitUntilExit()
    for h in handles { try h.close() }
    func text(_ suffix: String) -> String { (try? String(contentsOfFile: base + suffix, encoding: .utf8)) ?? "" }
    return (p.terminationStatus, text(".out"), text(".err"))
}
