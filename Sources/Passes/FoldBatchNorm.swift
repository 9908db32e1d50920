// FoldBatchNorm: folds inference BatchNormalization into the weights of the layer before it.
//
// Contract: input — a graph typed by InferShapes. A BatchNormalization in inference form (one
// output, training_mode 0) whose scale, B, mean and var are initializers, and whose input X is
// produced by (a) a Conv or ConvTranspose with constant W (and constant bias, if any), or
// (b) a Gemm (transA 0, alpha 1; C absent or a constant row of N with beta 1), directly or
// through a Reshape [b, F] → [b, C, …] that keeps the batch dim, with X (and the Gemm output
// in (b)) read by nothing else and not a graph output, is removed: with s = scale/√(var+ε),
// every weight of output channel c is multiplied by s[c] and the bias becomes
// (bias − mean)·s + B. The producer then writes the BatchNormalization's output value, so
// names and types downstream are unchanged. New weights are new initializers named
// `<weight>.bnfold` (the old ones are left for EliminateDeadValues).

import GraphIR

public struct FoldBatchNorm: Pass {
    public let name = "FoldBatchNorm"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        let b = GraphBuilder(graph)
        for i in graph.nodes.indices where graph.nodes[i].op == .batchNormalization {
            if try fold(i, b) { b.remove(nodeAt: i) }
        }
        graph = b.finish()
    }

    func constant(_ g: Graph, _ v: ValueID?) -> [Float]? {
        guard let v, let t = g.initializers[v], t.dtype == .float32 else { return nil }
        return t.floats
    }

    func fold(_ bi: Int, _ b: GraphBuilder) throws -> Bool {
        let g = b.graph
        let bn = g.nodes[bi]
        guard bn.outputs.count == 1, try bn.attributes.int("training_mode", default: 0) == 0,
              let gamma = constant(g, bn.input(1)), let beta = constant(g, bn.input(2)),
              let mean = constant(g, bn.input(3)), let variance = constant(g, bn.input(4)),
              let x = bn.inputs[0] else { return false }
        let eps = try bn.attributes.float("epsilon", default: 1e-5)
        let channels = gamma.count
        let s = (0..<channels).map { gamma[$0] / (variance[$0] + eps).squareRoot() }
        let producers = g.producers()
        guard b.soleReader(of: x) != nil, let pi = producers[x] else { return false }
        var producer = g.nodes[pi]
        switch producer.op {
        case .conv, .convTranspose:
            guard var w = constant(g, producer.input(1)) else { return false }
            let wShape = g.initializers[producer.inputs[1]!]!.shape
            var bias = producer.input(2) == nil ? [Float](repeating: 0, count: channels) : (constant(g, producer.input(2)) ?? [])
            guard bias.count == channels else { return false }
            let group = try producer.attributes.int("group", default: 1)
            let kernel = wShape[2...].reduce(1, *)
            if producer.op == .conv {
                guard wShape[0] == channels else { return false }
                for c in 0..<channels { for j in 0..<(w.count / channels) { w[c * (w.count / channels) + j] *= s[c] } }
            } else {
                let cin = wShape[0], perGroupOut = wShape[1], perGroupIn = cin / group
                guard perGroupOut * group == channels else { return false }
                for ci in 0..<cin {
                    for j in 0..<perGroupOut {
                        let c = (ci / perGroupIn) * perGroupOut + j
                        for k in 0..<kernel { w[(ci * perGroupOut + j) * kernel + k] *= s[c] }
                    }
                }
            }
            for c in 0..<channels { bias[c] = (bias[c] - mean[c]) * s[c] + beta[c] }
            producer.inputs = [producer.inputs[0], newConstant(b, producer.inputs[1]!, Tensor(shape: wShape, floats: w)),
                               newConstant(b, producer.input(2) ?? producer.inputs[1]!, Tensor(shape: [channels], floats: bias), suffix: producer.input(2) == nil ? ".bias.bnfold" : ".bnfold")]
            producer.outputs[0] = bn.outputs[0]
            b.setNode(pi, producer)
            return true
        case .reshape, .gemm:
            var gi = pi
            var reshapeIndex: Int? = nil
            var featuresPerChannel = 1
            if producer.op == .reshape {
                guard let inner = producer.inputs[0], b.soleReader(of: inner) != nil, let qi = producers[inner],
                      g.nodes[qi].op == .gemm,
                      let from = g.type(of: inner)?.shape, let to = g.type(of: x)?.shape,
                      from.count == 2, to.count >= 2, from[0] == to[0], let f = from[1].value,
                      to[1].value == channels, f % channels == 0 else { return false }
                featuresPerChannel = f / channels
                reshapeIndex = pi
                gi = qi
            }
            var gemm = g.nodes[gi]
            guard try gemm.attributes.int("transA", default: 0) == 0, try gemm.attributes.float("alpha", default: 1) == 1,
                  let w = constant(g, gemm.input(1)) else { return false }
            let wShape = g.initializers[gemm.inputs[1]!]!.shape
            let transB = try gemm.attributes.int("transB", default: 0) != 0
            let n = transB ? wShape[0] : wShape[1], k = transB ? wShape[1] : wShape[0]
            guard n == channels * featuresPerChannel else { return false }
            var bias = [Float](repeating: 0, count: n)
            if let c = gemm.input(2) {
                guard let cv = constant(g, c), cv.count == n, try gemm.attributes.float("beta", default: 1) == 1 else { return false }
                bias = cv
            }
            var w2 = w
            for j in 0..<n {
                let sc = s[j / featuresPerChannel]
                for t in 0..<k {
                    if transB { w2[j * k + t] *= sc } else { w2[t * n + j] *= sc }
                }
                let c = j / featuresPerChannel
                bias[j] = (bias[j] - mean[c]) * sc + beta[c]
            }
            gemm.inputs = [gemm.inputs[0], newConstant(b, gemm.inputs[1]!, Tensor(shape: wShape, floats: w2)),
                           newConstant(b, gemm.input(2) ?? gemm.inputs[1]!, Tensor(shape: [n], floats: bias), suffix: gemm.input(2) == nil ? ".bias.bnfold" : ".bnfold")]
            gemm.attributes["beta"] = nil
            if let ri = reshapeIndex {
                var r = g.nodes[ri]
                r.outputs[0] = bn.outputs[0]
                b.setNode(ri, r)
            } else {
                gemm.outputs[0] = bn.outputs[0]
            }
            b.setNode(gi, gemm)
            return true
        default:
            return false
        }
    }

    /// Adds an initializer named after `like` with a unique suffix.
    func newConstant(_ b: GraphBuilder, _ like: ValueID, _ t: Tensor, suffix: String = ".bnfold") -> ValueID {
        b.addInitializer(b.freshName(b.graph.name(of: like) + suffix, style: .suffix), t)
    }
}
