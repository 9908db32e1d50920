// YAMLDepth: bounds how deeply a YAML text nests before Yams composes it (Yams builds nodes
// recursively, so 100k nested `[` would overflow the stack).
//
// Contract: `YAMLDepth.check(text, file:)` scans the bytes once (linear time, no allocation
// beyond an indentation stack) and throws a SpecError at the line and column where the
// nesting first exceeds `maxDepth` (256; a spec needs about 6). Nesting counted: flow
// collections (`[`, `{` outside quoted scalars and comments, closed by `]`, `}`) plus block
// levels (a stack of indentation columns: each line's indentation and each compact `- ` or
// `? ` indicator after it opens a level; a line at a smaller indentation closes levels);
// quotes open a quoted scalar only where one can start (line start, after `:`, `-`, `,`, `[`,
// `{`, `?`), so an apostrophe inside a plain scalar hides nothing. The
// count can only over-estimate the real depth (a bracket inside a plain or block scalar
// counts), which matters only past the bound.

enum YAMLDepth {
    static let maxDepth = 256

    static func check(_ text: String, file: String) throws {
        var blocks: [Int] = []      // indentation columns of open block levels
        var flow = 0
        var line = 1
        var quote: UInt8? = nil     // open quoted scalar (may span lines)
        var atLineStart = true
        var column = 0
        var previous: UInt8 = 0     // last non-blank byte of this line (0 at its start)
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        var i = 0
        func fail() -> SpecError {
            SpecError(file: file, line: line, column: column + 1,
                      message: "the YAML nests more than \(maxDepth) levels deep (flow [ ] / { } and block levels); a spec needs only a few")
        }
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\n") {
                line += 1; column = 0; atLineStart = true; previous = 0; i += 1
                continue
            }
            if let q = quote {
                if q == UInt8(ascii: "\"") && c == UInt8(ascii: "\\") { i += 2; column += 2; continue }
                if c == q {
                    if q == UInt8(ascii: "'") && i + 1 < bytes.count && bytes[i + 1] == q { i += 2; column += 2; continue }
                    quote = nil
                }
                i += 1; column += 1
                continue
            }
            if atLineStart {
                // Indentation of this line (blank and comment-only lines do not count).
                var j = i, indent = 0
                while j < bytes.count && bytes[j] == UInt8(ascii: " ") { j += 1; indent += 1 }
                let next = bytes[j]
                if next == UInt8(ascii: "\n") || next == UInt8(ascii: "#") || next == UInt8(ascii: "\r") {
                    while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                    continue
                }
                atLineStart = false
                i = j; column = indent
                if flow == 0 {
                    while let top = blocks.last, top >= indent { blocks.removeLast() }
                    blocks.append(indent)
                    // Compact nested sequences / complex keys on one line: `- - - x`.
                    while i + 1 < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "?"),
                          bytes[i + 1] == UInt8(ascii: " ") {
                        i += 2; column += 2
                        while i < bytes.count && bytes[i] == UInt8(ascii: " ") { i += 1; column += 1 }
                        blocks.append(column)
                        if blocks.count > maxDepth { throw fail() }
                    }
                    if blocks.count > maxDepth { throw fail() }
                }
                continue
            }
            defer { if c != UInt8(ascii: " ") && c != UInt8(ascii: "\t") { previous = c } }
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                // A quoted scalar starts only where a scalar can start (not `it's`).
                if Array(":-[{,?".utf8).contains(previous) || previous == 0 { quote = c }
            case UInt8(ascii: "#"):
                if i == 0 || bytes[i - 1] == UInt8(ascii: " ") || bytes[i - 1] == UInt8(ascii: "\t") {
                    while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                    continue
                }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flow += 1
                if flow + blocks.count > maxDepth { throw fail() }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                flow = max(0, flow - 1)
            default:
                break
            }
            i += 1; column += 1
        }
    }
}
