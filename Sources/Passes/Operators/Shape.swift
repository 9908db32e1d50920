// Shape: ops that only relabel their input's elements — Identity, inference Dropout, Reshape,
// Flatten, Squeeze, Unsqueeze — and Constant.
//
// Contract: Reshape's shape and Squeeze/Unsqueeze's axes come from constant input 1 (the ONNX
// opset 13 form; the importer rewrites the older attribute forms); Reshape copies a dim for 0
// unless allowzero and infers one −1, also over symbolic dims when the quotient is one symbol;
// Squeeze without axes drops every fixed size-1 dim. All of them lower to storage aliasing (no
// kernel), evaluate as a copy (integers too) and have a reshape back as their pullback.
// Dropout is the identity in inference mode (its optional mask output all true); training mode
// must be rewritten first (ExpandDropout). Constant's value is its attribute; it lowers into the
// constant pool.

import GraphIR
import Kernels

public enum ShapeOps: OperatorFamily {
    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        if node.op == .constant { return [try Graph.constantTensor(of: node).type] }
        let x = ts[0]!
        let a = node.attributes
        switch node.op {
        case .identity:
            return [x]
        case .dropout:
            if ts.count > 1, let r = ts[1], r.dtype != .float32 || r.rank != 0 { throw GraphError("ratio must be a float scalar, got \(r)") }
            if ts.count > 2, let m = ts[2], m.dtype != .bool || m.rank != 0 { throw GraphError("training_mode must be a bool scalar, got \(m)") }
            return node.outputs.count > 1 ? [x, TensorType(.bool, x.shape)] : [x]
        case .reshape:
            guard let spec = try ShapeRules.constantInts(node, 1, g, "shape") else { throw GraphError("missing shape") }
            return [TensorType(x.dtype, try reshaped(x, spec, allowZero: try a.int("allowzero", default: 0) != 0))]
        case .flatten:
            var axis = try a.int("axis", default: 1)
            if axis < 0 { axis += x.rank }
            guard axis >= 0 && axis <= x.rank else { throw GraphError("axis \(axis) is out of range for \(x)") }
            guard let d0 = try SymbolicProduct(x.shape[..<axis]).dim, let d1 = try SymbolicProduct(x.shape[axis...]).dim else {
                throw GraphError("cannot flatten \(x) at axis \(axis) with symbolic dims")
            }
            return [TensorType(x.dtype, [d0, d1])]
        case .unsqueeze:
            guard let axes = try ShapeRules.constantInts(node, 1, g, "axes") else { throw GraphError("missing axes") }
            let r = x.rank + axes.count
            let norm = try axes.map { try ShapeRules.normalizeAxis($0, r) }
            guard Set(norm).count == norm.count else { throw GraphError("axes \(axes) repeat") }
            var out: [Dim] = []
            var it = x.shape.makeIterator()
            for i in 0..<r { out.append(norm.contains(i) ? .fixed(1) : it.next()!) }
            return [TensorType(x.dtype, out)]
        case .squeeze:
            let axes = try ShapeRules.constantInts(node, 1, g, "axes")
            let norm: Set<Int>
            if let axes {
                norm = Set(try axes.map { try ShapeRules.normalizeAxis($0, x.rank) })
                for i in norm where x.shape[i] != .fixed(1) { throw GraphError("cannot squeeze axis \(i) of \(x)") }
            } else {
                norm = Set(x.shape.indices.filter { x.shape[$0] == .fixed(1) })
            }
            return [TensorType(x.dtype, x.shape.indices.filter { !norm.contains($0) }.map { x.shape[$0] })]
        default: throw notInFamily(node.op)
        }
    }

    /// Reshape's output dims for the requested `spec` (0 copies, one −1 is inferred).
    static func reshaped(_ x: TensorType, _ spec: [Int], allowZero: Bool) throws -> [Dim] {
        var out: [Dim?] = []
        var inferred: Int? = nil
        for (i, s) in spec.enumerated() {
            if s == -1 {
                if inferred != nil { throw GraphError("shape \(spec) has more than one -1") }
                inferred = i
                out.append(nil)
            } else if s == 0 && !allowZero {
                guard i < x.rank else { throw GraphError("shape \(spec) copies dim \(i) of rank-\(x.rank) input") }
                out.append(x.shape[i])
            } else if s < 0 {
                throw GraphError("shape \(spec) has negative size \(s)")
            } else {
                out.append(.fixed(s))
            }
        }
        let total = try SymbolicProduct(x.shape)
        let known = try SymbolicProduct(out.compactMap { $0 })
        if let i = inferred {
            guard let q = total.divided(by: known), let d = q.dim else {
                throw GraphError("cannot reshape \(x) to \(spec)")
            }
            out[i] = d
        } else if total != known {
            throw GraphError("cannot reshape \(x) (\(total.coefficient) elements\(total.symbols.isEmpty ? "" : " per batch")) to \(spec)")
        }
        return out.map { $0! }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let outShape = outTypes[0].fixedShape ?? []
        switch node.op {
        case .constant:
            return [try Graph.constantTensor(of: node)]
        case .identity, .reshape, .flatten, .squeeze, .unsqueeze:
            return [Tensor(shape: outShape, floats: x[0]!.floats)]
        case .dropout:
            // Inference Dropout is the identity (mask all true); training mode is random.
            if try ExpandDropout.isTraining(node, graph: g) { throw GraphError("training-mode Dropout is not constant") }
            let y0 = Tensor(shape: outShape, floats: x[0]!.floats)
            if node.outputs.count < 2 { return [y0] }
            return [y0, Tensor(shape: outShape, int64s: [Int64](repeating: 1, count: outShape.reduce(1, *)), dtype: .bool)]
        default: throw notInFamily(node.op)
        }
    }

    public static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        switch node.op {
        case .identity, .reshape, .flatten, .squeeze, .unsqueeze:
            return Tensor(shape: outShape, int64s: x[0]!.int64s, dtype: dtype)
        default:
            throw GraphError("\(node.op.rawValue) on \(x[0]!.dtype.rawValue) data is not supported")
        }
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        switch node.op {
        case .constant:
            return .constant([try Graph.constantTensor(of: node)])
        case .identity, .reshape, .flatten, .squeeze, .unsqueeze:
            return .alias(constants: [:])
        case .dropout:
            // Inference Dropout is the identity; its mask, if asked for, is all true.
            if try ExpandDropout.isTraining(node, graph: ctx.graph) {
                throw GraphError("training-mode Dropout must be expanded first (ExpandDropout)")
            }
            guard node.outputs.count > 1 else { return .alias(constants: [:]) }
            let s = try ctx.shape(node.outputs[1])
            return .alias(constants: [1: Tensor(shape: s, int64s: [Int64](repeating: 1, count: s.reduce(1, *)), dtype: .bool)])
        default: throw notInFamily(node.op)
        }
    }

    /// Views and copies: where the samples go is what the shapes say (SampleSeparability checks
    /// that axis 0 stays the batch). A Dropout told to train draws its mask across the batch.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        if node.op == .dropout, let mode = node.input(2) {
            guard let t = graph.constantValue(mode) else { return true }
            return t.count > 0 && (t.dtype == .bool || t.dtype == .int64 ? t.int64s.contains { $0 != 0 } : t.floats.contains { $0 != 0 })
        }
        return false
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .identity: return { _, _, dy, _ in [dy[0]] }
        // Inference Dropout is the identity; training mode is expanded to Mul first (ExpandDropout).
        case .dropout:
            return { b, n, dy, _ in
                if try ExpandDropout.isTraining(n, graph: b.graph) {
                    throw GraphError("training-mode Dropout '\(n.name)' must be expanded (ExpandDropout) before Autodiff")
                }
                return [dy[0]] + Array(repeating: nil, count: n.inputs.count - 1)
            }
        case .reshape, .squeeze, .unsqueeze:
            return { b, n, dy, _ in [try b.reshape(dy[0]!, to: b.dims(n.inputs[0]!))] + Array(repeating: nil, count: n.inputs.count - 1) }
        case .flatten: return { b, n, dy, _ in [try b.reshape(dy[0]!, to: b.dims(n.inputs[0]!))] }
        default: return nil
        }
    }
}
