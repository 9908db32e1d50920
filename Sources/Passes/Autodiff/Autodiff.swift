// Autodiff: reverse-mode differentiation as a graph-to-graph transformation.
//
// Contract: `Autodiff.gradients(of: loss, wrt: xs, in: &graph, seed:)` appends backward nodes
// to `graph` and returns, for each value in `xs`, the value holding d loss / d x — or nil when
// the loss does not depend on x (no zeros are materialised). The graph must be typed by
// InferShapes. The loss must be a float scalar (f32[] or f32[1]) unless `seed` — a cotangent
// of the loss's shape — is given; the gradient is then the vector-Jacobian product seed·J.
//
// Only nodes on a path from some `xs` value to the loss are differentiated (gradients only for
// what is asked; initializers and inputs off those paths get none), in reverse topological
// order; cotangents of a value read by several nodes are summed with Add nodes. With
// `createGraph` (the default, as PyTorch's create_graph=True) each backward node is an ordinary
// op with its own pullback (`Op.pullback`, in Operators/), so calling `gradients` again on the
// extended graph differentiates the gradient (double backward, as in WGAN-GP). Without it, rules
// may emit backward-only kernels that have no pullback (BatchNormTrainingGrad): for gradients
// that only feed an optimizer (TrainStep).
// New values are named "grad/<value>" (cotangents) or "grad/<node>/<op>" (temporaries), new
// nodes "grad/<node name>", with a numeric suffix when a name is taken; new nodes are typed
// as they are appended, the graph stays verified and topologically ordered, and graph
// outputs are left unchanged (add the returned values to `graph.outputs` to run them).
//
// Limits: shapes on the differentiated path may keep a symbolic batch dim only where no rule
// needs its size (reducing or broadcasting over a symbolic dim, or a zero pad along it, is an
// error naming the node); bind the batch first (Session.bind + InferShapes) otherwise.
// Training-mode BatchNormalization must be expanded first (ExpandTrainingBatchNorm) or fused
// (FuseTrainingBatchNorm, or into its ConvTranspose by FuseConvTransposeBatchNorm); the inference fusions are not
// differentiable (differentiate before fusion). Errors name the node and op.

import Core
import GraphIR

public enum Autodiff {
    /// Appends the backward graph of `loss` and returns d loss / d v per `wrt` value (nil when
    /// the loss does not depend on it).
    public static func gradients(of loss: ValueID, wrt: [ValueID], in graph: inout Graph,
                                 seed: ValueID? = nil, createGraph: Bool = true) throws -> [ValueID?] {
        guard loss.index >= 0 && loss.index < graph.values.count else { throw GraphError("autodiff: loss value \(loss.index) is out of range") }
        guard let lt = graph.type(of: loss) else {
            throw GraphError("autodiff: loss '\(graph.name(of: loss))' has no type (run InferShapes first)")
        }
        guard lt.dtype == .float32 else { throw GraphError("autodiff: loss '\(graph.name(of: loss))' is \(lt), not float") }
        let b = GraphBuilder.typed(graph, scope: "grad", constantName: "grad/const")
        b.createGraph = createGraph
        let seedValue: ValueID
        if let seed {
            guard let st = graph.type(of: seed), st == lt else {
                throw GraphError("autodiff: seed '\(graph.name(of: seed))' has type \(graph.type(of: seed)?.description ?? "unknown"), the loss is \(lt)")
            }
            seedValue = seed
        } else {
            guard let shape = lt.fixedShape, shape.reduce(1, *) == 1, shape.count <= 1 else {
                throw GraphError("autodiff: loss '\(graph.name(of: loss))' is \(lt); give a seed or reduce it to a scalar")
            }
            seedValue = b.constant(Tensor(shape: shape, repeating: 1), name: "grad/\(graph.name(of: loss))/seed")
        }

        // Values that depend on some wrt value (forward) and that the loss depends on (backward).
        let wrtSet = Set(wrt)
        var forward = wrtSet
        for n in graph.nodes where n.inputs.contains(where: { $0.map(forward.contains) ?? false }) {
            forward.formUnion(n.outputs)
        }
        var needed: Set<ValueID> = [loss]
        var active: [Int] = []
        for i in graph.nodes.indices.reversed() {
            let n = graph.nodes[i]
            guard n.outputs.contains(where: needed.contains), n.outputs.contains(where: forward.contains) else { continue }
            active.append(i)
            for case let v? in n.inputs where forward.contains(v) { needed.insert(v) }
        }

        var cot: [ValueID: ValueID] = [loss: seedValue]
        for i in active {
            let node = graph.nodes[i]
            let outCots = node.outputs.map { cot[$0] }
            if outCots.allSatisfy({ $0 == nil }) { continue }
            let wants = node.inputs.map { v in v.map { needed.contains($0) && forward.contains($0) } ?? false }
            if !wants.contains(true) { continue }
            guard let rule = node.op.pullback else {
                throw GraphError("autodiff: \(graph.describeNode(i)) has no pullback rule for \(node.op.rawValue)")
            }
            b.scope = "grad/" + (node.name.isEmpty ? graph.name(of: node.outputs[0]) : node.name)
            let grads = try rethrowing(GraphError.self, as: { GraphError("autodiff: \(graph.describeNode(i)): \($0.message)") }) {
                try rule(b, node, outCots, wants)
            }
            for (k, g) in grads.enumerated() where k < node.inputs.count && wants[k] {
                guard let g, let v = node.inputs[k] else { continue }
                if let old = cot[v] {
                    cot[v] = try b.emit(.add, [old, g], tag: "accumulate")
                } else {
                    cot[v] = g
                }
            }
        }
        // Name the final cotangents after the values they belong to.
        var result: [ValueID?] = []
        for v in wrt {
            guard let g = cot[v] else { result.append(nil); continue }
            result.append(g)
        }
        var renamed = Set<ValueID>()
        for (v, g) in zip(wrt, result) {
            guard let g, b.created.contains(g), !renamed.contains(g) else { continue }
            renamed.insert(g)
            b.rename(g, freshFrom: "grad/\(b.graph.name(of: v))")
        }
        graph = b.graph
        return result
    }
}

/// The builder pullback rules append to: a GraphBuilder typed by the shape rules, scoped to the
/// forward node being differentiated ("grad/<node>").
public typealias GradientBuilder = GraphBuilder
