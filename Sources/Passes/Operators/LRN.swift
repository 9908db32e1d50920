// LRN: local response normalisation across channels (ONNX LRN) over (N, C, spatial…).
//
// Contract: input rank ≥ 3, float32; `size` (required, ≥ 1), alpha (1e-4), beta (0.75),
// bias (1). The output has the input's type. Evaluation is `LRN.reference`, lowering one
// `.lrn` kernel call over (N, C, product of spatial dims). Pullback, with s = bias +
// alpha/size·Σ_window x² (window c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉):
// dX_i = dY_i·s_i^−β − (2αβ/size)·x_i·Σ_{c: i ∈ window(c)} dY_c·x_c·s_c^(−β−1); both window sums
// are a Conv with a ones kernel (size × 1) over the channels of x reshaped to (N, 1, C, spatial),
// the transposed one with the pads swapped, so the gradient is made of standard ops (it
// differentiates again). It needs static C and spatial sizes.

import GraphIR
import Kernels

public enum LRNOps: OperatorFamily {
    static func lrnShape(_ node: Node, _ x: [Int]) throws -> LRNShape {
        let a = node.attributes
        guard let size = try a.int("size") else { throw GraphError("LRN needs the 'size' attribute") }
        guard size >= 1 else { throw GraphError("LRN size must be at least 1, got \(size)") }
        return LRNShape(batch: x[0], channels: x[1], spatial: x[2...].reduce(1, *), size: size,
                        alpha: try a.float("alpha", default: 1e-4), beta: try a.float("beta", default: 0.75),
                        bias: try a.float("bias", default: 1))
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        guard node.op == .lrn else { throw notInFamily(node.op) }
        let x = ts[0]!
        guard x.rank >= 3 else { throw GraphError("LRN input must have rank >= 3 (N, C, spatial…), got \(x)") }
        guard x.dtype == .float32 else { throw GraphError("LRN input must be float, got \(x)") }
        guard let size = try node.attributes.int("size") else { throw GraphError("LRN needs the 'size' attribute") }
        guard size >= 1 else { throw GraphError("LRN size must be at least 1, got \(size)") }
        return [x]
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let xs = x[0]!.shape
        var y = [Float](repeating: 0, count: xs.reduce(1, *))
        LRN.reference(try lrnShape(node, xs), x[0]!.floats, &y)
        return [Tensor(shape: xs, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        .kernel(.lrn(try lrnShape(node, try ctx.kernelShapes(node).x)))
    }

    /// Across channels of one pixel of one image.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        batchedBeyondFirst(batched)
    }
    public static func pullback(_ op: Op) -> Pullback? {
        guard op == .lrn else { return nil }
        return { b, n, dy, _ in
            let x = n.inputs[0]!, xd = try b.dims(x)
            let a = n.attributes
            guard let size = try a.int("size"), size >= 1 else { throw GraphError("LRN needs a 'size' of at least 1") }
            let alpha = try a.float("alpha", default: 1e-4), beta = try a.float("beta", default: 0.75), bias = try a.float("bias", default: 1)
            guard let c = xd[1].value else { throw GraphError("LRN gradients need a static channel count") }
            var spatial = 1
            for d in xd[2...] {
                guard let v = d.value else { throw GraphError("LRN gradients need static spatial sizes") }
                spatial *= v
            }
            let lo = (size - 1) / 2, hi = size - 1 - lo
            let ones = b.constant(Tensor(shape: [1, 1, size, 1], repeating: 1))
            /// Σ of v over channels c − before … c + after (zero outside).
            func window(_ v: ValueID, _ before: Int, _ after: Int) throws -> ValueID {
                let r = try b.reshape(v, to: [xd[0], .fixed(1), .fixed(c), .fixed(spatial)])
                let s = try b.emit(.conv, [r, ones], ["kernel_shape": .ints([size, 1]), "pads": .ints([before, 0, after, 0])])
                return try b.reshape(s, to: xd)
            }
            let g = dy[0]!
            let s = try b.add(b.scalar(bias), b.mul(window(b.mul(x, x), lo, hi), alpha / Float(size)))
            let direct = try b.mul(g, b.emit(.pow, [s, b.scalar(-beta)]))
            let t = try b.mul(b.mul(g, x), b.emit(.pow, [s, b.scalar(-beta - 1)]))
            return [try b.add(direct, b.mul(b.mul(x, window(t, hi, lo)), -2 * alpha * beta / Float(size)))]
        }
    }
}
