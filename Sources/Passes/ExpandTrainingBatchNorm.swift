// ExpandTrainingBatchNorm: rewrites training-mode BatchNormalization into primitive ops.
//
// Contract: input — a verified graph whose BatchNormalization nodes with training_mode=1 have
// typed X (static C, and static N·spatial when the running variance output is used). Each
// such node (inputs X, scale, B, input_mean, input_var; outputs Y[, running_mean[, running_var]])
// becomes, with PyTorch semantics (m = 1 − ONNX momentum, so ONNX 0.9 ⇔ PyTorch 0.1):
//   mean = ReduceMean(X, N and spatial axes), var = ReduceMean((X − mean)²) (biased),
//   Y = (X − mean)/√(var + epsilon)·scale + B,
//   running_mean = (1 − m)·input_mean + m·mean, running_var = (1 − m)·input_var + m·var·n/(n − 1),
// n = N·H·W. The node's output values keep their ids; new values and nodes are named
// "<node>/<what>" (made unique). Autodiff then differentiates the primitives, so BN's
// backward and double backward need no rules of their own. Inference-mode nodes are left
// alone. When every graph input is typed the graph is re-typed with InferShapes.
// `synchronized: true` (SyncBatchNorm, data-parallel training): the batch mean and the biased
// variance are the global batch's — each per-rank ReduceMean is wrapped in AllReduce (mode
// "mean", weighted by each rank's share of the batch; its pullback is itself, so the backward
// pass reduces the gradient sums over ranks as SyncBatchNorm does) — and n in the running
// variance's n/(n − 1) is the global count, AllReduce (mode "sum") of the rank's static count.
// In one process AllReduce is the identity, so the values equal the unsynchronised form's.

import GraphIR

public struct ExpandTrainingBatchNorm: Pass {
    public let name = "ExpandTrainingBatchNorm"
    /// Whether batch statistics are reduced over the ranks (see the file header).
    public let synchronized: Bool
    public init(synchronized: Bool = false) { self.synchronized = synchronized }

    public func run(_ graph: inout Graph) throws {
        let fresh = FreshNames(graph).make
        let old = graph.nodes
        graph.nodes = []
        var changed = false
        for (i, node) in old.enumerated() {
            guard node.op == .batchNormalization, try node.attributes.int("training_mode", default: 0) != 0 else {
                graph.nodes.append(node)
                continue
            }
            changed = true
            let here = "\(name): node \(i) '\(node.name)' (BatchNormalization)"
            let x = node.inputs[0]!, scale = node.inputs[1]!, bias = node.inputs[2]!
            guard let xt = graph.type(of: x), xt.rank >= 2, let c = xt.shape[1].value else {
                throw GraphError("\(here): X needs a known type with a static channel count")
            }
            let eps = try node.attributes.float("epsilon", default: 1e-5)
            let base = node.name.isEmpty ? graph.name(of: node.outputs[0]) : node.name
            func emit(_ op: Op, _ ins: [ValueID?], _ what: String, _ attrs: [String: Attribute] = [:], output: ValueID? = nil) -> ValueID {
                let out = output ?? graph.addValue(fresh("\(base)/\(what)"))
                graph.nodes.append(Node(op, name: "\(base)/\(what)", inputs: ins, outputs: [out], attributes: Attributes(attrs)))
                return out
            }
            func const(_ t: Tensor, _ what: String) -> ValueID { emit(.constant, [], what, ["value": .tensor(t)]) }
            let axes = [0] + Array(2..<xt.rank)
            let axesV = const(Tensor(shape: [axes.count], int64s: axes.map(Int64.init)), "axes")
            let bshape = [1, c] + Array(repeating: 1, count: xt.rank - 2)
            let shapeV = const(Tensor(shape: [bshape.count], int64s: bshape.map(Int64.init)), "channel_shape")
            func global(_ v: ValueID, _ what: String) -> ValueID {
                synchronized ? emit(.allReduce, [v], what, ["mode": .string("mean")]) : v
            }
            let mean = global(emit(.reduceMean, [x, axesV], "mean", ["keepdims": .int(1)]), "global_mean")
            let centered = emit(.sub, [x, mean], "centered")
            let variance = global(emit(.reduceMean, [emit(.mul, [centered, centered], "squared"), axesV], "var", ["keepdims": .int(1)]),
                                  "global_var")
            let std = emit(.sqrt, [emit(.add, [variance, const(Tensor(shape: [], floats: [eps]), "epsilon")], "var_eps")], "std")
            let normalized = emit(.div, [centered, std], "normalized")
            let scaled = emit(.mul, [normalized, emit(.reshape, [scale, shapeV], "scale_c")], "scaled")
            _ = emit(.add, [scaled, emit(.reshape, [bias, shapeV], "bias_c")], "y", output: node.outputs[0])
            if node.outputs.count > 1 {
                let n = TensorType(xt.dtype, axes.map { xt.shape[$0] }).elementCount
                let batchMean = emit(.squeeze, [mean, axesV], "batch_mean")
                let batchVar = node.outputs.count > 2 ? emit(.squeeze, [variance, axesV], "batch_var") : nil
                var globalCount: ValueID?
                if synchronized, batchVar != nil, let n {
                    globalCount = emit(.allReduce, [const(Tensor(shape: [], floats: [Float(n)]), "count")], "global_count",
                                       ["mode": .string("sum")])
                }
                try Self.runningUpdates(node, mean: batchMean, variance: batchVar, count: n, globalCount: globalCount, base: base,
                                        in: &graph, fresh: fresh, here: here, xType: xt)
            }
        }
        if changed && graph.inputs.allSatisfy({ graph.type(of: $0) != nil }) {
            try InferShapes().run(&graph)
        }
    }

    /// Appends the running-statistics outputs of training-mode BatchNormalization `node` (its
    /// outputs 1 and 2, when present) from the batch mean and biased variance (f32[C] values):
    /// running_mean = momentum·input_mean + (1 − momentum)·mean and
    /// running_var = momentum·input_var + (1 − momentum)·var·n/(n − 1), n = `count` elements per channel,
    /// or the run-time scalar `globalCount` when given (synchronised statistics).
    static func runningUpdates(_ node: Node, mean: ValueID, variance: ValueID?, count: Int?, globalCount: ValueID? = nil, base: String,
                               in graph: inout Graph, fresh: (String) -> String, here: String, xType: TensorType) throws {
        guard node.outputs.count > 1 else { return }
        let momentum = try node.attributes.float("momentum", default: 0.9)
        func emit(_ op: Op, _ ins: [ValueID?], _ what: String, _ attrs: [String: Attribute] = [:], output: ValueID? = nil) -> ValueID {
            let out = output ?? graph.addValue(fresh("\(base)/\(what)"))
            graph.nodes.append(Node(op, name: "\(base)/\(what)", inputs: ins, outputs: [out], attributes: Attributes(attrs)))
            return out
        }
        func const(_ v: Float, _ what: String) -> ValueID { emit(.constant, [], what, ["value": .tensor(Tensor(shape: [], floats: [v]))]) }
        let m = 1 - momentum
        let keep = const(momentum, "keep"), take = const(m, "take")
        _ = emit(.add, [emit(.mul, [node.inputs[3]!, keep], "old_mean"), emit(.mul, [mean, take], "new_mean")],
                 "running_mean", output: node.outputs[1])
        if node.outputs.count > 2 {
            guard let n = count, n > 1, let variance else {
                throw GraphError("\(here): the running variance needs a static batch·spatial count above 1, X is \(xType)")
            }
            // m·n/(n − 1) = m/(1 − 1/n).
            let unbias = globalCount.map {
                emit(.div, [take, emit(.sub, [const(1, "one"), emit(.div, [const(1, "one"), $0], "inverse_count")], "unbias")], "take_unbiased")
            } ?? const(m * Float(n) / Float(n - 1), "take_unbiased")
            _ = emit(.add, [emit(.mul, [node.inputs[4]!, keep], "old_var"), emit(.mul, [variance, unbias], "new_var")],
                     "running_var", output: node.outputs[2])
        }
        if node.outputs.count > 3 { throw GraphError("\(here): outputs beyond running_var are not supported") }
    }
}
