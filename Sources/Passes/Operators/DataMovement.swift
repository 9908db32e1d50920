// DataMovement: ops that copy elements to new places — Transpose, Concat, Gather, GatherGrad
// (Gather's scatter-add gradient), Slice and Expand.
//
// Contract: Slice's starts/ends/axes/steps and Expand's shape come from constant inputs (the
// ONNX opset 10/13 form; the importer rewrites older attribute forms); Gather's indices are
// integers, negative ones wrap. Each lowers to one data-movement kernel with the shape-like
// operands folded into the call (the kernel reads input 0, and Gather/GatherGrad their
// indices). All but GatherGrad evaluate on integers too (shape computations). Pullbacks:
// inverse permutation, a Slice per Concat input, GatherGrad/Gather, zero padding by Concat
// (Slice, step 1 only) and the sum over broadcast axes (Expand).

import GraphIR
import Kernels

public enum DataMovementOps: OperatorFamily {
    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        let a = node.attributes
        switch node.op {
        case .transpose:
            let perm = try a.ints("perm") ?? Array((0..<x.rank).reversed())
            guard perm.sorted() == Array(0..<x.rank) else { throw GraphError("perm \(perm) is not a permutation of \(x.rank) axes") }
            return [TensorType(x.dtype, perm.map { x.shape[$0] })]
        case .concat:
            guard let ax = try a.int("axis") else { throw GraphError("Concat needs an axis") }
            let axis = try ShapeRules.normalizeAxis(ax, x.rank)
            var sum = 0
            var symbolic: Dim? = nil
            for t in ts {
                guard let t, t.rank == x.rank else { throw GraphError("inputs must all have rank \(x.rank)") }
                for i in 0..<x.rank where i != axis && t.shape[i] != x.shape[i] {
                    throw GraphError("input \(t) does not match \(x) off the concat axis")
                }
                if let v = t.shape[axis].value { sum = try Limits.add(sum, v, "concatenated size") } else { symbolic = t.shape[axis] }
            }
            if symbolic != nil && (sum != 0 || ts.count != 1) { throw GraphError("cannot concatenate along a symbolic dim") }
            var shape = x.shape
            shape[axis] = symbolic ?? .fixed(sum)
            return [TensorType(x.dtype, shape)]
        case .gather:
            let idx = ts[1]!
            guard idx.dtype != .float32 else { throw GraphError("indices must be integers, got \(idx)") }
            let axis = try ShapeRules.normalizeAxis(try a.int("axis", default: 0), x.rank)
            return [TensorType(x.dtype, Array(x.shape[..<axis]) + idx.shape + Array(x.shape[(axis + 1)...]))]
        case .gatherGrad:
            let idx = ts[1]!
            guard idx.dtype != .float32 else { throw GraphError("indices must be integers, got \(idx)") }
            guard let size = try a.int("size"), size > 0 else { throw GraphError("GatherGrad needs a positive size") }
            let axis = try a.int("axis", default: 0)
            guard axis >= 0, axis <= x.rank - idx.rank else { throw GraphError("axis \(axis) does not fit dY \(x) with indices \(idx)") }
            if Array(x.shape[axis..<(axis + idx.rank)]) != idx.shape { throw GraphError("dY \(x) does not hold indices \(idx) at axis \(axis)") }
            return [TensorType(x.dtype, Array(x.shape[..<axis]) + [.fixed(size)] + Array(x.shape[(axis + idx.rank)...]))]
        case .slice:
            return [TensorType(x.dtype, try SliceRule.resolve(node, x, g).outShape)]
        case .expand:
            guard let spec = try ShapeRules.constantInts(node, 1, g, "shape") else { throw GraphError("missing shape") }
            return [TensorType(x.dtype, try ShapeRules.broadcast(x.shape, spec.map { .fixed($0) }))]
        default: throw notInFamily(node.op)
        }
    }

    /// Float tensor `t` with its axes permuted (out.shape[i] = t.shape[perm[i]]), by Transpose's
    /// reference: what Conv's channels_last and MatMul's transA / transB evaluate through.
    static func permuted(_ t: Tensor, _ perm: [Int]) -> Tensor {
        var out = [Float](repeating: 0, count: t.floats.count)
        Transpose.reference(shape: t.shape, perm: perm, t.floats, &out)
        return Tensor(shape: perm.map { t.shape[$0] }, floats: out)
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let outShape = outTypes[0].fixedShape ?? []
        var y = [Float](repeating: 0, count: outShape.reduce(1, *))
        let first = x[0]!, xs = first.shape
        let a = node.attributes
        switch node.op {
        case .transpose:
            Transpose.reference(shape: xs, perm: try a.ints("perm") ?? Array((0..<xs.count).reversed()), first.floats, &y)
        case .concat:
            let axis = try ShapeRules.normalizeAxis(try a.int("axis") ?? 0, xs.count)
            let parts = x.map { $0!.floats }
            let sizes = x.map { $0!.shape[axis] }
            withPointers(parts) { ptrs in
                Concat.reference(inputs: ptrs, axisSizes: sizes, outer: xs[..<axis].reduce(1, *), inner: xs[(axis + 1)...].reduce(1, *), &y)
            }
        case .gather:
            let axis = try ShapeRules.normalizeAxis(try a.int("axis", default: 0), xs.count)
            let idx = x[1]!.int64s
            try Gather.reference(first.floats, indices: idx, indexCount: idx.count, &y, outer: xs[..<axis].reduce(1, *),
                                 axisSize: xs[axis], inner: xs[(axis + 1)...].reduce(1, *))
        case .gatherGrad:
            let axis = try a.int("axis", default: 0)
            let i64 = x[1]!.int64s, ys = outShape
            try Grad.gatherGradReference(first.floats, indices: i64, indexCount: i64.count, &y, outer: ys[..<axis].reduce(1, *),
                                         axisSize: ys[axis], inner: ys[(axis + 1)...].reduce(1, *))
        case .slice:
            let rule = try SliceRule.resolve(node, first.type, g)
            Slice.reference(shape: xs, starts: rule.starts, steps: rule.steps, outShape: outShape, first.floats, &y)
        case .expand:
            Expand.reference(outShape: outShape, inShape: xs, first.floats, &y)
        default: throw notInFamily(node.op)
        }
        return [Tensor(shape: outShape, floats: y)]
    }

    static func withPointers<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) -> R) -> R {
        var ptrs: [UnsafePointer<Float>] = []
        func go(_ i: Int) -> R {
            if i == arrays.count { return body(ptrs) }
            return arrays[i].withUnsafeBufferPointer { bp in
                ptrs.append(bp.baseAddress ?? UnsafePointer(bitPattern: 0x10)!)
                return go(i + 1)
            }
        }
        return go(0)
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        let first = x[0]!
        let data = first.int64s
        switch node.op {
        case .expand:
            let ix = IntegerIndexing(outShape, first.shape)
            return IntegerIndexing.generate(outShape, dtype) { data[ix.broadcastIndex($0)] }
        case .concat:
            let axis = try ShapeRules.normalizeAxis(try node.attributes.int("axis") ?? 0, first.shape.count)
            var out: [Int64] = []
            let outer = first.shape[..<axis].reduce(1, *)
            for o in 0..<outer {
                for t in x {
                    let t = t!
                    let chunk = t.shape[axis...].reduce(1, *)
                    out.append(contentsOf: t.int64s[(o * chunk)..<((o + 1) * chunk)])
                }
            }
            return Tensor(shape: outShape, int64s: out, dtype: dtype)
        case .gather:
            let axis = try ShapeRules.normalizeAxis(try node.attributes.int("axis", default: 0), first.shape.count)
            let idx = x[1]!.int64s
            let outer = first.shape[..<axis].reduce(1, *), n = first.shape[axis], inner = first.shape[(axis + 1)...].reduce(1, *)
            var out: [Int64] = []
            for o in 0..<outer {
                for j in idx {
                    let jj = j < 0 ? Int(j) + n : Int(j)
                    guard jj >= 0 && jj < n else { throw GraphError("Gather index \(j) is out of range for size \(n)") }
                    out.append(contentsOf: data[((o * n + jj) * inner)..<((o * n + jj + 1) * inner)])
                }
            }
            return Tensor(shape: outShape, int64s: out, dtype: dtype)
        case .slice:
            let rule = try SliceRule.resolve(node, first.type, g)
            return IntegerIndexing.permuted(outShape, first.shape, dtype, data) { d, c in (rule.starts[d] + c * rule.steps[d], d) }
        case .transpose:
            let perm = try node.attributes.ints("perm") ?? Array((0..<first.shape.count).reversed())
            return IntegerIndexing.permuted(outShape, first.shape, dtype, data) { d, c in (c, perm[d]) }
        default:
            throw GraphError("\(node.op.rawValue) on \(first.dtype.rawValue) data is not supported")
        }
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let (x, y) = try ctx.kernelShapes(node)
        let a = node.attributes
        switch node.op {
        case .transpose:
            let perm = try a.ints("perm") ?? Array((0..<x.count).reversed())
            return .kernel(.transpose(try TransposePlan(shape: x, perm: perm)))
        case .concat:
            let axis = try a.int("axis")!
            let ax = axis < 0 ? axis + x.count : axis
            let sizes = try node.inputs.map { try ctx.shape($0!)[ax] }
            return .kernel(.concat(axisSizes: sizes, outer: x[..<ax].reduce(1, *), inner: x[(ax + 1)...].reduce(1, *)))
        case .gather:
            let idx = try ctx.shape(node.inputs[1]!)
            var axis = try a.int("axis", default: 0)
            if axis < 0 { axis += x.count }
            return .kernel(.gather(outer: x[..<axis].reduce(1, *), axisSize: x[axis], inner: x[(axis + 1)...].reduce(1, *),
                                   indexCount: idx.reduce(1, *)))
        case .gatherGrad:
            let axis = try a.int("axis", default: 0)
            return .kernel(.gatherGrad(outer: y[..<axis].reduce(1, *), axisSize: y[axis], inner: y[(axis + 1)...].reduce(1, *),
                                       indexCount: try ctx.shape(node.inputs[1]!).reduce(1, *)))
        case .slice:
            let rule = try SliceRule.resolve(node, ctx.graph.type(of: node.inputs[0]!)!, ctx.graph)
            return .kernel(.slice(try SlicePlan(shape: x, starts: rule.starts, steps: rule.steps, outShape: y)), operands: 1)
        case .expand:
            return .kernel(.expand(try BroadcastPlan(outShape: y, aShape: x, bShape: y)), operands: 1)
        default: throw notInFamily(node.op)
        }
    }

    /// Moving data along axis 0 of a batched input (a Transpose that moves it, a Concat, Gather
    /// or Slice on it) moves samples; a batched index tensor selects per sample only from data
    /// that is not batched.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        let a = node.attributes
        guard let x = graph.type(of: node.inputs[0]!) else { return true }
        switch node.op {
        case .transpose:
            guard batched.first == true else { return false }
            let perm = try a.ints("perm") ?? Array((0..<x.rank).reversed())
            return perm.first != 0
        case .concat:
            guard batched.contains(true) else { return false }
            return try ShapeRules.normalizeAxis(try a.int("axis") ?? 0, x.rank) == 0 || !batchAxesAligned(node, batched, graph)
        case .gather:
            let axis = try ShapeRules.normalizeAxis(try a.int("axis", default: 0), x.rank)
            if batched.first == true { return axis == 0 || batchedBeyondFirst(batched) }
            return batchedBeyondFirst(batched) && axis != 0
        case .gatherGrad:
            return batched.contains(true)
        case .slice:
            guard batched.first == true else { return batchedBeyondFirst(batched) }
            if batchedBeyondFirst(batched) { return true }
            let rule = try SliceRule.resolve(node, x, graph)
            return rule.starts[0] != 0 || rule.steps[0] != 1 || rule.outShape[0] != x.shape[0]
        case .expand:
            return batchedBeyondFirst(batched) || !batchAxesAligned(node, batched, graph)
        default: throw notInFamily(node.op)
        }
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .transpose:
            return { b, n, dy, _ in
                let r = try b.rank(n.inputs[0]!)
                let perm = try n.attributes.ints("perm") ?? Array((0..<r).reversed())
                var inverse = [Int](repeating: 0, count: r)
                for (i, p) in perm.enumerated() { inverse[p] = i }
                return [try b.transpose(dy[0]!, inverse)]
            }
        case .expand: return { b, n, dy, _ in [try b.unbroadcast(dy[0]!, to: b.dims(n.inputs[0]!)), nil] }
        case .concat: return concat
        case .slice: return slice
        case .gather:
            return { b, n, dy, _ in
                let data = n.inputs[0]!
                let r = try b.rank(data)
                let axis = try ShapeRules.normalizeAxis(try n.attributes.int("axis", default: 0), r)
                guard let size = try b.dims(data)[axis].value else { throw GraphError("Gather axis \(axis) of the data must be static") }
                return [try b.emit(.gatherGrad, [dy[0]!, n.inputs[1]!], ["axis": .int(axis), "size": .int(size)]), nil]
            }
        case .gatherGrad:
            return { b, n, dy, w in
                guard w[0] else { return [nil, nil] }
                return [try b.emit(.gather, [dy[0]!, n.inputs[1]!], ["axis": .int(try n.attributes.int("axis", default: 0))]), nil]
            }
        default: return nil
        }
    }

    static func concat(_ b: GradientBuilder, _ n: Node, _ dy: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let r = try b.rank(n.outputs[0])
        let axis = try ShapeRules.normalizeAxis(try n.attributes.int("axis") ?? 0, r)
        var offset = 0
        var out: [ValueID?] = []
        for (k, v) in n.inputs.enumerated() {
            guard let size = try b.dims(v!)[axis].value else { throw GraphError("Concat along a symbolic dim") }
            out.append(wants[k] ? try b.slice(dy[0]!, starts: [offset], ends: [offset + size], axes: [axis]) : nil)
            offset += size
        }
        return out
    }

    /// Slice (step 1): pads the cotangent back with zeros by Concat along each sliced axis.
    static func slice(_ b: GradientBuilder, _ n: Node, _ dy: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let x = n.inputs[0]!
        let xt = try b.type(x)
        let rule = try SliceRule.resolve(n, xt, b.graph)
        var g = dy[0]!
        for d in 0..<xt.rank where rule.outShape[d] != xt.shape[d] {
            guard rule.steps[d] == 1 else { throw GraphError("Slice with step \(rule.steps[d]) has no gradient rule (step 1 only)") }
            guard let full = xt.shape[d].value, let got = rule.outShape[d].value else { throw GraphError("Slice along a symbolic dim") }
            let before = rule.starts[d], after = full - before - got
            var parts: [ValueID] = []
            var shape = try b.dims(g)
            if before > 0 { shape[d] = .fixed(before); parts.append(try b.zeros(shape)) }
            parts.append(g)
            if after > 0 { shape[d] = .fixed(after); parts.append(try b.zeros(shape)) }
            g = parts.count == 1 ? g : try b.emit(.concat, parts, ["axis": .int(d)])
        }
        return [g] + Array(repeating: nil, count: n.inputs.count - 1)
    }
}

/// Resolved Slice parameters (constant inputs 1–4, the opset 10 form; the importer rewrites the older attributes): per-axis start and step over the input, and the output shape.
public struct SliceRule {
    public var starts: [Int]
    public var steps: [Int]
    public var outShape: [Dim]

    public static func resolve(_ node: Node, _ x: TensorType, _ g: Graph) throws -> SliceRule {
        guard let startsIn = try ShapeRules.constantInts(node, 1, g, "starts"),
              let endsIn = try ShapeRules.constantInts(node, 2, g, "ends") else {
            throw GraphError("Slice needs starts and ends")
        }
        let axesIn = try ShapeRules.constantInts(node, 3, g, "axes")
        let stepsIn = try ShapeRules.constantInts(node, 4, g, "steps")
        let axes = axesIn ?? Array(0..<startsIn.count)
        let steps = stepsIn ?? Array(repeating: 1, count: startsIn.count)
        guard endsIn.count == startsIn.count, axes.count == startsIn.count, steps.count == startsIn.count else {
            throw GraphError("Slice starts, ends, axes and steps differ in length")
        }
        var rule = SliceRule(starts: Array(repeating: 0, count: x.rank), steps: Array(repeating: 1, count: x.rank), outShape: x.shape)
        for (k, axis0) in axes.enumerated() {
            let axis = try ShapeRules.normalizeAxis(axis0, x.rank)
            guard let dim = x.shape[axis].value else { throw GraphError("cannot slice symbolic dim \(axis)") }
            let step = steps[k]
            guard step != 0 else { throw GraphError("Slice step must not be 0") }
            var s = startsIn[k], e = endsIn[k]
            if s < 0 { s = s < -dim ? -1 : s + dim }
            if e < 0 { e = e < -dim ? -1 : e + dim }
            let count: Int
            if step > 0 {
                s = min(max(s, 0), dim); e = min(max(e, 0), dim)
                count = e > s ? (e - s - 1) / step + 1 : 0
            } else {
                s = min(max(s, 0), dim - 1); e = min(max(e, -1), dim - 1)
                count = s > e ? (s - e - 1) / (step == Int.min ? Int.max : -step) + 1 : 0
            }
            rule.starts[axis] = s
            rule.steps[axis] = step
            rule.outShape[axis] = .fixed(count)
        }
        return rule
    }
}
