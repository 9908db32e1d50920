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
// then ConvTranspose's rule on gZ_total for X and W. B shifts Z and mean alike and leaves X̂,
// var and Y unchanged, so its gradient is exactly Σ gZ + gmean (a zeros constant when neither
// arrives) rather than the rounding noise Σ gZ_total would give (Adam turns such noise into
// lr-sized steps). X̂ and √(var + ε) are recomputed from the fused node's outputs Z, mean and
// var. Every emitted op is ordinary, so the result is differentiable again.

import GraphIR
import Kernels

extension Pullbacks {
    static func convTransposeBatchNorm(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let y = n.outputs[0], z = n.outputs[1], mean = n.outputs[2], variance = n.outputs[3]
        let scale = n.inputs[3]!
        let zd = try b.fixed(z)
        let c = zd[1], count = zd[0] * zd[2...].reduce(1, *)
        let axes = [0] + Array(2..<zd.count)
        let cshape = [Dim.fixed(1), .fixed(c)] + Array(repeating: Dim.fixed(1), count: zd.count - 2)
        func perChannel(_ v: ValueID) throws -> ValueID { try b.reshape(v, to: cshape) }
        func channelSum(_ v: ValueID) throws -> ValueID { try b.reshape(b.reduceSum(v, axes: axes, keepdims: true), to: [.fixed(c)]) }
        func channelMean(_ v: ValueID) throws -> ValueID { try b.mul(b.reduceSum(v, axes: axes, keepdims: true), 1 / Float(count)) }

        let eps = try n.attributes.float("epsilon", default: 1e-5)
        let centered = try b.sub(z, perChannel(mean))
        let std = try perChannel(b.emit(.sqrt, [b.add(variance, b.scalar(eps))]))
        var out: [ValueID?] = Array(repeating: nil, count: n.inputs.count)
        var gz: ValueID? = dys[1]
        func accumulate(_ g: ValueID) throws { gz = try gz.map { try b.add($0, g) } ?? g }

        if let gy = dys[0] {
            // gP from the activation's own rule, on a node that reads only Y.
            var gp = gy
            if let act = try Activation(fusedAttributesOf: n) {
                guard let op = act.op, let rule = op.pullback else {
                    throw GraphError("\(n.op.rawValue) '\(n.name)': no pullback for its fused activation \(act)")
                }
                let actNode = Node(op, name: n.name, inputs: [nil], outputs: [y], attributes: Attributes(act.opAttributes))
                gp = try rule(b, actNode, [gy], [true])[0]!
            }
            let normalized = try b.div(centered, std)
            if wants[4] { out[4] = try channelSum(gp) }
            if wants[3] { out[3] = try channelSum(b.mul(gp, normalized)) }
            if wants[0] || wants[1] || (wants.count > 2 && wants[2]) {
                let gn = try b.mul(gp, perChannel(scale))
                let inner = try b.sub(b.sub(gn, channelMean(gn)), b.mul(normalized, channelMean(b.mul(gn, normalized))))
                try accumulate(b.div(inner, std))
            }
        }
        if n.input(2) != nil && wants[2] {
            var gb: ValueID? = try dys[1].map(channelSum)
            if let gm = dys[2] { gb = try gb.map { try b.add($0, gm) } ?? gm }
            out[2] = try gb ?? b.zeros([.fixed(c)])
        }
        let wantsConv = wants[0] || wants[1]
        if wantsConv {
            if let gm = dys[2] { try accumulate(b.expand(b.mul(perChannel(gm), 1 / Float(count)), to: zd.map { .fixed($0) })) }
            if let gv = dys[3] { try accumulate(b.mul(centered, b.mul(perChannel(gv), 2 / Float(count)))) }
        }
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
