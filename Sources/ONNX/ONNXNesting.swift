// ONNXNesting: measures how deeply a serialized ModelProto nests messages, before
// libprotobuf-c (which recurses once per level) unpacks it.
//
// Contract: `depth(ofModel:)` walks the protobuf wire format following only the message
// fields through which onnx.proto can recurse (Model → Graph → Node → Attribute → Graph …,
// Function, TrainingInfo, ValueInfo and TypeProto's sequence/map/optional element types) and
// returns the deepest message level reached, counting the ModelProto as 1; it stops as soon
// as the depth passes `limit`. It allocates nothing, runs in time linear in the bytes and
// never recurses deeper than `limit`. Malformed wire data ends the walk of that message
// (libprotobuf-c then reports the file as invalid). `maxDepth` mirrors the default recursion
// limit of the protobuf C++ library that ONNX Runtime uses (100).

enum ONNXNesting {
    static let maxDepth = 100

    /// Message kinds on a recursive path; other message fields are bounded-depth leaves.
    enum Kind {
        case model, trainingInfo, graph, node, attribute, function, valueInfo, type, typeElement, typeMap
    }

    /// The kind of sub-message held by field `field` of a `kind` message, when it can recurse.
    static func child(_ kind: Kind, _ field: UInt64) -> Kind? {
        switch (kind, field) {
        case (.model, 7): return .graph
        case (.model, 20): return .trainingInfo
        case (.model, 25): return .function
        case (.trainingInfo, 1), (.trainingInfo, 2): return .graph
        case (.graph, 1): return .node
        case (.graph, 11), (.graph, 12), (.graph, 13): return .valueInfo
        case (.node, 5): return .attribute
        case (.attribute, 6), (.attribute, 11): return .graph
        case (.attribute, 14), (.attribute, 15): return .type
        case (.function, 7): return .node
        case (.function, 11): return .attribute
        case (.function, 12): return .valueInfo
        case (.valueInfo, 2): return .type
        case (.type, 4), (.type, 9): return .typeElement   // Sequence, Optional: elem_type = 1
        case (.type, 5): return .typeMap                   // Map: value_type = 2
        case (.typeElement, 1), (.typeMap, 2): return .type
        default: return nil
        }
    }

    /// The deepest nesting level of the ModelProto in `bytes` (at most `limit + 1`).
    static func depth(ofModel bytes: UnsafeRawBufferPointer, limit: Int = maxDepth) -> Int {
        walk(bytes, 0, bytes.count, .model, level: 1, limit: limit)
    }

    private static func varint(_ b: UnsafeRawBufferPointer, _ pos: inout Int, _ end: Int) -> UInt64? {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while pos < end && shift < 64 {
            let byte = b[pos]
            pos += 1
            v |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return v }
            shift += 7
        }
        return nil
    }

    private static func walk(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ kind: Kind, level: Int, limit: Int) -> Int {
        if level > limit { return level }
        var deepest = level
        var pos = start
        while pos < end {
            guard let tag = varint(b, &pos, end) else { return deepest }
            let field = tag >> 3
            switch tag & 7 {
            case 0: guard varint(b, &pos, end) != nil else { return deepest }
            case 1: pos += 8
            case 5: pos += 4
            case 2:
                guard let n = varint(b, &pos, end), n <= UInt64(end - pos) else { return deepest }
                let sub = pos + Int(n)
                if let k = child(kind, field) {
                    deepest = max(deepest, walk(b, pos, sub, k, level: level + 1, limit: limit))
                    if deepest > limit { return deepest }
                }
                pos = sub
            default: return deepest
            }
        }
        return deepest
    }
}
