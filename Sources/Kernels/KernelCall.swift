// KernelCall: one kernel invocation over buffers, with every parameter resolved — the
// instruction set that lowering targets and the interpreter (Runtime) binds to pointers.
//
// Contract: a case names a kernel of this module and carries the plan structs it needs (shapes,
// strides, epilogues, optimizer settings); operands are positional (inputs, then outputs, then
// an optional scratch buffer of `scratchFloats` floats) and described at each case. It holds
// no pointers and knows no graph. `description` is the one-line form `gannet print` shows. A new
// kernel is a case here, its description, and its binding in Runtime's Program+Bind.

/// One kernel call: what to run, with all parameters resolved at compile time.
public enum KernelCall: CustomStringConvertible {
    /// Y = alpha·op(A)·op(B) + beta·Y, then the epilogue (bias operand when present); repeated
    /// over `batches` element offsets (A, B, Y) for batched MatMul.
    case gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
              lda: Int, ldb: Int, epilogue: [EpilogueOp], batches: [(Int, Int, Int)], fillC: BroadcastPlan?)
    case conv(Conv2DShape, epilogue: [EpilogueOp])
    /// A depthwise convolution over channels-last data: x (N, H, W, C), weight (C, 1, kH, kW),
    /// bias?, y (N, outH, outW, C) (`Conv2D.depthwiseChannelsLast`; `s` is the NCHW geometry).
    case convChannelsLast(Conv2DShape, epilogue: [EpilogueOp])
    case convTranspose(Conv2DShape, epilogue: [EpilogueOp])
    /// FusedConvTransposeBatchNorm: inputs (x, w, bias?, scale, beta), outputs (y, z, mean, var).
    case convTransposeBatchNorm(Conv2DShape, epsilon: Float, activation: Activation?)
    case batchNorm(batch: Int, channels: Int, spatial: Int, epsilon: Float, activation: Activation?)
    /// BatchNormTraining: inputs (x, scale, bias), outputs (y, mean, var) (`BatchNormTraining.forward`).
    case batchNormTraining(batch: Int, channels: Int, spatial: Int, epsilon: Float, activation: Activation?)
    /// BatchNormTrainingGrad: inputs (dy, x, mean, var, scale, bias), outputs (dx, dscale, dbias)
    /// (`BatchNormTraining.backward`).
    case batchNormTrainingGrad(batch: Int, channels: Int, spatial: Int, epsilon: Float, activation: Activation?)
    case unary(UnaryOp, count: Int)
    case binary(BinaryOp, BroadcastPlan)
    case expand(BroadcastPlan)
    case copy(bytes: Int)
    case transpose(TransposePlan)
    case concat(axisSizes: [Int], outer: Int, inner: Int)
    case gather(outer: Int, axisSize: Int, inner: Int, indexCount: Int)
    case slice(SlicePlan)
    case reduce(ReduceKind, ReducePlan)
    case softmax(outer: Int, axis: Int, inner: Int, log: Bool)
    /// FusedAttention: inputs (A, B, V), output O, scratch (`Attention.run`).
    case attention(Attention.Plan)
    case pool(Pool2DShape, max: Bool)
    case globalAveragePool(planes: Int, size: Int)
    /// Local response normalisation across channels (X → Y, same shape).
    case lrn(LRNShape)
    /// Y = X rounded to binary16 and back (Cast to FLOAT16), `count` floats.
    case roundToHalf(count: Int)
    /// Y = X converted from the runtime's Int64 integer storage to float32 (Cast of int32, int64
    /// or bool data to FLOAT/DOUBLE, or to FLOAT16 with `half`), `count` elements.
    case intToFloat(count: Int, half: Bool)
    /// Y = X converted to an integer type held as Int64 (Cast to INT64/INT32/BOOL), `count`
    /// elements: from float32 (`IntegerCast.toInteger`) or, with `fromInteger`, from the
    /// runtime's Int64 integers (`IntegerCast.narrow`).
    case toInteger(count: Int, IntegerTarget, fromInteger: Bool)
    /// Instance/Layer/Group normalisation: inputs (x, scale, bias?), outputs (y[, mean, invStd]).
    case normalize(Normalize.Plan)
    /// Resize / Pad: the separable per-axis gather with linear blending; input x, output y.
    case resample(Resample.Plan)
    /// Pad of integer data (the runtime's Int64): the plan's gather, `outside` for the constant.
    case padIntegers(Resample.Plan, outside: Int64)
    /// Sign (−1, 0, 1) of each element.
    case sign(count: Int)
    /// Y (Int64 0/1) = op(A, B) with broadcasting; A, B float32, or Int64 when `integer`.
    case compare(CompareOp, BroadcastPlan, integer: Bool)
    /// Y = ¬X over Int64 truth values, `count` elements.
    case not(count: Int)
    /// Y = C ? X : Y' (inputs C Int64, X, Y'; float32 elements, or Int64 when `integer`).
    case `where`(WherePlan, integer: Bool)
    /// Input 0 cut into outputs along an axis (outer × sizes[k] × inner blocks of `elementBytes`-wide elements).
    case split(sizes: [Int], outer: Int, inner: Int, elementBytes: Int)
    /// Y (Int64, outer × inner) = arg max (arg min when !max) of X (outer × axis × inner) along the axis.
    case argExtremum(outer: Int, axis: Int, inner: Int, max: Bool, selectLast: Bool)
    /// dY where Y > 0 else alpha·dY; inputs (dY, Y).
    case leakyReluGrad(alpha: Float, count: Int)
    /// dY where Y > 0 else dY·(Y + alpha); inputs (dY, Y).
    case eluGrad(alpha: Float, count: Int)
    /// Scatter-add of dY rows into a zeroed outer × axisSize × inner output; inputs (dY, indices).
    case gatherGrad(outer: Int, axisSize: Int, inner: Int, indexCount: Int)
    /// Copies `count` floats and reduces them over the ranks through the program's collective
    /// hook (`sum`: plain sum, else the share-weighted mean); a copy without a hook.
    case allReduce(count: Int, sum: Bool)
    /// In-place optimizer updates of a state parameter from a gradient (inputs: grad; outputs:
    /// param and its optimizer state); the step counter lives in the store.
    case adam(AdamConfig, count: Int, counter: String)
    case sgd(SGDConfig, count: Int, counter: String)
    case rmsprop(RMSpropConfig, count: Int)

    public var description: String {
        switch self {
        case let .gemm(tA, tB, m, n, k, alpha, beta, _, _, epi, batches, _):
            var s = "gemm m=\(m) n=\(n) k=\(k)"
            if tA { s += " transA" }
            if tB { s += " transB" }
            if alpha != 1 { s += " alpha=\(alpha)" }
            if beta != 0 { s += " beta=\(beta)" }
            if batches.count > 1 { s += " batches=\(batches.count)" }
            if !epi.isEmpty { s += " epilogue=[\(epi.map(\.description).joined(separator: ", "))]" }
            return s
        case let .conv(c, epi), let .convTranspose(c, epi):
            var s = (self.isConv ? "conv2d" : "convTranspose2d")
            s += " n=\(c.batch) \(c.inChannels)x\(c.inHeight)x\(c.inWidth)->\(c.outChannels)x\(c.outHeight)x\(c.outWidth)"
            s += " k=\(c.kernelH)x\(c.kernelW) s=\(c.strideH)x\(c.strideW) p=\(c.padTop),\(c.padLeft)"
            if c.dilationH != 1 || c.dilationW != 1 { s += " d=\(c.dilationH)x\(c.dilationW)" }
            if c.group != 1 { s += " g=\(c.group)" }
            if c.outImageStride > 0 { s += " ystride=\(c.outImageStride)" }
            if !epi.isEmpty { s += " epilogue=[\(epi.map(\.description).joined(separator: ", "))]" }
            return s
        case let .convChannelsLast(c, epi):
            return "conv2dNHWC" + KernelCall.conv(c, epilogue: epi).description.dropFirst("conv2d".count)
        case let .convTransposeBatchNorm(c, eps, act):
            return "convTransposeBatchNorm(training) " + KernelCall.convTranspose(c, epilogue: []).description.dropFirst("convTranspose2d ".count)
                + " eps=\(eps)" + (act.map { " then \($0)" } ?? "")
        case let .batchNorm(b, c, sp, eps, act):
            return "batchNorm n=\(b) c=\(c) spatial=\(sp) eps=\(eps)" + (act.map { " then \($0)" } ?? "")
        case let .batchNormTraining(b, c, sp, eps, act):
            return "batchNormTraining n=\(b) c=\(c) spatial=\(sp) eps=\(eps)" + (act.map { " then \($0)" } ?? "")
        case let .batchNormTrainingGrad(b, c, sp, eps, act):
            return "batchNormTrainingGrad n=\(b) c=\(c) spatial=\(sp) eps=\(eps)" + (act.map { " after \($0)" } ?? "")
        case let .unary(op, n): return "\(op) count=\(n)"
        case let .binary(op, plan): return "\(op) \(plan)"
        case let .expand(plan): return "expand \(plan)"
        case let .copy(bytes): return "copy bytes=\(bytes)"
        case let .transpose(plan): return "transpose \(plan)"
        case let .concat(sizes, outer, inner): return "concat sizes=\(sizes) outer=\(outer) inner=\(inner)"
        case let .gather(outer, axis, inner, count): return "gather outer=\(outer) axis=\(axis) inner=\(inner) indices=\(count)"
        case let .slice(plan): return "slice \(plan)"
        case let .reduce(kind, plan): return "reduce\(kind.rawValue.prefix(1).uppercased() + kind.rawValue.dropFirst()) \(plan)"
        case let .attention(plan): return "attention \(plan)"
        case let .softmax(o, a, i, log): return "\(log ? "logSoftmax" : "softmax") outer=\(o) axis=\(a) inner=\(i)"
        case let .pool(p, isMax):
            return "\(isMax ? "maxPool" : "averagePool") n=\(p.batch) c=\(p.channels) \(p.inH)x\(p.inW)->\(p.outH)x\(p.outW) k=\(p.kernelH)x\(p.kernelW) s=\(p.strideH)x\(p.strideW)"
        case let .globalAveragePool(planes, size): return "globalAveragePool planes=\(planes) size=\(size)"
        case let .lrn(shape): return "lrn \(shape)"
        case let .roundToHalf(count): return "roundToHalf count=\(count)"
        case let .intToFloat(count, half): return "intToFloat\(half ? "(half)" : "") count=\(count)"
        case let .toInteger(count, t, fromInteger): return "\(fromInteger ? "intTo" : "floatTo")\(t.rawValue) count=\(count)"
        case let .normalize(plan): return "normalize \(plan)"
        case let .resample(plan): return "resample \(plan)"
        case let .padIntegers(plan, outside): return "padIntegers \(plan)" + (outside != 0 ? " outside=\(outside)" : "")
        case let .sign(n): return "sign count=\(n)"
        case let .compare(op, plan, integer): return "\(op.rawValue)\(integer ? "(i64)" : "") \(plan)"
        case let .not(n): return "not count=\(n)"
        case let .where(plan, integer): return "\(plan)\(integer ? " i64" : "")"
        case let .split(sizes, outer, inner, bytes): return "split sizes=\(sizes) outer=\(outer) inner=\(inner) bytes=\(bytes)"
        case let .argExtremum(outer, axis, inner, isMax, last):
            return "\(isMax ? "argMax" : "argMin") outer=\(outer) axis=\(axis) inner=\(inner)\(last ? " selectLast" : "")"
        case let .leakyReluGrad(alpha, n): return "leakyReluGrad(\(alpha)) count=\(n)"
        case let .eluGrad(alpha, n): return "eluGrad(\(alpha)) count=\(n)"
        case let .allReduce(count, sum): return "allReduce\(sum ? "Sum" : "Mean") count=\(count)"
        case let .gatherGrad(outer, axis, inner, count): return "gatherGrad outer=\(outer) axis=\(axis) inner=\(inner) indices=\(count)"
        case let .adam(c, count, _): return "adam lr=\(c.lr) betas=(\(c.beta1), \(c.beta2)) eps=\(c.eps) wd=\(c.weightDecay) count=\(count)"
        case let .sgd(c, count, _): return "sgd lr=\(c.lr) momentum=\(c.momentum) count=\(count)"
        case let .rmsprop(c, count): return "rmsprop lr=\(c.lr) alpha=\(c.alpha) count=\(count)"
        }
    }

    public var isConv: Bool { if case .conv = self { return true }; return false }

    /// Scratch floats the kernel needs.
    public func scratchFloats(threads: Int) -> Int {
        switch self {
        case .conv(let s, _): return Conv2D.scratchCount(s, threads: threads)
        case .convChannelsLast(let s, _): return Conv2D.channelsLastWeightCount(s)
        case .convTranspose(let s, _): return ConvTranspose2D.scratchCount(s, threads: threads)
        case .convTransposeBatchNorm(let s, _, _): return ConvTransposeBatchNorm.scratchCount(s, threads: threads)
        case let .batchNormTraining(n, c, _, _, _), let .batchNormTrainingGrad(n, c, _, _, _):
            return BatchNormTraining.scratchCount(batch: n, channels: c)
        case let .attention(plan): return plan.scratchFloats
        default: return 0
        }
    }
}
