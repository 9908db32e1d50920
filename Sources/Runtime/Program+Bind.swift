// Program+Bind: the interpreter — each KernelCall bound to its kernel over fixed pointers.
//
// Contract: `bind` resolves every operand location to an address once and returns a closure
// that calls the kernel with those pointers and the call's parameters; it runs when the
// Program is made, so a step does no allocation, lookup or shape logic. Constant convolution
// weights and constant GEMM B operands are packed for the GEMM here, once
// (`Instruction.prepackedWeightFloats`). Kernels that need no
// scratch get the arena base (never written). A new KernelCall case is bound here.

import GraphIR
import Kernels

extension Program {
    /// `packed`: where this instruction's constant weights are packed now, once
    /// (`ins.prepackedWeightFloats` floats), or nil to pack them on every run; `packNow` false
    /// when they are packed there already (a copy sharing its original's, `init(copying:)`).
    func bind(_ ins: Instruction, packed: UnsafeMutablePointer<Float>? = nil, packNow: Bool = true) -> () throws -> Void {
        let pool = self.pool
        let x = ins.inputs.map { $0.map { address($0) } }
        let y = ins.outputs.map { address($0) }
        func fin(_ i: Int) -> UnsafeMutablePointer<Float> { x[i]!.assumingMemoryBound(to: Float.self) }
        /// Optional float input i (a bias): nil when absent or beyond the instruction's inputs.
        func optionalIn(_ i: Int) -> UnsafePointer<Float>? {
            i < x.count ? x[i].map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) } : nil
        }
        /// The common (x, weight or scale, optional bias) operands of conv, Gemm and normalisation.
        func operandsWithBias() -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafePointer<Float>?) {
            (fin(0), fin(1), optionalIn(2))
        }
        func fout(_ i: Int) -> UnsafeMutablePointer<Float> { y[i].assumingMemoryBound(to: Float.self) }
        /// Optional float output i (statistics a kernel may also write): nil when not requested.
        func optionalOut(_ i: Int) -> UnsafeMutablePointer<Float>? { i < y.count ? fout(i) : nil }
        let out = fout(0)
        // Kernels that need no scratch get the arena base (never written).
        let scratch = ins.scratch.map { f($0) } ?? arena.assumingMemoryBound(to: Float.self)
        switch ins.call {
        case let .gemm(tA, tB, m, n, k, alpha, beta, lda, ldb, epi, batches, fill):
            let (a, b, bias) = operandsWithBias()
            // A constant B (`Instruction.prepackedWeightFloats`) is packed here, once.
            if let packed, packNow { Gemm.packB(transB: tB, k: k, n: n, b: b, ldb: ldb, into: packed, pool: pool) }
            let pb = packed.map { UnsafePointer($0) }
            func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                      _ bias: UnsafePointer<Float>?, _ epi: [EpilogueOp]) {
                if let pb {
                    Gemm.sgemmPackedB(transA: tA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, packedB: pb, transB: tB,
                                      b: b, ldb: ldb, beta: beta, c: c, ldc: n, bias: bias, epilogue: epi, pool: pool)
                } else {
                    Gemm.sgemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                               b: b, ldb: ldb, beta: beta, c: c, ldc: n, bias: bias, epilogue: epi, pool: pool)
                }
            }
            if let fill, let c = bias {  // C broadcast into the output first, then beta·C + A·B
                return {
                    Expand.run(fill, c, out, pool: pool)
                    gemm(a, b, out, nil, [])
                }
            }
            return {
                for (ao, bo, yo) in batches { gemm(a + ao, b + bo, out + yo, bias, epi) }
            }
        case let .conv(shape, epi):
            let (xp, w, bias) = operandsWithBias()
            if let packed, packNow { Conv2D.packWeights(shape, weight: w, into: packed, pool: pool) }
            let pw = packed.map { UnsafePointer($0) }
            return {
                Conv2D.forward(shape, x: xp, weight: w, bias: bias, y: out, epilogue: epi, scratch: scratch, pool: pool,
                               packedWeights: pw)
            }
        case let .convChannelsLast(shape, epi):
            let (xp, w, bias) = operandsWithBias()
            if let packed, packNow { Conv2D.packChannelsLastWeights(shape, weight: w, into: packed) }
            let pw = packed.map { UnsafePointer($0) }
            return {
                Conv2D.depthwiseChannelsLast(shape, x: xp, weight: w, bias: bias, y: out, epilogue: epi, packedWeights: pw,
                                             scratch: scratch, pool: pool)
            }
        case let .convTranspose(shape, epi):
            let (xp, w, bias) = operandsWithBias()
            if let packed, packNow { ConvTranspose2D.packWeights(shape, weight: w, into: packed, pool: pool) }
            let pw = packed.map { UnsafePointer($0) }
            return {
                ConvTranspose2D.forward(shape, x: xp, weight: w, bias: bias, y: out, epilogue: epi, scratch: scratch,
                                        pool: pool, packedWeights: pw)
            }
        case let .convTransposeBatchNorm(shape, eps, act):
            let xp = fin(0), w = fin(1), sc = fin(3), be = fin(4)
            let bias = optionalIn(2), z = fout(1), mean = fout(2), variance = fout(3)
            return {
                ConvTransposeBatchNorm.forward(shape, x: xp, weight: w, bias: bias, scale: sc, beta: be, epsilon: eps, activation: act,
                                               y: out, z: z, mean: mean, variance: variance, scratch: scratch, pool: pool)
            }
        case let .batchNorm(n, c, sp, eps, act):
            let xp = fin(0), sc = fin(1), bi = fin(2), mean = fin(3), variance = fin(4)
            return {
                BatchNormInference.run(xp, out, scale: sc, bias: bi, mean: mean, variance: variance, epsilon: eps,
                                       batch: n, channels: c, spatial: sp, activation: act, pool: pool)
            }
        case let .batchNormTraining(n, c, sp, eps, act):
            let xp = fin(0), sc = fin(1), bi = fin(2), mean = fout(1), variance = fout(2)
            return {
                BatchNormTraining.forward(xp, out, scale: sc, bias: bi, epsilon: eps, mean: mean, variance: variance,
                                          batch: n, channels: c, spatial: sp, activation: act, scratch: scratch, pool: pool)
            }
        case let .batchNormTrainingGrad(n, c, sp, eps, act):
            let dy = fin(0), xp = fin(1), mean = fin(2), variance = fin(3), sc = fin(4), bi = fin(5)
            let dscale = fout(1), dbias = fout(2)
            return {
                BatchNormTraining.backward(dy: dy, x: xp, mean: mean, variance: variance, scale: sc, bias: bi, epsilon: eps,
                                           activation: act, dx: out, dscale: dscale, dbias: dbias,
                                           batch: n, channels: c, spatial: sp, scratch: scratch, pool: pool)
            }
        case let .unary(op, count):
            let xp = fin(0)
            return { Unary.run(op, xp, out, count: count, pool: pool) }
        case let .binary(op, plan):
            let a = fin(0), b = fin(1)
            return { Binary.run(op, plan, a, b, out, pool: pool) }
        case let .expand(plan):
            let xp = fin(0)
            return { Expand.run(plan, xp, out, pool: pool) }
        case let .copy(bytes):
            let src = x[0]!, dst = y[0]
            return { dst.copyMemory(from: src, byteCount: bytes) }
        case let .transpose(plan):
            let xp = fin(0)
            return { Transpose.run(plan, xp, out, pool: pool) }
        case let .concat(sizes, outer, inner):
            let parts = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: x.count)
            for (i, p) in x.enumerated() { parts[i] = UnsafePointer(p!.assumingMemoryBound(to: Float.self)) }
            let keep = ConcatParts(parts, sizes)
            return { Concat.run(inputs: UnsafeBufferPointer(keep.parts), axisSizes: UnsafeBufferPointer(keep.sizes), outer: outer, inner: inner, out, pool: pool) }
        case let .gather(outer, axis, inner, count):
            let data = fin(0), idx = UnsafePointer(x[1]!.assumingMemoryBound(to: Int64.self))
            return {
                try Gather.run(data, indices: idx, indexCount: count, out, outer: outer, axisSize: axis, inner: inner, pool: pool)
            }
        case let .slice(plan):
            let xp = fin(0)
            return { Slice.run(plan, xp, out, pool: pool) }
        case let .reduce(kind, plan):
            let xp = fin(0)
            return { Reduce.run(kind, plan, xp, out, pool: pool) }
        case let .attention(plan):
            let (a, b, v) = (fin(0), fin(1), fin(2))
            return { Attention.run(plan, a, b, v, out, scratch: scratch, pool: pool) }
        case let .softmax(o, a, i, log):
            let xp = fin(0)
            return { Softmax.run(xp, out, outer: o, axis: a, inner: i, log: log, pool: pool) }
        case let .pool(shape, isMax):
            let xp = fin(0)
            return {
                if isMax { Pool2D.max(shape, xp, out, pool: pool) } else { Pool2D.average(shape, xp, out, pool: pool) }
            }
        case let .globalAveragePool(planes, size):
            let xp = fin(0)
            return { Pool2D.globalAverage(xp, out, planes: planes, spatial: size, pool: pool) }
        case let .lrn(shape):
            let xp = fin(0)
            return { LRN.run(shape, xp, out, pool: pool) }
        case let .roundToHalf(count):
            let xp = fin(0)
            return { HalfPrecision.roundToHalf(xp, out, count: count, pool: pool) }
        case let .intToFloat(count, half):
            let xp = UnsafePointer(x[0]!.assumingMemoryBound(to: Int64.self))
            return { IntegerCast.toFloat(xp, out, count: count, half: half, pool: pool) }
        case let .toInteger(count, t, fromInteger):
            let yp = y[0].assumingMemoryBound(to: Int64.self)
            if fromInteger {
                let xp = UnsafePointer(x[0]!.assumingMemoryBound(to: Int64.self))
                return { IntegerCast.narrow(xp, yp, count: count, to: t, pool: pool) }
            }
            let xp = fin(0)
            return { IntegerCast.toInteger(xp, yp, count: count, to: t, pool: pool) }
        case let .normalize(plan):
            let (xp, sc, bias) = operandsWithBias()
            let mean = optionalOut(1), inv = optionalOut(2)
            return { Normalize.run(plan, xp, scale: sc, bias: bias, out, mean: mean, invStd: inv, pool: pool) }
        case let .resample(plan):
            let xp = fin(0)
            return { Resample.run(plan, xp, out, pool: pool) }
        case let .padIntegers(plan, outside):
            let xp = UnsafePointer(x[0]!.assumingMemoryBound(to: Int64.self)), yp = y[0].assumingMemoryBound(to: Int64.self)
            return { Resample.gather(plan, xp, yp, outside: outside, pool: pool) }
        case let .sign(count):
            let xp = fin(0)
            return { Grad.sign(xp, out, count: count, pool: pool) }
        case let .compare(op, plan, integer):
            if integer {
                let a = UnsafePointer(x[0]!.assumingMemoryBound(to: Int64.self)), b = UnsafePointer(x[1]!.assumingMemoryBound(to: Int64.self))
                return { Compare.run(op, plan, a, b, y[0].assumingMemoryBound(to: Int64.self), pool: pool) }
            }
            let a = UnsafePointer(fin(0)), b = UnsafePointer(fin(1))
            return { Compare.run(op, plan, a, b, y[0].assumingMemoryBound(to: Int64.self), pool: pool) }
        case let .not(count):
            let xp = UnsafePointer(x[0]!.assumingMemoryBound(to: Int64.self)), yp = y[0].assumingMemoryBound(to: Int64.self)
            return { Compare.not(xp, yp, count: count, pool: pool) }
        case let .where(plan, integer):
            let c = UnsafePointer(x[0]!.assumingMemoryBound(to: Int64.self))
            if integer {
                let a = UnsafePointer(x[1]!.assumingMemoryBound(to: Int64.self)), b = UnsafePointer(x[2]!.assumingMemoryBound(to: Int64.self))
                return { Where.run(plan, c, a, b, y[0].assumingMemoryBound(to: Int64.self), pool: pool) }
            }
            let a = UnsafePointer(fin(1)), b = UnsafePointer(fin(2))
            return { Where.run(plan, c, a, b, out, pool: pool) }
        case let .split(sizes, outer, inner, bytes):
            let xp = UnsafeRawPointer(x[0]!)
            return { AxisSplit.run(xp, y, sizes: sizes, outer: outer, inner: inner, elementBytes: bytes, pool: pool) }
        case let .argExtremum(outer, axis, inner, isMax, last):
            let xp = UnsafePointer(fin(0)), yp = y[0].assumingMemoryBound(to: Int64.self)
            return { ArgExtremum.run(xp, yp, outer: outer, axis: axis, inner: inner, max: isMax, selectLast: last, pool: pool) }
        case let .allReduce(count, sum):
            let xp = fin(0), hook = collectiveHook
            return {
                if xp != out { out.update(from: xp, count: count) }
                try hook.reduce?(UnsafeMutableBufferPointer(start: out, count: count), sum)
            }
        case let .leakyReluGrad(alpha, count):
            let dy = fin(0), yv = fin(1)
            return { Grad.leakyReluGrad(alpha: alpha, dy, yv, out, count: count, pool: pool) }
        case let .eluGrad(alpha, count):
            let dy = fin(0), yv = fin(1)
            return { Grad.eluGrad(alpha: alpha, dy, yv, out, count: count, pool: pool) }
        case let .gatherGrad(outer, axis, inner, count):
            let dy = fin(0), idx = UnsafePointer(x[1]!.assumingMemoryBound(to: Int64.self))
            return {
                try Grad.gatherGrad(dy, indices: idx, indexCount: count, out, outer: outer, axisSize: axis, inner: inner, pool: pool)
            }
        case let .adam(c, count, counter):
            let g = fin(0), m = fout(1), v = fout(2)
            let step = store!.counter(counter)
            return {
                step.pointee += 1
                Optimizers.adam(c, step: step.pointee, param: out, grad: g, m: m, v: v, count: count, pool: pool)
            }
        case let .sgd(c, count, counter):
            let g = fin(0), b = fout(1)
            let step = store!.counter(counter)
            return {
                step.pointee += 1
                Optimizers.sgd(c, step: step.pointee, param: out, grad: g, buffer: b, count: count, pool: pool)
            }
        case let .rmsprop(c, count):
            let g = fin(0), s = fout(1)
            return { Optimizers.rmsprop(c, param: out, grad: g, square: s, count: count, pool: pool) }
        }
    }
}

/// Owns the pointer array a Concat thunk reads.
final class ConcatParts {
    let parts: UnsafeMutableBufferPointer<UnsafePointer<Float>>
    let sizes: UnsafeMutableBufferPointer<Int>
    init(_ p: UnsafeMutableBufferPointer<UnsafePointer<Float>>, _ s: [Int]) {
        parts = p
        sizes = .allocate(capacity: s.count)
        _ = sizes.initialize(from: s)
    }
    deinit { parts.deallocate(); sizes.deallocate() }
}
