// Pullbacks+BatchNorm: the backward of training-mode BatchNormalization, shared by the rules of
// BatchNormTraining and FusedConvTransposeBatchNorm.
//
// Contract: for a node computing, per channel c over the axes N and spatial (n elements),
//   mean = Σ X / n,  var = Σ (X − mean)² / n,  X̂ = (X − mean)/√(var + ε),
//   P = X̂·scale + bias,  Y = act(P)   (act from the node's fused attributes, or none),
// `throughOutput` returns the cotangents of X, scale and bias from gY, the cotangent of Y:
//   gP = act pullback of gY (read from Y), gscale = Σ gP·X̂, gbias = Σ gP,
//   gX = (gX̂ − mean(gX̂) − X̂·mean(gX̂·X̂))/√(var + ε) with gX̂ = gP·scale.
// When the builder's `createGraph` is true (a gradient that may be differentiated again) these
// are ordinary ops; otherwise one BatchNormTrainingGrad node computes all three in two passes
// over X and gY (`BatchNormTraining.backward`, which recomputes Y from X), in place of about
// fifteen element-wise passes.
// `throughStatistics` adds what cotangents of the mean and var outputs themselves contribute to
// gX: gmean/n + gvar·2(X − mean)/n (ordinary ops; these arrive only when a gradient reads them).

import GraphIR
import Kernels

extension Pullbacks {
    /// Cotangents of (X, scale, bias) through Y; nil where not wanted.
    static func throughOutput(_ b: GradientBuilder, _ n: Node, x: ValueID, y: ValueID, mean: ValueID, variance: ValueID,
                              scale: ValueID, bias: ValueID, gy: ValueID, wants: (x: Bool, scale: Bool, bias: Bool))
        throws -> (x: ValueID?, scale: ValueID?, bias: ValueID?) {
        guard wants.x || wants.scale || wants.bias else { return (nil, nil, nil) }
        let eps = try n.attributes.float("epsilon", default: 1e-5)
        let act = try Activation(fusedAttributesOf: n)
        if !b.createGraph && BatchNormTraining.hasBackward(act) && !Baseline.expandTrainingBatchNorm {
            var attrs: [String: Attribute] = ["epsilon": .float(eps)]
            if let act { for (k, v) in act.fusedAttributes { attrs[k] = v } }
            let g = try b.emitNode(.batchNormTrainingGrad, [gy, x, mean, variance, scale, bias], outputs: 3,
                                   attributes: attrs, tag: "BatchNormTrainingGrad")
            return (wants.x ? g[0] : nil, wants.scale ? g[1] : nil, wants.bias ? g[2] : nil)
        }
        let xd = try b.fixed(x)
        let c = xd[1], count = xd[0] * xd[2...].reduce(1, *)
        let axes = [0] + Array(2..<xd.count)
        let cshape = [Dim.fixed(1), .fixed(c)] + Array(repeating: Dim.fixed(1), count: xd.count - 2)
        func perChannel(_ v: ValueID) throws -> ValueID { try b.reshape(v, to: cshape) }
        func channelSum(_ v: ValueID) throws -> ValueID { try b.reshape(b.reduceSum(v, axes: axes, keepdims: true), to: [.fixed(c)]) }
        func channelMean(_ v: ValueID) throws -> ValueID { try b.mul(b.reduceSum(v, axes: axes, keepdims: true), 1 / Float(count)) }

        // gP from the activation's own rule, on a node that reads only Y.
        var gp = gy
        if case .leakyRelu(let alpha)? = act, alpha < 0 {
            throw GraphError("\(n.op.rawValue) '\(n.name)': a fused LeakyRelu with a negative slope has no pullback (its output's sign is not its input's)")
        }
        if let act {
            guard let op = act.op, let rule = op.pullback else {
                throw GraphError("\(n.op.rawValue) '\(n.name)': no pullback for its fused activation \(act)")
            }
            let actNode = Node(op, name: n.name, inputs: [nil], outputs: [y], attributes: Attributes(act.opAttributes))
            gp = try rule(b, actNode, [gy], [true])[0]!
        }
        let std = try perChannel(b.emit(.sqrt, [b.add(variance, b.scalar(eps))]))
        let normalized = try b.div(b.sub(x, perChannel(mean)), std)
        let gbias = wants.bias ? try channelSum(gp) : nil
        let gscale = wants.scale ? try channelSum(b.mul(gp, normalized)) : nil
        var gx: ValueID?
        if wants.x {
            let gn = try b.mul(gp, perChannel(scale))
            let inner = try b.sub(b.sub(gn, channelMean(gn)), b.mul(normalized, channelMean(b.mul(gn, normalized))))
            gx = try b.div(inner, std)
        }
        return (gx, gscale, gbias)
    }

    /// gX's terms from cotangents of the mean and var outputs (nil when neither arrives).
    static func throughStatistics(_ b: GradientBuilder, x: ValueID, mean: ValueID, gmean: ValueID?, gvar: ValueID?) throws -> ValueID? {
        guard gmean != nil || gvar != nil else { return nil }
        let xd = try b.fixed(x)
        let c = xd[1], count = xd[0] * xd[2...].reduce(1, *)
        let cshape = [Dim.fixed(1), .fixed(c)] + Array(repeating: Dim.fixed(1), count: xd.count - 2)
        var g: ValueID?
        if let gm = gmean { g = try b.expand(b.mul(b.reshape(gm, to: cshape), 1 / Float(count)), to: xd.map { .fixed($0) }) }
        if let gv = gvar {
            let t = try b.mul(b.sub(x, b.reshape(mean, to: cshape)), b.mul(b.reshape(gv, to: cshape), 2 / Float(count)))
            g = try g.map { try b.add($0, t) } ?? t
        }
        return g
    }
}
