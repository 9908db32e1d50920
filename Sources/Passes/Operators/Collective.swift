// Collective: AllReduce, the reduction of a value over the ranks of a data-parallel job
// (synchronised BatchNorm statistics).
//
// Contract: one input X (float), one output of X's type. Attribute `mode`: "mean" (default)
// gives Σ_r share_r·X_r on every rank, share_r = rank r's fraction of the step's global batch
// (Σ share_r = 1), so a per-rank batch mean becomes the global batch's mean; "sum" gives Σ_r X_r
// (element counts). Evaluation is the single-process case: the identity. Lowering gives
// `KernelCall.allReduce`, which the program routes to its collective hook at run time (a copy
// when no hook is set). The mean's pullback is itself: each rank's gradient is later weighted by
// its share and summed (the gradient collective), and the true adjoint of X_s,
// share_s·Σ_r share_r·dY_r, is share_s times Σ_r share_r·dY_r — so double backward works too.
// The sum is not differentiable (it carries constants). Internal: never folded nor exported.

import GraphIR
import Kernels

public enum CollectiveOps: OperatorFamily {
    /// The `mode` attribute: true for "sum", false for "mean"; an error for anything else.
    static func isSum(_ node: Node) throws -> Bool {
        let mode = try node.attributes.string("mode") ?? "mean"
        switch mode {
        case "mean": return false
        case "sum": return true
        default: throw GraphError("AllReduce mode must be \"mean\" or \"sum\", got \"\(mode)\"")
        }
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        guard node.op == .allReduce else { throw notInFamily(node.op) }
        _ = try isSum(node)
        let x = ts[0]!
        guard x.dtype == .float32 else { throw GraphError("AllReduce needs float32 data, got \(x)") }
        return [x]
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        guard node.op == .allReduce else { throw notInFamily(node.op) }
        _ = try isSum(node)
        return [x[0]!]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        guard node.op == .allReduce else { throw notInFamily(node.op) }
        let count = try ctx.kernelShapes(node).y.reduce(1, *)
        return .kernel(.allReduce(count: count, sum: try isSum(node)))
    }

    /// A collective sums across processes: never split.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool { true }
    public static func pullback(_ op: Op) -> Pullback? {
        guard op == .allReduce else { return nil }
        return { b, n, dy, _ in
            if try isSum(n) { throw GraphError("AllReduce mode \"sum\" is not differentiable (it reduces counts)") }
            return [try b.emit(.allReduce, [dy[0]!], ["mode": .string("mean")])]
        }
    }
}
