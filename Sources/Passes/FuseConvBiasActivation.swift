// FuseConvBiasActivation: merges a bias Add and an activation into Conv, ConvTranspose and Gemm,
// and an activation into inference BatchNormalization.
//
// Contract: input — a graph typed by InferShapes. For each Conv / ConvTranspose / Gemm P (and
// each inference-mode BatchNormalization with one output, for step (2) only):
// (1) if P's output is read only by an Add whose other operand is a constant per-output-channel
// vector ([C], [C,1,1] or [1,C,1,1] for convolutions; [N] or [1,N] for Gemm), the vector joins
// P's bias input and the Add is removed; (2) if P's output is then read only by a Relu,
// LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish or a Clip with constant bounds — for Gemm also through one Reshape
// read only by it — or, for Conv / ConvTranspose, only by a Sigmoid and by a Mul of P's output
// and that Sigmoid's (x·sigmoid(x), SiLU), P becomes FusedConv / FusedConvTranspose / FusedGemm /
// FusedBatchNormalization with `activation` (and `activation_alpha`/`activation_beta`) and the activation's nodes are
// removed. Gemm fuses only when its C is absent or a bias row with beta 1 and
// alpha 1. Values read elsewhere or that are graph outputs are never fused away. The last
// node of a fused chain writes the removed node's output value, so names downstream stay.

import GraphIR
import Kernels

public struct FuseConvBiasActivation: Pass {
    public let name = "FuseConvBiasActivation"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        let b = GraphBuilder(graph)
        for i in graph.nodes.indices where [.conv, .convTranspose, .gemm, .batchNormalization].contains(graph.nodes[i].op) {
            try fuse(i, b)
        }
        graph = b.finish()
    }

    func fuse(_ i: Int, _ b: GraphBuilder) throws {
        var p = b.node(i)
        let g = b.graph
        let isGemm = p.op == .gemm, isBatchNorm = p.op == .batchNormalization
        if isBatchNorm {
            guard p.outputs.count == 1, try p.attributes.int("training_mode", default: 0) == 0 else { return }
        }
        if isGemm {
            guard try p.attributes.float("alpha", default: 1) == 1, try p.attributes.int("transA", default: 0) == 0 else { return }
            let beta = try p.attributes.float("beta", default: 1)
            if p.input(2) != nil && beta != 1 { return }
        }
        guard let outType = g.type(of: p.outputs[0]), let outShape = outType.shape.count >= 2 ? outType.shape : nil,
              let channels = outShape[1].value else { return }
        // (1) bias Add.
        if !isBatchNorm, let ai = b.soleReader(of: p.outputs[0]), b.node(ai).op == .add {
            let add = b.node(ai)
            let other = add.inputs[0] == p.outputs[0] ? add.inputs[1]! : add.inputs[0]!
            if let t = g.initializers[other], t.dtype == .float32, t.count == channels,
               isPerChannel(t.shape, channels, rank: outShape.count, gemm: isGemm) {
                var bias = t.floats
                var ok = true
                if let bv = p.input(2) {
                    if let old = g.initializers[bv], old.count == channels { for c in 0..<channels { bias[c] += old.floats[c] } } else { ok = false }
                }
                if ok {
                    let bv = b.addInitializer(b.freshName(g.name(of: other) + ".fused", style: .suffix), Tensor(shape: [channels], floats: bias))
                    // beta scales C only; a Gemm without C may carry any beta, which must not scale the
                    // bias it gains here (with C, beta is 1 already).
                    if isGemm && p.input(2) == nil { p.attributes["beta"] = nil }
                    p.inputs = [p.inputs[0], p.inputs[1], bv]
                    p.outputs[0] = add.outputs[0]
                    b.remove(nodeAt: ai)
                    b.setNode(i, p)
                }
            }
        }
        if isGemm, let c = p.input(2), let t = b.graph.type(of: c), t.elementCount != channels { return }
        // (2) activation: x·Sigmoid(x) on a convolution's output, ...
        if !isGemm, let (sigmoid, mul) = swish(of: p.outputs[0], b) {
            p.op = fused(p.op)
            for (k, v) in Activation.swish.fusedAttributes { p.attributes[k] = v }
            p.outputs[0] = b.node(mul).outputs[0]
            b.remove(nodeAt: sigmoid)
            b.remove(nodeAt: mul)
            b.setNode(i, p)
            return
        }
        // ... or a one-input activation, for Gemm possibly behind one Reshape.
        guard var ri = b.soleReader(of: p.outputs[0]) else { return }
        var reshape: Int? = nil
        if isGemm && b.node(ri).op == .reshape {
            guard let next = b.soleReader(of: b.node(ri).outputs[0]) else { return }
            reshape = ri
            ri = next
        }
        let act = b.node(ri)
        let activation: Activation
        if act.op == .clip {
            // Bounds that are not constant scalars leave the Clip standalone (its lowering reports them).
            guard act.inputs[0] == (reshape.map { b.node($0).outputs[0] } ?? p.outputs[0]),
                  case let .clip(lo, hi)? = try? UnaryOps.kernelOp(act, g) else { return }
            activation = .clip(lo, hi)
        } else {
            guard let a = try Activation(node: act) else { return }
            activation = a
        }
        p.op = fused(p.op)
        for (k, v) in activation.fusedAttributes { p.attributes[k] = v }
        if let r = reshape {
            var rn = b.node(r)
            rn.outputs[0] = act.outputs[0]
            b.setNode(r, rn)
        } else {
            p.outputs[0] = act.outputs[0]
        }
        b.remove(nodeAt: ri)
        b.setNode(i, p)
    }

    /// The fused op of a base op this pass fuses into.
    func fused(_ op: Op) -> Op {
        switch op {
        case .conv: return .fusedConv
        case .convTranspose: return .fusedConvTranspose
        case .gemm: return .fusedGemm
        default: return .fusedBatchNormalization
        }
    }

    /// (Sigmoid, Mul) node indices when `x` is read only by Sigmoid(x) and Mul(x, Sigmoid(x)) (either
    /// operand order), the Sigmoid's output only by that Mul, and neither is a graph output.
    func swish(of x: ValueID, _ b: GraphBuilder) -> (Int, Int)? {
        if b.graph.outputs.contains(x) { return nil }
        let readers = b.readers(of: x)
        guard readers.count == 2, readers[0] != readers[1] else { return nil }
        for (si, mi) in [(readers[0], readers[1]), (readers[1], readers[0])] {
            let s = b.node(si), m = b.node(mi)
            guard s.op == .sigmoid, s.inputs[0] == x, m.op == .mul, b.soleReader(of: s.outputs[0]) == mi,
                  Set(m.inputs.compactMap { $0 }) == [x, s.outputs[0]], m.inputs.count == 2 else { continue }
            return (si, mi)
        }
        return nil
    }

    func isPerChannel(_ shape: [Int], _ c: Int, rank: Int, gemm: Bool) -> Bool {
        if gemm { return shape == [c] || shape == [1, c] }
        let trailing = Array(repeating: 1, count: rank - 2)
        return shape == [c] && rank == 2 || shape == [c] + trailing || shape == [1, c] + trailing
    }
}
