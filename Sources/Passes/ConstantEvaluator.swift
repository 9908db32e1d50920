// ConstantEvaluator: evaluates one node on constant tensors with the scalar reference kernels.
//
// Contract: `evaluate(node, inputs, outputTypes)` returns the node's outputs computed by the
// Kernels module's scalar references (no SIMD, no threads, no planning), given input tensors
// and the output types InferShapes assigned. Integer tensors are supported for the
// data-movement ops that shape computations use (Reshape, Flatten, Squeeze, Unsqueeze,
// Identity, Concat, Gather, Slice, Transpose, Expand) and for Add/Sub/Mul/Div. It is the
// oracle that interpreter tests compare against and the engine of FoldConstants. An output
// shape over `Limits` is an error before anything is allocated.

import GraphIR
import Kernels

public enum ConstantEvaluator {
    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], graph g: Graph) throws -> [Tensor] {
        let outShape = outTypes[0].fixedShape ?? []
        try Limits.checkTensor(outShape, outTypes[0].dtype, "\(node.op.rawValue) output")
        let count = outShape.reduce(1, *)
        let a = node.attributes
        if node.op == .constant { return [try Graph.constantTensor(of: node)] }
        guard let first = x.first ?? nil else { throw GraphError("\(node.op.rawValue) has no first input") }
        if first.dtype != .float32 || (node.op == .gather && x[1]!.dtype != .float32 && first.dtype != .float32) {
            return [try evaluateIntegers(node, x, outShape, outTypes[0].dtype, g)]
        }
        var y = [Float](repeating: 0, count: count)
        func fx(_ i: Int) -> [Float] { x[i]!.floats }
        switch node.op {
        case .reshape, .flatten, .squeeze, .unsqueeze, .identity:
            y = fx(0)
        case .dropout:
            // Inference Dropout is the identity (mask all true); training mode is random.
            if try Dropout.isTraining(node, graph: g) { throw GraphError("training-mode Dropout is not constant") }
            let y0 = Tensor(shape: outShape, floats: fx(0))
            if node.outputs.count < 2 { return [y0] }
            return [y0, Tensor(shape: outShape, int64s: [Int64](repeating: 1, count: count), dtype: .bool)]
        case .relu, .leakyRelu, .sigmoid, .tanh, .softplus, .exp, .log, .sqrt, .neg, .abs:
            Unary.reference(try unaryOp(node), fx(0), &y, count: count)
        case .add, .sub, .mul, .div, .pow:
            Binary.reference(binaryOp(node.op), outShape: outShape, aShape: first.shape, bShape: x[1]!.shape, fx(0), fx(1), &y)
        case .sign:
            Grad.signReference(fx(0), &y, count: count)
        case .leakyReluGrad:
            Grad.leakyReluGradReference(alpha: try a.float("alpha", default: 0), fx(0), fx(1), &y, count: count)
        case .gatherGrad:
            let axis = try a.int("axis", default: 0)
            let idx = x[1]!, ys = outShape
            let i64 = idx.int64s
            try Grad.gatherGradReference(fx(0), indices: i64, indexCount: i64.count, &y, outer: ys[..<axis].reduce(1, *),
                                         axisSize: ys[axis], inner: ys[(axis + 1)...].reduce(1, *))
        case .gemm, .fusedGemm:
            let tA = try a.int("transA", default: 0) != 0, tB = try a.int("transB", default: 0) != 0
            let k = tA ? first.shape[0] : first.shape[1]
            if let c = x.count > 2 ? x[2] : nil {
                Expand.reference(outShape: outShape, inShape: c.shape, c.floats, &y)
            }
            Gemm.reference(transA: tA, transB: tB, m: outShape[0], n: outShape[1], k: k,
                           alpha: try a.float("alpha", default: 1), a: fx(0), lda: first.shape[1],
                           b: fx(1), ldb: x[1]!.shape[1], beta: x.count > 2 && x[2] != nil ? try a.float("beta", default: 1) : 0,
                           c: &y, ldc: outShape[1])
            try applyActivation(node, &y)
        case .matMul:
            try matMul(first, x[1]!, outShape, &y)
        case .fusedConvTransposeBatchNorm:
            let z = try evaluate(node.fusedConvTransposePart, Array(x.prefix(3)), [outTypes[1]], graph: g)[0]
            let c = outShape[1]
            var mean = [Float](repeating: 0, count: c), variance = mean
            ConvTransposeBatchNorm.normalizeReference(z.floats, batch: outShape[0], channels: c, plane: outShape[2...].reduce(1, *),
                                                      scale: fx(3), beta: fx(4), epsilon: try a.float("epsilon", default: 1e-5),
                                                      activation: nil, y: &y, mean: &mean, variance: &variance)
            try applyActivation(node, &y)
            return [Tensor(shape: outShape, floats: y), z, Tensor(shape: [c], floats: mean), Tensor(shape: [c], floats: variance)]
        case .conv, .convTranspose, .fusedConv, .fusedConvTranspose:
            let xs = first.shape, ws = x[1]!.shape
            guard xs.count == 4 else { throw GraphError("reference convolution supports 2-D only, got \(xs)") }
            let transposed = node.op.baseOp == .convTranspose
            let geo = transposed
                ? try ConvGeometry.convTranspose(node, input: Array(xs[2...]), weightKernel: Array(ws[2...]))
                : try ConvGeometry.conv(node, input: Array(xs[2...]), weightKernel: Array(ws[2...]))
            let s = Conv2DShape(batch: xs[0], inChannels: xs[1], inHeight: xs[2], inWidth: xs[3],
                                outChannels: outShape[1], outHeight: outShape[2], outWidth: outShape[3],
                                kernelH: geo.kernel[0], kernelW: geo.kernel[1], strideH: geo.strides[0], strideW: geo.strides[1],
                                padTop: geo.pads[0], padLeft: geo.pads[1], dilationH: geo.dilations[0], dilationW: geo.dilations[1],
                                group: geo.group)
            let bias = x.count > 2 ? x[2]?.floats : nil
            let epi: [EpilogueOp] = bias != nil ? [.bias(perRow: true)] : []
            let xf = fx(0), wf = fx(1)
            (bias ?? [0]).withUnsafeBufferPointer { bp in
                let b = bias == nil ? nil : bp.baseAddress
                if transposed {
                    ConvTranspose2D.reference(s, x: xf, weight: wf, bias: b, y: &y, epilogue: epi)
                } else {
                    Conv2D.reference(s, x: xf, weight: wf, bias: b, y: &y, epilogue: epi)
                }
            }
            try applyActivation(node, &y)
        case .batchNormalization:
            let xs = first.shape
            BatchNormInference.reference(fx(0), &y, scale: fx(1), bias: fx(2), mean: fx(3), variance: fx(4),
                                         epsilon: try a.float("epsilon", default: 1e-5), batch: xs[0], channels: xs[1],
                                         spatial: xs[2...].reduce(1, *))
        case .softmax, .logSoftmax:
            let xs = first.shape
            var axis = try a.int("axis", default: -1)
            if axis < 0 { axis += xs.count }
            Softmax.reference(fx(0), &y, outer: xs[..<axis].reduce(1, *), axis: xs[axis], inner: xs[(axis + 1)...].reduce(1, *),
                              log: node.op == .logSoftmax)
        case .transpose:
            let xs = first.shape
            Transpose.reference(shape: xs, perm: try a.ints("perm") ?? Array((0..<xs.count).reversed()), fx(0), &y)
        case .reduceMean, .reduceSum:
            let xs = first.shape
            Reduce.reference(node.op == .reduceMean ? .mean : .sum, shape: xs, axes: try ReduceRule.axes(node, xs.count, g), fx(0), &y)
        case .expand:
            Expand.reference(outShape: outShape, inShape: first.shape, fx(0), &y)
        case .concat:
            let axis = try ShapeRules.normalizeAxis(try a.int("axis") ?? 0, first.shape.count)
            let parts = x.map { $0!.floats }
            let sizes = x.map { $0!.shape[axis] }
            withPointers(parts) { ptrs in
                Concat.reference(inputs: ptrs, axisSizes: sizes, outer: first.shape[..<axis].reduce(1, *),
                                 inner: first.shape[(axis + 1)...].reduce(1, *), &y)
            }
        case .gather:
            let axis = try ShapeRules.normalizeAxis(try a.int("axis", default: 0), first.shape.count)
            let idx = x[1]!.int64s
            try Gather.reference(fx(0), indices: idx, indexCount: idx.count, &y, outer: first.shape[..<axis].reduce(1, *),
                                 axisSize: first.shape[axis], inner: first.shape[(axis + 1)...].reduce(1, *))
        case .slice:
            let rule = try SliceRule.resolve(node, first.type, g)
            Slice.reference(shape: first.shape, starts: rule.starts, steps: rule.steps, outShape: outShape, fx(0), &y)
        case .maxPool, .averagePool:
            let xs = first.shape
            guard xs.count == 4 else { throw GraphError("reference pooling supports 2-D only") }
            let geo = try ConvGeometry.pool(node, input: Array(xs[2...]))
            let p = Pool2DShape(batch: xs[0], channels: xs[1], inH: xs[2], inW: xs[3], outH: outShape[2], outW: outShape[3],
                                kernelH: geo.kernel[0], kernelW: geo.kernel[1], strideH: geo.strides[0], strideW: geo.strides[1],
                                padTop: geo.pads[0], padLeft: geo.pads[1], padBottom: geo.pads[2], padRight: geo.pads[3],
                                dilationH: geo.dilations[0], dilationW: geo.dilations[1],
                                countIncludePad: try a.int("count_include_pad", default: 0) != 0)
            Pool2D.reference(p, fx(0), &y, average: node.op == .averagePool)
        case .globalAveragePool:
            let xs = first.shape
            Pool2D.referenceGlobalAverage(fx(0), &y, planes: xs[0] * xs[1], spatial: xs[2...].reduce(1, *))
        case .constant:
            break
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

    static func unaryOp(_ node: Node) throws -> UnaryOp {
        switch node.op {
        case .relu: return .relu
        case .leakyRelu: return .leakyRelu(try node.attributes.float("alpha", default: 0.01))
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .softplus: return .softplus
        case .exp: return .exp
        case .log: return .log
        case .sqrt: return .sqrt
        case .neg: return .neg
        default: return .abs
        }
    }

    static func binaryOp(_ op: Op) -> BinaryOp {
        switch op {
        case .add: return .add
        case .sub: return .sub
        case .mul: return .mul
        case .div: return .div
        default: return .pow
        }
    }

    static func applyActivation(_ node: Node, _ y: inout [Float]) throws {
        guard let name = try node.attributes.string("activation") else { return }
        let op: UnaryOp
        switch name {
        case "Relu": op = .relu
        case "LeakyRelu": op = .leakyRelu(try node.attributes.float("activation_alpha", default: 0.01))
        case "Sigmoid": op = .sigmoid
        case "Tanh": op = .tanh
        default: throw GraphError("unknown fused activation '\(name)'")
        }
        let copy = y
        Unary.reference(op, copy, &y, count: y.count)
    }

    static func matMul(_ a: Tensor, _ b: Tensor, _ outShape: [Int], _ y: inout [Float]) throws {
        var p = a.shape, q = b.shape
        if p.count == 1 { p.insert(1, at: 0) }
        if q.count == 1 { q.append(1) }
        let m = p[p.count - 2], k = p[p.count - 1], n = q[q.count - 1]
        let batchA = Array(p.dropLast(2)), batchB = Array(q.dropLast(2))
        let batch = try ShapeRules.broadcast(batchA.map { .fixed($0) }, batchB.map { .fixed($0) }).map { $0.value! }
        let af = a.floats, bf = b.floats
        for flat in 0..<batch.reduce(1, *) {
            var idx = [Int](repeating: 0, count: batch.count)
            var r = flat
            for d in stride(from: batch.count - 1, through: 0, by: -1) { idx[d] = r % batch[d]; r /= batch[d] }
            func offset(_ shape: [Int]) -> Int {
                var o = 0
                let pad = idx.count - shape.count
                for (i, s) in shape.enumerated() { o = o * s + (s == 1 ? 0 : idx[i + pad]) }
                return o
            }
            let ao = offset(batchA) * m * k, bo = offset(batchB) * k * n, yo = flat * m * n
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0
                    for t in 0..<k { s += af[ao + i * k + t] * bf[bo + t * n + j] }
                    y[yo + i * n + j] = s
                }
            }
        }
    }

    /// Integer evaluation for shape computations.
    static func evaluateIntegers(_ node: Node, _ x: [Tensor?], _ outShape: [Int], _ dtype: DType, _ g: Graph) throws -> Tensor {
        let first = x[0]!
        let data = first.int64s
        let count = outShape.reduce(1, *)
        func strides(_ s: [Int]) -> [Int] {
            var r = [Int](repeating: 1, count: s.count)
            for i in stride(from: s.count - 2, through: 0, by: -1) { r[i] = r[i + 1] * s[i + 1] }
            return r
        }
        /// Reads element `i` of the output from input index computed by `source`.
        func gatherOut(_ source: (Int) throws -> Int64) rethrows -> Tensor {
            var out = [Int64](repeating: 0, count: count)
            for i in 0..<count { out[i] = try source(i) }
            return Tensor(shape: outShape, int64s: out, dtype: dtype)
        }
        func broadcastIndex(_ i: Int, _ inShape: [Int]) -> Int {
            let os = strides(outShape), ins = strides(inShape)
            var rest = i, at = 0
            let pad = outShape.count - inShape.count
            for d in 0..<outShape.count {
                let c = rest / os[d]
                rest %= os[d]
                if d >= pad && inShape[d - pad] != 1 { at += c * ins[d - pad] }
            }
            return at
        }
        switch node.op {
        case .reshape, .flatten, .squeeze, .unsqueeze, .identity:
            return Tensor(shape: outShape, int64s: data, dtype: dtype)
        case .add, .sub, .mul, .div:
            let b = x[1]!.int64s, bs = x[1]!.shape
            return try gatherOut { i in
                let u = data[broadcastIndex(i, first.shape)], v = b[broadcastIndex(i, bs)]
                switch node.op {
                case .add: return u &+ v
                case .sub: return u &- v
                case .mul: return u &* v
                default:
                    guard v != 0 else { throw GraphError("integer division by zero") }
                    return u / v
                }
            }
        case .expand:
            return gatherOut { data[broadcastIndex($0, first.shape)] }
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
            let os = strides(outShape), ins = strides(first.shape)
            return gatherOut { i in
                var rest = i, at = 0
                for d in 0..<outShape.count {
                    let c = rest / os[d]
                    rest %= os[d]
                    at += (rule.starts[d] + c * rule.steps[d]) * ins[d]
                }
                return data[at]
            }
        case .transpose:
            let perm = try node.attributes.ints("perm") ?? Array((0..<first.shape.count).reversed())
            let os = strides(outShape), ins = strides(first.shape)
            return gatherOut { i in
                var rest = i, at = 0
                for d in 0..<outShape.count {
                    let c = rest / os[d]
                    rest %= os[d]
                    at += c * ins[perm[d]]
                }
                return data[at]
            }
        default:
            throw GraphError("\(node.op.rawValue) on \(first.dtype.rawValue) data is not supported")
        }
    }
}
