// Conv: Conv and ConvTranspose over NCHW (1-D and 2-D), with groups, dilations and pads.
//
// Contract: geometry (kernel, strides, pads, dilations, group, output size) comes from
// `ConvGeometry`; X's channels must match W (Conv: C_in = W[1]·group; ConvTranspose:
// C_in = W[0], C_out = W[1]·group) and B is [C_out]. The reference evaluation is 2-D only; the
// lowering treats 1-D as 2-D with height 1, the bias as a per-channel epilogue. Pullbacks are
// convolutions again: Conv's input gradient is a ConvTranspose of dY, ConvTranspose's a Conv,
// and weight gradients a Conv of (batch ↔ channel)-transposed data and cotangent (group 1 only).
// `channels_last` (Gannet-internal, set by ChannelsLastIslands on lowering copies; the ONNX
// importer refuses it and the exporter will not write it, `Op.internalAttributes`): a 2-D Conv
// whose X and Y are (N, H, W, C) — the same convolution with its data axes permuted; W and B
// keep their layouts. It lowers a 1×1 stride-1 group-1 Conv to one GEMM
// (pixels × C_in times Wᵀ) and a depthwise Conv to `Conv2D.depthwiseChannelsLast`; it has no
// pullback.

import GraphIR
import Kernels

public enum ConvOps: OperatorFamily {
    /// The Gannet-internal attribute of a channels-last Conv (see the file header).
    public static let channelsLastAttribute = "channels_last"
    /// NCHW → NHWC and back.
    public static let toChannelsLast = [0, 2, 3, 1], toChannelsFirst = [0, 3, 1, 2]

    /// Whether `node` (Conv or FusedConv) reads and writes channels-last data.
    public static func isChannelsLast(_ node: Node) throws -> Bool {
        try node.attributes.int(channelsLastAttribute, default: 0) != 0
    }

    /// Whether a channels-last Conv of this geometry lowers to one GEMM (1×1, stride 1, no pads, group 1).
    public static func isPointwiseGemm(_ s: Conv2DShape) -> Bool {
        s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 && s.padTop == 0 && s.padLeft == 0
            && s.group == 1 && s.inHeight == s.outHeight && s.inWidth == s.outWidth
    }

    /// `node` without `channels_last`.
    static func channelsFirstNode(_ node: Node) -> Node {
        var n = node
        n.attributes[channelsLastAttribute] = nil
        return n
    }

    static func geometry(_ node: Node, _ spatial: [Int], _ weightKernel: [Int]) throws -> ConvGeometry {
        switch node.op.baseOp {
        case .conv: return try ConvGeometry.conv(node, input: spatial, weightKernel: weightKernel)
        case .convTranspose: return try ConvGeometry.convTranspose(node, input: spatial, weightKernel: weightKernel)
        default: throw notInFamily(node.op)
        }
    }

    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        if try isChannelsLast(node) {
            guard node.op.baseOp == .conv, let x = ts[0], x.rank == 4 else { throw GraphError("channels_last needs a 2-D Conv") }
            var first = ts
            first[0] = TensorType(x.dtype, toChannelsFirst.map { x.shape[$0] })
            let y = try outputTypes(channelsFirstNode(node), first, g)[0]
            return [TensorType(y.dtype, toChannelsLast.map { y.shape[$0] })]
        }
        let x = ts[0]!, w = ts[1]!
        guard x.rank >= 3, w.rank == x.rank else { throw GraphError("X \(x) and W \(w) must have equal rank >= 3") }
        let spatial = try ShapeRules.fixed(TensorType(x.dtype, Array(x.shape[2...])), "spatial dims")
        let ws = try ShapeRules.fixed(w, "W")
        let geo = try geometry(node, spatial, Array(ws[2...]))
        let channels: Dim
        if node.op == .conv {
            if let c = x.shape[1].value, c != (try Limits.multiply(ws[1], geo.group, "input channels")) {
                throw GraphError("X has \(c) channels, W expects \(ws[1]) × group \(geo.group)")
            }
            guard ws[0] % geo.group == 0 else { throw GraphError("W's \(ws[0]) output channels do not divide by group \(geo.group)") }
            channels = .fixed(ws[0])
        } else {
            if let c = x.shape[1].value, c != ws[0] {
                throw GraphError("X has \(c) channels, W expects \(ws[0])")
            }
            channels = .fixed(try Limits.multiply(ws[1], geo.group, "output channels"))
        }
        if let b = ts.count > 2 ? ts[2] : nil, b.shape != [channels] {
            throw GraphError("bias \(b) must be [\(channels)]")
        }
        return [TensorType(.float32, [x.shape[0], channels] + geo.output.map { .fixed($0) })]
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        if try isChannelsLast(node) {
            var first = x
            first[0] = DataMovementOps.permuted(x[0]!, toChannelsFirst)
            let t = outTypes[0]
            let y = try evaluate(channelsFirstNode(node), first, [TensorType(t.dtype, toChannelsFirst.map { t.shape[$0] })], g)[0]
            return [DataMovementOps.permuted(y, toChannelsLast)]
        }
        let outShape = outTypes[0].fixedShape ?? []
        var y = [Float](repeating: 0, count: outShape.reduce(1, *))
        let xs = x[0]!.shape, ws = x[1]!.shape
        guard xs.count == 4 else { throw GraphError("reference convolution supports 2-D only, got \(xs)") }
        let transposed = node.op.baseOp == .convTranspose
        let geo = try geometry(node, Array(xs[2...]), Array(ws[2...]))
        let s = Conv2DShape(batch: xs[0], inChannels: xs[1], inHeight: xs[2], inWidth: xs[3],
                            outChannels: outShape[1], outHeight: outShape[2], outWidth: outShape[3],
                            kernelH: geo.kernel[0], kernelW: geo.kernel[1], strideH: geo.strides[0], strideW: geo.strides[1],
                            padTop: geo.pads[0], padLeft: geo.pads[1], dilationH: geo.dilations[0], dilationW: geo.dilations[1],
                            group: geo.group)
        let bias = x.count > 2 ? x[2]?.floats : nil
        let epi: [EpilogueOp] = bias != nil ? [.bias(perRow: true)] : []
        let xf = x[0]!.floats, wf = x[1]!.floats
        (bias ?? [0]).withUnsafeBufferPointer { bp in
            let b = bias == nil ? nil : bp.baseAddress
            if transposed {
                ConvTranspose2D.reference(s, x: xf, weight: wf, bias: b, y: &y, epilogue: epi)
            } else {
                Conv2D.reference(s, x: xf, weight: wf, bias: b, y: &y, epilogue: epi)
            }
        }
        return [Tensor(shape: outShape, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let (x, y) = try ctx.kernelShapes(node)
        if try isChannelsLast(node) {
            guard node.op.baseOp == .conv, x.count == 4 else { throw GraphError("channels_last needs a 2-D Conv") }
            let s = try kernelShape(node, ctx, toChannelsFirst.map { x[$0] }, toChannelsFirst.map { y[$0] })
            let epi: [EpilogueOp] = node.input(2) != nil ? [.bias(perRow: false)] : []
            if isPointwiseGemm(s) {
                // (N·H·W × C_in) · Wᵀ: W (C_out, C_in, 1, 1) is op(B) = Wᵀ read transposed.
                return .kernel(.gemm(transA: false, transB: true, m: s.batch * s.inHeight * s.inWidth, n: s.outChannels,
                                     k: s.inChannels, alpha: 1, beta: 0, lda: s.inChannels, ldb: s.inChannels, epilogue: epi,
                                     batches: [(0, 0, 0)], fillC: nil))
            }
            guard Conv2D.isChannelsLastDepthwise(s) else {
                throw GraphError("channels_last supports 1×1 stride-1 and depthwise convolutions, got \(s)")
            }
            return .kernel(.convChannelsLast(s, epilogue: epi))
        }
        let s = try kernelShape(node, ctx, x, y)
        let epi: [EpilogueOp] = node.input(2) != nil ? [.bias(perRow: true)] : []
        return .kernel(node.op == .conv ? .conv(s, epilogue: epi) : .convTranspose(s, epilogue: epi))
    }

    /// The kernel's geometry; 1-D convolutions become 2-D with height 1.
    static func kernelShape(_ node: Node, _ ctx: LoweringContext, _ x: [Int], _ y: [Int]) throws -> Conv2DShape {
        let w = try ctx.shape(node.inputs[1]!)
        guard x.count == 4 || x.count == 3 else { throw GraphError("only 1-D and 2-D convolutions are supported, got input \(x)") }
        let geo = try geometry(node, Array(x[2...]), Array(w[2...]))
        let two = x.count == 4
        return Conv2DShape(batch: x[0], inChannels: x[1], inHeight: two ? x[2] : 1, inWidth: two ? x[3] : x[2],
                           outChannels: y[1], outHeight: two ? y[2] : 1, outWidth: two ? y[3] : y[2],
                           kernelH: two ? geo.kernel[0] : 1, kernelW: geo.kernel[two ? 1 : 0],
                           strideH: two ? geo.strides[0] : 1, strideW: geo.strides[two ? 1 : 0],
                           padTop: two ? geo.pads[0] : 0, padLeft: geo.pads[two ? 1 : 0],
                           dilationH: two ? geo.dilations[0] : 1, dilationW: geo.dilations[two ? 1 : 0],
                           group: geo.group)
    }

    /// Each image on its own, with weights and bias that are not data.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        batchedBeyondFirst(batched)
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .conv: return convPullback
        case .convTranspose: return convTransposePullback
        default: return nil
        }
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

    /// The spatial dims of a convolution input, which its gradients need static.
    static func staticSpatial(_ dims: [Dim], _ what: String) throws -> [Int] {
        try dims[2...].map { d -> Int in
            guard let v = d.value else { throw GraphError("\(what) gradients need static spatial dims") }
            return v
        }
    }

    static func convPullback(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let x = n.inputs[0]!, w = n.inputs[1]!, dy = dys[0]!
        let xd = try b.dims(x), wd = try b.fixed(w)
        let spatial = try staticSpatial(xd, "Conv")
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

    static func convTransposePullback(_ b: GradientBuilder, _ n: Node, _ dys: [ValueID?], _ wants: [Bool]) throws -> [ValueID?] {
        let x = n.inputs[0]!, w = n.inputs[1]!, dy = dys[0]!
        let xd = try b.dims(x), wd = try b.fixed(w)
        let spatial = try staticSpatial(xd, "ConvTranspose")
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
}
