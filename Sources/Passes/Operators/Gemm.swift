// Gemm: Gemm (Y = alpha·op(A)·op(B) + beta·C) and numpy MatMul.
//
// Contract: Gemm takes 2-D A and B (transA/transB), C broadcasting to [M, N]; MatMul batches
// over leading dims with numpy broadcasting and promotes 1-D operands. MatMul's transA/transB
// (not ONNX attributes: FoldTransposeIntoMatMul sets them on Gannet's lowering copy) read an
// operand of rank ≥ 2 with its last two dimensions swapped. Both lower to one GEMM
// kernel call: Gemm's C becomes a bias epilogue when it is a row of N with beta 1, else it is
// broadcast into Y first (fillC) and accumulated with beta; MatMul with a shared B folds A's
// batch into M, otherwise it runs one GEMM per broadcast batch. Pullbacks are GEMMs/MatMuls of
// the cotangent with the other operand.

import GraphIR
import Kernels

public enum GemmOps: OperatorFamily {
    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        switch node.op {
        case .gemm:
            let a = node.attributes
            let b = ts[1]!
            guard x.rank == 2, b.rank == 2 else { throw GraphError("A and B must be 2-D, got \(x) and \(b)") }
            let tA = try a.int("transA", default: 0) != 0, tB = try a.int("transB", default: 0) != 0
            let m = tA ? x.shape[1] : x.shape[0], k1 = tA ? x.shape[0] : x.shape[1]
            let k2 = tB ? b.shape[1] : b.shape[0], n = tB ? b.shape[0] : b.shape[1]
            if k1 != k2 { throw GraphError("inner dimensions differ: \(k1) and \(k2) (A \(x), B \(b))") }
            if let c = ts.count > 2 ? ts[2] : nil {
                let out = try ShapeRules.broadcast([m, n], c.shape)
                if out != [m, n] { throw GraphError("C \(c) does not broadcast to [\(m),\(n)]") }
            }
            return [TensorType(.float32, [m, n])]
        case .matMul:
            var p = x.shape, q = ts[1]!.shape
            guard !p.isEmpty, !q.isEmpty else { throw GraphError("MatMul operands must have rank >= 1") }
            let (tA, tB) = try matMulTransposes(node)
            if tA { p = try swapLast(p, "A") }
            if tB { q = try swapLast(q, "B") }
            let pv = p.count == 1, qv = q.count == 1
            if pv { p.insert(.fixed(1), at: 0) }
            if qv { q.append(.fixed(1)) }
            if p[p.count - 1] != q[q.count - 2] {
                throw GraphError("inner dimensions differ: \(p[p.count - 1]) and \(q[q.count - 2])")
            }
            var out = try ShapeRules.broadcast(Array(p.dropLast(2)), Array(q.dropLast(2)))
            if !pv { out.append(p[p.count - 2]) }
            if !qv { out.append(q[q.count - 1]) }
            return [TensorType(.float32, out)]
        default: throw notInFamily(node.op)
        }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let outShape = outTypes[0].fixedShape ?? []
        var y = [Float](repeating: 0, count: outShape.reduce(1, *))
        let first = x[0]!
        switch node.op {
        case .gemm:
            let a = node.attributes
            let tA = try a.int("transA", default: 0) != 0, tB = try a.int("transB", default: 0) != 0
            let k = tA ? first.shape[0] : first.shape[1]
            if let c = x.count > 2 ? x[2] : nil {
                Expand.reference(outShape: outShape, inShape: c.shape, c.floats, &y)
            }
            Gemm.reference(transA: tA, transB: tB, m: outShape[0], n: outShape[1], k: k,
                           alpha: try a.float("alpha", default: 1), a: first.floats, lda: first.shape[1],
                           b: x[1]!.floats, ldb: x[1]!.shape[1], beta: x.count > 2 && x[2] != nil ? try a.float("beta", default: 1) : 0,
                           c: &y, ldc: outShape[1])
        case .matMul:
            let (tA, tB) = try matMulTransposes(node)
            try matMulReference(tA ? swapLast(first) : first, tB ? swapLast(x[1]!) : x[1]!, outShape, &y)
        default: throw notInFamily(node.op)
        }
        return [Tensor(shape: outShape, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let (x, y) = try ctx.kernelShapes(node)
        switch node.op {
        case .gemm:
            let a = node.attributes
            let tA = try a.int("transA", default: 0) != 0, tB = try a.int("transB", default: 0) != 0
            let bShape = try ctx.shape(node.inputs[1]!)
            let m = y[0], n = y[1], k = tA ? x[0] : x[1]
            var epilogue: [EpilogueOp] = []
            var fill: BroadcastPlan? = nil
            var beta: Float = 0
            if let c = node.input(2) {
                let cs = try ctx.shape(c)
                let b = try a.float("beta", default: 1)
                if b == 1 && cs.reduce(1, *) == n && (cs.last == n || n == 1) {
                    epilogue = [.bias(perRow: false)]
                } else {
                    fill = try BroadcastPlan(outShape: y, aShape: cs, bShape: y)
                    beta = b
                }
            }
            return .kernel(.gemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: try a.float("alpha", default: 1), beta: beta,
                                 lda: x[1], ldb: bShape[1], epilogue: epilogue, batches: [(0, 0, 0)], fillC: fill))
        case .matMul:
            let (tA, tB) = try matMulTransposes(node)
            return .kernel(try lowerMatMul(x, try ctx.shape(node.inputs[1]!), y, transA: tA, transB: tB))
        default: throw notInFamily(node.op)
        }
    }

    /// MatMul's transA / transB (see the file header).
    static func matMulTransposes(_ node: Node) throws -> (Bool, Bool) {
        (try node.attributes.int("transA", default: 0) != 0, try node.attributes.int("transB", default: 0) != 0)
    }

    /// `shape` with its last two dimensions swapped.
    static func swapLast<T>(_ shape: [T], _ what: String) throws -> [T] {
        guard shape.count >= 2 else { throw GraphError("MatMul trans\(what) needs an operand of rank >= 2, got rank \(shape.count)") }
        var s = shape
        s.swapAt(s.count - 1, s.count - 2)
        return s
    }

    /// `t` with its last two dimensions swapped (the reference of transA / transB).
    static func swapLast(_ t: Tensor) throws -> Tensor {
        let r = t.shape.count
        guard r >= 2 else { throw GraphError("MatMul transA/transB needs an operand of rank >= 2, got rank \(r)") }
        return DataMovementOps.permuted(t, Array(0..<(r - 2)) + [r - 1, r - 2])
    }

    /// numpy MatMul as one GEMM per broadcast batch; `transA` / `transB` read A / B (stored
    /// with their last two dimensions swapped) transposed.
    static func lowerMatMul(_ a0: [Int], _ b0: [Int], _ y: [Int], transA: Bool = false, transB: Bool = false) throws -> KernelCall {
        var a = transA ? try swapLast(a0, "A") : a0, b = transB ? try swapLast(b0, "B") : b0
        if a.count == 1 { a.insert(1, at: 0) }
        if b.count == 1 { b.append(1) }
        let m = a[a.count - 2], k = a[a.count - 1], n = b[b.count - 1]
        let lda = transA ? m : k, ldb = transB ? k : n
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        // B shared by every batch: fold A's batch into M (A's rows are then contiguous).
        if batchB.reduce(1, *) == 1 && !transA {
            return .gemm(transA: false, transB: transB, m: batchA.reduce(1, *) * m, n: n, k: k, alpha: 1, beta: 0,
                         lda: k, ldb: ldb, epilogue: [], batches: [(0, 0, 0)], fillC: nil)
        }
        let batch = try ShapeRules.broadcast(batchA.map { .fixed($0) }, batchB.map { .fixed($0) }).map { $0.value! }
        var batches: [(Int, Int, Int)] = []
        for flat in 0..<batch.reduce(1, *) {
            let idx = batchIndex(flat, batch)
            batches.append((batchOffset(idx, batchA) * m * k, batchOffset(idx, batchB) * k * n, flat * m * n))
        }
        return .gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, beta: 0, lda: lda, ldb: ldb,
                     epilogue: [], batches: batches, fillC: nil)
    }

    /// The multi-index of flat batch `flat` over `batch`.
    static func batchIndex(_ flat: Int, _ batch: [Int]) -> [Int] {
        var idx = [Int](repeating: 0, count: batch.count)
        var r = flat
        for d in stride(from: batch.count - 1, through: 0, by: -1) { idx[d] = r % batch[d]; r /= batch[d] }
        return idx
    }

    /// The flat batch offset in an operand of batch shape `shape` (right-aligned, size-1 dims broadcast).
    static func batchOffset(_ idx: [Int], _ shape: [Int]) -> Int {
        var o = 0
        let pad = idx.count - shape.count
        for (i, s) in shape.enumerated() { o = o * s + (s == 1 ? 0 : idx[i + pad]) }
        return o
    }

    static func matMulReference(_ a: Tensor, _ b: Tensor, _ outShape: [Int], _ y: inout [Float]) throws {
        var p = a.shape, q = b.shape
        if p.count == 1 { p.insert(1, at: 0) }
        if q.count == 1 { q.append(1) }
        let m = p[p.count - 2], k = p[p.count - 1], n = q[q.count - 1]
        let batchA = Array(p.dropLast(2)), batchB = Array(q.dropLast(2))
        let batch = try ShapeRules.broadcast(batchA.map { .fixed($0) }, batchB.map { .fixed($0) }).map { $0.value! }
        let af = a.floats, bf = b.floats
        for flat in 0..<batch.reduce(1, *) {
            let idx = batchIndex(flat, batch)
            let ao = batchOffset(idx, batchA) * m * k, bo = batchOffset(idx, batchB) * k * n, yo = flat * m * n
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0
                    for t in 0..<k { s += af[ao + i * k + t] * bf[bo + t * n + j] }
                    y[yo + i * n + j] = s
                }
            }
        }
    }

    /// Gemm: A's rows are samples unless A is transposed; a batched B or C would mix them.
    /// MatMul: a batched operand must have the output's rank, and B at least rank 3 (a 2-D B
    /// is contracted over its axis 0).
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        switch node.op {
        case .gemm:
            return try node.attributes.int("transA", default: 0) != 0 || batchedBeyondFirst(batched)
        case .matMul:
            guard batchAxesAligned(node, batched, graph) else { return true }
            if batched.count > 1, batched[1], (graph.type(of: node.inputs[1]!)?.rank ?? 0) < 3 { return true }
            return false
        default: throw notInFamily(node.op)
        }
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .gemm: return gemmPullback
        case .matMul: return matMulPullback
        default: return nil
        }
    }

    static func gemmPullback(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let a = n.attributes
        let tA = try a.int("transA", default: 0) != 0, tB = try a.int("transB", default: 0) != 0
        let alpha = try a.float("alpha", default: 1), beta = try a.float("beta", default: 1)
        let dy = dys[0]!, A = n.inputs[0]!, B = n.inputs[1]!
        func gemm(_ x: ValueID, _ y: ValueID, _ ta: Bool, _ tb: Bool) throws -> ValueID {
            var attrs: [String: Attribute] = [:]
            if ta { attrs["transA"] = .int(1) }
            if tb { attrs["transB"] = .int(1) }
            if alpha != 1 { attrs["alpha"] = .float(alpha) }
            return try b.emit(.gemm, [x, y], attrs)
        }
        var out: [ValueID?] = [nil, nil, nil]
        if wants[0] { out[0] = tA ? try gemm(B, dy, tB, true) : try gemm(dy, B, false, !tB) }
        if wants[1] { out[1] = tB ? try gemm(dy, A, true, tA) : try gemm(A, dy, !tA, false) }
        if wants.count > 2 && wants[2], let c = n.input(2) {
            out[2] = try b.unbroadcast(b.mul(dy, beta), to: b.dims(c))
        }
        return Array(out.prefix(n.inputs.count))
    }

    static func matMulPullback(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let A = n.inputs[0]!, B = n.inputs[1]!, dy = dys[0]!
        // transA / transB exist only on lowered copies, after differentiation.
        guard try matMulTransposes(n) == (false, false) else { throw GraphError("MatMul with transA/transB is not differentiable") }
        let ra = try b.rank(A), rb = try b.rank(B)
        guard ra >= 2, rb >= 2 else { throw GraphError("MatMul gradients need operands of rank >= 2") }
        func swapLast(_ v: ValueID) throws -> ValueID {
            let r = try b.rank(v)
            return try b.transpose(v, Array(0..<(r - 2)) + [r - 1, r - 2])
        }
        return [wants[0] ? try b.unbroadcast(b.emit(.matMul, [dy, swapLast(B)]), to: b.dims(A)) : nil,
                wants[1] ? try b.unbroadcast(b.emit(.matMul, [swapLast(A), dy]), to: b.dims(B)) : nil]
    }
}
