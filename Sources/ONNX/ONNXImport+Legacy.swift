// ONNXImport+Legacy: rewrites attribute forms that changed between opsets 1 and 21 so the
// imported graph always has the IR's (newest) semantics.
//
// Contract, per op and declared opset of the default domain:
// - every op: `consumed_inputs` (a memory hint before opset 6) is dropped;
// - every multidirectional `BinaryFunction` (Add/Sub/Mul/Div/Pow…) and Equal/Less/Greater/
//   And/Or/Xor before opset 7: `broadcast`/`axis` are dropped; with broadcast=1 and an
//   axis that does not align B with A's trailing dims, B gets an Unsqueeze (constant axes
//   input "<B>_aligned_axes") of its trailing dims first (needs both ranks; otherwise an error);
// - PRelu before opset 7: a 1-D slope of more than one value (per channel) gets the same
//   Unsqueeze to (C, 1, …, 1) when X's rank (≥ 3) is known;
// - Gemm before opset 7: `broadcast` is dropped (C broadcasts unidirectionally either way);
// - BatchNormalization: `spatial`=1 and `is_test`=1 (their inference defaults) are dropped;
//   spatial=0 or is_test=0 is an error;
// - Softmax/LogSoftmax before opset 13 (coerce to 2-D at `axis`, default 1): the last axis
//   becomes `axis` of the new form; another axis becomes Flatten(axis) → op(axis=1) →
//   Reshape back through a Constant shape when the input's shape is declared up to one unknown
//   dim, else through Shape(input) (resolved once shapes are inferred, at the latest at bind);
// - Concat before opset 4 without `axis`: axis=1;
// - Split before opset 13 (`split` attribute) becomes the constant int64 input "<node>_split";
// - Slice before opset 10 (starts/ends/axes attributes), Reshape before opset 5 (shape
//   attribute), Squeeze/Unsqueeze before opset 13 and ReduceSum before 13 / the other Reduce*
//   before 18 (axes attribute): the attributes become constant int64 initializer inputs (named
//   "<node>_<attribute>"), the one form the IR's shape rules read;
// - Clip before opset 11 (min/max float attributes): they become float32 scalar initializer
//   inputs 1 and 2 ("<node>_min", "<node>_max"; an absent one stays an absent input).
// - Dropout before opset 12: the `ratio` attribute becomes a float32 scalar initializer input 1
//   ("<node>_ratio"); `is_test` (before opset 7) is dropped (Gannet imports for inference).
// - Upsample (any opset) and Resize before opset 11 (inputs X, scales): Resize(X, ∅, scales)
//   with coordinate_transformation_mode "asymmetric" and nearest_mode "floor" (their
//   semantics; "bilinear" mode reads as "linear"); Upsample before opset 9 moves its scales
//   attribute to a float32 initializer input "<node>_scales";
// - Pad before opset 11 (pads/paddings, value attributes): int64 "<node>_pads" and float32
//   "<node>_value" initializer inputs;
// - GroupNormalization before opset 21 (scale and bias per group): each is expanded to per
//   channel by Unsqueeze → Expand (G, C/G) → Reshape (C) (needs X's channel count).
import Core
import GraphIR

extension ModelReader {
    /// ONNX ops read as another IR op (then normalised in `appendNormalised`).
    static let renamedLegacyOps: [String: Op] = ["Upsample": .resize]

    func rank(_ v: ValueID?) -> Int? { v.flatMap { knownType($0)?.rank } }

    /// The declared type of `v`, or that of the input of the shape-preserving op producing it.
    func knownType(_ v: ValueID, depth: Int = 0) -> TensorType? {
        if let t = g.type(of: v) { return t }
        guard depth < 256, let p = producer[v], p.outputs.first == v, let x = p.input(0) else { return nil }
        switch p.op {
        case .unary, .identity, .dropout, .clip, .softmax, .logSoftmax, .batchNormalization, .lrn,
             .instanceNormalization, .layerNormalization, .groupNormalization:
            return knownType(x, depth: depth + 1)
        case .binary(let f) where f.unidirectional:
            return knownType(x, depth: depth + 1)
        default:
            return nil
        }
    }

    /// An attribute read by `body`; a malformed one is an error naming the model file and `here`.
    func attribute<T>(_ here: String, _ body: () throws -> T) throws -> T {
        try rethrowing(GraphError.self, as: { fail("\(here): \($0.message)") }, body)
    }

    func int(_ n: Node, _ key: String, _ here: String) throws -> Int? {
        try attribute(here) { try n.attributes.int(key) }
    }

    mutating func appendNormalised(_ r: ReadNode) throws {
        var n = r.node
        let here = describe(r.index, n.name, r.opType)
        // Every rewrite below names its new values after output 0; a node without outputs is
        // an error here (every op has at least one), before any rewrite reads it.
        guard !n.outputs.isEmpty else { throw fail("\(here): \(r.opType) has no outputs") }
        n.attributes["consumed_inputs"] = nil
        switch n.op {
        case .binary(let f) where !f.unidirectional:
            try legacyBroadcast(&n, here)
        case .equal, .less, .greater, .and, .or, .xor:
            try legacyBroadcast(&n, here)
        case .split:
            try attributeToInput(&n, "split", here)
        case .prelu:
            // Before opset 7 a 1-D slope of C values is per channel (axis 1), not numpy-aligned.
            if opset < 7, let slope = n.input(1), rank(slope) == 1, let rx = rank(n.inputs[0]), rx >= 3,
               knownType(slope)?.shape != [.fixed(1)] {
                n.inputs[1] = appendAligning(slope, rank: 1, trailing: rx - 2)
            }
        case .gemm:
            n.attributes["broadcast"] = nil
        case .batchNormalization:
            if let s = try int(n, "spatial", here) {
                guard s == 1 else { throw fail("\(here): spatial=\(s) (per-activation statistics) is not supported") }
                n.attributes["spatial"] = nil
            }
            if let t = try int(n, "is_test", here) {
                guard t == 1 else { throw fail("\(here): is_test=0 (training-mode statistics, opset \(opset)) is not supported; export the model in eval mode") }
                n.attributes["is_test"] = nil
            }
        case .dropout:
            n.attributes["is_test"] = nil
            if n.attributes["ratio"] != nil {
                guard n.inputs.count == 1 else { throw fail("\(here): has both a ratio attribute (opset < 12) and inputs") }
                let ratio = try attribute(here) { try n.attributes.float("ratio") }
                n.inputs.append(floatScalarInput((n.name.isEmpty ? g.name(of: n.outputs[0]) : n.name) + "_ratio", ratio!))
                n.attributes["ratio"] = nil
            }
        case .concat:
            if opset < 4 && n.attributes["axis"] == nil { n.attributes["axis"] = .int(1) }
        case .slice:
            if n.attributes["starts"] != nil || n.attributes["ends"] != nil {
                guard n.inputs.count == 1 else { throw fail("\(here): has both starts/ends attributes (opset < 10) and inputs") }
                guard let starts = try ints(n, "starts", here), let ends = try ints(n, "ends", here) else {
                    throw fail("\(here): needs both starts and ends")
                }
                var inputs = [n.inputs[0], constantInput(n, "starts", starts), constantInput(n, "ends", ends)]
                if let axes = try ints(n, "axes", here) { inputs.append(constantInput(n, "axes", axes)) }
                n.inputs = inputs
                for key in ["starts", "ends", "axes"] { n.attributes[key] = nil }
            }
        case .clip:
            if n.attributes["min"] != nil || n.attributes["max"] != nil {
                guard n.inputs.count == 1 else { throw fail("\(here): has both min/max attributes (opset < 11) and inputs") }
                var inputs = n.inputs
                for key in ["min", "max"] {
                    let bound = try attribute(here) { try n.attributes.float(key) }
                    let base = (n.name.isEmpty ? g.name(of: n.outputs[0]) : n.name) + "_" + key
                    inputs.append(bound.map { floatScalarInput(base, $0) })
                    n.attributes[key] = nil
                }
                while inputs.count > 1, inputs.last! == nil { inputs.removeLast() }
                n.inputs = inputs
            }
        case .reshape:
            try attributeToInput(&n, "shape", here)
        case .squeeze, .unsqueeze, .reduceSum, .reduceMean, .reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd:
            try attributeToInput(&n, "axes", here)
        case .resize:
            if r.opType == "Upsample" || opset < 11 { try legacyResize(&n, upsample: r.opType == "Upsample", here) }
        case .pad:
            if opset < 11 { try legacyPad(&n, here) }
        case .groupNormalization:
            if opset < 21 { try perChannelGroupParameters(&n, here) }
        case .softmax, .logSoftmax:
            if opset < 13 {
                try legacySoftmax(&n, here)
                return
            }
        default:
            break
        }
        g.nodes.append(n)
    }

    /// Appends Unsqueeze(b) adding `trailing` size-1 dims after its `rank` dims (constant axes
    /// "<b>_aligned_axes") and returns its output "<b>_aligned".
    mutating func appendAligning(_ b: ValueID, rank rb: Int, trailing: Int) -> ValueID {
        let name = freshName(g.name(of: b) + "_aligned")
        var type = g.type(of: b)
        type?.shape += Array(repeating: .fixed(1), count: trailing)
        let out = g.addValue(name, type)
        ids[name] = out
        let axes = constantInput(name + "_axes", Array(rb..<(rb + trailing)))
        g.nodes.append(Node(.unsqueeze, name: name, inputs: [b, axes], outputs: [out]))
        return out
    }

    func ints(_ n: Node, _ key: String, _ here: String) throws -> [Int]? {
        try attribute(here) { try n.attributes.ints(key) }
    }

    /// A new int64 initializer holding `values`, named after the node and `key`.
    mutating func constantInput(_ n: Node, _ key: String, _ values: [Int]) -> ValueID {
        constantInput((n.name.isEmpty ? g.name(of: n.outputs[0]) : n.name) + "_" + key, values)
    }

    /// A new int64 initializer holding `values`, named `base` (with a suffix when taken).
    mutating func constantInput(_ base: String, _ values: [Int]) -> ValueID {
        let name = freshName(base)
        let v = g.addInitializer(name, Tensor(shape: [values.count], int64s: values.map(Int64.init)))
        ids[name] = v
        return v
    }

    /// A new float32 scalar initializer holding `value`, named `base` (with a suffix when taken).
    mutating func floatScalarInput(_ base: String, _ value: Float) -> ValueID {
        let name = freshName(base)
        let v = g.addInitializer(name, Tensor(shape: [], floats: [value]))
        ids[name] = v
        return v
    }

    /// Moves the ints attribute `key` of an older opset to input 1 (a constant).
    /// Drops the `broadcast`/`axis` attributes of a multidirectional op before opset 7, aligning
    /// B with A's trailing dims by an Unsqueeze when `axis` says so.
    mutating func legacyBroadcast(_ n: inout Node, _ here: String) throws {
        let broadcast = try int(n, "broadcast", here) ?? 0
        let axis = try int(n, "axis", here)
        n.attributes["broadcast"] = nil
        n.attributes["axis"] = nil
        if broadcast != 0, let axis, n.inputs.count == 2, let b = n.inputs[1] {
            guard let ra = rank(n.inputs[0]), let rb = rank(b) else {
                throw fail("\(here): legacy broadcast with axis=\(axis) (opset \(opset)) needs the ranks of both inputs, which the model does not declare; convert the model to opset 7 or newer")
            }
            let a = axis < 0 ? axis + ra : axis
            let trailing = ra - a - rb
            guard a >= 0, trailing >= 0 else {
                throw fail("\(here): legacy broadcast axis=\(axis) does not fit input ranks \(ra) and \(rb)")
            }
            if trailing > 0 { n.inputs[1] = appendAligning(b, rank: rb, trailing: trailing) }
        }
    }

    mutating func attributeToInput(_ n: inout Node, _ key: String, _ here: String) throws {
        guard let values = try ints(n, key, here) else { return }
        guard n.inputs.count == 1 else { throw fail("\(here): has both an \(key) attribute and input") }
        n.inputs.append(constantInput(n, key, values))
        n.attributes[key] = nil
    }

    /// Upsample, and Resize before opset 11: Resize(X, ∅, scales) with the asymmetric/floor semantics.
    mutating func legacyResize(_ n: inout Node, upsample: Bool, _ here: String) throws {
        var scales = n.input(1)
        if let attr = n.attributes["scales"] {
            guard n.inputs.count == 1, case .floats(let values) = attr else {
                throw fail("\(here): needs a scales attribute of floats or a scales input, not both")
            }
            let name = freshName((n.name.isEmpty ? g.name(of: n.outputs[0]) : n.name) + "_scales")
            scales = g.addInitializer(name, Tensor(shape: [values.count], floats: values))
            ids[name] = scales
            n.attributes["scales"] = nil
        }
        guard n.inputs.count <= 2, let scales else { throw fail("\(here): needs X and scales") }
        if upsample {
            let mode = try n.attributes.string("mode") ?? "nearest"
            guard ["nearest", "linear", "bilinear"].contains(mode) else { throw fail("\(here): unknown Upsample mode '\(mode)'") }
            n.attributes["mode"] = .string(mode == "nearest" ? "nearest" : "linear")
            n.attributes["height_scale"] = nil
            n.attributes["width_scale"] = nil
        }
        n.inputs = [n.inputs[0], nil, scales]
        n.attributes["coordinate_transformation_mode"] = .string("asymmetric")
        n.attributes["nearest_mode"] = .string("floor")
    }

    /// Pad before opset 11: the pads (or opset-1 paddings) and value attributes become inputs.
    mutating func legacyPad(_ n: inout Node, _ here: String) throws {
        guard n.inputs.count == 1 else { throw fail("\(here): Pad before opset 11 takes one input") }
        guard let pads = try ints(n, "pads", here) ?? ints(n, "paddings", here) else { throw fail("\(here): needs a pads attribute") }
        let value = try attribute(here) { try n.attributes.float("value", default: 0) }
        let base = (n.name.isEmpty ? g.name(of: n.outputs[0]) : n.name)
        n.inputs = [n.inputs[0], constantInput(n, "pads", pads), floatScalarInput(base + "_value", value)]
        for key in ["pads", "paddings", "value"] { n.attributes[key] = nil }
    }

    /// GroupNormalization before opset 21: per-group scale and bias → per channel.
    mutating func perChannelGroupParameters(_ n: inout Node, _ here: String) throws {
        guard let groups = try int(n, "num_groups", here), groups > 0 else { throw fail("\(here): needs a positive num_groups") }
        guard let x = n.input(0), let t = knownType(x), t.rank >= 2, let c = t.shape[1].value, c % groups == 0 else {
            throw fail("\(here): GroupNormalization before opset 21 has per-group scale and bias; Gannet needs X's channel count (divisible by num_groups), which the model does not declare")
        }
        for k in 1...2 {
            guard let p = n.input(k) else { continue }
            let base = freshName(g.name(of: p) + "_per_channel")
            let out = g.addValue(base, TensorType(.float32, [.fixed(c)]))
            ids[base] = out
            let uName = freshName(base + "_unsqueezed"), eName = freshName(base + "_expanded")
            let u = g.addValue(uName), e = g.addValue(eName)
            ids[uName] = u
            ids[eName] = e
            g.nodes.append(Node(.unsqueeze, name: base + "_unsqueeze", inputs: [p, constantInput(base + "_axes", [1])], outputs: [u]))
            g.nodes.append(Node(.expand, name: base + "_expand", inputs: [u, constantInput(base + "_shape", [groups, c / groups])], outputs: [e]))
            g.nodes.append(Node(.reshape, name: base + "_reshape", inputs: [e, constantInput(base + "_target", [c])], outputs: [out]))
            n.inputs[k] = out
        }
    }

    /// Softmax/LogSoftmax before opset 13: the input is coerced to 2-D at `axis` (default 1).
    mutating func legacySoftmax(_ n: inout Node, _ here: String) throws {
        let axis = try int(n, "axis", here) ?? 1
        guard let x = n.input(0) else { throw fail("\(here): \(n.op.rawValue) has no input") }
        guard let type = knownType(x) else {
            // Undeclared shape: Flatten(axis) → op(axis 1) → Reshape to Shape(x), resolved when
            // the shapes are inferred (at the latest when a session binds the batch).
            try unflattenThroughShape(n, x, axis: axis)
            return
        }
        let r = type.rank
        let a = axis < 0 ? axis + r : axis
        guard a >= 0 && a <= r else { throw fail("\(here): axis \(axis) is out of range for rank \(r)") }
        if r == 0 || a >= r - 1 {
            // Coercing at the last axis (or a scalar) is a softmax along the last axis.
            n.attributes["axis"] = .int(r == 0 ? 0 : r - 1)
            if a == r && r > 0 {
                // axis == rank: every row holds one element.
                throw fail("\(here): axis \(axis) equal to the rank is not supported")
            }
            g.nodes.append(n)
            return
        }
        // Flatten at a, softmax the rows, reshape back.
        var shape: [Int64] = []
        var unknown = 0
        for (k, d) in type.shape.enumerated() {
            switch d {
            case .fixed(let v): shape.append(Int64(v))
            case .symbol:
                if k == 0 && a == 1 { shape.append(0) } else { shape.append(-1); unknown += 1 }
            }
        }
        guard unknown <= 1 else {
            try unflattenThroughShape(n, x, axis: a)
            return
        }
        let base = n.name.isEmpty ? g.name(of: n.outputs[0]) : n.name
        let flatName = freshName(base + "_flat")
        let flat = g.addValue(flatName)
        ids[flatName] = flat
        g.nodes.append(Node(.flatten, name: flatName, inputs: [x], outputs: [flat], attributes: Attributes(["axis": .int(a)])))
        let rowsName = freshName(base + "_rows")
        let rows = g.addValue(rowsName)
        ids[rowsName] = rows
        var attrs = n.attributes
        attrs["axis"] = .int(1)
        g.nodes.append(Node(n.op, name: n.name, inputs: [flat], outputs: [rows], attributes: attrs))
        let shapeName = freshName(base + "_shape")
        let shapeValue = g.addValue(shapeName, TensorType(.int64, fixed: [shape.count]))
        ids[shapeName] = shapeValue
        g.nodes.append(Node(.constant, name: shapeName, inputs: [], outputs: [shapeValue],
                            attributes: Attributes(["value": .tensor(Tensor(shape: [shape.count], int64s: shape))])))
        g.nodes.append(Node(.reshape, name: freshName(base + "_unflatten"), inputs: [rows, shapeValue], outputs: n.outputs))
    }

    /// Softmax/LogSoftmax coerced to 2-D at `axis` when the input's shape is not known at import:
    /// Flatten(x, axis) → op(axis 1) → Reshape(·, Shape(x)) into the node's output.
    mutating func unflattenThroughShape(_ n: Node, _ x: ValueID, axis: Int) throws {
        let base = n.name.isEmpty ? g.name(of: n.outputs[0]) : n.name
        func value(_ suffix: String) -> ValueID {
            let name = freshName(base + suffix)
            let v = g.addValue(name)
            ids[name] = v
            return v
        }
        let flat = value("_flat"), rows = value("_rows"), shape = value("_shape")
        g.nodes.append(Node(.flatten, name: g.name(of: flat), inputs: [x], outputs: [flat], attributes: Attributes(["axis": .int(axis)])))
        var attrs = n.attributes
        attrs["axis"] = .int(1)
        g.nodes.append(Node(n.op, name: n.name, inputs: [flat], outputs: [rows], attributes: attrs))
        g.nodes.append(Node(.shape, name: g.name(of: shape), inputs: [x], outputs: [shape]))
        g.nodes.append(Node(.reshape, name: freshName(base + "_unflatten"), inputs: [rows, shape], outputs: n.outputs))
    }
}
