// Pullbacks+ConvTransposeBatchNorm: the reverse-mode rule of FusedConvTransposeBatchNorm.
//
// Contract: the node computes, per channel c over the axes N, H, W (n elements),
//   Z = ConvTranspose(X, W, B),  mean = Σ Z / n,  var = Σ (Z − mean)² / n,
//   X̂ = (Z − mean)/√(var + ε),  P = X̂·scale + bias,  Y = act(P).
// Given cotangents of any of (Y, Z, mean, var) — all four may arrive when a gradient that reads
// them is differentiated again — the rule returns those of (X, W, B, scale, bias):
//   gP = act pullback of gY (read from Y, as the standalone activation rules do),
//   gscale = Σ gP·X̂,  gbias = Σ gP,  gX̂ = gP·scale,
//   gZ_total = (gX̂ − mean(gX̂) − X̂·mean(gX̂·X̂))/√(var + ε)        (through Y)
//            + gZ + gmean/n + gvar·2(Z − mean)/n                    (direct cotangents),
// then ConvTranspose's rule on gZ_total for X and W. The part through Y and the statistics'
// terms are Pullbacks+BatchNorm.swift's (one BatchNormTrainingGrad node unless `createGraph`).
// B shifts Z and mean alike and leaves X̂, var and Y unchanged, so its gradient is exactly Σ gZ + gmean (a zeros constant when neither
// arrives) rather than the rounding noise Σ gZ_total would give (Adam turns such noise into
// lr-sized steps). X̂ and √(var + ε) are recomputed from the fused node's outputs Z, mean and
// var. With `createGraph` every emitted op is ordinary, so the result is differentiable again.

import GraphIR
import Kernels

extension Pullbacks {
    static func convTransposeBatchNorm(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let y = n.outputs[0], z = n.outputs[1], mean = n.outputs[2], variance = n.outputs[3]
        let zd = try b.fixed(z)
        let c = zd[1]
        var out: [ValueID?] = Array(repeating: nil, count: n.inputs.count)
        let wantsConv = wants[0] || wants[1]
        var gz: ValueID? = dys[1]
        func accumulate(_ g: ValueID?) throws {
            guard let g else { return }
            gz = try gz.map { try b.add($0, g) } ?? g
        }
        if let gy = dys[0] {
            let wantsZ = wantsConv || (wants.count > 2 && wants[2])
            let r = try throughOutput(b, n, x: z, y: y, mean: mean, variance: variance, scale: n.inputs[3]!, bias: n.inputs[4]!, gy: gy,
                                      wants: (wantsZ, wants[3], wants[4]))
            out[3] = r.scale
            out[4] = r.bias
            try accumulate(r.x)
        }
        if n.input(2) != nil && wants[2] {
            var gb: ValueID? = try dys[1].map { try b.reshape(b.reduceSum($0, axes: [0] + Array(2..<zd.count), keepdims: true), to: [.fixed(c)]) }
            if let gm = dys[2] { gb = try gb.map { try b.add($0, gm) } ?? gm }
            out[2] = try gb ?? b.zeros([.fixed(c)])
        }
        if wantsConv { try accumulate(throughStatistics(b, x: z, mean: mean, gmean: dys[2], gvar: dys[3])) }
        if wantsConv, let gz {
            var conv = n.fusedConvTransposePart
            conv.inputs = Array(conv.inputs.prefix(2))   // B's gradient is set above
            let g = try ConvOps.convTransposePullback(b, conv, [gz], Array(wants.prefix(2)))
            out[0] = g[0]
            out[1] = g[1]
        }
        return out
    }
}
