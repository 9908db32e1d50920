// ONNXImport: ONNX ModelProto bytes → GraphIR `Graph`.
//
// Contract: nodes map 1:1 to `Op` cases (plus the rewrites of legacy attribute forms in
// ONNXImport+Legacy), keeping node names, value names, attributes (INT, FLOAT, STRING, INTS,
// FLOATS, TENSOR), initializers (an initializer also listed in graph.input is a constant and
// is not a graph input), graph input types (dim_value → fixed, dim_param → that symbol, a
// missing dim → "N" for dim 0 of an input, else a fresh "unkK"), value_info and output types,
// the opset of the default domain, the graph name and doc string and the model's
// metadata_props. The result is topologically sorted and verified. Anything Gannet cannot
// represent (an unknown op or domain, external data, another element type, a malformed or
// cyclic graph) is one `ONNXError` naming the file and, where there is one, the node (index,
// name, op). No optimisation here. Before decoding, the message nesting depth is checked
// (ONNXNesting, at most 100 levels); then ir_version must be at most `maxIRVersion`, an
// opset_import must exist and the default-domain opset lie in 1...`maxOpset` (ONNX Runtime
// 1.32's limits; it too loads opset 1–6 models, with a warning, when it has the kernels).
import CONNXProto
import CProtobufC
import Core
import GraphIR

public enum ONNXImport {
    /// Reads an ONNX model file (`.onnx` or `.pb`).
    public static func graph(path: String) throws -> Graph {
        try graph(fromModelBytes: readFileBytes(path), file: path)
    }

    /// Decodes a serialized ModelProto; `file` names the source in errors.
    public static func graph(fromModelBytes bytes: [UInt8], file: String) throws -> Graph {
        try checkNesting(bytes, file: file)
        let m = bytes.withUnsafeBufferPointer { onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) }
        guard let m else { throw ONNXError("\(file): not a valid ONNX model (protobuf decoding failed)") }
        defer { onnx__model_proto__free_unpacked(m, nil) }
        var builder = ModelReader(file: file)
        return try builder.read(m)
    }

    /// Newest default-domain opset and IR version read (those ONNX Runtime 1.32 loads).
    public static let maxOpset = 28
    public static let maxIRVersion = 14

    /// Rejects a model nesting messages deeper than `ONNXNesting.maxDepth` (subgraphs in
    /// subgraphs…) before libprotobuf-c recurses into it.
    static func checkNesting(_ bytes: [UInt8], file: String) throws {
        let depth = bytes.withUnsafeBytes { ONNXNesting.depth(ofModel: $0) }
        if depth > ONNXNesting.maxDepth {
            throw ONNXError("\(file): messages nest more than \(ONNXNesting.maxDepth) levels deep (subgraphs within subgraphs); Gannet, like ONNX Runtime, reads at most \(ONNXNesting.maxDepth)")
        }
    }

    /// The opset of the default domain declared by a model file (nil when it declares none).
    public static func opset(fromModelBytes bytes: [UInt8]) -> Int? {
        guard (try? checkNesting(bytes, file: "")) != nil else { return nil }
        let m = bytes.withUnsafeBufferPointer { onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) }
        guard let m else { return nil }
        defer { onnx__model_proto__free_unpacked(m, nil) }
        return ModelReader.defaultOpset(m)
    }
}

/// A node as read, before legacy rewrites: the ONNX op type is already mapped.
struct ReadNode {
    var index: Int
    var node: Node
    var opType: String
}

struct ModelReader {
    let file: String
    var opset = 1
    var irVersion = 0
    var g = Graph()
    var ids: [String: ValueID] = [:]
    /// What defines each value (for SSA errors): "graph input", "initializer", "node 3 …".
    var definedBy: [ValueID: String] = [:]
    var usedNames = Set<String>()
    var unknownDims = 0
    /// The node (as read) producing each value, for the legacy rewrites' type lookups.
    var producer: [ValueID: Node] = [:]

    init(file: String) { self.file = file }

    static func defaultOpset(_ m: UnsafePointer<Onnx__ModelProto>) -> Int? {
        for o in cArray(m.pointee.opset_import, m.pointee.n_opset_import) {
            guard let o else { continue }
            let d = swiftString(o.pointee.domain)
            if d == "" || d == "ai.onnx" { return Int(o.pointee.version) }
        }
        return nil
    }

    func fail(_ msg: String) -> ONNXError { ONNXError("\(file): \(msg)") }

    func describe(_ index: Int, _ name: String, _ op: String) -> String {
        name.isEmpty ? "node \(index) (\(op))" : "node \(index) '\(name)' (\(op))"
    }

    /// The value named `name`, created (undefined) on first use.
    mutating func value(_ name: String) -> ValueID {
        if let v = ids[name] { return v }
        let v = g.addValue(name)
        ids[name] = v
        usedNames.insert(name)
        return v
    }

    /// A name not used in the model, derived from `base`.
    mutating func freshName(_ base: String) -> String {
        var name = base
        var k = 1
        while usedNames.contains(name) { name = "\(base)_\(k)"; k += 1 }
        usedNames.insert(name)
        return name
    }

    mutating func define(_ name: String, by what: String) throws -> ValueID {
        let v = value(name)
        if let other = definedBy[v] {
            throw fail("\(what) defines '\(name)', which \(other) already defines (ONNX values are assigned once)")
        }
        definedBy[v] = what
        return v
    }

    mutating func read(_ m: UnsafePointer<Onnx__ModelProto>) throws -> Graph {
        guard let gp = m.pointee.graph else { throw fail("not a valid ONNX model (it has no graph)") }
        irVersion = Int(m.pointee.ir_version)
        guard irVersion <= ONNXImport.maxIRVersion else {
            throw fail("ir_version \(irVersion) is newer than the newest Gannet reads (\(ONNXImport.maxIRVersion))")
        }
        guard m.pointee.n_opset_import > 0 else {
            throw fail("the model declares no opset_import; every ONNX model must name the operator set version it uses")
        }
        opset = Self.defaultOpset(m) ?? 1
        guard (1...ONNXImport.maxOpset).contains(opset) else {
            throw fail("opset \(opset) of the default ONNX domain is not supported (Gannet reads opsets 1 to \(ONNXImport.maxOpset))")
        }
        let graph = gp.pointee
        g.name = swiftString(graph.name).isEmpty ? "graph" : swiftString(graph.name)
        g.docString = swiftString(graph.doc_string)
        if g.docString.isEmpty { g.docString = swiftString(m.pointee.doc_string) }
        for e in cArray(m.pointee.metadata_props, m.pointee.n_metadata_props) {
            guard let e else { continue }
            g.metadata[swiftString(e.pointee.key)] = swiftString(e.pointee.value)
        }
        if graph.n_sparse_initializer > 0 { throw fail("graph '\(g.name)' has sparse initializers, which Gannet does not read") }

        // Every name the model uses, so names Gannet invents never collide.
        for t in cArray(graph.initializer, graph.n_initializer) { if let t { usedNames.insert(swiftString(t.pointee.name)) } }
        let infos: [UnsafeMutablePointer<Onnx__ValueInfoProto>?] = Array(cArray(graph.input, graph.n_input))
            + Array(cArray(graph.output, graph.n_output)) + Array(cArray(graph.value_info, graph.n_value_info))
        for vi in infos {
            if let vi { usedNames.insert(swiftString(vi.pointee.name)) }
        }
        for n in cArray(graph.node, graph.n_node) {
            guard let n else { continue }
            for s in cArray(n.pointee.input, n.pointee.n_input) { usedNames.insert(swiftString(s)) }
            for s in cArray(n.pointee.output, n.pointee.n_output) { usedNames.insert(swiftString(s)) }
        }

        // Initializers: constants.
        for t in cArray(graph.initializer, graph.n_initializer) {
            guard let t else { continue }
            let name = swiftString(t.pointee.name)
            guard !name.isEmpty else { throw fail("graph '\(g.name)' has an initializer without a name") }
            let tensor = try TensorProtoIO.tensor(from: t, context: "\(file): initializer '\(name)'")
            let v = try define(name, by: "initializer '\(name)'")
            g[v].type = tensor.type
            g.initializers[v] = tensor
        }
        // Graph inputs (legacy models also list their initializers here: those stay constants).
        for vi in cArray(graph.input, graph.n_input) {
            guard let vi else { continue }
            let name = swiftString(vi.pointee.name)
            guard !name.isEmpty else { throw fail("graph '\(g.name)' has an input without a name") }
            if let v = ids[name], g.initializers[v] != nil { continue }
            guard let type = try valueType(vi, what: "graph input '\(name)'", isInput: true) else {
                throw fail("graph input '\(name)' has no tensor type with a shape; Gannet needs the element type and rank of every input")
            }
            let v = try define(name, by: "graph input '\(name)'")
            g[v].type = type
            g.inputs.append(v)
        }
        // Nodes.
        var read: [ReadNode] = []
        for (i, np) in cArray(graph.node, graph.n_node).enumerated() {
            guard let np else { continue }
            read.append(try readNode(np, index: i))
        }
        // Types of intermediates and outputs.
        for vi in cArray(graph.value_info, graph.n_value_info) {
            guard let vi, let v = ids[swiftString(vi.pointee.name)], g.initializers[v] == nil, !g.inputs.contains(v) else { continue }
            if let t = try? valueType(vi, what: "value_info '\(g.name(of: v))'", isInput: false) { g[v].type = t }
        }
        for vi in cArray(graph.output, graph.n_output) {
            guard let vi else { continue }
            let name = swiftString(vi.pointee.name)
            guard let v = ids[name], definedBy[v] != nil else {
                throw fail("graph output '\(name)' is not produced by any node, input or initializer")
            }
            if g.initializers[v] == nil && !g.inputs.contains(v) {
                if ONNXDataType.dtype(elemType(vi) ?? ONNXDataType.float) == nil {
                    throw fail("graph output '\(name)' has element type \(ONNXDataType.name(elemType(vi)!)); Gannet computes FLOAT, DOUBLE, FLOAT16, INT64, INT32 and BOOL values")
                }
                if let t = try? valueType(vi, what: "graph output '\(name)'", isInput: false) { g[v].type = t }
            }
            g.outputs.append(v)
        }
        if g.outputs.isEmpty { throw fail("graph '\(g.name)' has no outputs") }

        // Legacy attribute forms → the IR's (newest) semantics.
        for r in read { for o in r.node.outputs { producer[o] = r.node } }
        for r in read { try appendNormalised(r) }

        try rethrowing(GraphError.self, as: { fail($0.message) }) {
            try g.sortTopologically()
            try g.verify()
        }
        return g
    }

    // MARK: nodes

    mutating func readNode(_ np: UnsafePointer<Onnx__NodeProto>, index i: Int) throws -> ReadNode {
        let n = np.pointee
        let opType = swiftString(n.op_type)
        let name = swiftString(n.name)
        let here = describe(i, name, opType)
        let domain = swiftString(n.domain)
        guard domain == "" || domain == "ai.onnx" else {
            throw fail("\(here): operator domain '\(domain)' is not supported (Gannet reads the default ONNX domain only)")
        }
        guard let op = Op(onnxName: opType) ?? Self.renamedLegacyOps[opType] else {
            throw fail("\(here): operator '\(opType)' is not supported by Gannet")
        }
        // Fusion, autodiff and the collectives make these; no ONNX file (Gannet's exporter refuses
        // them) may bring them in with unchecked inputs.
        guard !op.isInternal && !op.isGradientInternal else {
            throw fail("\(here): '\(opType)' is a Gannet-internal operator, not an ONNX one")
        }
        var inputs: [ValueID?] = cArray(n.input, n.n_input).map { p in
            let s = swiftString(p)
            return s.isEmpty ? nil : value(s)
        }
        while let last = inputs.last, last == nil { inputs.removeLast() }
        var outNames = cArray(n.output, n.n_output).map { swiftString($0) }
        while outNames.last == "" { outNames.removeLast() }
        var outputs: [ValueID] = []
        for o in outNames {
            let oname = o.isEmpty ? freshName((name.isEmpty ? opType : name) + "_unused") : o
            outputs.append(try define(oname, by: here))
        }
        var attrs = Attributes()
        for ap in cArray(n.attribute, n.n_attribute) {
            guard let ap else { continue }
            let (key, a) = try attribute(ap, here)
            attrs[key] = a
        }
        // Attributes Gannet's lowering passes set on their own copies: an ONNX file means
        // something else by them.
        if let key = op.internalAttributes.first(where: { attrs[$0] != nil }) {
            throw fail("\(here): attribute '\(key)' is Gannet-internal, not an ONNX attribute of \(opType)")
        }
        return ReadNode(index: i, node: Node(op, name: name, inputs: inputs, outputs: outputs, attributes: attrs), opType: opType)
    }

    func attribute(_ ap: UnsafePointer<Onnx__AttributeProto>, _ here: String) throws -> (String, Attribute) {
        let a = ap.pointee
        let key = swiftString(a.name)
        if !swiftString(a.ref_attr_name).isEmpty {
            throw fail("\(here): attribute '\(key)' refers to a function attribute, which Gannet does not support")
        }
        var type = a.has_type != 0 ? a.type : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED
        if type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED {
            // IR version 1 models may omit the type: take the field that is set.
            if a.has_f != 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT }
            else if a.has_i != 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT }
            else if a.has_s != 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING }
            else if a.t != nil { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR }
            else if a.n_floats > 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS }
            else if a.n_ints > 0 { type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS }
            else { throw fail("\(here): attribute '\(key)' has no type and no value") }
        }
        switch type {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return (key, .float(a.f))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return (key, .int(Int(a.i)))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return (key, .string(String(decoding: cBytes(a.s), as: UTF8.self)))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: return (key, .ints(cArray(a.ints, a.n_ints).map { Int($0) }))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: return (key, .floats(Array(cArray(a.floats, a.n_floats))))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            guard let t = a.t else { throw fail("\(here): tensor attribute '\(key)' holds no tensor") }
            return (key, .tensor(try TensorProtoIO.tensor(from: t, context: "\(file): \(here): attribute '\(key)'")))
        default:
            let kinds: [Int: String] = [5: "GRAPH", 6: "FLOATS", 8: "STRINGS", 9: "TENSORS", 10: "GRAPHS",
                                        11: "SPARSE_TENSOR", 12: "SPARSE_TENSORS", 13: "TYPE_PROTO", 14: "TYPE_PROTOS"]
            let kind = kinds[Int(type.rawValue)] ?? "type \(type.rawValue)"
            throw fail("\(here): attribute '\(key)' has type \(kind), which Gannet does not support")
        }
    }

    // MARK: types

    func elemType(_ vi: UnsafePointer<Onnx__ValueInfoProto>) -> Int32? {
        guard let tp = vi.pointee.type, tp.pointee.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
              let tt = tp.pointee.tensor_type, tt.pointee.has_elem_type != 0 else { return nil }
        return tt.pointee.elem_type
    }

    /// The tensor type declared by a ValueInfoProto; nil when it declares no tensor type or no shape.
    mutating func valueType(_ vi: UnsafePointer<Onnx__ValueInfoProto>, what: String, isInput: Bool) throws -> TensorType? {
        guard let tp = vi.pointee.type else { return nil }
        guard tp.pointee.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, let tt = tp.pointee.tensor_type else {
            throw fail("\(what) is not a tensor (sequence, map, optional and sparse values are not supported)")
        }
        let code = tt.pointee.elem_type
        guard let dtype = ONNXDataType.dtype(code) else {
            throw fail("\(what) has element type \(ONNXDataType.name(code)); Gannet reads FLOAT, DOUBLE, FLOAT16, INT64, INT32 and BOOL values")
        }
        guard let sp = tt.pointee.shape else { return nil }
        var dims: [Dim] = []
        for (k, dp) in cArray(sp.pointee.dim, sp.pointee.n_dim).enumerated() {
            guard let dp else { continue }
            switch dp.pointee.value_case {
            case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE:
                let d = dp.pointee.dim_value
                guard d >= 0 && d <= Int64(TensorProtoIO.maxElements) else {
                    throw fail("\(what) has dimension \(d) at axis \(k)")
                }
                dims.append(.fixed(Int(d)))
            case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM where !swiftString(dp.pointee.dim_param).isEmpty:
                dims.append(.symbol(Self.symbol(swiftString(dp.pointee.dim_param))))
            default:
                if isInput && k == 0 {
                    dims.append(.symbol("N"))
                } else {
                    unknownDims += 1
                    dims.append(.symbol("unk\(unknownDims)"))
                }
            }
        }
        let t = TensorType(dtype, dims)
        try rethrowing(GraphError.self, as: { fail($0.message) }) { try Limits.checkType(t, what) }
        return t
    }

    /// A dim_param as an IR symbol: a word of [A-Za-z0-9_./-] that starts with a letter.
    static func symbol(_ param: String) -> String {
        var s = String(param.unicodeScalars.map { c -> Character in
            let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "." || c == "/" || c == "-"
            return ok ? Character(c) : "_"
        })
        if let f = s.unicodeScalars.first, !((f >= "a" && f <= "z") || (f >= "A" && f <= "Z")) { s = "d_" + s }
        return s
    }
}
