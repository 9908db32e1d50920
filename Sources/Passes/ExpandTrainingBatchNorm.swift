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
        let b = GraphBuilder(graph)
        var changed = false
        for (i, node) in b.takeNodes().enumerated() {
            guard node.op == .batchNormalization, try node.attributes.int("training_mode", default: 0) != 0 else {
                try b.append(node)
                continue
            }
            changed = true
            let here = "\(name): node \(i) '\(node.name)' (BatchNormalization)"
            let x = node.inputs[0]!, scale = node.inputs[1]!, bias = node.inputs[2]!
            guard let xt = b.graph.type(of: x), xt.rank >= 2, let c = xt.shape[1].value else {
                throw GraphError("\(here): X needs a known type with a static channel count")
            }
            let eps = try node.attributes.float("epsilon", default: 1e-5)
            let base = node.name.isEmpty ? b.graph.name(of: node.outputs[0]) : node.name
            let emit = Self.emitter(b, base)
            func const(_ t: Tensor, _ what: String) throws -> ValueID { try emit(.constant, [], what, ["value": .tensor(t)], nil) }
            let axes = [0] + Array(2..<xt.rank)
            let axesV = try const(Tensor(shape: [axes.count], int64s: axes.map(Int64.init)), "axes")
            let bshape = [1, c] + Array(repeating: 1, count: xt.rank - 2)
            let shapeV = try const(Tensor(shape: [bshape.count], int64s: bshape.map(Int64.init)), "channel_shape")
            let synchronized = self.synchronized
            func global(_ v: ValueID, _ what: String) throws -> ValueID {
                synchronized ? try emit(.allReduce, [v], what, ["mode": .string("mean")], nil) : v
            }
            let mean = try global(try emit(.reduceMean, [x, axesV], "mean", ["keepdims": .int(1)], nil), "global_mean")
            let centered = try emit(.sub, [x, mean], "centered", [:], nil)
            let variance = try global(try emit(.reduceMean, [try emit(.mul, [centered, centered], "squared", [:], nil), axesV], "var", ["keepdims": .int(1)], nil),
                                      "global_var")
            let std = try emit(.sqrt, [try emit(.add, [variance, try const(Tensor(shape: [], floats: [eps]), "epsilon")], "var_eps", [:], nil)], "std", [:], nil)
            let normalized = try emit(.div, [centered, std], "normalized", [:], nil)
            let scaled = try emit(.mul, [normalized, try emit(.reshape, [scale, shapeV], "scale_c", [:], nil)], "scaled", [:], nil)
            _ = try emit(.add, [scaled, try emit(.reshape, [bias, shapeV], "bias_c", [:], nil)], "y", [:], node.outputs[0])
            if node.outputs.count > 1 {
                let n = TensorType(xt.dtype, axes.map { xt.shape[$0] }).elementCount
                let batchMean = try emit(.squeeze, [mean, axesV], "batch_mean", [:], nil)
                let batchVar = node.outputs.count > 2 ? try emit(.squeeze, [variance, axesV], "batch_var", [:], nil) : nil
                var globalCount: ValueID?
                if synchronized, batchVar != nil, let n {
                    globalCount = try emit(.allReduce, [try const(Tensor(shape: [], floats: [Float(n)]), "count")], "global_count",
                                           ["mode": .string("sum")], nil)
                }
                try Self.runningUpdates(node, mean: batchMean, variance: batchVar, count: n, globalCount: globalCount, base: base,
                                        in: b, here: here, xType: xt)
            }
        }
        graph = b.graph
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
                               in b: GraphBuilder, here: String, xType: TensorType) throws {
        guard node.outputs.count > 1 else { return }
        let momentum = try node.attributes.float("momentum", default: 0.9)
        let emit = emitter(b, base)
        func const(_ v: Float, _ what: String) throws -> ValueID { try emit(.constant, [], what, ["value": .tensor(Tensor(shape: [], floats: [v]))], nil) }
        let m = 1 - momentum
        let keep = try const(momentum, "keep"), take = try const(m, "take")
        _ = try emit(.add, [try emit(.mul, [node.inputs[3]!, keep], "old_mean", [:], nil), try emit(.mul, [mean, take], "new_mean", [:], nil)],
                     "running_mean", [:], node.outputs[1])
        if node.outputs.count > 2 {
            guard let n = count, n > 1, let variance else {
                throw GraphError("\(here): the running variance needs a static batch·spatial count above 1, X is \(xType)"
                                 + " (a batch of one sample has no variance to estimate, as in PyTorch; drop the last"
                                 + " partial batch, e.g. `drop_last: true` in the spec's dataset)")
            }
            // m·n/(n − 1) = m/(1 − 1/n).
            let unbias: ValueID
            if let globalCount {
                let inverse = try emit(.div, [try const(1, "one"), globalCount], "inverse_count", [:], nil)
                unbias = try emit(.div, [take, try emit(.sub, [try const(1, "one"), inverse], "unbias", [:], nil)], "take_unbiased", [:], nil)
            } else {
                unbias = try const(m * Float(n) / Float(n - 1), "take_unbiased")
            }
            _ = try emit(.add, [try emit(.mul, [node.inputs[4]!, keep], "old_var", [:], nil), try emit(.mul, [variance, unbias], "new_var", [:], nil)],
                         "running_var", [:], node.outputs[2])
        }
        if node.outputs.count > 3 { throw GraphError("\(here): outputs beyond running_var are not supported") }
    }

    /// Appends node "<base>/<what>" writing `output`, or a new value named "<base>/<what>"
    /// (made fresh), and returns the value written.
    static func emitter(_ b: GraphBuilder, _ base: String)
        -> (Op, [ValueID?], String, [String: Attribute], ValueID?) throws -> ValueID {
        { op, ins, what, attrs, output in
            let out = output ?? b.addValue(b.freshName("\(base)/\(what)"))
            try b.append(Node(op, name: "\(base)/\(what)", inputs: ins, outputs: [out], attributes: Attributes(attrs)))
            return out
        }
    }
}
