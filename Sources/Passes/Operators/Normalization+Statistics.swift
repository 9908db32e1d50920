// Normalization+Statistics: the normalisations by the input's own statistics —
// InstanceNormalization, LayerNormalization and GroupNormalization (opset 21 form).
//
// Contract: InstanceNormalization normalises each (n, c) over the axes after 1 (X rank ≥ 2,
// scale and B [C]). LayerNormalization normalises over the axes from `axis` (default −1) on;
// Scale (and the optional B) have exactly those dims; its optional outputs Mean and InvStdDev
// have X's shape with the normalised axes set to 1. GroupNormalization splits C into
// `num_groups` groups (C divisible by it) and normalises each (n, group) over its channels and
// the spatial axes; scale and bias are per channel [C] (the importer expands the per-group
// scale of opsets 18–20). All use the biased variance and ε (default 1e-5) and lower to one
// `Normalize` kernel call. Pullbacks (X, scale, bias), built from standard ops:
//   x̂ = (X − μ)·σ⁻¹, dx̂ = dY·scale, dX = σ⁻¹·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) over the
//   normalised axes, dscale = Σ dY·x̂ and dbias = Σ dY over the other axes;
// LayerNormalization's Mean/InvStdDev outputs are not differentiable (an error when the loss
// reads them).

import GraphIR
import Kernels

public enum StatisticNormalizationOps: OperatorFamily {
    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        guard x.dtype == .float32 else { throw GraphError("\(node.op.rawValue) needs float32 data, got \(x)") }
        func check(_ k: Int, _ want: [Dim], _ what: String) throws {
            guard k < ts.count, let t = ts[k] else { return }
            if t.rank != want.count || zip(t.shape, want).contains(where: { $0 != $1 && $0.value != nil && $1.value != nil }) {
                throw GraphError("\(what) has type \(t), expected [\(want.map(\.description).joined(separator: ","))]")
            }
        }
        switch node.op {
        case .instanceNormalization:
            guard x.rank >= 2 else { throw GraphError("input must have rank >= 2 (N, C, …), got \(x)") }
            try check(1, [x.shape[1]], "scale")
            try check(2, [x.shape[1]], "B")
            return [x]
        case .groupNormalization:
            guard x.rank >= 2 else { throw GraphError("input must have rank >= 2 (N, C, …), got \(x)") }
            let groups = try numGroups(node)
            if let c = x.shape[1].value, c % groups != 0 {
                throw GraphError("GroupNormalization: \(c) channels do not split into num_groups=\(groups) groups")
            }
            try check(1, [x.shape[1]], "scale")
            try check(2, [x.shape[1]], "bias")
            return [x]
        case .layerNormalization:
            let axis = try layerAxis(node, x.rank)
            try check(1, Array(x.shape[axis...]), "Scale")
            try check(2, Array(x.shape[axis...]), "B")
            let stats = TensorType(.float32, Array(x.shape[..<axis]) + Array(repeating: Dim.fixed(1), count: x.rank - axis))
            return [x, stats, stats].prefix(node.outputs.count).map { $0 }
        default: throw notInFamily(node.op)
        }
    }

    static func numGroups(_ node: Node) throws -> Int {
        guard let g = try node.attributes.int("num_groups") else { throw GraphError("GroupNormalization needs num_groups") }
        guard g >= 1 else { throw GraphError("GroupNormalization num_groups must be positive, got \(g)") }
        return g
    }

    static func layerAxis(_ node: Node, _ rank: Int) throws -> Int {
        guard rank >= 1 else { throw GraphError("LayerNormalization needs an input of rank >= 1") }
        return try ShapeRules.normalizeAxis(try node.attributes.int("axis", default: -1), rank)
    }

    /// The kernel plan for X of shape `x`.
    static func plan(_ node: Node, _ x: [Int]) throws -> Normalize.Plan {
        let eps = try node.attributes.float("epsilon", default: 1e-5)
        switch node.op {
        case .instanceNormalization:
            let s = x[2...].reduce(1, *)
            return Normalize.Plan(rows: x[0] * x[1], inner: s, groups: x[1], spatial: max(s, 1), epsilon: eps)
        case .groupNormalization:
            let g = try numGroups(node), s = x[2...].reduce(1, *)
            guard x[1] % g == 0 else { throw GraphError("GroupNormalization: \(x[1]) channels do not split into \(g) groups") }
            return Normalize.Plan(rows: x[0] * g, inner: (x[1] / g) * s, groups: g, spatial: max(s, 1), epsilon: eps)
        case .layerNormalization:
            let axis = try layerAxis(node, x.count)
            return Normalize.Plan(rows: x[..<axis].reduce(1, *), inner: x[axis...].reduce(1, *), groups: 1, spatial: 1, epsilon: eps)
        default: throw notInFamily(node.op)
        }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let xs = x[0]!.shape
        let p = try plan(node, xs)
        if p.inner == 0 || p.rows == 0 { return outTypes.map { Tensor(shape: $0.fixedShape ?? [], repeating: 0) } }
        var y = [Float](repeating: 0, count: xs.reduce(1, *))
        var mean = [Float](repeating: 0, count: p.rows), inv = [Float](repeating: 0, count: p.rows)
        let scale = x[1]!.floats, bias = x.count > 2 ? x[2]?.floats : nil
        x[0]!.floats.withUnsafeBufferPointer { xp in
            scale.withUnsafeBufferPointer { sp in
                withOptionalPointer(bias) { bp in
                    Normalize.reference(p, xp.baseAddress!, scale: sp.baseAddress!, bias: bp, &y, mean: &mean, invStd: &inv)
                }
            }
        }
        var out = [Tensor(shape: xs, floats: y)]
        if outTypes.count > 1 {
            let shape = outTypes[1].fixedShape ?? [p.rows]
            out.append(Tensor(shape: shape, floats: mean))
            if outTypes.count > 2 { out.append(Tensor(shape: shape, floats: inv)) }
        }
        return out
    }

    static func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let a else { return body(nil) }
        return a.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let x = try ctx.kernelShapes(node).x
        let p = try plan(node, x)
        guard p.rows > 0, p.inner > 0 else { throw GraphError("\(node.op.rawValue) on the empty tensor \(x) is not supported") }
        return .kernel(.normalize(p))
    }

    /// Statistics of one sample (InstanceNorm, GroupNorm; LayerNorm from an axis ≥ 1), with
    /// scale and bias that are not data.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        if batchedBeyondFirst(batched) { return true }
        guard node.op == .layerNormalization, batched.first == true, let x = graph.type(of: node.inputs[0]!) else { return false }
        return try ShapeRules.normalizeAxis(try node.attributes.int("axis", default: -1), x.rank) == 0
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .instanceNormalization, .layerNormalization, .groupNormalization: return normalization
        default: return nil
        }
    }

    /// dX, dscale, dbias of the three normalisations (see the file contract).
    static func normalization(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        if dys.dropFirst().contains(where: { $0 != nil }) {
            throw GraphError("LayerNormalization's Mean and InvStdDev outputs are not differentiable")
        }
        let x = n.inputs[0]!, scale = n.inputs[1]!, dy = dys[0]!
        let eps = try n.attributes.float("epsilon", default: 1e-5)
        let xd = try b.dims(x)
        let r = xd.count
        // The normalised layout: X itself (instance, layer) or (N, G, C/G·S) for groups.
        var xn = x, normAxes: [Int], paramAxes: [Int], scaleB = scale
        switch n.op {
        case .instanceNormalization:
            guard r >= 3 else { throw GraphError("InstanceNormalization gradients need an input of rank >= 3, got \(xd)") }
            normAxes = Array(2..<r); paramAxes = [0] + normAxes
            scaleB = try b.reshape(scale, to: [.fixed(1), xd[1]] + Array(repeating: Dim.fixed(1), count: r - 2))
        case .layerNormalization:
            let axis = try layerAxis(n, r)
            normAxes = Array(axis..<r); paramAxes = Array(0..<axis)
        case .groupNormalization:
            let groups = try numGroups(n)
            guard let c = xd[1].value, let s = TensorType(.float32, Array(xd[2...])).fixedShape?.reduce(1, *) else {
                throw GraphError("GroupNormalization gradients need static channel and spatial sizes, got \(xd)")
            }
            xn = try b.reshape(x, to: [xd[0], .fixed(groups), .fixed(c / groups * s)])
            normAxes = [2]; paramAxes = [0] + Array(2..<r)
            scaleB = try b.reshape(scale, to: [.fixed(1), xd[1]] + Array(repeating: Dim.fixed(1), count: r - 2))
        default: throw notInFamily(n.op)
        }
        let nd = try b.dims(xn)
        func mean(_ v: ValueID) throws -> ValueID { try b.emit(.reduceMean, [v, b.ints(normAxes)], ["keepdims": .int(1)]) }
        let centered = try b.sub(xn, mean(xn))
        let inv = try b.div(b.scalar(1), b.emit(.sqrt, [b.add(mean(b.mul(centered, centered)), b.scalar(eps))]))
        let xhatN = try b.mul(centered, inv)
        let xhat = try b.reshape(xhatN, to: xd)
        var out: [ValueID?] = Array(repeating: nil, count: n.inputs.count)
        if wants[0] {
            let dxhat = try b.reshape(b.mul(dy, scaleB), to: nd)
            let inner = try b.sub(b.sub(dxhat, mean(dxhat)), b.mul(xhatN, mean(b.mul(dxhat, xhatN))))
            out[0] = try b.reshape(b.mul(inv, inner), to: xd)
        }
        if wants[1] { out[1] = try b.reduceSum(b.mul(dy, xhat), axes: paramAxes, keepdims: false) }
        if n.inputs.count > 2, n.inputs[2] != nil, wants[2] { out[2] = try b.reduceSum(dy, axes: paramAxes, keepdims: false) }
        return out
    }
}
