// Graph+Parse: reads the canonical IR text written by `Graph.text` (format in Graph+Print).
//
// Contract: `Graph.parse(text)` returns a graph whose `text` equals the input when the input
// is canonical; errors are `IRParseError` with 1-based line and column. The result is not
// verified: call `verify()` to check it. Every declared type is checked with `Limits` (no
// dim overflow, at most `Limits.maxTensorBytes` per tensor) at its line and column.
import Core
import Foundation

/// A syntax error in IR text, at a 1-based line and column.
public struct IRParseError: Error, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "\(line):\(column): \(message)" }
}

private enum Token: Equatable {
    case ident(String)      // bare word: graph, input, f32, Conv, N, base64 …
    case value(String)      // %name
    case string(String)     // "…"
    case number(String)     // 12, -1, 0.5, 1e-05, inf, -nan
    case punct(Character)   // ( ) { } [ ] , : = _
    case end
}

private struct Lexer {
    let scalars: [Unicode.Scalar]
    var pos = 0
    var line = 1
    var col = 1

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    mutating func advance() {
        if scalars[pos] == "\n" { line += 1; col = 1 } else { col += 1 }
        pos += 1
    }

    func error(_ msg: String) -> IRParseError { IRParseError(line: line, column: col, message: msg) }

    static func isWord(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "." || c == "/" || c == "-" || c == "+"
    }

    /// Returns the next token and the position where it starts.
    mutating func next() throws -> (Token, Int, Int) {
        while pos < scalars.count {
            let c = scalars[pos]
            if c == " " || c == "\t" || c == "\n" || c == "\r" { advance(); continue }
            if c == "#" { while pos < scalars.count && scalars[pos] != "\n" { advance() }; continue }
            break
        }
        let (l, cl) = (line, col)
        guard pos < scalars.count else { return (.end, l, cl) }
        let c = scalars[pos]
        if c == "\"" { return (.string(try readString()), l, cl) }
        if c == "%" {
            advance()
            if pos < scalars.count && scalars[pos] == "\"" { return (.value(try readString()), l, cl) }
            let w = readWord()
            if w.isEmpty { throw IRParseError(line: l, column: cl, message: "expected a value name after '%'") }
            return (.value(w), l, cl)
        }
        if "(){}[],:=".unicodeScalars.contains(c) { advance(); return (.punct(Character(c)), l, cl) }
        if Self.isWord(c) {
            let w = readWord()
            if w == "_" { return (.punct("_"), l, cl) }
            let f = w.first!
            if f.isNumber || f == "-" || f == "+" || w == "inf" || w == "nan" || w == "snan" { return (.number(w), l, cl) }
            return (.ident(w), l, cl)
        }
        throw error("unexpected character '\(c)'")
    }

    mutating func readWord() -> String {
        var s = String.UnicodeScalarView()
        while pos < scalars.count && Self.isWord(scalars[pos]) { s.append(scalars[pos]); advance() }
        return String(s)
    }

    mutating func readString() throws -> String {
        let (l, cl) = (line, col)
        advance()
        var s = String.UnicodeScalarView()
        while true {
            guard pos < scalars.count else { throw IRParseError(line: l, column: cl, message: "unterminated string") }
            let c = scalars[pos]
            advance()
            if c == "\"" { break }
            if c == "\\" {
                guard pos < scalars.count else { throw IRParseError(line: l, column: cl, message: "unterminated string") }
                let e = scalars[pos]
                advance()
                switch e {
                case "n": s.append("\n")
                case "t": s.append("\t")
                case "\"", "\\": s.append(e)
                default: throw error("unknown escape '\\\(e)'")
                }
            } else {
                s.append(c)
            }
        }
        return String(s)
    }
}

private struct Parser {
    var lexer: Lexer
    var tok: Token = .end
    var line = 1
    var col = 1
    var graph = Graph()
    var names: [String: ValueID] = [:]

    init(_ text: String) throws {
        lexer = Lexer(text)
        try bump()
    }

    mutating func bump() throws { (tok, line, col) = try lexer.next() }

    func fail(_ msg: String) -> IRParseError { IRParseError(line: line, column: col, message: msg) }

    func describe(_ t: Token) -> String {
        switch t {
        case .ident(let s): return "'\(s)'"
        case .value(let s): return "'%\(s)'"
        case .string: return "a string"
        case .number(let s): return "number \(s)"
        case .punct(let c): return "'\(c)'"
        case .end: return "end of input"
        }
    }

    mutating func expect(_ c: Character) throws {
        guard tok == .punct(c) else { throw fail("expected '\(c)', found \(describe(tok))") }
        try bump()
    }

    mutating func accept(_ c: Character) throws -> Bool {
        if tok == .punct(c) { try bump(); return true }
        return false
    }

    mutating func keyword() throws -> String {
        guard case .ident(let s) = tok else { throw fail("expected a keyword, found \(describe(tok))") }
        try bump()
        return s
    }

    mutating func string() throws -> String {
        guard case .string(let s) = tok else { throw fail("expected a string, found \(describe(tok))") }
        try bump()
        return s
    }

    mutating func valueName() throws -> String {
        guard case .value(let s) = tok else { throw fail("expected a value (%name), found \(describe(tok))") }
        try bump()
        return s
    }

    mutating func int() throws -> Int {
        guard case .number(let s) = tok, let v = Int(s) else { throw fail("expected an integer, found \(describe(tok))") }
        try bump()
        return v
    }

    /// Defines a new value; names must be unique. `at` is where the name was written.
    mutating func define(_ name: String, _ type: TensorType?, at pos: (Int, Int)) throws -> ValueID {
        if names[name] != nil {
            throw IRParseError(line: pos.0, column: pos.1, message: "value '%\(name)' is defined twice")
        }
        let v = graph.addValue(name, type)
        names[name] = v
        return v
    }

    /// Reads a value reference and resolves it, reporting an unknown name where it is written.
    mutating func use() throws -> ValueID {
        let (l, c) = (line, col)
        let name = try valueName()
        guard let v = names[name] else {
            throw IRParseError(line: l, column: c, message: "value '%\(name)' is used before it is defined")
        }
        return v
    }

    mutating func type() throws -> TensorType {
        let (l, c) = (line, col)
        let word = try keyword()
        guard let dt = DType(rawValue: word) else {
            throw IRParseError(line: l, column: c, message: "unknown element type '\(word)' (expected f32, i64, i32 or bool)")
        }
        try expect("[")
        var dims: [Dim] = []
        if !(try accept("]")) {
            repeat {
                switch tok {
                case .number(let s):
                    guard let v = Int(s), v >= 0 else { throw fail("dimension must be a non-negative integer or a symbol, found \(s)") }
                    dims.append(.fixed(v))
                case .ident(let s): dims.append(.symbol(s))
                default: throw fail("expected a dimension, found \(describe(tok))")
                }
                try bump()
            } while try accept(",")
            try expect("]")
        }
        let t = TensorType(dt, dims)
        try rethrowing(GraphError.self, as: { IRParseError(line: l, column: c, message: $0.message) }) {
            try Limits.checkType(t, "type \(t)")
        }
        return t
    }

    mutating func tensor(_ type: TensorType) throws -> Tensor {
        guard let shape = type.fixedShape else { throw fail("a constant tensor needs a static shape, got \(type)") }
        let count = shape.reduce(1, *)
        if case .ident("base64") = tok {
            try bump()
            let (l, c) = (line, col)
            let s = try string()
            guard let data = Data(base64Encoded: s) else {
                throw IRParseError(line: l, column: c, message: "invalid base64 data")
            }
            let width = type.dtype == .float32 ? 4 : 8
            guard data.count == count * width else {
                throw IRParseError(line: l, column: c, message: "base64 data holds \(data.count) bytes, \(type) needs \(count * width)")
            }
            if type.dtype == .float32 {
                var f = [Float](repeating: 0, count: count)
                _ = f.withUnsafeMutableBytes { data.copyBytes(to: $0) }
                return Tensor(shape: shape, floats: f)
            }
            var i = [Int64](repeating: 0, count: count)
            _ = i.withUnsafeMutableBytes { data.copyBytes(to: $0) }
            return Tensor(shape: shape, int64s: i, dtype: type.dtype)
        }
        let (l, c) = (line, col)
        try expect("[")
        var words: [String] = []
        if !(try accept("]")) {
            repeat {
                guard case .number(let s) = tok else { throw fail("expected a number, found \(describe(tok))") }
                words.append(s)
                try bump()
            } while try accept(",")
            try expect("]")
        }
        guard words.count == count else {
            throw IRParseError(line: l, column: c, message: "\(type) needs \(count) elements, found \(words.count)")
        }
        if type.dtype == .float32 {
            var f: [Float] = []
            for w in words {
                guard let v = Float(w) else { throw fail("'\(w)' is not a float") }
                f.append(v)
            }
            return Tensor(shape: shape, floats: f)
        }
        var ints: [Int64] = []
        for w in words {
            guard let v = Int64(w) else { throw fail("'\(w)' is not an integer") }
            ints.append(v)
        }
        return Tensor(shape: shape, int64s: ints, dtype: type.dtype)
    }

    mutating func attribute() throws -> Attribute {
        switch tok {
        case .string(let s): try bump(); return .string(s)
        case .number(let s):
            try bump()
            if let i = Int(s) { return .int(i) }
            guard let f = Float(s) else { throw fail("'\(s)' is not a number") }
            return .float(f)
        case .ident("floats"):
            try bump(); try expect("["); try expect("]")
            return .floats([])
        case .ident("tensor"):
            try bump()
            let t = try type()
            return .tensor(try tensor(t))
        case .punct("["):
            try bump()
            var words: [String] = []
            if !(try accept("]")) {
                repeat {
                    guard case .number(let s) = tok else { throw fail("expected a number, found \(describe(tok))") }
                    words.append(s)
                    try bump()
                } while try accept(",")
                try expect("]")
            }
            let ints = words.compactMap { Int($0) }
            if ints.count == words.count { return .ints(ints) }
            let floats = words.compactMap { Float($0) }
            guard floats.count == words.count else { throw fail("list mixes numbers that are not floats") }
            return .floats(floats)
        default:
            throw fail("expected an attribute value, found \(describe(tok))")
        }
    }

    mutating func node() throws {
        var outs: [(String, TensorType?, (Int, Int))] = []
        repeat {
            let pos = (line, col)
            let name = try valueName()
            var t: TensorType? = nil
            if try accept(":") { t = try type() }
            outs.append((name, t, pos))
        } while try accept(",")
        try expect("=")
        let (ol, oc) = (line, col)
        let opName = try keyword()
        guard let op = Op(rawValue: opName) else {
            throw IRParseError(line: ol, column: oc, message: "unknown op '\(opName)'")
        }
        try expect("(")
        var ins: [ValueID?] = []
        if !(try accept(")")) {
            repeat {
                if try accept("_") { ins.append(nil) } else { ins.append(try use()) }
            } while try accept(",")
            try expect(")")
        }
        var attrs = Attributes()
        if try accept("{") {
            if !(try accept("}")) {
                repeat {
                    let (kl, kc) = (line, col)
                    let key = try keyword()
                    try expect("=")
                    if attrs[key] != nil {
                        throw IRParseError(line: kl, column: kc, message: "attribute '\(key)' is given twice")
                    }
                    attrs[key] = try attribute()
                } while try accept(",")
                try expect("}")
            }
        }
        var nodeName = ""
        if tok == .ident("name") { try bump(); nodeName = try string() }
        var outIDs: [ValueID] = []
        for (n, t, pos) in outs { outIDs.append(try define(n, t, at: pos)) }
        graph.nodes.append(Node(op, name: nodeName, inputs: ins, outputs: outIDs, attributes: attrs))
    }

    mutating func parse() throws -> Graph {
        guard tok == .ident("graph") else { throw fail("expected 'graph', found \(describe(tok))") }
        try bump()
        graph.name = try string()
        try expect("{")
        while tok != .punct("}") {
            switch tok {
            case .ident("doc"): try bump(); graph.docString = try string()
            case .ident("meta"):
                try bump()
                let k = try string()
                try expect("=")
                graph.metadata[k] = try string()
            case .ident("input"):
                try bump()
                let pos = (line, col)
                let n = try valueName()
                try expect(":")
                let t = try type()
                graph.inputs.append(try define(n, t, at: pos))
            case .ident("init"):
                try bump()
                let pos = (line, col)
                let n = try valueName()
                try expect(":")
                let t = try type()
                try expect("=")
                let value = try tensor(t)
                let v = try define(n, t, at: pos)
                graph.initializers[v] = value
            case .ident("output"):
                try bump()
                graph.outputs.append(try use())
            case .value: try node()
            case .end: throw fail("missing '}' at the end of the graph")
            default: throw fail("expected input, init, output, doc, meta or a node, found \(describe(tok))")
            }
        }
        try bump()
        guard tok == .end else { throw fail("unexpected \(describe(tok)) after the graph") }
        return graph
    }
}

extension Graph {
    /// Parses IR text (see Graph+Print for the format).
    public static func parse(_ text: String) throws -> Graph {
        var p = try Parser(text)
        return try p.parse()
    }
}
