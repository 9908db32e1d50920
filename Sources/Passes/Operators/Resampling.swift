// Resampling: Resize (nearest, linear, cubic) and Pad (constant, reflect, edge, wrap) — ops that move
// elements by a separable per-axis index map, lowered to one `Resample` kernel call.
//
// Contract: Resize reads roi (input 1, floats), scales (input 2, floats) and sizes (input 3,
// int64) as constants (exactly one of scales/sizes non-empty), over the `axes` attribute
// (default all). With scales an axis has floor(in·scale) outputs (tf_crop_and_resize:
// floor(in·(end − start)·scale)); with sizes, keep_aspect_ratio_policy "stretch" takes them as
// given and "not_larger"/"not_smaller" use one scale (min/max of size/in) with
// round-half-up(in·scale) outputs. Output coordinate o maps to the input coordinate by
// `coordinate_transformation_mode` (half_pixel default, half_pixel_symmetric, pytorch_half_pixel,
// align_corners, asymmetric, tf_crop_and_resize with extrapolation_value outside the input);
// nearest rounds by `nearest_mode` (round_prefer_floor default, round_prefer_ceil, floor, ceil)
// and clamps; linear blends floor(x) and floor(x)+1 (clamped) per axis, so N-D "linear" is the
// separable (bi/tri)linear interpolation; cubic blends floor(x)−1 … floor(x)+2 with Keys'
// weights for `cubic_coeff_a` (default −0.75) at distances 1+t, t, 1−t, 2−t (t = x − floor(x)),
// taps beyond the edge reading the edge value, or, with `exclude_outside`, weighted 0 and the
// other weights renormalised to sum 1 (ONNX's reference). Antialiased downsampling (linear or
// cubic) is a clear error.
// Pad reads pads (input 1, int64, 2·len(axes): begins then ends), constant_value (input 2,
// scalar, default 0) and axes (input 3) as constants; negative pads crop; reflect mirrors
// without repeating the edge (numpy "reflect"), edge repeats it, wrap is periodic. Pad also
// runs on integer data (int32/int64/bool, the runtime's Int64: `padIntegers`, the gather with an
// exact Int64 constant_value) and evaluates on integer constants; Resize is float32 only.
// Pullbacks: Resize — per resized axis GatherGrad of dY (nearest) or the sum over taps of
// GatherGrad of dY weighted by the tap's constant weights (linear, cubic); Pad — Pad of dY by the negated pads (constant mode: the
// transpose of padding is cropping) or per padded axis GatherGrad through the tap indices
// (reflect, edge, wrap). Both need static sizes on the moved axes; the roi/scales/sizes/pads
// operands and constant_value get no gradient.

import GraphIR
import Kernels

public enum ResamplingOps: OperatorFamily {
    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        guard x.rank >= 1 else { throw GraphError("\(node.op.rawValue) needs an input of rank >= 1, got \(x)") }
        switch node.op {
        case .resize: return [TensorType(x.dtype, try ResizeRule.resolve(node, x.shape, g).outShape)]
        case .pad: return [TensorType(x.dtype, try PadRule.resolve(node, x.shape, g).outShape)]
        default: throw notInFamily(node.op)
        }
    }

    /// The kernel plan for an input of static shape `x`.
    static func plan(_ node: Node, _ x: [Int], _ g: Graph) throws -> Resample.Plan {
        let dims = x.map { Dim.fixed($0) }
        switch node.op {
        case .resize:
            let rule = try ResizeRule.resolve(node, dims, g)
            let out = rule.outShape.map { $0.value! }
            return Resample.Plan(inShape: x, outShape: out, axes: try x.indices.map { try rule.taps($0, x[$0], out[$0]) },
                                 outside: rule.extrapolation)
        case .pad:
            let rule = try PadRule.resolve(node, dims, g)
            let out = rule.outShape.map { $0.value! }
            return Resample.Plan(inShape: x, outShape: out, axes: try x.indices.map { try rule.taps($0, x[$0]) }, outside: rule.value)
        default: throw notInFamily(node.op)
        }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let p = try plan(node, x[0]!.shape, g)
        var y = [Float](repeating: 0, count: p.outShape.reduce(1, *))
        if !y.isEmpty { x[0]!.floats.withUnsafeBufferPointer { Resample.reference(p, $0.baseAddress!, &y) } }
        return [Tensor(shape: p.outShape, floats: y)]
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        guard node.op == .pad else { throw GraphError("Resize on \(x[0]!.dtype.rawValue) data is not supported") }
        let p = try plan(node, x[0]!.shape, g)
        let value = try PadRule.resolve(node, x[0]!.shape.map { .fixed($0) }, g).integerValue
        return Tensor(shape: p.outShape, int64s: Resample.gatherReference(p, x[0]!.int64s, outside: value), dtype: dtype)
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        if node.op == .pad, let t = ctx.graph.type(of: node.inputs[0]!), t.dtype != .float32 {
            let x = try ctx.shape(node.inputs[0]!)
            let p = try plan(node, x, ctx.graph)
            guard p.outShape.reduce(1, *) > 0 else { return .constant([Tensor(shape: p.outShape, int64s: [], dtype: t.dtype)]) }
            guard x.reduce(1, *) > 0 else { throw GraphError("Pad of the empty tensor \(x) to \(p.outShape) is not supported") }
            let value = try PadRule.resolve(node, x.map { .fixed($0) }, ctx.graph).integerValue
            return .kernel(.padIntegers(p, outside: value), operands: 1)
        }
        let x = try ctx.kernelShapes(node).x
        let p = try plan(node, x, ctx.graph)
        guard p.outShape.reduce(1, *) > 0 else { return .constant([Tensor(shape: p.outShape, floats: [])]) }
        guard x.reduce(1, *) > 0 else { throw GraphError("\(node.op.rawValue) of the empty tensor \(x) to \(p.outShape) is not supported") }
        return .kernel(.resample(p), operands: 1)
    }

    /// A Pad that pads or crops axis 0 moves samples (a pad at one end and a crop at the other
    /// keeps the shape); so does a Resize that scales axis 0 or crops it to an roi
    /// (tf_crop_and_resize). Otherwise both read one image at a time.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        if batchedBeyondFirst(batched) { return true }
        guard batched.first == true, let x = graph.type(of: node.inputs[0]!) else { return false }
        switch node.op {
        case .pad:
            let rule = try PadRule.resolve(node, x.shape, graph)
            return rule.begins[0] != 0 || rule.ends[0] != 0
        case .resize:
            let rule = try ResizeRule.resolve(node, x.shape, graph)
            return rule.transform == "tf_crop_and_resize" || rule.resized[0] || rule.scales[0] != 1
        default: throw notInFamily(node.op)
        }
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .resize: return resize
        case .pad: return pad
        default: return nil
        }
    }

    /// The static size of axis `a` of `v` (an error naming the op when symbolic).
    static func size(_ b: GradientBuilder, _ v: ValueID, _ a: Int, _ what: String) throws -> Int {
        guard let s = try b.dims(v)[a].value else { throw GraphError("\(what) gradients need a static size on axis \(a)") }
        return s
    }

    static func scatter(_ b: GradientBuilder, _ g: ValueID, _ idx: [Int32], axis: Int, size: Int) throws -> ValueID {
        try b.emit(.gatherGrad, [g, b.ints(idx.map { Int($0) })], ["axis": .int(axis), "size": .int(size)])
    }

    static func resize(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let x = n.inputs[0]!
        let xd = try b.dims(x), r = xd.count
        let rule = try ResizeRule.resolve(n, xd, b.graph)
        var g = dys[0]!
        for a in 0..<r where !rule.isIdentity(a) {
            let inSize = try size(b, x, a, "Resize"), outSize = try size(b, n.outputs[0], a, "Resize")
            let t = try rule.taps(a, inSize, outSize)
            if t.first.contains(-1) { throw GraphError("Resize with tf_crop_and_resize extrapolation has no gradient rule") }
            if !t.blends { g = try scatter(b, g, t.first, axis: a, size: inSize); continue }
            let wshape = [outSize] + Array(repeating: 1, count: r - 1 - a)
            var sum: ValueID? = nil
            for k in 0..<t.width {
                let (idx, w) = t.tap(k)
                let term = try scatter(b, b.mul(g, b.constant(Tensor(shape: wshape, floats: w))), idx, axis: a, size: inSize)
                sum = try sum.map { try b.add($0, term) } ?? term
            }
            g = sum!
        }
        return [g] + Array(repeating: nil, count: n.inputs.count - 1)
    }

    static func pad(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let x = n.inputs[0]!
        let xd = try b.dims(x)
        let rule = try PadRule.resolve(n, xd, b.graph)
        var g = dys[0]!
        if rule.mode == "constant" {
            g = try b.emit(.pad, [g, b.ints((rule.begins + rule.ends).map { -$0 })], ["mode": .string("constant")])
        } else {
            for a in xd.indices where rule.begins[a] != 0 || rule.ends[a] != 0 {
                let inSize = try size(b, x, a, "Pad")
                g = try scatter(b, g, try rule.taps(a, inSize).first, axis: a, size: inSize)
            }
        }
        return [g] + Array(repeating: nil, count: n.inputs.count - 1)
    }
}

/// Resolved Resize parameters (see the Resampling contract).
public struct ResizeRule {
    public var outShape: [Dim]
    /// Per axis: the scale of the coordinate transform, and the roi start/end (tf_crop_and_resize).
    var scales: [Double]
    var roiStart: [Double], roiEnd: [Double]
    var resized: [Bool]
    /// "nearest", "linear" or "cubic".
    var mode: String
    var transform: String, nearestMode: String
    /// Cubic's a and exclude_outside.
    var cubicA: Double, excludeOutside: Bool
    public var extrapolation: Float

    static let transforms: Set<String> = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                                          "tf_crop_and_resize"]
    static let nearestModes: Set<String> = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]

    public static func resolve(_ node: Node, _ x: [Dim], _ g: Graph) throws -> ResizeRule {
        let a = node.attributes
        let r = x.count
        let mode = try a.string("mode") ?? "nearest"
        guard ["nearest", "linear", "cubic"].contains(mode) else { throw GraphError("unknown Resize mode '\(mode)'") }
        let transform = try a.string("coordinate_transformation_mode") ?? "half_pixel"
        if transform == "tf_half_pixel_for_nn" {
            throw GraphError("coordinate_transformation_mode 'tf_half_pixel_for_nn' (deprecated since opset 13) is not supported")
        }
        guard transforms.contains(transform) else { throw GraphError("unknown coordinate_transformation_mode '\(transform)'") }
        let nearestMode = try a.string("nearest_mode") ?? "round_prefer_floor"
        guard nearestModes.contains(nearestMode) else { throw GraphError("unknown nearest_mode '\(nearestMode)'") }
        let policy = try a.string("keep_aspect_ratio_policy") ?? "stretch"
        guard ["stretch", "not_larger", "not_smaller"].contains(policy) else { throw GraphError("unknown keep_aspect_ratio_policy '\(policy)'") }
        let axes = try (a.ints("axes") ?? Array(0..<r)).map { try ShapeRules.normalizeAxis($0, r) }
        guard Set(axes).count == axes.count else { throw GraphError("Resize axes \(axes) repeat") }

        func floats(_ i: Int, _ what: String) throws -> [Float]? {
            guard let v = node.input(i) else { return nil }
            guard let t = g.constantValue(v) else { throw GraphError("\(what) ('\(g.name(of: v))') must be a constant") }
            return t.count == 0 ? nil : t.floats
        }
        let scalesIn = try floats(2, "scales")
        var sizesIn = try ShapeRules.constantInts(node, 3, g, "sizes")
        if sizesIn?.isEmpty == true { sizesIn = nil }
        guard (scalesIn == nil) != (sizesIn == nil) else { throw GraphError("Resize needs exactly one of scales and sizes") }
        var rule = ResizeRule(outShape: x, scales: Array(repeating: 1, count: r), roiStart: Array(repeating: 0, count: r),
                              roiEnd: Array(repeating: 1, count: r), resized: Array(repeating: false, count: r),
                              mode: mode, transform: transform, nearestMode: nearestMode,
                              cubicA: Double(try a.float("cubic_coeff_a", default: -0.75)),
                              excludeOutside: try a.int("exclude_outside", default: 0) != 0,
                              extrapolation: try a.float("extrapolation_value", default: 0))
        if transform == "tf_crop_and_resize" {
            guard let roi = try floats(1, "roi"), roi.count == 2 * axes.count else {
                throw GraphError("tf_crop_and_resize needs an roi of \(2 * axes.count) values")
            }
            for (k, ax) in axes.enumerated() { rule.roiStart[ax] = Double(roi[k]); rule.roiEnd[ax] = Double(roi[k + axes.count]) }
        }
        func inSize(_ ax: Int) throws -> Int {
            guard let v = x[ax].value else { throw GraphError("Resize of symbolic dim \(x[ax]) (axis \(ax)) is not supported") }
            return v
        }
        if let s = scalesIn {
            guard s.count == axes.count else { throw GraphError("Resize scales has \(s.count) values for \(axes.count) axes") }
            for (k, ax) in axes.enumerated() {
                guard s[k] > 0, s[k].isFinite else { throw GraphError("Resize scale \(s[k]) must be positive") }
                if s[k] == 1 && transform != "tf_crop_and_resize" { continue }
                let n = Double(try inSize(ax))
                let extent = transform == "tf_crop_and_resize" ? rule.roiEnd[ax] - rule.roiStart[ax] : 1
                rule.scales[ax] = Double(s[k])
                rule.outShape[ax] = .fixed(try outSize(n * extent * Double(s[k])))
                rule.resized[ax] = true
            }
        } else if let s = sizesIn {
            guard s.count == axes.count else { throw GraphError("Resize sizes has \(s.count) values for \(axes.count) axes") }
            guard s.allSatisfy({ $0 > 0 }) else { throw GraphError("Resize sizes \(s) must be positive") }
            var common: Double? = nil
            if policy != "stretch" {
                let ratios = try axes.enumerated().map { k, ax in Double(s[k]) / Double(try inSize(ax)) }
                common = policy == "not_larger" ? ratios.min() : ratios.max()
            }
            for (k, ax) in axes.enumerated() {
                if x[ax] == .fixed(s[k]) && common == nil && transform != "tf_crop_and_resize" { continue }
                let n = try inSize(ax)
                if let c = common {
                    rule.scales[ax] = c
                    rule.outShape[ax] = .fixed(try outSize(c * Double(n) + 0.5))
                } else {
                    rule.scales[ax] = Double(s[k]) / Double(n)
                    rule.outShape[ax] = .fixed(s[k])
                }
                rule.resized[ax] = true
            }
        }
        if try a.int("antialias", default: 0) != 0 && rule.mode != "nearest" && rule.scales.contains(where: { $0 < 1 }) {
            throw GraphError("Resize with antialias downsampling is not supported")
        }
        return rule
    }

    /// floor(v) as an output size (an error when it is not a size the kernels index).
    static func outSize(_ v: Double) throws -> Int {
        guard v.isFinite, v >= 0, v < Double(Int32.max) else { throw GraphError("Resize output size \(v) is out of range") }
        return Int(v.rounded(.down))
    }

    /// True when axis `a` maps each output coordinate to the same input coordinate.
    public func isIdentity(_ a: Int) -> Bool { !resized[a] }

    /// The input coordinate of output coordinate `o` on axis `a`.
    func coordinate(_ a: Int, _ o: Int, _ n: Int, _ m: Int) -> Double {
        let s = scales[a], x = Double(o), inN = Double(n), outN = Double(m)
        switch transform {
        case "half_pixel": return (x + 0.5) / s - 0.5
        case "half_pixel_symmetric":
            let adjustment = outN / (s * inN)
            return inN / 2 * (1 - adjustment) + (x + 0.5) / s - 0.5
        case "pytorch_half_pixel": return m > 1 ? (x + 0.5) / s - 0.5 : 0
        case "align_corners": return m == 1 ? 0 : x * (inN - 1) / (outN - 1)
        case "asymmetric": return x / s
        default:   // tf_crop_and_resize
            let lo = roiStart[a], hi = roiEnd[a]
            return m > 1 ? lo * (inN - 1) + x * (hi - lo) * (inN - 1) / (outN - 1) : 0.5 * (lo + hi) * (inN - 1)
        }
    }

    /// The kernel taps of axis `a` from `n` inputs to `m` outputs.
    public func taps(_ a: Int, _ n: Int, _ m: Int) throws -> Resample.Axis {
        if isIdentity(a) { return Resample.Axis(nearest: Array(0..<m)) }
        var i0 = [Int32](), i1 = [Int32](), w1 = [Float]()
        func clamp(_ v: Double) -> Int32 { Int32(Swift.min(Swift.max(v, 0), Double(n - 1))) }
        if mode == "cubic" { return cubicTaps(a, n, m) }
        for o in 0..<m {
            let c = coordinate(a, o, n, m)
            if transform == "tf_crop_and_resize" && (c < 0 || c > Double(n - 1)) { i0.append(-1); i1.append(-1); w1.append(0); continue }
            if mode == "linear" {
                let f = c.rounded(.down)
                i0.append(clamp(f)); i1.append(clamp(f + 1))
                w1.append(i0.last == i1.last ? 0 : Float(c - f))
            } else {
                let f = c.rounded(.down), frac = c - f
                let pick: Double
                switch nearestMode {
                case "floor": pick = f
                case "ceil": pick = c.rounded(.up)
                case "round_prefer_ceil": pick = frac >= 0.5 ? f + 1 : f
                default: pick = frac > 0.5 ? f + 1 : f
                }
                i0.append(clamp(pick)); i1.append(clamp(pick)); w1.append(0)
            }
        }
        return Resample.Axis(i0: i0, i1: i1, w1: w1)
    }

    /// Keys' cubic convolution weight at distance d ≥ 0 for coefficient a (0 from distance 2).
    static func cubicWeight(_ d: Double, _ a: Double) -> Double {
        if d <= 1 { return ((a + 2) * d - (a + 3)) * d * d + 1 }
        if d < 2 { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
        return 0
    }

    /// The four cubic taps per output coordinate of axis `a` (see the contract).
    func cubicTaps(_ a: Int, _ n: Int, _ m: Int) -> Resample.Axis {
        var index = [Int32](), weight = [Float]()
        for o in 0..<m {
            let c = coordinate(a, o, n, m)
            if transform == "tf_crop_and_resize" && (c < 0 || c > Double(n - 1)) {
                index += [-1, -1, -1, -1]; weight += [0, 0, 0, 0]
                continue
            }
            let f = c.rounded(.down), t = c - f
            var w = [1 + t, t, 1 - t, 2 - t].map { Self.cubicWeight($0, cubicA) }
            let taps = (-1...2).map { Int(f) + $0 }
            if excludeOutside {
                for k in 0..<4 where taps[k] < 0 || taps[k] >= n { w[k] = 0 }
                let total = w.reduce(0, +)
                if total != 0 { w = w.map { $0 / total } }
            }
            index += taps.map { Int32(Swift.min(Swift.max($0, 0), n - 1)) }
            weight += w.map { Float($0) }
        }
        return Resample.Axis(width: 4, index: index, weight: weight)
    }
}

/// Resolved Pad parameters (see the Resampling contract).
public struct PadRule {
    public var outShape: [Dim]
    public var begins: [Int], ends: [Int]
    public var mode: String
    public var value: Float
    /// constant_value exactly, for integer data.
    public var integerValue: Int64

    public static func resolve(_ node: Node, _ x: [Dim], _ g: Graph) throws -> PadRule {
        let r = x.count
        let mode = try node.attributes.string("mode") ?? "constant"
        guard ["constant", "reflect", "edge", "wrap"].contains(mode) else { throw GraphError("unknown Pad mode '\(mode)'") }
        guard let pads = try ShapeRules.constantInts(node, 1, g, "pads") else { throw GraphError("Pad needs pads") }
        var value: Float = 0, integerValue: Int64 = 0
        if let v = node.input(2) {
            guard let t = g.constantValue(v) else { throw GraphError("constant_value ('\(g.name(of: v))') must be a constant") }
            guard t.count <= 1 else { throw GraphError("constant_value must be a scalar, got \(t.shape)") }
            value = t.floats.first ?? 0
            integerValue = t.int64s.first ?? 0
        }
        let axes = try (ShapeRules.constantInts(node, 3, g, "axes") ?? Array(0..<r)).map { try ShapeRules.normalizeAxis($0, r) }
        guard Set(axes).count == axes.count else { throw GraphError("Pad axes \(axes) repeat") }
        guard pads.count == 2 * axes.count else { throw GraphError("Pad has \(pads.count) pads for \(axes.count) axes (2 per axis)") }
        var rule = PadRule(outShape: x, begins: Array(repeating: 0, count: r), ends: Array(repeating: 0, count: r), mode: mode, value: value,
                           integerValue: integerValue)
        for (k, ax) in axes.enumerated() {
            let b = pads[k], e = pads[k + axes.count]
            if b == 0 && e == 0 { continue }
            guard let n = x[ax].value else { throw GraphError("Pad of symbolic dim \(x[ax]) (axis \(ax)) is not supported") }
            let out = try Limits.add(try Limits.add(n, b, "padded size"), e, "padded size")
            guard out >= 0 else { throw GraphError("pads \(b), \(e) crop axis \(ax) of size \(n) below zero") }
            if mode != "constant" && n == 0 && out > 0 { throw GraphError("Pad mode '\(mode)' cannot pad the empty axis \(ax)") }
            rule.begins[ax] = b; rule.ends[ax] = e
            rule.outShape[ax] = .fixed(out)
        }
        return rule
    }

    /// The kernel taps of axis `a` for an input of size `n` (−1: the constant).
    public func taps(_ a: Int, _ n: Int) throws -> Resample.Axis {
        let b = begins[a], m = n + b + ends[a]
        let idx: [Int] = (0..<m).map { o in
            let j = o - b
            if j >= 0 && j < n { return j }
            switch mode {
            case "constant": return -1
            case "edge": return Swift.min(Swift.max(j, 0), n - 1)
            case "wrap": return ((j % n) + n) % n
            default:   // reflect
                if n == 1 { return 0 }
                let period = 2 * (n - 1)
                let k = ((j % period) + period) % period
                return k < n ? k : period - k
            }
        }
        return Resample.Axis(nearest: idx)
    }
}
