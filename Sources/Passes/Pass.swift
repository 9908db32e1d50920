// Pass: the interface of a graph-to-graph compiler pass, and the literal pipelines.

import GraphIR

/// A graph-to-graph transformation. Each conforming type lives in its own file whose header
/// states its contract.
public protocol Pass {
    /// The name shown by `gannet print --after NAME`.
    var name: String { get }
    func run(_ graph: inout Graph) throws
}

/// The pass pipelines, as literal lists.
public enum Pipelines {
    /// Forward inference: what `gannet run` and `Session` apply before lowering.
    public static let inference: [Pass] = [
        InferShapes(),
        FoldConstants(),
        EliminateDeadValues(),
        FoldBatchNorm(),
        FoldUpsampleIntoConv(),
        FuseConvBiasActivation(),
        EliminateDeadValues(),
    ]

    /// Inference without fusion or folding: what `--no-fuse` and the fusion tests compare against.
    public static let inferenceUnfused: [Pass] = [
        InferShapes(),
        FoldConstants(),
        EliminateDeadValues(),
    ]

    /// The rewrites kernels need, which `Lowering.lower` runs on its copy of every graph it lowers.
    public static let lowering: [Pass] = [
        PretransposeGemmB(),
        FoldTransposeIntoMatMul(),
        FuseAttention(),
        ExpandVariadic(),
        ExpandBoolReductions(),
        CoerceIntegerOperands(),
        ChannelsLastIslands(),
    ]

    /// Runs `passes` in order, calling `after` with each pass's name and result.
    public static func run(_ passes: [Pass], on graph: inout Graph,
                           after: ((String, Graph) -> Void)? = nil) throws {
        for p in passes {
            try p.run(&graph)
            after?(p.name, graph)
        }
    }
}
