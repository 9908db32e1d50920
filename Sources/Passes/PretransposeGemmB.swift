// PretransposeGemmB: stores the constant B of a transposed Gemm transposed once, at compile
// time, so the GEMM kernel packs contiguous rows.
//
// Contract: input — a typed graph with static shapes. Every Gemm or FusedGemm node with
// transB=1 whose B is a float constant (initializer or Constant node) [N, K] reads instead a new
// initializer [K, N] holding Bᵀ, and loses its transB attribute; the result is the same for
// every input. A constant read transposed by several nodes is transposed once. The original
// constant stays (other readers may need it; lowering only stores what it reads). New values
// are named "<B>/transposed" (with a suffix when taken). A Gemm whose A has a static row
// count under `Gemm.smallM` (batch-1 to 3 inference of a Linear layer) keeps transB: the GEMM
// kernel computes it as one contiguous dot product per output, which streams the [N, K] weight
// in storage order (m=1, n=6272, k=1024: 0.61 ms against 1.35 ms for the transposed copy on the
// 2-core development machine, and a second thread helps: 0.30 ms), and it packs nothing for
// small m either. Runs inside `Lowering.lower` (`Pipelines.lowering`), so every lowered program
// gets it.

import GraphIR
import Kernels

public struct PretransposeGemmB: Pass {
    public let name = "PretransposeGemmB"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        let builder = GraphBuilder(graph)
        var transposed: [ValueID: ValueID] = [:]
        for i in graph.nodes.indices where [.gemm, .fusedGemm].contains(graph.nodes[i].op) {
            let node = graph.nodes[i]
            guard try node.attributes.int("transB", default: 0) != 0, let b = node.inputs[1],
                  let w = graph.constantValue(b), w.dtype == .float32, w.shape.count == 2 else { continue }
            if let a = node.inputs[0], let t = graph.type(of: a), t.rank == 2,
               let m = t.shape[try node.attributes.int("transA", default: 0) != 0 ? 1 : 0].value, m < Gemm.smallM { continue }
            if transposed[b] == nil {
                let n = w.shape[0], k = w.shape[1]
                let f = w.floats
                var t = [Float](repeating: 0, count: f.count)
                // In 32×32 tiles, so that both sides stay within a few cache lines per tile (an
                // element-by-element loop writes at a stride of n floats: 16% of the CPU time of
                // vgg11_bn's load-to-first-run, its 25088×4096 classifier weight).
                f.withUnsafeBufferPointer { src in
                    t.withUnsafeMutableBufferPointer { dst in
                        for r0 in stride(from: 0, to: n, by: 32) {
                            for c0 in stride(from: 0, to: k, by: 32) {
                                for r in r0..<min(r0 + 32, n) {
                                    for c in c0..<min(c0 + 32, k) { dst[c * n + r] = src[r * k + c] }
                                }
                            }
                        }
                    }
                }
                transposed[b] = builder.addInitializer(builder.freshName(graph.name(of: b) + "/transposed"), Tensor(shape: [k, n], floats: t))
            }
            var rewritten = node
            rewritten.inputs[1] = transposed[b]
            rewritten.attributes["transB"] = nil
            builder.setNode(i, rewritten)
        }
        graph = builder.finish()
    }
}
