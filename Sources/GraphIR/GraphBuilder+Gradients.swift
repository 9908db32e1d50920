// GraphBuilder+Gradients: the shape helpers pullback rules build with (transpose, sums,
// reshapes and broadcasts of cotangents), on the typed GraphBuilder.
//
// Contract: each helper appends standard ops through `emit` (named after the builder's scope)
// and returns the new value, or its operand unchanged when the operation is the identity
// (a no-op permutation, no axes, the same shape). Symbolic dims are kept where no size is
// needed; otherwise the error names the dim.



extension GraphBuilder {
    // MARK: arithmetic

    public func add(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.add, [a, b]) }
    public func sub(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.sub, [a, b]) }
    public func mul(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.mul, [a, b]) }
    public func div(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.div, [a, b]) }
    public func neg(_ a: ValueID) throws -> ValueID { try emit(.neg, [a]) }
    public func mul(_ a: ValueID, _ s: Float) throws -> ValueID { s == 1 ? a : try mul(a, scalar(s)) }

    public func transpose(_ a: ValueID, _ perm: [Int]) throws -> ValueID {
        perm == Array(perm.indices) ? a : try emit(.transpose, [a], ["perm": .ints(perm)])
    }

    public func reduceSum(_ a: ValueID, axes: [Int], keepdims: Bool) throws -> ValueID {
        if axes.isEmpty { return a }
        return try emit(.reduceSum, [a, ints(axes)], ["keepdims": .int(keepdims ? 1 : 0)])
    }

    /// Reshapes `g` to `target` (same element count): fixed dims literally, a symbolic dim by
    /// 0 when `g` has the same symbol at the same position, else by −1 (once).
    public func reshape(_ g: ValueID, to target: [Dim]) throws -> ValueID {
        let gd = try dims(g)
        if gd == target { return g }
        var spec: [Int] = []
        var inferred = false
        for (i, d) in target.enumerated() {
            switch d {
            case .fixed(let v):
                if v == 0 { throw GraphError("cannot reshape a gradient to a shape with a zero dim") }
                spec.append(v)
            case .symbol:
                if i < gd.count && gd[i] == d { spec.append(0) }
                else if !inferred { spec.append(-1); inferred = true }
                else { throw GraphError("cannot reshape a gradient to \(target): more than one symbolic dim moves") }
            }
        }
        return try emit(.reshape, [g, ints(spec)])
    }

    /// Sums a broadcast cotangent `g` back to `target` (numpy broadcasting in reverse).
    public func unbroadcast(_ g: ValueID, to target: [Dim]) throws -> ValueID {
        let gd = try dims(g)
        if gd == target { return g }
        let pad = gd.count - target.count
        guard pad >= 0 else { throw GraphError("cannot unbroadcast \(gd) to \(target)") }
        var axes = Array(0..<pad)
        for i in target.indices where target[i] == .fixed(1) && gd[i + pad] != .fixed(1) { axes.append(i + pad) }
        for i in target.indices where target[i] != .fixed(1) && gd[i + pad] != target[i] {
            throw GraphError("cannot unbroadcast \(gd) to \(target) (dim \(i))")
        }
        for a in axes where gd[a].value == nil { throw GraphError("cannot sum a gradient over symbolic dim \(gd[a])") }
        var r = try reduceSum(g, axes: axes, keepdims: true)
        if pad > 0 { r = try emit(.squeeze, [r, ints(Array(0..<pad))]) }
        return r
    }

    /// Broadcasts `g` (rank ≤ target rank, broadcast-compatible) to `target` with Expand.
    public func expand(_ g: ValueID, to target: [Dim]) throws -> ValueID {
        let gd = try dims(g)
        if gd == target { return g }
        let pad = target.count - gd.count
        let spec: [Int] = try target.enumerated().map { i, d in
            if i >= pad && gd[i - pad] == d { return 1 }
            guard let v = d.value else { throw GraphError("cannot broadcast a gradient over symbolic dim \(d)") }
            return v
        }
        return try emit(.expand, [g, ints(spec)])
    }

    /// A zeros constant of a static shape.
    public func zeros(_ shape: [Dim]) throws -> ValueID {
        guard let s = TensorType(.float32, shape).fixedShape else { throw GraphError("cannot make zeros of symbolic shape \(shape)") }
        return constant(Tensor(shape: s, repeating: 0))
    }

    /// Slice with step 1 along `axes`.
    public func slice(_ g: ValueID, starts: [Int], ends: [Int], axes: [Int]) throws -> ValueID {
        try emit(.slice, [g, ints(starts), ints(ends), ints(axes)])
    }
}

extension GraphBuilder {
    // MARK: masks and broadcast sides (point-wise pullbacks)

    /// 1 where v > 0, else 0 (Relu(Sign(v))).
    public func step(_ v: ValueID) throws -> ValueID {
        try emit(.relu, [emit(.sign, [v])])
    }

    /// 1 where 0 < h < 1, else 0 (the interior of a clamp to [0, 1]).
    public func interior(_ h: ValueID) throws -> ValueID {
        try mul(step(h), step(sub(scalar(1), h)))
    }

    /// The cotangents of a two-input node's sides, `da(dy)` and `db(dy)`, each summed back over
    /// its input's broadcast axes (nil where not wanted).
    public func sides(_ n: Node, _ wants: [Bool], _ dy: ValueID, _ da: (ValueID) throws -> ValueID,
                      _ db: (ValueID) throws -> ValueID) throws -> [ValueID?] {
        [wants[0] ? try unbroadcast(da(dy), to: dims(n.inputs[0]!)) : nil,
         wants[1] ? try unbroadcast(db(dy), to: dims(n.inputs[1]!)) : nil]
    }
}
