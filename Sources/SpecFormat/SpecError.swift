// SpecError and the YAML reading helpers: every value read from a spec carries its position,
// so each error reads `file:line:column: message`.
//
// Contract: `MapReader` reads one YAML mapping and rejects, at its position, the first key
// not in the list it is given ("unknown key"). Scalar readers reject a
// value of the wrong kind (a mapping where a number belongs, `fifty` for an integer) at the
// value's own position. Nothing here traps on user input.

import Yams

/// An error in a spec file, at a position (1-based line and column).
public struct SpecError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// A position in a spec file.
public struct SpecPosition: Equatable, Sendable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// The file being read, for positions in messages.
struct SpecContext {
    var file: String

    func error(_ node: Node?, _ message: String) -> SpecError {
        let m = node?.mark
        return SpecError(file: file, line: m?.line ?? 1, column: m?.column ?? 1, message: message)
    }

    func error(_ pos: SpecPosition, _ message: String) -> SpecError {
        SpecError(file: file, line: pos.line, column: pos.column, message: message)
    }

    func position(_ node: Node) -> SpecPosition {
        SpecPosition(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    // MARK: scalars

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return s.style == .plain ? "'\(s.string)'" : "the string \"\(s.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    func plainScalar(_ node: Node) -> String? {
        guard case .scalar(let s) = node, s.style == .plain else { return nil }
        return s.string
    }

    func isNull(_ node: Node) -> Bool {
        guard let s = plainScalar(node) else { return false }
        return s == "" || s == "~" || s == "null" || s == "Null" || s == "NULL"
    }

    func string(_ node: Node, _ what: String) throws -> String {
        guard case .scalar(let s) = node, !isNull(node) else {
            throw error(node, "\(what): expected a string, got \(describe(node))")
        }
        return s.string
    }

    func int(_ node: Node, _ what: String) throws -> Int {
        guard let s = plainScalar(node), let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            throw error(node, "\(what): expected an integer, got \(describe(node))")
        }
        return v
    }

    func double(_ node: Node, _ what: String) throws -> Double {
        guard let s = plainScalar(node) else {
            throw error(node, "\(what): expected a number, got \(describe(node))")
        }
        let t = s.replacingOccurrences(of: "_", with: "")
        switch t {
        case ".inf", ".Inf", "+.inf": return .infinity
        case "-.inf", "-.Inf": return -.infinity
        default: break
        }
        guard let v = Double(t), v.isFinite else {
            throw error(node, "\(what): expected a number, got \(describe(node))")
        }
        return v
    }

    func bool(_ node: Node, _ what: String) throws -> Bool {
        switch plainScalar(node) {
        case "true", "True", "TRUE", "yes", "on": return true
        case "false", "False", "FALSE", "no", "off": return false
        default: throw error(node, "\(what): expected true or false, got \(describe(node))")
        }
    }

    func list(_ node: Node, _ what: String) throws -> [Node] {
        guard case .sequence(let seq) = node else {
            throw error(node, "\(what): expected a list, got \(describe(node))")
        }
        return Array(seq)
    }

    func ints(_ node: Node, _ what: String) throws -> [Int] {
        try list(node, what).map { try int($0, "\(what) element") }
    }

    func doubles(_ node: Node, _ what: String) throws -> [Double] {
        try list(node, what).map { try double($0, "\(what) element") }
    }

    func positive(_ node: Node, _ what: String) throws -> Int {
        let v = try int(node, what)
        guard v > 0 else { throw error(node, "\(what) must be positive, got \(v)") }
        return v
    }

    func nonNegative(_ node: Node, _ what: String) throws -> Int {
        let v = try int(node, what)
        guard v >= 0 else { throw error(node, "\(what) must not be negative, got \(v)") }
        return v
    }
}

/// Reads one YAML mapping whose keys must come from a known list.
final class MapReader {
    let ctx: SpecContext
    let node: Node
    let what: String
    private(set) var entries: [(key: String, keyNode: Node, value: Node)] = []

    /// Throws at the first key not in `keys` (nil accepts any key).
    init(_ node: Node, _ what: String, _ ctx: SpecContext, keys: [String]?) throws {
        self.ctx = ctx
        self.node = node
        self.what = what
        guard case .mapping(let m) = node else {
            throw ctx.error(node, "\(what): expected a mapping, got \(ctx.describe(node))")
        }
        var seen = Set<String>()
        for (k, v) in m {
            guard case .scalar(let s) = k else { throw ctx.error(k, "\(what): keys must be plain strings") }
            guard seen.insert(s.string).inserted else {
                throw ctx.error(k, "\(what): duplicate key '\(s.string)'")
            }
            if let keys, !keys.contains(s.string) {
                throw ctx.error(k, "unknown key '\(s.string)' in \(what) (expected one of: \(keys.joined(separator: ", ")))")
            }
            entries.append((s.string, k, v))
        }
    }

    var keys: [String] { entries.map(\.key) }

    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The value of `key`, nil when absent or null.
    func value(_ key: String) -> Node? {
        guard let e = entries.first(where: { $0.key == key }) else { return nil }
        return ctx.isNull(e.value) ? nil : e.value
    }

    func keyNode(_ key: String) -> Node? { entries.first { $0.key == key }?.keyNode }

    func required(_ key: String) throws -> Node {
        guard let v = value(key) else {
            if let k = keyNode(key) { throw ctx.error(k, "\(what): '\(key)' must have a value") }
            throw ctx.error(node, "\(what): missing required key '\(key)'")
        }
        return v
    }

    func string(_ key: String) throws -> String? { try value(key).map { try ctx.string($0, "\(what).\(key)") } }
    func int(_ key: String) throws -> Int? { try value(key).map { try ctx.int($0, "\(what).\(key)") } }
    func positive(_ key: String) throws -> Int? { try value(key).map { try ctx.positive($0, "\(what).\(key)") } }
    func nonNegative(_ key: String) throws -> Int? { try value(key).map { try ctx.nonNegative($0, "\(what).\(key)") } }
    func double(_ key: String) throws -> Double? { try value(key).map { try ctx.double($0, "\(what).\(key)") } }
    func bool(_ key: String) throws -> Bool? { try value(key).map { try ctx.bool($0, "\(what).\(key)") } }
    func ints(_ key: String) throws -> [Int]? { try value(key).map { try ctx.ints($0, "\(what).\(key)") } }
    func doubles(_ key: String) throws -> [Double]? { try value(key).map { try ctx.doubles($0, "\(what).\(key)") } }

    func requiredString(_ key: String) throws -> String { try ctx.string(try required(key), "\(what).\(key)") }
    func requiredPositive(_ key: String) throws -> Int { try ctx.positive(try required(key), "\(what).\(key)") }
    func requiredDouble(_ key: String) throws -> Double { try ctx.double(try required(key), "\(what).\(key)") }

    /// A string that must be one of `allowed`.
    func choice(_ key: String, _ allowed: [String]) throws -> String? {
        guard let n = value(key) else { return nil }
        let s = try ctx.string(n, "\(what).\(key)")
        guard allowed.contains(s) else {
            throw ctx.error(n, "\(what).\(key): unknown value '\(s)' (expected one of: \(allowed.joined(separator: ", ")))")
        }
        return s
    }
}
