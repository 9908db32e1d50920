// FuseTrainingBatchNorm: turns each training-mode BatchNormalization, and an activation after
// it, into one BatchNormTraining node (statistics, normalisation and activation in one kernel,
// with a one-node backward: BatchNormTrainingGrad).
//
// Contract: input — a typed graph before ExpandTrainingBatchNorm and Autodiff, after
// FuseConvTransposeBatchNorm (which takes the BatchNorms that follow a ConvTranspose). Each
// BatchNormalization B with training_mode=1 whose X is rank ≥ 2 with a static channel count C
// becomes BatchNormTraining with inputs (X, scale, bias) and outputs (Y, mean, var): mean and
// var are new f32[C] values "<B>/batch_mean" and "<B>/batch_var" (biased batch statistics).
// When B's Y is read only by one Relu, LeakyRelu (slope ≥ 0), Sigmoid or Tanh and is not a graph output,
// that activation joins as the `activation` attribute and the node writes the activation's
// output value; otherwise it writes B's Y. B's running-statistics outputs, when present, are
// computed from mean and var by the ops ExpandTrainingBatchNorm appends (PyTorch semantics).
// Output values keep their ids, so readers downstream are unchanged. Values equal the expanded
// form's up to rounding (statistics in double). Synchronised BatchNorm is not fused (its
// pipeline does not run this pass).

import GraphIR
import Kernels

public struct FuseTrainingBatchNorm: Pass {
    public let name = "FuseTrainingBatchNorm"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        if Baseline.expandTrainingBatchNorm { return }
        let b = GraphBuilder(graph)
        // Plan: BatchNorm index → activation index?.
        var plans: [Int: Int?] = [:]
        var absorbed = Set<Int>()
        for (i, bn) in graph.nodes.enumerated() where bn.op == .batchNormalization {
            guard try bn.attributes.int("training_mode", default: 0) != 0,
                  let xt = graph.type(of: bn.inputs[0]!), xt.rank >= 2, xt.shape[1].value != nil else { continue }
            var act: Int? = nil
            if !graph.outputs.contains(bn.outputs[0]), let ai = b.soleReader(of: bn.outputs[0]),
               try Activation.trainingFusable(graph.nodes[ai]), graph.nodes[ai].inputs[0] == bn.outputs[0] {
                act = ai
                absorbed.insert(ai)
            }
            plans[i] = act
        }
        if plans.isEmpty { return }
        let old = b.takeNodes()
        for (i, node) in old.enumerated() {
            if absorbed.contains(i) { continue }
            guard let plan = plans[i] else {
                try b.append(node)
                continue
            }
            let here = "\(name): node \(i) '\(node.name)' (BatchNormalization)"
            let base = node.name.isEmpty ? b.graph.name(of: node.outputs[0]) : node.name
            let xt = b.graph.type(of: node.inputs[0]!)!
            let stat = TensorType(xt.dtype, [xt.shape[1]])
            let mean = b.addValue(b.freshName("\(base)/batch_mean"), stat)
            let variance = b.addValue(b.freshName("\(base)/batch_var"), stat)
            var attrs = Attributes(["epsilon": .float(try node.attributes.float("epsilon", default: 1e-5))])
            var y = node.outputs[0]
            if let ai = plan {
                let a = old[ai]
                if let activation = try Activation(node: a) { for (k, v) in activation.fusedAttributes { attrs[k] = v } }
                y = a.outputs[0]
            }
            try b.append(Node(.batchNormTraining, name: base, inputs: [node.inputs[0], node.inputs[1], node.inputs[2]],
                              outputs: [y, mean, variance], attributes: attrs))
            let count = TensorType(xt.dtype, [xt.shape[0]] + xt.shape.dropFirst(2)).elementCount
            try ExpandTrainingBatchNorm.runningUpdates(node, mean: mean, variance: variance, count: count, base: base,
                                                       in: b, here: here, xType: xt)
        }
        graph = b.graph
        if graph.inputs.allSatisfy({ graph.type(of: $0) != nil }) {
            try InferShapes().run(&graph)
        }
    }
}
