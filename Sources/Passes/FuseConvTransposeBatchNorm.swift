// FuseConvTransposeBatchNorm: merges a 2-D ConvTranspose, the training-mode BatchNormalization
// that reads it and an activation after that into one FusedConvTransposeBatchNorm node.
//
// Contract: input — a typed graph (InferShapes) before ExpandTrainingBatchNorm and Autodiff.
// For each ConvTranspose P (rank-4 input, static output channels C) whose output Z is read only
// by a BatchNormalization B with training_mode=1 (as its X) and is not a graph output:
// P and B become one FusedConvTransposeBatchNorm node with inputs (P's X, W, bias or absent,
// B's scale, B's bias) and outputs (Y, Z, mean, var): Z keeps its value, mean and var are new
// f32[C] values "<B>/batch_mean" and "<B>/batch_var" (biased batch statistics). When B's Y is
// read only by one Relu, LeakyRelu (slope ≥ 0), Sigmoid or Tanh and is not a graph output, that activation
// joins as the `activation` attribute and the node writes the activation's output value;
// otherwise it writes B's Y. B's running-statistics outputs, when present, are computed from
// mean and var by the same primitive ops ExpandTrainingBatchNorm appends (PyTorch semantics).
// Output values keep their ids, so readers downstream are unchanged. The fused node has a
// pullback (Pullbacks+ConvTransposeBatchNorm.swift), so the pass runs before Autodiff; the
// forward kernel accumulates the statistics in the ConvTranspose epilogue and normalises with
// the activation in one pass over Z.

import GraphIR
import Kernels

public struct FuseConvTransposeBatchNorm: Pass {
    public let name = "FuseConvTransposeBatchNorm"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        let b = GraphBuilder(graph)
        let soleReader = b.soleReader(of:)
        // Plan: ConvTranspose index → (BatchNorm index, activation index?).
        var plans: [Int: (bn: Int, act: Int?)] = [:]
        var absorbed = Set<Int>()
        for (i, p) in graph.nodes.enumerated() where p.op == .convTranspose {
            guard let xt = graph.type(of: p.inputs[0]!), xt.rank == 4,
                  let zt = graph.type(of: p.outputs[0]), zt.shape[1].value != nil,
                  let bi = soleReader(p.outputs[0]) else { continue }
            let bn = graph.nodes[bi]
            guard bn.op == .batchNormalization, bn.inputs[0] == p.outputs[0],
                  try bn.attributes.int("training_mode", default: 0) != 0 else { continue }
            var act: Int? = nil
            if let ai = soleReader(bn.outputs[0]), try Activation.trainingFusable(graph.nodes[ai]), graph.nodes[ai].inputs[0] == bn.outputs[0] {
                act = ai
            }
            plans[i] = (bi, act)
            absorbed.insert(bi)
            if let act { absorbed.insert(act) }
        }
        if plans.isEmpty { return }
        let old = b.takeNodes()
        for (i, node) in old.enumerated() {
            if absorbed.contains(i) { continue }
            guard let plan = plans[i] else {
                try b.append(node)
                continue
            }
            let bn = old[plan.bn]
            let here = "\(name): node \(plan.bn) '\(bn.name)' (BatchNormalization)"
            let base = bn.name.isEmpty ? b.graph.name(of: bn.outputs[0]) : bn.name
            let z = node.outputs[0]
            let zt = b.graph.type(of: z)!
            let c = zt.shape[1].value!
            let stat = TensorType(zt.dtype, [.fixed(c)])
            let mean = b.addValue(b.freshName("\(base)/batch_mean"), stat)
            let variance = b.addValue(b.freshName("\(base)/batch_var"), stat)
            var attrs = node.attributes
            attrs["epsilon"] = .float(try bn.attributes.float("epsilon", default: 1e-5))
            var y = bn.outputs[0]
            if let ai = plan.act {
                let a = old[ai]
                if let activation = try Activation(node: a) { for (k, v) in activation.fusedAttributes { attrs[k] = v } }
                y = a.outputs[0]
            }
            let inputs: [ValueID?] = [node.inputs[0], node.inputs[1], node.input(2), bn.inputs[1], bn.inputs[2]]
            try b.append(Node(.fusedConvTransposeBatchNorm, name: node.name.isEmpty ? base : node.name,
                              inputs: inputs, outputs: [y, z, mean, variance], attributes: attrs))
            let count = TensorType(zt.dtype, [zt.shape[0], zt.shape[2], zt.shape[3]]).elementCount
            try ExpandTrainingBatchNorm.runningUpdates(bn, mean: mean, variance: variance, count: count, base: base,
                                                       in: b, here: here, xType: zt)
        }
        graph = b.graph
        if graph.inputs.allSatisfy({ graph.type(of: $0) != nil }) {
            try InferShapes().run(&graph)
        }
    }
}
