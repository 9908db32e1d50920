// Reductions: ReduceMean, ReduceSum, ReduceSumSquare, ReduceL2, ReduceMax, ReduceMin,
// ReduceProd, Softmax and LogSoftmax.
//
// Contract: the Reduce* ops take their axes from the constant input 1 (ONNX opset 13/18
// form; the importer rewrites the older attribute form, and the IR has no other); absent or
// empty axes reduce every axis unless noop_with_empty_axes; keepdims (default 1) keeps
// reduced axes as size 1. Each lowers to the one `Reduce` kernel with its `ReduceKind`.
// Softmax/LogSoftmax normalise along `axis` (default −1) and keep the shape. Pullbacks: the
// sum and mean broadcast dY back (divided by the count for the mean); ReduceSumSquare
// 2·x·dY, ReduceL2 x·dY/y (dY, y broadcast back; infinite where the norm is 0); Softmax
// y·(dY − Σ dY·y), LogSoftmax dY − e^y·Σ dY. ReduceMax/ReduceMin send dY to the elements
// equal to the extremum, shared equally among ties (PyTorch's amax/amin rule; a NaN extremum
// counts as equal to itself: `extremumGradient`). ReduceProd's dX is the product of the other
// elements of the group, exactly also at zeros: y/x without zeros, the product of the non-zero
// elements at the one zero of a group with exactly one, 0 everywhere with two or more.
// ReduceMax/ReduceMin also take bool data (opset 20: any/all; false/true over an empty set):
// evaluated as the float reduction of the 0/1 values compared > 0.5, and lowered the same way
// (`ExpandBoolReductions` rewrites them before lowering); the other reductions are float only.

import GraphIR
import Kernels

public enum ReductionOps: OperatorFamily {
    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        switch node.op {
        case .reduceMean, .reduceSum, .reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd:
            let axes = try ReduceRule.axes(node, x.rank, g)
            let keep = try node.attributes.int("keepdims", default: 1) != 0
            var out: [Dim] = []
            for (i, d) in x.shape.enumerated() {
                if axes.contains(i) { if keep { out.append(.fixed(1)) } } else { out.append(d) }
            }
            return [TensorType(x.dtype, out)]
        case .softmax, .logSoftmax:
            _ = try ShapeRules.normalizeAxis(try node.attributes.int("axis", default: -1), x.rank)
            return [x]
        default: throw notInFamily(node.op)
        }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let outShape = outTypes[0].fixedShape ?? []
        var y = [Float](repeating: 0, count: outShape.reduce(1, *))
        let xs = x[0]!.shape
        switch node.op {
        case .reduceMean, .reduceSum, .reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd:
            Reduce.reference(try ReduceRule.kind(node.op), shape: xs, axes: try ReduceRule.axes(node, xs.count, g), x[0]!.floats, &y)
        case .softmax, .logSoftmax:
            var axis = try node.attributes.int("axis", default: -1)
            if axis < 0 { axis += xs.count }
            Softmax.reference(x[0]!.floats, &y, outer: xs[..<axis].reduce(1, *), axis: xs[axis], inner: xs[(axis + 1)...].reduce(1, *),
                              log: node.op == .logSoftmax)
        default: throw notInFamily(node.op)
        }
        return [Tensor(shape: outShape, floats: y)]
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        guard node.op == .reduceMax || node.op == .reduceMin, x[0]!.dtype == .bool else {
            throw GraphError("\(node.op.rawValue) on \(x[0]!.dtype.rawValue) data is not supported (float32; ReduceMax/ReduceMin also bool)")
        }
        var y = [Float](repeating: 0, count: outShape.reduce(1, *))
        let xs = x[0]!.shape
        Reduce.reference(try ReduceRule.kind(node.op), shape: xs, axes: try ReduceRule.axes(node, xs.count, g), x[0]!.floats, &y)
        return Tensor(shape: outShape, int64s: y.map { $0 > 0.5 ? 1 : 0 }, dtype: .bool)
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        if node.op == .reduceMax || node.op == .reduceMin, ctx.graph.type(of: node.inputs[0]!)?.dtype == .bool {
            throw GraphError("internal: \(node.op.rawValue) of bool data reached lowering (ExpandBoolReductions rewrites it)")
        }
        let x = try ctx.kernelShapes(node).x
        switch node.op {
        case .reduceMean, .reduceSum, .reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd:
            let axes = try ReduceRule.axes(node, x.count, ctx.graph)
            return .kernel(.reduce(try ReduceRule.kind(node.op), try ReducePlan(shape: x, axes: axes)), operands: 1)
        case .softmax, .logSoftmax:
            var axis = try node.attributes.int("axis", default: -1)
            if axis < 0 { axis += x.count }
            return .kernel(.softmax(outer: x[..<axis].reduce(1, *), axis: x[axis], inner: x[(axis + 1)...].reduce(1, *),
                                    log: node.op == .logSoftmax))
        default: throw notInFamily(node.op)
        }
    }

    /// A reduction over axis 0, or a Softmax along it, combines samples.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        guard batched.first == true, let x = graph.type(of: node.inputs[0]!) else { return batchedBeyondFirst(batched) }
        if batchedBeyondFirst(batched) { return true }
        switch node.op {
        case .softmax, .logSoftmax:
            return try ShapeRules.normalizeAxis(try node.attributes.int("axis", default: -1), x.rank) == 0
        default:
            return try ReduceRule.axes(node, x.rank, graph).contains(0)
        }
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .reduceSum: return { b, n, dy, _ in [try reduce(b, n, dy[0]!, mean: false), nil] }
        case .reduceMean: return { b, n, dy, _ in [try reduce(b, n, dy[0]!, mean: true), nil] }
        case .reduceSumSquare:
            return { b, n, dy, _ in [try b.mul(b.mul(n.inputs[0]!, 2), reduce(b, n, dy[0]!, mean: false)), nil] }
        case .reduceL2:
            return { b, n, dy, _ in [try b.mul(n.inputs[0]!, reduce(b, n, b.div(dy[0]!, n.outputs[0]), mean: false)), nil] }
        case .reduceMax, .reduceMin:
            return { b, n, dy, _ in
                let x = n.inputs[0]!
                let axes = try ReduceRule.axes(n, try b.rank(x), b.graph)
                return [try extremumGradient(b, x: x, y: n.outputs[0], dy: dy[0]!, axes: axes,
                                             keepdims: try n.attributes.int("keepdims", default: 1) != 0), nil]
            }
        case .reduceProd: return { b, n, dy, _ in [try productGradient(b, n, dy[0]!), nil] }
        case .softmax:
            return { b, n, dy, _ in
                let y = n.outputs[0], g = dy[0]!
                let axis = try ShapeRules.normalizeAxis(try n.attributes.int("axis", default: -1), b.rank(y))
                let s = try b.reduceSum(b.mul(g, y), axes: [axis], keepdims: true)
                return [try b.mul(y, b.sub(g, s))]
            }
        case .logSoftmax:
            return { b, n, dy, _ in
                let y = n.outputs[0], g = dy[0]!
                let axis = try ShapeRules.normalizeAxis(try n.attributes.int("axis", default: -1), b.rank(y))
                let s = try b.reduceSum(g, axes: [axis], keepdims: true)
                return [try b.sub(g, b.mul(b.emit(.exp, [y]), s))]
            }
        default: return nil
        }
    }

    /// `v` (a reduction's output or its cotangent) with the reduced axes restored as size 1.
    static func keptDims(_ b: GradientBuilder, _ v: ValueID, axes: [Int], keepdims: Bool) throws -> ValueID {
        keepdims || axes.isEmpty ? v : try b.emit(.unsqueeze, [v, b.ints(axes)])
    }

    /// dX of a max or min reduction of x over `axes` with output y: dY at the elements equal to
    /// y (mask 1 − step(|x − y|), so an infinite or NaN extremum matches itself), divided by the
    /// number of them in the group.
    public static func extremumGradient(_ b: GradientBuilder, x: ValueID, y: ValueID, dy: ValueID, axes: [Int],
                                        keepdims: Bool) throws -> ValueID {
        if axes.isEmpty { return dy }
        let yk = try keptDims(b, y, axes: axes, keepdims: keepdims), g = try keptDims(b, dy, axes: axes, keepdims: keepdims)
        let mask = try b.sub(b.scalar(1), b.step(b.emit(.abs, [b.sub(x, yk)])))
        let count = try b.reduceSum(mask, axes: axes, keepdims: true)
        return try b.mul(mask, b.div(g, count))
    }

    /// dX of ReduceProd (see the contract): with z = [x = 0], xs = x + z, p = Π xs over the group
    /// and k = Σ z, dX = dY·p·([k = 0]/xs + [k = 1]·z).
    static func productGradient(_ b: GradientBuilder, _ n: Node, _ dy: ValueID) throws -> ValueID {
        let x = n.inputs[0]!
        let axes = try ReduceRule.axes(n, try b.rank(x), b.graph)
        if axes.isEmpty { return dy }
        let g = try keptDims(b, dy, axes: axes, keepdims: try n.attributes.int("keepdims", default: 1) != 0)
        let one = b.scalar(1)
        let z = try b.sub(one, b.step(b.emit(.abs, [x])))
        let xs = try b.add(x, z)
        let p = try b.emit(.reduceProd, [xs, b.ints(axes)], ["keepdims": .int(1)])
        let k = try b.reduceSum(z, axes: axes, keepdims: true)
        let none = try b.sub(one, b.step(k))
        let single = try b.sub(one, b.step(b.emit(.abs, [b.sub(k, one)])))
        let share = try b.add(b.div(none, xs), b.mul(single, z))
        return try b.mul(b.mul(g, p), share)
    }

    static func reduce(_ b: GradientBuilder, _ n: Node, _ dy: ValueID, mean: Bool) throws -> ValueID {
        let x = n.inputs[0]!
        let xd = try b.dims(x)
        let axes = try ReduceRule.axes(n, xd.count, b.graph)
        var g = dy
        if try n.attributes.int("keepdims", default: 1) == 0 && !axes.isEmpty {
            g = try b.emit(.unsqueeze, [g, b.ints(axes)])
        }
        g = try b.expand(g, to: xd)
        if mean && !axes.isEmpty {
            var count = 1
            for a in axes {
                guard let v = xd[a].value else { throw GraphError("ReduceMean over symbolic dim \(xd[a])") }
                count *= v
            }
            g = try b.mul(g, 1 / Float(count))
        }
        return g
    }
}

/// Resolved axes of the Reduce* ops (the `axes` attribute, else constant input 1).
public enum ReduceRule {
    /// The kernel's reduction for a Reduce* op.
    public static func kind(_ op: Op) throws -> ReduceKind {
        switch op {
        case .reduceSum: return .sum
        case .reduceMean: return .mean
        case .reduceSumSquare: return .sumSquare
        case .reduceL2: return .l2
        case .reduceMax: return .max
        case .reduceMin: return .min
        case .reduceProd: return .prod
        default: throw GraphError("internal: \(op.rawValue) is not a reduction")
        }
    }

    public static func axes(_ node: Node, _ rank: Int, _ g: Graph) throws -> [Int] {
        let given = try ShapeRules.constantInts(node, 1, g, "axes")
        if let given, !given.isEmpty {
            let n = try given.map { try ShapeRules.normalizeAxis($0, rank) }
            guard Set(n).count == n.count else { throw GraphError("axes \(given) repeat") }
            return n.sorted()
        }
        if try node.attributes.int("noop_with_empty_axes", default: 0) != 0 { return [] }
        return Array(0..<rank)
    }
}
