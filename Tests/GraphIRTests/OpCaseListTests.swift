// OpCaseListTests: `Op.plainCases` is the one hand-kept list of the IR (Swift synthesises no case
// list for an enum with payload cases, and the compiler-checked alternatives — a mirror enum of
// names with two more exhaustive switches, or `Op` split into `.plain(PlainOp)` with every
// switch over ops rewritten — cost more than this check). A case missing from the list would
// not parse, import or reach its family's tests, so this test reads `Sources/GraphIR/Op.swift`
// and names every case declared in `enum Op` that the list lacks or holds twice.

import XCTest
import GraphIR

final class OpCaseListTests: XCTestCase {
    /// The plain cases declared in `public enum Op { … }` (4-space `case name` lines; the
    /// payload cases `unary(…)`/`binary(…)` excluded), in declaration order.
    static func declaredPlainCases() throws -> [String] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/GraphIR/Op.swift")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("public enum Op:") }, "no `public enum Op:` line in \(file.path)")
        var names: [String] = []
        for line in lines[(start + 1)...] {
            if line == "}" { break }
            guard line.hasPrefix("    case ") else { continue }
            for item in line.dropFirst(9).split(separator: ",") {
                // A keyword case is declared in backticks (`where`) but described without them.
                let name = item.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`"))
                if !name.contains("(") && !name.isEmpty { names.append(name) }
            }
        }
        return names
    }

    func testPlainCasesListEveryDeclaredCaseOnce() throws {
        let declared = try Self.declaredPlainCases()
        XCTAssertGreaterThan(declared.count, 40, "the scan of Op.swift found too few cases: \(declared)")
        let listed = Op.plainCases.map { String(describing: $0) }
        let missing = declared.filter { !listed.contains($0) }
        XCTAssertEqual(missing, [], "declared in enum Op but missing from Op.plainCases (add them there)")
        let twice = Dictionary(grouping: listed, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        XCTAssertEqual(twice, [], "listed more than once in Op.plainCases")
        XCTAssertEqual(listed.count, declared.count, "Op.plainCases: \(listed), declared: \(declared)")
    }
}
