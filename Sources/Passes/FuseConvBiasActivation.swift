// FuseConvBiasActivation: merges a bias Add and an activation into Conv, ConvTranspose and Gemm.
//
// Contract: input — a graph typed by InferShapes. For each Conv / ConvTranspose / Gemm P:
// (1) if P's output is read only by an Add whose other operand is a constant per-output-channel
// vector ([C], [C,1,1] or [1,C,1,1] for convolutions; [N] or [1,N] for Gemm), the vector joins
// P's bias input and the Add is removed; (2) if P's output is then read only by a Relu,
// LeakyRelu, Sigmoid or Tanh — for Gemm also through one Reshape read only by it — P becomes
// FusedConv / FusedConvTranspose / FusedGemm with `activation` (and `activation_alpha`) and the
// activation is removed. Gemm fuses only when its C is absent or a bias row with beta 1 and
// alpha 1. Values read elsewhere or that are graph outputs are never fused away. The last
// node of a fused chain writes the removed node's output value, so names downstream stay.

import GraphIR
import Kernels

public struct FuseConvBiasActivation: Pass {
    public let name = "FuseConvBiasActivation"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        var removed = Set<Int>()
        for i in graph.nodes.indices where [.conv, .convTranspose, .gemm].contains(graph.nodes[i].op) {
            try fuse(i, &graph, &removed)
        }
        graph.nodes = graph.nodes.indices.filter { !removed.contains($0) }.map { graph.nodes[$0] }
    }

    func soleReader(_ g: Graph, _ v: ValueID, _ removed: Set<Int>) -> Int? {
        if g.outputs.contains(v) { return nil }
        let readers = g.consumers()[v, default: []].filter { !removed.contains($0) }
        return readers.count == 1 ? readers[0] : nil
    }

    func fuse(_ i: Int, _ g: inout Graph, _ removed: inout Set<Int>) throws {
        var p = g.nodes[i]
        let isGemm = p.op == .gemm
        if isGemm {
            guard try p.attributes.float("alpha", default: 1) == 1, try p.attributes.int("transA", default: 0) == 0 else { return }
            let beta = try p.attributes.float("beta", default: 1)
            if p.input(2) != nil && beta != 1 { return }
        }
        guard let outType = g.type(of: p.outputs[0]), let outShape = outType.shape.count >= 2 ? outType.shape : nil,
              let channels = outShape[1].value else { return }
        // (1) bias Add.
        if let ai = soleReader(g, p.outputs[0], removed), g.nodes[ai].op == .add {
            let add = g.nodes[ai]
            let other = add.inputs[0] == p.outputs[0] ? add.inputs[1]! : add.inputs[0]!
            if let t = g.initializers[other], t.dtype == .float32, t.count == channels,
               isPerChannel(t.shape, channels, rank: outShape.count, gemm: isGemm) {
                var bias = t.floats
                var ok = true
                if let b = p.input(2) {
                    if let old = g.initializers[b], old.count == channels { for c in 0..<channels { bias[c] += old.floats[c] } } else { ok = false }
                }
                if ok {
                    let name = uniqueName(g, g.name(of: other) + ".fused")
                    let bv = g.addInitializer(name, Tensor(shape: [channels], floats: bias))
                    p.inputs = [p.inputs[0], p.inputs[1], bv]
                    p.outputs[0] = add.outputs[0]
                    removed.insert(ai)
                    g.nodes[i] = p
                }
            }
        }
        if isGemm, let c = p.input(2), let t = g.type(of: c), t.elementCount != channels { return }
        // (2) activation, for Gemm possibly behind one Reshape.
        guard var ri = soleReader(g, p.outputs[0], removed) else { return }
        var reshape: Int? = nil
        if isGemm && g.nodes[ri].op == .reshape {
            guard let next = soleReader(g, g.nodes[ri].outputs[0], removed) else { return }
            reshape = ri
            ri = next
        }
        let act = g.nodes[ri]
        guard let activation = try Activation(node: act) else { return }
        p.op = p.op == .conv ? .fusedConv : (p.op == .convTranspose ? .fusedConvTranspose : .fusedGemm)
        for (k, v) in activation.fusedAttributes { p.attributes[k] = v }
        if let r = reshape {
            g.nodes[r].outputs[0] = act.outputs[0]
        } else {
            p.outputs[0] = act.outputs[0]
        }
        removed.insert(ri)
        g.nodes[i] = p
    }

    func isPerChannel(_ shape: [Int], _ c: Int, rank: Int, gemm: Bool) -> Bool {
        if gemm { return shape == [c] || shape == [1, c] }
        let trailing = Array(repeating: 1, count: rank - 2)
        return shape == [c] && rank == 2 || shape == [c] + trailing || shape == [1, c] + trailing
    }

    func uniqueName(_ g: Graph, _ base: String) -> String {
        var name = base
        var k = 1
        while g.value(named: name) != nil { k += 1; name = base + "\(k)" }
        return name
    }
}
