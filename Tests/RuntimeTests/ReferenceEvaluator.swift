// ReferenceEvaluator: runs a graph node by node with the scalar reference kernels, no planning,
// no fusion, no threads — the oracle the interpreter's results are checked against.

import GraphIR
import Kernels
import Passes
import Runtime

enum ReferenceEvaluator {
    static func run(_ graph: Graph, _ inputs: [Tensor]) throws -> [Tensor] {
        var g = try Session.bind(graph, inputs.map(\.shape))
        try InferShapes().run(&g)
        var env: [ValueID: Tensor] = g.initializers
        for (v, t) in zip(g.inputs, inputs) { env[v] = t }
        for node in g.nodes {
            let x = node.inputs.map { $0.flatMap { env[$0] } }
            let outShape = g.type(of: node.outputs[0])!.fixedShape!
            var y = [Float](repeating: 0, count: outShape.reduce(1, *))
            let a = node.attributes
            func fx(_ i: Int) -> [Float] { x[i]!.floats }
            switch node.op {
            case .constant:
                env[node.outputs[0]] = try Graph.constantTensor(of: node)
                continue
            case .reshape, .flatten, .squeeze, .unsqueeze, .identity:
                env[node.outputs[0]] = x[0]!.dtype == .float32
                    ? Tensor(shape: outShape, floats: fx(0)) : Tensor(shape: outShape, int64s: x[0]!.int64s)
                continue
            case .relu, .leakyRelu, .sigmoid, .tanh, .softplus, .exp, .log, .sqrt, .neg, .abs:
                let op: UnaryOp
                switch node.op {
                case .relu: op = .relu
                case .leakyRelu: op = .leakyRelu(try a.float("alpha", default: 0.01))
                case .sigmoid: op = .sigmoid
                case .tanh: op = .tanh
                case .softplus: op = .softplus
                case .exp: op = .exp
                case .log: op = .log
                case .sqrt: op = .sqrt
                case .neg: op = .neg
                default: op = .abs
                }
                Unary.reference(op, fx(0), &y, count: y.count)
            case .add, .sub, .mul, .div, .pow:
                let op: BinaryOp = [.add: .add, .sub: .sub, .mul: .mul, .div: .div, .pow: .pow][node.op]!
                Binary.reference(op, outShape: outShape, aShape: x[0]!.shape, bShape: x[1]!.shape, fx(0), fx(1), &y)
            case .gemm:
                let tA = try a.int("transA", default: 0) != 0, tB = try a.int("transB", default: 0) != 0
                let k = tA ? x[0]!.shape[0] : x[0]!.shape[1]
                if let c = x.count > 2 ? x[2] : nil {
                    Expand.reference(outShape: outShape, inShape: c.shape, c.floats, &y)
                }
                Gemm.reference(transA: tA, transB: tB, m: outShape[0], n: outShape[1], k: k,
                               alpha: try a.float("alpha", default: 1), a: fx(0), lda: x[0]!.shape[1],
                               b: fx(1), ldb: x[1]!.shape[1], beta: x.count > 2 ? try a.float("beta", default: 1) : 0,
                               c: &y, ldc: outShape[1])
            case .conv, .convTranspose:
                let xs = x[0]!.shape, ws = x[1]!.shape
                let geo = node.op == .conv
                    ? try ConvGeometry.conv(node, input: Array(xs[2...]), weightKernel: Array(ws[2...]))
                    : try ConvGeometry.convTranspose(node, input: Array(xs[2...]), weightKernel: Array(ws[2...]))
                let s = Conv2DShape(batch: xs[0], inChannels: xs[1], inHeight: xs[2], inWidth: xs[3],
                                    outChannels: outShape[1], outHeight: outShape[2], outWidth: outShape[3],
                                    kernelH: geo.kernel[0], kernelW: geo.kernel[1], strideH: geo.strides[0], strideW: geo.strides[1],
                                    padTop: geo.pads[0], padLeft: geo.pads[1], dilationH: geo.dilations[0], dilationW: geo.dilations[1],
                                    group: geo.group)
                let bias = x.count > 2 ? x[2]?.floats : nil
                let epi: [EpilogueOp] = bias != nil ? [.bias(perRow: true)] : []
                let xf = fx(0), wf = fx(1)
                (bias ?? [0]).withUnsafeBufferPointer { bp in
                    if node.op == .conv {
                        Conv2D.reference(s, x: xf, weight: wf, bias: bias == nil ? nil : bp.baseAddress, y: &y, epilogue: epi)
                    } else {
                        ConvTranspose2D.reference(s, x: xf, weight: wf, bias: bias == nil ? nil : bp.baseAddress, y: &y, epilogue: epi)
                    }
                }
            case .batchNormalization:
                let xs = x[0]!.shape
                BatchNormInference.reference(fx(0), &y, scale: fx(1), bias: fx(2), mean: fx(3), variance: fx(4),
                                             epsilon: try a.float("epsilon", default: 1e-5), batch: xs[0], channels: xs[1],
                                             spatial: xs[2...].reduce(1, *))
            case .softmax, .logSoftmax:
                let xs = x[0]!.shape
                var axis = try a.int("axis", default: -1)
                if axis < 0 { axis += xs.count }
                Softmax.reference(fx(0), &y, outer: xs[..<axis].reduce(1, *), axis: xs[axis], inner: xs[(axis + 1)...].reduce(1, *),
                                  log: node.op == .logSoftmax)
            case .transpose:
                let xs = x[0]!.shape
                Transpose.reference(shape: xs, perm: try a.ints("perm") ?? Array((0..<xs.count).reversed()), fx(0), &y)
            case .reduceMean, .reduceSum:
                let xs = x[0]!.shape
                Reduce.reference(node.op == .reduceMean ? .mean : .sum, shape: xs, axes: try ReduceRule.axes(node, xs.count, g), fx(0), &y)
            case .expand:
                Expand.reference(outShape: outShape, inShape: x[0]!.shape, fx(0), &y)
            default:
                throw GraphError("reference evaluator: \(node.op.rawValue) not covered")
            }
            env[node.outputs[0]] = Tensor(shape: outShape, floats: y)
        }
        return g.outputs.map { env[$0]! }
    }
}
