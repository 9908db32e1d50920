// SplitTile: Split (one input cut into parts along an axis) and Tile (an input repeated along
// each axis).
//
// Contract: Split's part sizes come from the constant int64 input `split` (non-negative, one per
// output, summing to the axis size), else from `num_outputs` (parts of ⌈d/n⌉, the last
// smaller, as ONNX opset 18; n must equal the output count), else the axis is cut into equal
// parts, one per output (the size must divide). The axis may be symbolic only with explicit
// sizes. Split lowers to one `split` kernel for any element type; constant folding evaluates
// float data, and integer data with one output. Tile's repeats come from the constant int64
// input 1 (one per axis, non-negative; a symbolic dim only with repeat 1); Tile is Expand over
// the interleaved shapes (x as [1, d0, 1, d1, …] broadcast to [r0, d0, r1, d1, …], which is
// Tile's output in row-major order), so it lowers to the Expand kernel (float32 data).
// Pullbacks: Split's is the Concat of the output cotangents along the axis (zeros for an
// output without one); Tile's sums dY over the repeats (dY reshaped to the interleaved shape,
// ReduceSum over the repeat axes).

import Core
import GraphIR
import Kernels

public enum SplitTileOps: OperatorFamily {
    /// Split's axis and part sizes for input type `x`; nil sizes when the axis is symbolic and
    /// the sizes are implicit (an error for the caller).
    static func splitSizes(_ node: Node, _ x: TensorType, _ g: Graph) throws -> (axis: Int, sizes: [Int]) {
        let axis = try ShapeRules.normalizeAxis(try node.attributes.int("axis", default: 0), x.rank)
        let parts = node.outputs.count
        let d = x.shape[axis].value
        if let sizes = try ShapeRules.constantInts(node, 1, g, "split") {
            guard sizes.count == parts else { throw GraphError("split has \(sizes.count) sizes for \(parts) outputs") }
            guard sizes.allSatisfy({ $0 >= 0 }) else { throw GraphError("split sizes \(sizes) must not be negative") }
            let total = try sizes.reduce(0) { try Limits.add($0, $1, "split sizes") }
            if let d, total != d { throw GraphError("split sizes \(sizes) sum to \(total), axis \(axis) of \(x) has \(d)") }
            return (axis, sizes)
        }
        guard let d else { throw GraphError("cannot split symbolic dim \(x.shape[axis]) without explicit sizes") }
        if let n = try node.attributes.int("num_outputs") {
            guard n == parts else { throw GraphError("num_outputs is \(n) but the node has \(parts) outputs") }
            let chunk = (d + n - 1) / n
            let last = d - chunk * (n - 1)
            guard last >= 0 else { throw GraphError("axis \(axis) of size \(d) cannot be cut into \(n) parts of \(chunk) (ONNX's rule leaves the last part negative)") }
            return (axis, [Int](repeating: chunk, count: n - 1) + [last])
        }
        guard d % parts == 0 else { throw GraphError("axis \(axis) of size \(d) does not split into \(parts) equal parts (give split sizes)") }
        return (axis, [Int](repeating: d / parts, count: parts))
    }

    /// Tile's repeats, checked against input type `x`.
    static func repeats(_ node: Node, _ x: TensorType, _ g: Graph) throws -> [Int] {
        guard let r = try ShapeRules.constantInts(node, 1, g, "repeats") else { throw GraphError("Tile needs repeats") }
        guard r.count == x.rank else { throw GraphError("repeats \(r) must have one entry per axis of \(x)") }
        guard r.allSatisfy({ $0 >= 0 }) else { throw GraphError("repeats \(r) must not be negative") }
        return r
    }

    /// Tile as Expand: x's interleaved shape [1, d0, 1, d1, …] and the output's [r0, d0, r1, d1, …].
    static func interleaved(_ x: [Int], _ r: [Int]) -> (input: [Int], output: [Int]) {
        (x.flatMap { [1, $0] }, zip(r, x).flatMap { [$0, $1] })
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        switch node.op {
        case .split:
            let (axis, sizes) = try splitSizes(node, x, g)
            return sizes.map { s in
                var shape = x.shape
                shape[axis] = .fixed(s)
                return TensorType(x.dtype, shape)
            }
        case .tile:
            let r = try repeats(node, x, g)
            return [TensorType(x.dtype, try zip(x.shape, r).map { d, k in
                if k == 1 { return d }
                guard let v = d.value else { throw GraphError("cannot tile symbolic dim \(d) \(k) times") }
                return .fixed(try Limits.multiply(v, k, "tiled size"))
            })]
        default: throw notInFamily(node.op)
        }
    }

    /// Outer and inner element counts around `axis`.
    static func around(_ shape: [Int], _ axis: Int) -> (outer: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[(axis + 1)...].reduce(1, *))
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let t = x[0]!
        switch node.op {
        case .split:
            let (axis, sizes) = try splitSizes(node, t.type, g)
            let (outer, inner) = around(t.shape, axis)
            let parts = AxisSplit.reference(t.floats, sizes: sizes, outer: outer, inner: inner)
            return zip(parts, outTypes).map { Tensor(shape: $1.fixedShape ?? [], floats: $0) }
        case .tile:
            let outShape = outTypes[0].fixedShape ?? []
            let (i, o) = interleaved(t.shape, try repeats(node, t.type, g))
            var y = [Float](repeating: 0, count: outShape.reduce(1, *))
            Expand.reference(outShape: o, inShape: i, t.floats, &y)
            return [Tensor(shape: outShape, floats: y)]
        default: throw notInFamily(node.op)
        }
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        let t = x[0]!, data = t.int64s
        switch node.op {
        case .split:
            guard node.outputs.count == 1 else { throw GraphError("Split of \(t.dtype.rawValue) data into several outputs runs only on float32 data") }
            return Tensor(shape: outShape, int64s: data, dtype: dtype)
        case .tile:
            let (i, o) = interleaved(t.shape, try repeats(node, t.type, g))
            let ix = IntegerIndexing(o, i)
            return IntegerIndexing.generate(outShape, dtype) { data[ix.broadcastIndex($0)] }
        default: throw notInFamily(node.op)
        }
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let x = try ctx.shape(node.inputs[0]!)
        guard let type = ctx.graph.type(of: node.inputs[0]!) else { throw GraphError("input has no type") }
        switch node.op {
        case .split:
            let (axis, sizes) = try splitSizes(node, TensorType(type.dtype, fixed: x), ctx.graph)
            let (outer, inner) = around(x, axis)
            return .kernel(.split(sizes: sizes, outer: outer, inner: inner, elementBytes: type.dtype == .float32 ? 4 : 8), operands: 1)
        case .tile:
            _ = try ctx.kernelShapes(node)
            let (i, o) = interleaved(x, try repeats(node, type, ctx.graph))
            return .kernel(.expand(try BroadcastPlan(outShape: o, aShape: i, bShape: [])), operands: 1)
        default: throw notInFamily(node.op)
        }
    }

    /// Split along axis 0 hands samples to different outputs; Tile's copies along it repeat them.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        guard batched.first == true, let x = graph.type(of: node.inputs[0]!) else { return batchedBeyondFirst(batched) }
        if batchedBeyondFirst(batched) { return true }
        switch node.op {
        case .split: return try ShapeRules.normalizeAxis(try node.attributes.int("axis", default: 0), x.rank) == 0
        case .tile:
            guard let reps = try ShapeRules.constantInts(node, 1, graph, "repeats") else { return true }
            return reps.first != 1
        default: throw notInFamily(node.op)
        }
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .split:
            return { b, n, dy, _ in
                let x = try b.type(n.inputs[0]!)
                let axis = try ShapeRules.normalizeAxis(try n.attributes.int("axis", default: 0), x.rank)
                let parts = try zip(n.outputs, dy).map { o, g in try g ?? b.zeros(b.dims(o)) }
                return [parts.count == 1 ? parts[0] : try b.emit(.concat, parts, ["axis": .int(axis)]), nil]
            }
        case .tile:
            return { b, n, dy, _ in
                let x = try b.dims(n.inputs[0]!)
                let r = try repeats(n, try b.type(n.inputs[0]!), b.graph)
                var shape: [Dim] = [], axes: [Int] = []
                for (d, k) in zip(x, r) {
                    if k != 1 { axes.append(shape.count); shape.append(.fixed(k)) }
                    shape.append(d)
                }
                if axes.isEmpty { return [dy[0]!, nil] }
                return [try b.reduceSum(b.reshape(dy[0]!, to: shape), axes: axes, keepdims: false), nil]
            }
        default: return nil
        }
    }
}
