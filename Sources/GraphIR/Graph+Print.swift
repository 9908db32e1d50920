// Graph+Print: the canonical IR text. `Graph.parse(text)` reads it back to an equal graph.
//
// Format (one item per line, inside `graph "NAME" { … }`):
//   doc "text"                               graph doc string
//   meta "key" = "value"                     metadata, sorted by key
//   input %x: f32[N,1,28,28]                 graph inputs, in order
//   init %w: f32[2,2] = [1.0, 2.0, 3.0, 4.0] initializers in value order; more than 16
//   init %big: f32[1024,100] = base64 "…"      elements are stored as little-endian base64
//   %y: f32[N,1024] = Gemm(%x, %w, _) {transB=1} name "fc1"
//                                            nodes in order; `_` is an absent input; the
//                                            type is omitted when unknown
//   output %y                                graph outputs, in order
// Value names that are not [A-Za-z0-9_./-]+ are quoted: %"onnx::Gemm_3". Floats print in
// Swift's shortest round-trip form, always with a '.', 'e', "inf" or "nan"; ints without.
import Foundation

extension Graph {
    /// Literal lists longer than this are written as base64.
    public static let literalLimit = 16

    /// The canonical text of the graph.
    public var text: String { text(elidingAbove: nil) }

    /// The text with initializers of more than `limit` elements shown as `<N elements>` (for
    /// reading; such text does not parse back).
    public func text(elidingAbove limit: Int?) -> String {
        var out = "graph \(quote(name)) {\n"
        if !docString.isEmpty { out += "  doc \(quote(docString))\n" }
        for key in metadata.keys.sorted() { out += "  meta \(quote(key)) = \(quote(metadata[key]!))\n" }
        for v in inputs { out += "  input \(valueRef(v)): \(typeText(v))\n" }
        for v in initializers.keys.sorted() {
            let t = initializers[v]!
            let literal = limit.map { t.count > $0 } == true ? "<\(t.count) elements>" : tensorLiteral(t)
            out += "  init \(valueRef(v)): \(t.type) = \(literal)\n"
        }
        for n in nodes {
            out += "  "
            out += n.outputs.map { v in values[v.index].type.map { "\(valueRef(v)): \($0)" } ?? valueRef(v) }
                .joined(separator: ", ")
            out += " = \(n.op.rawValue)("
            out += n.inputs.map { $0.map(valueRef) ?? "_" }.joined(separator: ", ")
            out += ")"
            if !n.attributes.isEmpty {
                out += " {" + n.attributes.sortedKeys.map { "\($0)=\(attributeText(n.attributes[$0]!))" }
                    .joined(separator: ", ") + "}"
            }
            if !n.name.isEmpty { out += " name \(quote(n.name))" }
            out += "\n"
        }
        for v in outputs { out += "  output \(valueRef(v))\n" }
        out += "}\n"
        return out
    }

    private func typeText(_ v: ValueID) -> String {
        values[v.index].type?.description ?? "?"
    }

    func valueRef(_ v: ValueID) -> String {
        let name = values[v.index].name
        return "%" + (Self.isPlainName(name) ? name : quote(name))
    }

    static func isPlainName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "." || c == "/" || c == "-"
        }
    }
}

func quote(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.unicodeScalars.append(c)
        }
    }
    return out + "\""
}

func floatText(_ f: Float) -> String {
    let s = f.description
    return s
}

func attributeText(_ a: Attribute) -> String {
    switch a {
    case .int(let i): return String(i)
    case .float(let f): return floatText(f)
    case .string(let s): return quote(s)
    case .ints(let v): return "[" + v.map(String.init).joined(separator: ", ") + "]"
    case .floats(let v): return v.isEmpty ? "floats[]" : "[" + v.map(floatText).joined(separator: ", ") + "]"
    case .tensor(let t): return "tensor \(t.type) \(tensorLiteral(t))"
    }
}

func tensorLiteral(_ t: Tensor) -> String {
    switch t.storage {
    case .float(let f):
        if f.count <= Graph.literalLimit { return "[" + f.map(floatText).joined(separator: ", ") + "]" }
        let data = f.withUnsafeBufferPointer { Data(buffer: $0) }
        return "base64 \"" + data.base64EncodedString() + "\""
    case .int64(let v):
        if v.count <= Graph.literalLimit { return "[" + v.map { String($0) }.joined(separator: ", ") + "]" }
        let data = v.withUnsafeBufferPointer { Data(buffer: $0) }
        return "base64 \"" + data.base64EncodedString() + "\""
    }
}
