// Pullbacks: the one table of reverse-mode rules, op → rule.
//
// Contract: a rule receives the builder, the forward node, the cotangent of each output (nil
// when the loss does not depend on that output) and, per input, whether its gradient is
// wanted; it appends ordinary ops through the builder and returns one cotangent per input
// (nil where not wanted or identically zero), shaped like that input. Rules read forward
// values (inputs and outputs) freely, so every backward op is itself differentiable and a
// second `gradients` call yields second-order gradients. Ops without a rule (pooling, the
// epilogue-fused inference ops, training-mode BatchNormalization) are errors when they lie on a
// differentiated path; FusedConvTransposeBatchNorm, the training fusion, has its own rule.

import GraphIR

public typealias Pullback = (GradientBuilder, Node, [ValueID?], [Bool]) throws -> [ValueID?]

public enum Pullbacks {
    /// The rule of every differentiable op.
    public static let table: [Op: Pullback] = [
        .identity: { _, _, dy, _ in [dy[0]] },
        // Inference Dropout is the identity; training mode is expanded to Mul first (ExpandDropout).
        .dropout: { b, n, dy, _ in
            if try ExpandDropout.isTraining(n, graph: b.graph) {
                throw GraphError("training-mode Dropout '\(n.name)' must be expanded (ExpandDropout) before Autodiff")
            }
            return [dy[0]] + Array(repeating: nil, count: n.inputs.count - 1)
        },
        .neg: { b, _, dy, _ in [try b.neg(dy[0]!)] },
        .exp: { b, n, dy, _ in [try b.mul(dy[0]!, n.outputs[0])] },
        .log: { b, n, dy, _ in [try b.div(dy[0]!, n.inputs[0]!)] },
        .sqrt: { b, n, dy, _ in [try b.div(dy[0]!, b.mul(n.outputs[0], 2))] },
        .abs: { b, n, dy, _ in [try b.mul(dy[0]!, b.emit(.sign, [n.inputs[0]!]))] },
        .sign: { _, _, _, _ in [nil] },
        .sigmoid: { b, n, dy, _ in
            let y = n.outputs[0]
            return [try b.mul(b.mul(dy[0]!, y), b.sub(b.scalar(1), y))]
        },
        .tanh: { b, n, dy, _ in
            let y = n.outputs[0]
            return [try b.mul(dy[0]!, b.sub(b.scalar(1), b.mul(y, y)))]
        },
        .softplus: { b, n, dy, _ in [try b.mul(dy[0]!, b.emit(.sigmoid, [n.inputs[0]!]))] },
        .relu: { b, n, dy, _ in [try b.emit(.leakyReluGrad, [dy[0]!, n.outputs[0]], ["alpha": .float(0)])] },
        .leakyRelu: { b, n, dy, _ in
            let alpha = try n.attributes.float("alpha", default: 0.01)
            return [try b.emit(.leakyReluGrad, [dy[0]!, n.outputs[0]], ["alpha": .float(alpha)])]
        },
        // Linear in dY; piecewise constant in Y (zero gradient).
        .leakyReluGrad: { b, n, dy, wants in
            guard wants[0] else { return [nil, nil] }
            return [try b.emit(.leakyReluGrad, [dy[0]!, n.inputs[1]!], ["alpha": .float(try n.attributes.float("alpha", default: 0))]), nil]
        },
        .add: { b, n, dy, w in try binary(b, n, w, { $0 }, { $0 }, dy[0]!) },
        .sub: { b, n, dy, w in try binary(b, n, w, { $0 }, { try b.neg($0) }, dy[0]!) },
        .mul: { b, n, dy, w in
            try binary(b, n, w, { try b.mul($0, n.inputs[1]!) }, { try b.mul($0, n.inputs[0]!) }, dy[0]!)
        },
        .div: { b, n, dy, w in
            try binary(b, n, w, { try b.div($0, n.inputs[1]!) },
                       { try b.neg(b.div(b.mul($0, n.outputs[0]), n.inputs[1]!)) }, dy[0]!)
        },
        .pow: { b, n, dy, w in
            let a = n.inputs[0]!, e = n.inputs[1]!
            return try binary(b, n, w, { try b.mul($0, b.mul(e, b.emit(.pow, [a, b.sub(e, b.scalar(1))]))) },
                              { try b.mul($0, b.mul(n.outputs[0], b.emit(.log, [a]))) }, dy[0]!)
        },
        .reshape: { b, n, dy, w in [try b.reshape(dy[0]!, to: b.dims(n.inputs[0]!)), nil] },
        .flatten: { b, n, dy, _ in [try b.reshape(dy[0]!, to: b.dims(n.inputs[0]!))] },
        .squeeze: { b, n, dy, _ in [try b.reshape(dy[0]!, to: b.dims(n.inputs[0]!)), nil] },
        .unsqueeze: { b, n, dy, _ in [try b.reshape(dy[0]!, to: b.dims(n.inputs[0]!)), nil] },
        .transpose: { b, n, dy, _ in
            let r = try b.rank(n.inputs[0]!)
            let perm = try n.attributes.ints("perm") ?? Array((0..<r).reversed())
            var inverse = [Int](repeating: 0, count: r)
            for (i, p) in perm.enumerated() { inverse[p] = i }
            return [try b.transpose(dy[0]!, inverse)]
        },
        .expand: { b, n, dy, _ in [try b.unbroadcast(dy[0]!, to: b.dims(n.inputs[0]!)), nil] },
        .concat: concat,
        .slice: slice,
        .gather: { b, n, dy, w in
            let data = n.inputs[0]!
            let r = try b.rank(data)
            let axis = try ShapeRules.normalizeAxis(try n.attributes.int("axis", default: 0), r)
            guard let size = try b.dims(data)[axis].value else { throw GraphError("Gather axis \(axis) of the data must be static") }
            return [try b.emit(.gatherGrad, [dy[0]!, n.inputs[1]!], ["axis": .int(axis), "size": .int(size)]), nil]
        },
        .gatherGrad: { b, n, dy, w in
            guard w[0] else { return [nil, nil] }
            return [try b.emit(.gather, [dy[0]!, n.inputs[1]!], ["axis": .int(try n.attributes.int("axis", default: 0))]), nil]
        },
        .reduceSum: { b, n, dy, _ in [try reduce(b, n, dy[0]!, mean: false), nil] },
        .reduceMean: { b, n, dy, _ in [try reduce(b, n, dy[0]!, mean: true), nil] },
        .globalAveragePool: { b, n, dy, _ in
            let xd = try b.fixed(n.inputs[0]!)
            return [try b.mul(b.expand(dy[0]!, to: b.dims(n.inputs[0]!)), 1 / Float(xd[2...].reduce(1, *)))]
        },
        .softmax: { b, n, dy, _ in
            let y = n.outputs[0], g = dy[0]!
            let axis = try ShapeRules.normalizeAxis(try n.attributes.int("axis", default: -1), b.rank(y))
            let s = try b.reduceSum(b.mul(g, y), axes: [axis], keepdims: true)
            return [try b.mul(y, b.sub(g, s))]
        },
        .logSoftmax: { b, n, dy, _ in
            let y = n.outputs[0], g = dy[0]!
            let axis = try ShapeRules.normalizeAxis(try n.attributes.int("axis", default: -1), b.rank(y))
            let s = try b.reduceSum(g, axes: [axis], keepdims: true)
            return [try b.sub(g, b.mul(b.emit(.exp, [y]), s))]
        },
        .gemm: gemm,
        .matMul: matMul,
        .conv: conv,
        .convTranspose: convTranspose,
        .fusedConvTransposeBatchNorm: convTransposeBatchNorm,
        .batchNormalization: batchNorm,
    ]

    /// Add/Sub/Mul/Div/Pow: the cotangent through each side, summed back over broadcast axes.
    static func binary(_ b: GradientBuilder, _ n: Node, _ wants: [Bool], _ da: (ValueID) throws -> ValueID,
                       _ db: (ValueID) throws -> ValueID, _ dy: ValueID) throws -> [ValueID?] {
        [wants[0] ? try b.unbroadcast(da(dy), to: b.dims(n.inputs[0]!)) : nil,
         wants[1] ? try b.unbroadcast(db(dy), to: b.dims(n.inputs[1]!)) : nil]
    }

    static func reduce(_ b: GradientBuilder, _ n: Node, _ dy: ValueID, mean: Bool) throws -> ValueID {
        let x = n.inputs[0]!
        let xd = try b.dims(x)
        let axes = try ReduceRule.axes(n, xd.count, b.graph)
        var g = dy
        if try n.attributes.int("keepdims", default: 1) == 0 && !axes.isEmpty {
            g = try b.emit(.unsqueeze, [g, b.ints(axes)])
        }
        g = try b.expand(g, to: xd)
        if mean && !axes.isEmpty {
            var count = 1
            for a in axes {
                guard let v = xd[a].value else { throw GraphError("ReduceMean over symbolic dim \(xd[a])") }
                count *= v
            }
            g = try b.mul(g, 1 / Float(count))
        }
        return g
    }

    static func concat(_ b: GradientBuilder, _ n: Node, _ dy: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let r = try b.rank(n.outputs[0])
        let axis = try ShapeRules.normalizeAxis(try n.attributes.int("axis") ?? 0, r)
        var offset = 0
        var out: [ValueID?] = []
        for (k, v) in n.inputs.enumerated() {
            guard let size = try b.dims(v!)[axis].value else { throw GraphError("Concat along a symbolic dim") }
            out.append(wants[k] ? try b.slice(dy[0]!, starts: [offset], ends: [offset + size], axes: [axis]) : nil)
            offset += size
        }
        return out
    }

    /// Slice (step 1): pads the cotangent back with zeros by Concat along each sliced axis.
    static func slice(_ b: GradientBuilder, _ n: Node, _ dy: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let x = n.inputs[0]!
        let xt = try b.type(x)
        let rule = try SliceRule.resolve(n, xt, b.graph)
        var g = dy[0]!
        for d in 0..<xt.rank where rule.outShape[d] != xt.shape[d] {
            guard rule.steps[d] == 1 else { throw GraphError("Slice with step \(rule.steps[d]) has no gradient rule (step 1 only)") }
            guard let full = xt.shape[d].value, let got = rule.outShape[d].value else { throw GraphError("Slice along a symbolic dim") }
            let before = rule.starts[d], after = full - before - got
            var parts: [ValueID] = []
            var shape = try b.dims(g)
            if before > 0 { shape[d] = .fixed(before); parts.append(try b.zeros(shape)) }
            parts.append(g)
            if after > 0 { shape[d] = .fixed(after); parts.append(try b.zeros(shape)) }
            g = parts.count == 1 ? g : try b.emit(.concat, parts, ["axis": .int(d)])
        }
        return [g] + Array(repeating: nil, count: n.inputs.count - 1)
    }

    static func gemm(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let a = n.attributes
        let tA = try a.int("transA", default: 0) != 0, tB = try a.int("transB", default: 0) != 0
        let alpha = try a.float("alpha", default: 1), beta = try a.float("beta", default: 1)
        let dy = dys[0]!, A = n.inputs[0]!, B = n.inputs[1]!
        func gemm(_ x: ValueID, _ y: ValueID, _ ta: Bool, _ tb: Bool) throws -> ValueID {
            var attrs: [String: Attribute] = [:]
            if ta { attrs["transA"] = .int(1) }
            if tb { attrs["transB"] = .int(1) }
            if alpha != 1 { attrs["alpha"] = .float(alpha) }
            return try b.emit(.gemm, [x, y], attrs)
        }
        var out: [ValueID?] = [nil, nil, nil]
        if wants[0] { out[0] = tA ? try gemm(B, dy, tB, true) : try gemm(dy, B, false, !tB) }
        if wants[1] { out[1] = tB ? try gemm(dy, A, true, tA) : try gemm(A, dy, !tA, false) }
        if wants.count > 2 && wants[2], let c = n.input(2) {
            out[2] = try b.unbroadcast(b.mul(dy, beta), to: b.dims(c))
        }
        return Array(out.prefix(n.inputs.count))
    }

    static func matMul(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let A = n.inputs[0]!, B = n.inputs[1]!, dy = dys[0]!
        let ra = try b.rank(A), rb = try b.rank(B)
        guard ra >= 2, rb >= 2 else { throw GraphError("MatMul gradients need operands of rank >= 2") }
        func swapLast(_ v: ValueID) throws -> ValueID {
            let r = try b.rank(v)
            return try b.transpose(v, Array(0..<(r - 2)) + [r - 1, r - 2])
        }
        return [wants[0] ? try b.unbroadcast(b.emit(.matMul, [dy, swapLast(B)]), to: b.dims(A)) : nil,
                wants[1] ? try b.unbroadcast(b.emit(.matMul, [swapLast(A), dy]), to: b.dims(B)) : nil]
    }

    /// Attributes of a convolution-like node over explicit geometry.
    static func convAttributes(strides: [Int], dilations: [Int], pads: [Int], group: Int = 1) -> [String: Attribute] {
        var a: [String: Attribute] = ["strides": .ints(strides), "dilations": .ints(dilations), "pads": .ints(pads)]
        if group != 1 { a["group"] = .int(group) }
        return a
    }

    /// The weight gradient of a convolution as a convolution: Conv(data, filter) with strides and
    /// dilations swapped, begin pads kept and end pads reduced by `trim` (sliced when negative),
    /// cut to `kernel`, channel axes swapped. data/filter are (batch ↔ channel)-transposed.
    static func weightGrad(_ b: GradientBuilder, data: ValueID, filter: ValueID, geo: ConvGeometry,
                           trim: [Int], kernel: [Int]) throws -> ValueID {
        let r = kernel.count
        let perm = [1, 0] + Array(2..<(r + 2))
        let dt = try b.transpose(data, perm), ft = try b.transpose(filter, perm)
        let ends = (0..<r).map { max(0, geo.padEnd[$0] - trim[$0]) }
        var c = try b.emit(.conv, [dt, ft], convAttributes(strides: geo.dilations, dilations: geo.strides, pads: geo.padBegin + ends),
                           tag: "ConvWeightGrad")
        let got = try b.fixed(c)
        if Array(got[2...]) != kernel {
            guard zip(got[2...], kernel).allSatisfy({ $0 >= $1 }) else { throw GraphError("internal: weight gradient is \(got), kernel \(kernel)") }
            c = try b.slice(c, starts: Array(repeating: 0, count: r), ends: kernel, axes: Array(2..<(r + 2)))
        }
        return try b.transpose(c, perm)
    }

    static func biasGrad(_ b: GradientBuilder, _ dy: ValueID) throws -> ValueID {
        let r = try b.rank(dy)
        return try b.reduceSum(dy, axes: [0] + Array(2..<r), keepdims: false)
    }

    static func conv(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let x = n.inputs[0]!, w = n.inputs[1]!, dy = dys[0]!
        let xd = try b.dims(x), wd = try b.fixed(w)
        let spatial = try xd[2...].map { d -> Int in
            guard let v = d.value else { throw GraphError("Conv gradients need static spatial dims") }
            return v
        }
        let geo = try ConvGeometry.conv(n, input: spatial, weightKernel: Array(wd[2...]))
        let r = spatial.count
        // Rows of the padded input that the strided windows never reach.
        var rest: [Int] = []
        for i in 0..<r {
            let span: Int = spatial[i] + geo.pads[i] + geo.pads[i + r]
            let eff: Int = (geo.kernel[i] - 1) * geo.dilations[i] + 1
            rest.append((span - eff) % geo.strides[i])
        }
        var out: [ValueID?] = Array(repeating: nil, count: n.inputs.count)
        if wants[0] {
            var attrs = convAttributes(strides: geo.strides, dilations: geo.dilations, pads: geo.pads, group: geo.group)
            if rest.contains(where: { $0 != 0 }) { attrs["output_padding"] = .ints(rest) }
            out[0] = try b.emit(.convTranspose, [dy, w], attrs, tag: "ConvInputGrad")
        }
        if wants[1] {
            guard geo.group == 1 else { throw GraphError("Conv weight gradients support group 1 only, got group \(geo.group)") }
            out[1] = try weightGrad(b, data: x, filter: dy, geo: geo, trim: rest, kernel: geo.kernel)
        }
        if wants.count > 2 && wants[2] { out[2] = try biasGrad(b, dy) }
        return out
    }

    static func convTranspose(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let x = n.inputs[0]!, w = n.inputs[1]!, dy = dys[0]!
        let xd = try b.dims(x), wd = try b.fixed(w)
        let spatial = try xd[2...].map { d -> Int in
            guard let v = d.value else { throw GraphError("ConvTranspose gradients need static spatial dims") }
            return v
        }
        let geo = try ConvGeometry.convTranspose(n, input: spatial, weightKernel: Array(wd[2...]))
        let r = spatial.count
        var out: [ValueID?] = Array(repeating: nil, count: n.inputs.count)
        if wants[0] {
            // Conv(dY, W) has H + ⌊op/s⌋ rows with the forward pads; drop whole extra strides from the end pad.
            var pads = geo.pads
            for i in 0..<r {
                pads[i + r] -= (geo.outputPadding[i] / geo.strides[i]) * geo.strides[i]
                guard pads[i + r] >= 0 else { throw GraphError("ConvTranspose output_padding \(geo.outputPadding) >= stride is not differentiable here") }
            }
            out[0] = try b.emit(.conv, [dy, w], convAttributes(strides: geo.strides, dilations: geo.dilations, pads: pads, group: geo.group),
                                tag: "ConvTransposeInputGrad")
        }
        if wants[1] {
            guard geo.group == 1 else { throw GraphError("ConvTranspose weight gradients support group 1 only, got group \(geo.group)") }
            out[1] = try weightGrad(b, data: dy, filter: x, geo: geo, trim: geo.outputPadding, kernel: geo.kernel)
        }
        if wants.count > 2 && wants[2] { out[2] = try biasGrad(b, dy) }
        return out
    }

    /// Inference BatchNormalization: Y = (X − mean)·scale/√(var + eps) + B per channel.
    static func batchNorm(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        guard try n.attributes.int("training_mode", default: 0) == 0, n.outputs.count == 1 else {
            throw GraphError("training-mode BatchNormalization has no pullback; run ExpandTrainingBatchNorm first")
        }
        let x = n.inputs[0]!, scale = n.inputs[1]!, mean = n.inputs[3]!, variance = n.inputs[4]!, dy = dys[0]!
        let eps = try n.attributes.float("epsilon", default: 1e-5)
        let xd = try b.dims(x)
        guard let c = xd[1].value else { throw GraphError("BatchNormalization gradients need a static channel count") }
        let bshape = [Dim.fixed(1), .fixed(c)] + Array(repeating: Dim.fixed(1), count: xd.count - 2)
        func perChannel(_ v: ValueID) throws -> ValueID { try b.reshape(v, to: bshape) }
        let axes = [0] + Array(2..<xd.count)
        let inv = try b.div(b.scalar(1), b.emit(.sqrt, [b.add(variance, b.scalar(eps))]))   // [C]
        var out: [ValueID?] = [nil, nil, nil, nil, nil]
        if wants[0] { out[0] = try b.mul(dy, perChannel(b.mul(scale, inv))) }
        let needCentered = wants[1] || wants[4]
        let centered = needCentered ? try b.mul(dy, b.sub(x, perChannel(mean))) : nil   // dY·(X − mean)
        if wants[1] { out[1] = try b.mul(b.reduceSum(centered!, axes: axes, keepdims: false), inv) }
        if wants[2] || wants[3] {
            let sum = try b.reduceSum(dy, axes: axes, keepdims: false)
            if wants[2] { out[2] = sum }
            if wants[3] { out[3] = try b.neg(b.mul(sum, b.mul(scale, inv))) }
        }
        if wants[4] {
            // d/dvar of (var + eps)^(−1/2) = −½·inv³.
            let inv3 = try b.mul(inv, b.mul(inv, inv))
            out[4] = try b.mul(b.mul(b.reduceSum(centered!, axes: axes, keepdims: false), scale), b.mul(inv3, -0.5))
        }
        return out
    }
}
