// ONNXExport: GraphIR `Graph` → ONNX ModelProto bytes.
//
// Contract: the graph is verified first. The model has ir_version 8, one opset_import for the
// default domain (13...21, default 17), producer "gannet", the graph name and doc string,
// graph inputs and outputs with their types (symbolic dims as dim_param), value_info for every
// other typed value, initializers as raw_data, nodes with their attributes and the graph's
// metadata as metadata_props. The IR holds the newest opset's forms (the importer rewrites
// older ones); they are written as the target opset defines them: the constant axes input of
// every Reduce* but ReduceSum becomes the attribute before opset 18; Shape's start/end need
// opset 15, Cast's saturate is dropped before 19 (an error unless 1); AveragePool's dilations
// need opset 19, Split's num_outputs becomes its `split` input before opset 18 (and is written
// from opset 18 when neither is given), a point-wise function its declared `onnxSince` (HardSwish 14, Gelu 20); int values of float
// attributes are written as floats. Standard ops only: no fusions are exported.
// Every graph output needs a type (run shape inference first); otherwise `ONNXError`.
import CONNXProto
import CProtobufC
import Core
import GraphIR

public enum ONNXExport {
    public static let irVersion = 8
    public static let supportedOpsets = 13...21

    /// The serialized ModelProto of `g`.
    public static func modelBytes(_ g: Graph, opset: Int = 17, producerVersion: String = "0.1") throws -> [UInt8] {
        guard supportedOpsets.contains(opset) else {
            throw ONNXError("cannot export graph '\(g.name)' at opset \(opset): Gannet writes opsets \(supportedOpsets.lowerBound) to \(supportedOpsets.upperBound)")
        }
        try rethrowing(GraphError.self, as: { ONNXError("cannot export graph '\(g.name)': \($0.message)") }) { try g.verify() }
        if let (i, n) = g.nodes.enumerated().first(where: { $0.element.op.isInternal || $0.element.op.isGradientInternal }) {
            throw ONNXError("cannot export graph '\(g.name)': \(g.describeNode(i)) is a Gannet-internal op (\(n.op.rawValue)) with no ONNX equivalent; export the graph before fusion or differentiation")
        }
        for (i, n) in g.nodes.enumerated() {
            if let key = n.op.internalAttributes.first(where: { n.attributes[$0] != nil }) {
                throw ONNXError("cannot export graph '\(g.name)': \(g.describeNode(i)) has the Gannet-internal attribute '\(key)' (set by lowering passes), which ONNX does not define")
            }
        }
        let h = try opsetForms(g, opset: opset)
        let arena = CArena()
        let model = try ModelWriter(graph: h, arena: arena).model(opset: opset, producerVersion: producerVersion)
        return packMessage(size: { onnx__model_proto__get_packed_size(model) },
                           pack: { onnx__model_proto__pack(model, $0) })
    }

    /// Writes `g` as an ONNX model file (through a temporary file and a rename).
    public static func write(_ g: Graph, to path: String, opset: Int = 17, producerVersion: String = "0.1") throws {
        let bytes = try rethrowing(ONNXError.self, as: { ONNXError("\(path): \($0.message)") }) {
            try modelBytes(g, opset: opset, producerVersion: producerVersion)
        }
        try writeFileBytes(bytes, path: path)
    }

    // MARK: attribute forms of the target opset

    static func opsetForms(_ g: Graph, opset: Int) throws -> Graph {
        var h = g
        for i in h.nodes.indices {
            var n = h.nodes[i]
            let here = "cannot export graph '\(g.name)': \(g.describeNode(i))"
            switch n.op {
            case .unary(let f) where opset < f.onnxSince:
                throw ONNXError("\(here) is \(f.rawValue), which ONNX defines from opset \(f.onnxSince) (export at opset \(f.onnxSince) or newer)")
            case .binary(let f) where opset < f.onnxSince:
                throw ONNXError("\(here) is \(f.rawValue), which ONNX defines from opset \(f.onnxSince) (export at opset \(f.onnxSince) or newer)")
            case .reduceSum, .reduceMean, .reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd:
                if n.op != .reduceSum, opset < 18, let a = n.input(1) {
                    guard let t = g.constantValue(a) else {
                        throw ONNXError("\(here) takes its axes from a computed value; opset \(opset) needs them as an attribute (export at opset 18 or newer)")
                    }
                    n.attributes["axes"] = .ints(t.int64s.map { Int($0) })
                    n.inputs = [n.inputs[0]]
                }
            case .shape:
                if opset < 15 && (n.attributes["start"] != nil || n.attributes["end"] != nil) {
                    throw ONNXError("\(here) is Shape with start/end, which ONNX defines from opset 15 (export at opset 15 or newer)")
                }
            case .cast:
                if opset < 19, let sat = try n.attributes.int("saturate") {
                    guard sat == 1 else { throw ONNXError("\(here) is Cast with saturate=0, which ONNX defines from opset 19") }
                    n.attributes["saturate"] = nil
                }
            case .layerNormalization:
                if opset < 17 { throw ONNXError("\(here) is LayerNormalization, which ONNX defines from opset 17 (export at opset 17 or newer)") }
            case .groupNormalization:
                if opset < 21 { throw ONNXError("\(here) is GroupNormalization with per-channel scale, ONNX's form from opset 21 (export at opset 21 or newer)") }
            case .resize:
                let newer = ["axes", "keep_aspect_ratio_policy", "antialias"].filter { n.attributes[$0] != nil }
                if opset < 18, !newer.isEmpty { throw ONNXError("\(here) uses \(newer.joined(separator: ", ")), which Resize takes from opset 18 (export at opset 18 or newer)") }
                if opset < 19, try n.attributes.string("coordinate_transformation_mode") == "half_pixel_symmetric" {
                    throw ONNXError("\(here) uses half_pixel_symmetric, which Resize takes from opset 19 (export at opset 19 or newer)")
                }
            case .pad:
                if opset < 18, n.input(3) != nil { throw ONNXError("\(here) has an axes input, which Pad takes from opset 18 (export at opset 18 or newer)") }
                if opset < 19, try n.attributes.string("mode") == "wrap" { throw ONNXError("\(here) uses mode wrap, which Pad takes from opset 19 (export at opset 19 or newer)") }
            case .split where n.input(1) == nil:
                // Opset 18 needs `split` or num_outputs; before 18 there is no num_outputs, so
                // its sizes (⌈d/n⌉, the last smaller) become the constant `split` input.
                let parts = try n.attributes.int("num_outputs") ?? n.outputs.count
                if opset >= 18 {
                    n.attributes["num_outputs"] = .int(parts)
                } else if n.attributes["num_outputs"] != nil {
                    let axis = try n.attributes.int("axis", default: 0)
                    guard let x = g.type(of: n.inputs[0]!), let d = x.shape[axis < 0 ? axis + x.rank : axis].value, parts > 0 else {
                        throw ONNXError("\(here) is Split with num_outputs over a dim of unknown size, which ONNX defines from opset 18 (export at opset 18 or newer)")
                    }
                    let chunk = (d + parts - 1) / parts
                    let sizes = [Int](repeating: chunk, count: parts - 1) + [d - chunk * (parts - 1)]
                    let name = "\(n.name.isEmpty ? g.name(of: n.outputs[0]) : n.name)_split"
                    n.inputs.append(h.addInitializer(name, Tensor(shape: [parts], int64s: sizes.map { Int64($0) })))
                    n.attributes["num_outputs"] = nil
                }
            case .averagePool:
                if opset < 19, case .ints(let d)? = n.attributes["dilations"] {
                    guard d.allSatisfy({ $0 == 1 }) else {
                        throw ONNXError("\(here) has dilations \(d), which AveragePool takes from opset 19 (export at opset 19 or newer)")
                    }
                    n.attributes["dilations"] = nil
                }
            default:
                break
            }
            // Float attributes given as ints are written as floats (ONNX checks the kind).
            let schema = n.op.attributeSchema
            for key in n.attributes.sortedKeys {
                if schema[key] == "float", case .int(let v)? = n.attributes[key] { n.attributes[key] = .float(Float(v)) }
            }
            h.nodes[i] = n
        }
        return h
    }
}

/// Builds the C messages of one model in an arena.
struct ModelWriter {
    let graph: Graph
    let arena: CArena

    func model(opset: Int, producerVersion: String) throws -> UnsafeMutablePointer<Onnx__ModelProto> {
        let m = arena.alloc(Onnx__ModelProto.self)
        onnx__model_proto__init(m)
        m.pointee.has_ir_version = 1
        m.pointee.ir_version = Int64(ONNXExport.irVersion)
        let o = arena.alloc(Onnx__OperatorSetIdProto.self)
        onnx__operator_set_id_proto__init(o)
        o.pointee.domain = arena.string("")
        o.pointee.has_version = 1
        o.pointee.version = Int64(opset)
        m.pointee.n_opset_import = 1
        m.pointee.opset_import = arena.array([Optional(o)])
        m.pointee.producer_name = arena.string("gannet")
        m.pointee.producer_version = arena.string(producerVersion)
        let keys = graph.metadata.keys.sorted()
        m.pointee.n_metadata_props = keys.count
        m.pointee.metadata_props = arena.array(keys.map { Optional(arena.stringEntry($0, graph.metadata[$0]!)) })
        m.pointee.graph = try graphProto()
        return m
    }

    func graphProto() throws -> UnsafeMutablePointer<Onnx__GraphProto> {
        let g = graph
        let p = arena.alloc(Onnx__GraphProto.self)
        onnx__graph_proto__init(p)
        p.pointee.name = arena.string(g.name)
        if !g.docString.isEmpty { p.pointee.doc_string = arena.string(g.docString) }

        let nodes = g.nodes.map { Optional(node($0)) }
        p.pointee.n_node = nodes.count
        p.pointee.node = arena.array(nodes)

        let inits = g.initializers.keys.sorted().map { Optional(TensorProtoIO.build(g.initializers[$0]!, name: g.name(of: $0), in: arena)) }
        p.pointee.n_initializer = inits.count
        p.pointee.initializer = arena.array(inits)

        var inputs: [UnsafeMutablePointer<Onnx__ValueInfoProto>?] = []
        for v in g.inputs {
            guard let t = g.type(of: v) else { throw ONNXError("cannot export graph '\(g.name)': graph input '\(g.name(of: v))' has no type") }
            inputs.append(valueInfo(g.name(of: v), t))
        }
        p.pointee.n_input = inputs.count
        p.pointee.input = arena.array(inputs)

        var outputs: [UnsafeMutablePointer<Onnx__ValueInfoProto>?] = []
        for v in g.outputs {
            guard let t = g.type(of: v) else {
                throw ONNXError("cannot export graph '\(g.name)': graph output '\(g.name(of: v))' has no type (run shape inference before exporting)")
            }
            outputs.append(valueInfo(g.name(of: v), t))
        }
        p.pointee.n_output = outputs.count
        p.pointee.output = arena.array(outputs)

        let skip = Set(g.inputs + g.outputs + Array(g.initializers.keys))
        var infos: [UnsafeMutablePointer<Onnx__ValueInfoProto>?] = []
        for n in g.nodes {
            for v in n.outputs where !skip.contains(v) {
                if let t = g.type(of: v) { infos.append(valueInfo(g.name(of: v), t)) }
            }
        }
        p.pointee.n_value_info = infos.count
        p.pointee.value_info = arena.array(infos)
        return p
    }

    func valueInfo(_ name: String, _ t: TensorType) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let vi = arena.alloc(Onnx__ValueInfoProto.self)
        onnx__value_info_proto__init(vi)
        vi.pointee.name = arena.string(name)
        let tp = arena.alloc(Onnx__TypeProto.self)
        onnx__type_proto__init(tp)
        let tt = arena.alloc(Onnx__TypeProto__Tensor.self)
        onnx__type_proto__tensor__init(tt)
        tt.pointee.has_elem_type = 1
        tt.pointee.elem_type = ONNXDataType.code(t.dtype)
        let sp = arena.alloc(Onnx__TensorShapeProto.self)
        onnx__tensor_shape_proto__init(sp)
        let dims = t.shape.map { d -> UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension>? in
            let dp = arena.alloc(Onnx__TensorShapeProto__Dimension.self)
            onnx__tensor_shape_proto__dimension__init(dp)
            switch d {
            case .fixed(let v):
                dp.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                dp.pointee.dim_value = Int64(v)
            case .symbol(let s):
                dp.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                dp.pointee.dim_param = arena.string(s)
            }
            return dp
        }
        sp.pointee.n_dim = dims.count
        sp.pointee.dim = arena.array(dims)
        tt.pointee.shape = sp
        tp.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        tp.pointee.tensor_type = tt
        vi.pointee.type = tp
        return vi
    }

    func node(_ n: Node) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let p = arena.alloc(Onnx__NodeProto.self)
        onnx__node_proto__init(p)
        var ins = n.inputs
        while let last = ins.last, last == nil { ins.removeLast() }
        let inNames = ins.map { v -> UnsafeMutablePointer<CChar>? in arena.string(v.map { graph.name(of: $0) } ?? "") }
        p.pointee.n_input = inNames.count
        p.pointee.input = arena.array(inNames)
        let outNames = n.outputs.map { Optional(arena.string(graph.name(of: $0))) }
        p.pointee.n_output = outNames.count
        p.pointee.output = arena.array(outNames)
        if !n.name.isEmpty { p.pointee.name = arena.string(n.name) }
        p.pointee.op_type = arena.string(n.op.rawValue)
        let attrs = n.attributes.sortedKeys.map { Optional(attribute($0, n.attributes[$0]!)) }
        p.pointee.n_attribute = attrs.count
        p.pointee.attribute = arena.array(attrs)
        return p
    }

    func attribute(_ key: String, _ a: Attribute) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let p = arena.alloc(Onnx__AttributeProto.self)
        onnx__attribute_proto__init(p)
        p.pointee.name = arena.string(key)
        p.pointee.has_type = 1
        switch a {
        case .int(let v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
            p.pointee.has_i = 1
            p.pointee.i = Int64(v)
        case .float(let v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
            p.pointee.has_f = 1
            p.pointee.f = v
        case .string(let s):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
            p.pointee.has_s = 1
            p.pointee.s = arena.bytes(Array(s.utf8))
        case .ints(let v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
            p.pointee.n_ints = v.count
            p.pointee.ints = arena.array(v.map { Int64($0) })
        case .floats(let v):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
            p.pointee.n_floats = v.count
            p.pointee.floats = arena.array(v)
        case .tensor(let t):
            p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
            p.pointee.t = TensorProtoIO.build(t, name: "", in: arena)
        }
        return p
    }
}
