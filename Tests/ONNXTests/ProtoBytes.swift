// ProtoBytes: a tiny protobuf writer for hand-made ONNX messages (legacy and malformed models).

/// A message under construction: append fields, then take `bytes`.
struct PB {
    var bytes: [UInt8] = []

    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        repeat {
            var b = UInt8(v & 0x7f)
            v >>= 7
            if v != 0 { b |= 0x80 }
            out.append(b)
        } while v != 0
        return out
    }

    mutating func tag(_ field: Int, _ wire: Int) { bytes += PB.varint(UInt64(field << 3 | wire)) }

    /// An int field (int32/int64/enum); negative values as 10-byte two's complement.
    mutating func int(_ field: Int, _ v: Int64) -> PB { tag(field, 0); bytes += PB.varint(UInt64(bitPattern: v)); return self }
    mutating func data(_ field: Int, _ d: [UInt8]) -> PB { tag(field, 2); bytes += PB.varint(UInt64(d.count)); bytes += d; return self }
    mutating func string(_ field: Int, _ s: String) -> PB { data(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ m: PB) -> PB { data(field, m.bytes) }
    mutating func float(_ field: Int, _ f: Float) -> PB {
        tag(field, 5)
        withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 }
        return self
    }
    mutating func packedInts(_ field: Int, _ v: [Int64]) -> PB { data(field, v.flatMap { PB.varint(UInt64(bitPattern: $0)) }) }
    mutating func packedFloats(_ field: Int, _ v: [Float]) -> PB {
        var d: [UInt8] = []
        for f in v { withUnsafeBytes(of: f.bitPattern.littleEndian) { d += $0 } }
        return data(field, d)
    }
    mutating func packedDoubles(_ field: Int, _ v: [Double]) -> PB {
        var d: [UInt8] = []
        for f in v { withUnsafeBytes(of: f.bitPattern.littleEndian) { d += $0 } }
        return data(field, d)
    }
}

/// ONNX messages from their field numbers (onnx.proto of onnx 1.22.0).
enum ONNXBytes {
    static let FLOAT: Int64 = 1, INT32: Int64 = 6, INT64: Int64 = 7, BOOL: Int64 = 9, FLOAT16: Int64 = 10, DOUBLE: Int64 = 11, BFLOAT16: Int64 = 16

    static func tensor(_ name: String, dims: [Int64], type: Int64, floats: [Float]? = nil, raw: [UInt8]? = nil,
                       ints64: [Int64]? = nil, ints32: [Int64]? = nil, doubles: [Double]? = nil, external: Bool = false) -> PB {
        var t = PB()
        if !dims.isEmpty { _ = t.packedInts(1, dims) }
        _ = t.int(2, type)
        if let floats { _ = t.packedFloats(4, floats) }
        if let ints32 { _ = t.packedInts(5, ints32) }
        if let ints64 { _ = t.packedInts(7, ints64) }
        _ = t.string(8, name)
        if let raw { _ = t.data(9, raw) }
        if let doubles { _ = t.packedDoubles(10, doubles) }
        if external {
            var e = PB()
            _ = e.string(1, "location")
            _ = e.string(2, "weights.bin")
            _ = t.message(13, e)
            _ = t.int(14, 1)
        }
        return t
    }

    /// A ValueInfoProto: dims are Int (dim_value), String (dim_param) or nil (missing).
    static func valueInfo(_ name: String, type: Int64 = FLOAT, dims: [Any?]?) -> PB {
        var tt = PB()
        _ = tt.int(1, type)
        if let dims {
            var shape = PB()
            for d in dims {
                var dim = PB()
                if let v = d as? Int { _ = dim.int(1, Int64(v)) }
                if let s = d as? String { _ = dim.string(2, s) }
                _ = shape.message(1, dim)
            }
            _ = tt.message(2, shape)
        }
        var tp = PB()
        _ = tp.message(1, tt)
        var vi = PB()
        _ = vi.string(1, name)
        _ = vi.message(2, tp)
        return vi
    }

    enum A {
        case i(Int64), f(Float), s(String), ints([Int64]), floats([Float]), t(PB)
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                     domain: String? = nil, attrs: [(String, A)] = []) -> PB {
        var n = PB()
        for i in inputs { _ = n.string(1, i) }
        for o in outputs { _ = n.string(2, o) }
        if !name.isEmpty { _ = n.string(3, name) }
        _ = n.string(4, op)
        for (key, a) in attrs {
            var p = PB()
            _ = p.string(1, key)
            switch a {
            case .i(let v): _ = p.int(3, v); _ = p.int(20, 2)
            case .f(let v): _ = p.float(2, v); _ = p.int(20, 1)
            case .s(let v): _ = p.string(4, v); _ = p.int(20, 3)
            case .ints(let v): _ = p.packedInts(8, v); _ = p.int(20, 7)
            case .floats(let v): _ = p.packedFloats(7, v); _ = p.int(20, 6)
            case .t(let t): _ = p.message(5, t); _ = p.int(20, 4)
            }
            _ = n.message(5, p)
        }
        if let domain { _ = n.string(7, domain) }
        return n
    }

    static func model(opset: Int64? = 17, nodes: [PB], inputs: [PB], outputs: [PB],
                      initializers: [PB] = [], valueInfo: [PB] = [], irVersion: Int64 = 8) -> [UInt8] {
        var g = PB()
        for n in nodes { _ = g.message(1, n) }
        _ = g.string(2, "test")
        for t in initializers { _ = g.message(5, t) }
        for i in inputs { _ = g.message(11, i) }
        for o in outputs { _ = g.message(12, o) }
        for v in valueInfo { _ = g.message(13, v) }
        var o = PB()
        _ = o.string(1, "")
        _ = o.int(2, opset ?? 0)
        var m = PB()
        _ = m.int(1, irVersion)
        _ = m.string(2, "test")
        _ = m.message(7, g)
        if opset != nil { _ = m.message(8, o) }
        return m.bytes
    }
}
