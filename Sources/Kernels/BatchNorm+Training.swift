// BatchNorm+Training: training-mode BatchNormalization with an optional activation, and its
// backward, each as one pass of per-channel sums and one element-wise pass (the
// BatchNormTraining and BatchNormTrainingGrad ops).
//
// Contract: x, dy and dx are batch × channels × spatial (NCHW with spatial = H·W, or N×C with
// spatial 1); mean, variance, scale, bias, dscale and dbias have `channels` floats; n = batch ·
// spatial elements per channel. Per channel, a = scale/√(variance + ε) and b = bias − mean·a
// (float, BatchNormInference's form).
// forward:  mean and variance are x's biased batch statistics per channel (sum and sum of
//           squares in double; variance = max(0, E[x²] − mean²)); y = act(x·a + b), written by
//           BatchNormInference.
// backward: y = act(x·a + b) is recomputed, bit for bit the forward's, so y is never read;
//           g = act′·dy from y (Relu/LeakyRelu: dy where y > 0, else alpha·dy; Sigmoid:
//           dy·y·(1 − y); Tanh: dy·(1 − y²); none: dy); with inv = 1/√(variance + ε):
//           dbias = Σ g, dscale = inv·Σ g·(x − mean),
//           dx = scale·inv·(g − dbias/n − (x − mean)·inv·dscale/n).
// The sums are taken over chunks of `chunkImages` images (forward: double; backward: float
// lanes per channel and chunk, then double), then over the chunks in order, and the element-wise passes are independent per
// element, so results do not depend on the thread count. Both passes stream memory in order
// (a channel at a time would stride by a power of two on the usual shapes and thrash the
// cache sets). Working memory is the caller's `scratch` (`scratchCount` floats), so a step
// allocates nothing. reference: the definitions in double, from the same float a·x + b.

public enum BatchNormTraining {
    /// Images per partial sum (fixed, so the split over threads never changes the bits).
    static let chunkImages = 4

    /// The sum and the sum of squares of `p[0..<count]`, in double.
    @inline(__always)
    static func planeSums(_ p: UnsafePointer<Float>, _ count: Int) -> (Double, Double) {
        typealias D = SIMD8<Double>
        var s1 = D(), s2 = D()
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= count {
            let v = D(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
            s1 += v
            s2 += v * v
            i += 8
        }
        var t1 = s1.sum(), t2 = s2.sum()
        while i < count {
            let v = Double(p[i])
            t1 += v
            t2 += v * v
            i += 1
        }
        return (t1, t2)
    }

    /// Floats of scratch `forward` and `backward` need: the per-chunk sums and their totals
    /// (doubles), then six per-channel float vectors.
    public static func scratchCount(batch: Int, channels: Int) -> Int {
        let chunks = (batch + chunkImages - 1) / chunkImages
        return 4 * channels * (chunks + 1) + 6 * channels
    }

    /// Two per-channel sums over the batch: `chunk(images, s1, s2)` adds the terms of a chunk of
    /// images to s1[c] and s2[c] (`channels` doubles each, zero before) for every channel.
    /// Returns s1 then s2 (2·channels doubles at the start of `scratch`'s sum area).
    @inline(__always)
    static func channelSums(batch: Int, channels: Int, work: Int, scratch: UnsafeMutablePointer<Float>, pool: ThreadPool,
                            _ chunk: (Range<Int>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void)
        -> UnsafePointer<Double> {
        let chunks = (batch + chunkImages - 1) / chunkImages, width = 2 * channels
        let total = UnsafeMutableRawPointer(scratch).bindMemory(to: Double.self, capacity: (chunks + 1) * width)
        let partial = total + width
        partial.update(repeating: 0, count: chunks * width)
        pool.splitWork(chunks, work: work) { range in
            for k in range {
                let s1 = partial + k * width
                chunk(k * chunkImages..<min(batch, (k + 1) * chunkImages), s1, s1 + channels)
            }
        }
        total.update(repeating: 0, count: width)
        for k in 0..<chunks { for i in 0..<width { total[i] += partial[k * width + i] } }
        return UnsafePointer(total)
    }

    /// Adds `v` (16 floats, the first `m` used) to doubles p[0..<m].
    @inline(__always)
    static func addLanes(_ v: V16, _ m: Int, to p: UnsafeMutablePointer<Double>) {
        if m == 16 {
            let raw = UnsafeMutableRawPointer(p)
            let lo = raw.loadUnaligned(as: SIMD8<Double>.self) + SIMD8<Double>(v.lowHalf)
            let hi = raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self) + SIMD8<Double>(v.highHalf)
            raw.storeBytes(of: lo, as: SIMD8<Double>.self)
            raw.storeBytes(of: hi, toByteOffset: 64, as: SIMD8<Double>.self)
        } else {
            for l in 0..<m { p[l] += Double(v[l]) }
        }
    }

    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                               scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float,
                               mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                               batch: Int, channels: Int, spatial: Int, activation: Activation?,
                               scratch: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        let sums = channelSums(batch: batch, channels: channels, work: batch * channels * spatial, scratch: scratch, pool: pool) { images, s1, s2 in
            for n in images {
                let row = x + n * channels * spatial
                if spatial == 1 {
                    typealias D = SIMD8<Double>
                    var c = 0
                    while c + 8 <= channels {
                        let v = D(UnsafeRawPointer(row + c).loadUnaligned(as: SIMD8<Float>.self))
                        let r1 = UnsafeMutableRawPointer(s1 + c), r2 = UnsafeMutableRawPointer(s2 + c)
                        r1.storeBytes(of: r1.loadUnaligned(as: D.self) + v, as: D.self)
                        r2.storeBytes(of: r2.loadUnaligned(as: D.self) + v * v, as: D.self)
                        c += 8
                    }
                    while c < channels { let v = Double(row[c]); s1[c] += v; s2[c] += v * v; c += 1 }
                    continue
                }
                for c in 0..<channels {
                    let (t1, t2) = planeSums(row + c * spatial, spatial)
                    s1[c] += t1
                    s2[c] += t2
                }
            }
        }
        let count = Double(batch * spatial)
        for c in 0..<channels {
            let m = sums[c] / count
            mean[c] = Float(m)
            variance[c] = Float(max(0, sums[channels + c] / count - m * m))
        }
        UnsafeMutableRawPointer(scratch).bindMemory(to: Float.self, capacity: scratchCount(batch: batch, channels: channels))
        BatchNormInference.run(x, y, scale: scale, bias: bias, mean: mean, variance: variance, epsilon: epsilon,
                               batch: batch, channels: channels, spatial: spatial, activation: activation, pool: pool)
    }

    /// The activations `backward` supports (a LeakyRelu's slope must be ≥ 0: g is read from y's sign).
    public static func hasBackward(_ act: Activation?) -> Bool {
        switch act {
        case nil, .relu?, .sigmoid?, .tanh?: return true
        case .leakyRelu(let alpha)?: return alpha >= 0
        case .clip?, .swish?, .hardSigmoid?, .hardSwish?: return false
        }
    }

    /// dx, dscale and dbias (see the file contract).
    public static func backward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, variance: UnsafePointer<Float>,
                                scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float, activation: Activation?,
                                dx: UnsafeMutablePointer<Float>, dscale: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                batch: Int, channels: Int, spatial: Int, scratch: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        // The forward's per-channel a and b, then mean; later k1, k2, k0 of dx = g·k1 + x·k2 + k0.
        do {
            let a = scratch + 4 * channels * ((batch + chunkImages - 1) / chunkImages + 1), b = a + channels, mu = b + channels, k1 = mu + channels, k2 = k1 + channels, k0 = k2 + channels
            for c in 0..<channels {
                a[c] = scale[c] / (variance[c] + epsilon).squareRoot()
                b[c] = bias[c] - mean[c] * a[c]
                mu[c] = mean[c]
            }
            // The activation and its derivative are chosen once per call, not per vector.
            @inline(__always) func run<F: LaneOp1, G: LaneOp2>(_ f: F, _ grad: G) {
                // Channel by channel over the chunk's images: float lanes per chunk, then double.
                let sums = channelSums(batch: batch, channels: channels, work: 2 * batch * channels * spatial, scratch: scratch, pool: pool) { images, s1, s2 in
                    if spatial == 1 {
                        var c = 0
                        while c < channels {
                            let m = min(16, channels - c)
                            @inline(__always) func ld(_ p: UnsafePointer<Float>) -> V16 { m == 16 ? load16(p + c) : loadPartial(p + c, m) }
                            let va = ld(a), vb = ld(b), vm = ld(mu)
                            var a1 = V16(), a2 = V16()
                            for n in images {
                                let xv = ld(x + n * channels)
                                let g = grad(ld(dy + n * channels), f(xv * va + vb))
                                a1 += g
                                a2 += g * (xv - vm)
                            }
                            addLanes(a1, m, to: s1 + c)
                            addLanes(a2, m, to: s2 + c)
                            c += 16
                        }
                        return
                    }
                    for c in 0..<channels {
                        let va = V16(repeating: a[c]), vb = V16(repeating: b[c]), vm = V16(repeating: mu[c])
                        var a1 = V16(), a2 = V16()
                        for n in images {
                            let p = (n * channels + c) * spatial
                            var i = 0
                            while i + 16 <= spatial {
                                let xv = load16(x + p + i)
                                let g = grad(load16(dy + p + i), f(xv * va + vb))
                                a1 += g
                                a2 += g * (xv - vm)
                                i += 16
                            }
                            if i < spatial {
                                let r = spatial - i
                                let xv = loadPartial(x + p + i, r)
                                // Lanes past r: dy = 0 gives g = 0 for every activation.
                                let g = grad(loadPartial(dy + p + i, r), f(xv * va + vb))
                                a1 += g
                                a2 += g * (xv - vm)
                            }
                        }
                        s1[c] += Double(a1.sum())
                        s2[c] += Double(a2.sum())
                    }
                }
                let count = Float(batch * spatial)
                for c in 0..<channels {
                    let inv = 1 / (variance[c] + epsilon).squareRoot()
                    let db = Float(sums[c]), ds = Float(sums[channels + c]) * inv
                    dbias[c] = db
                    dscale[c] = ds
                    // dx = s·inv·g − s·inv²·ds/n·(x − mean) − s·inv·db/n.
                    k1[c] = scale[c] * inv
                    k2[c] = -scale[c] * inv * inv * ds / count
                    k0[c] = -scale[c] * inv * db / count - k2[c] * mu[c]
                }
                if spatial == 1 {
                    pool.splitWork(batch, work: batch * channels) { range in
                        for n in range {
                            let off = n * channels
                            var c = 0
                            while c < channels {
                                let m = min(16, channels - c)
                                @inline(__always) func ld(_ p: UnsafePointer<Float>) -> V16 { m == 16 ? load16(p + c) : loadPartial(p + c, m) }
                                let xv = ld(x + off)
                                let g = grad(ld(dy + off), f(xv * ld(a) + ld(b)))
                                let v = g * ld(k1) + (xv * ld(k2) + ld(k0))
                                if m == 16 { store16(v, dx + off + c) } else { storePartial(v, dx + off + c, m) }
                                c += 16
                            }
                        }
                    }
                    return
                }
                pool.splitWork(batch * channels, work: batch * channels * spatial) { range in
                    var c = range.lowerBound % channels
                    for p in range {
                        defer { c = c + 1 == channels ? 0 : c + 1 }
                        let off = p * spatial
                        let va = V16(repeating: a[c]), vb = V16(repeating: b[c])
                        let v1 = V16(repeating: k1[c]), v2 = V16(repeating: k2[c]), v0 = V16(repeating: k0[c])
                        var i = 0
                        while i + 16 <= spatial {
                            let xv = load16(x + off + i)
                            let g = grad(load16(dy + off + i), f(xv * va + vb))
                            store16(g * v1 + (xv * v2 + v0), dx + off + i)
                            i += 16
                        }
                        if i < spatial {
                            let r = spatial - i
                            let xv = loadPartial(x + off + i, r)
                            let g = grad(loadPartial(dy + off + i, r), f(xv * va + vb))
                            storePartial(g * v1 + (xv * v2 + v0), dx + off + i, r)
                        }
                    }
                }
            }
            switch activation {
            case nil: run(Activation.IdentityLanes(), PassGrad())
            case .relu?: run(Activation.ReluLanes(), ReluGrad())
            case .leakyRelu(let alpha)?: run(Activation.LeakyReluLanes(alpha: alpha), Grad.LeakyReluGrad(alpha: V16(repeating: alpha)))
            case .sigmoid?: run(Activation.SigmoidLanes(), SigmoidGrad())
            case .tanh?: run(Activation.TanhLanes(), TanhGrad())
            case let act?: preconditionFailure("BatchNormTraining: no backward for \(act)")
            }
        }
        UnsafeMutableRawPointer(scratch).bindMemory(to: Float.self, capacity: scratchCount(batch: batch, channels: channels))
    }

    /// Scalar reference of `forward` (statistics in double, two passes).
    public static func forwardReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                        scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float,
                                        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                                        batch: Int, channels: Int, spatial: Int, activation: Activation?) {
        ConvTransposeBatchNorm.normalizeReference(x, batch: batch, channels: channels, plane: spatial, scale: scale, beta: bias,
                                                  epsilon: epsilon, activation: activation, y: y, mean: mean, variance: variance)
    }

    /// g = act′·dy from dy and y = act(·), as lane operations for `backward`.
    struct PassGrad: LaneOp2 { @inline(__always) func callAsFunction(_ dy: V16, _ y: V16) -> V16 { dy } }
    struct ReluGrad: LaneOp2 {
        @inline(__always) func callAsFunction(_ dy: V16, _ y: V16) -> V16 { V16(repeating: 0).replacing(with: dy, where: y .> 0) }
    }
    struct SigmoidGrad: LaneOp2 { @inline(__always) func callAsFunction(_ dy: V16, _ y: V16) -> V16 { dy * y * (1 - y) } }
    struct TanhGrad: LaneOp2 { @inline(__always) func callAsFunction(_ dy: V16, _ y: V16) -> V16 { dy * (1 - y * y) } }

    /// Scalar g = act′·dy from y.
    static func activationGrad(_ act: Activation?, _ dy: Double, _ y: Double) -> Double {
        switch act {
        case nil: return dy
        case .relu?: return y > 0 ? dy : 0
        case .leakyRelu(let a)?: return y > 0 ? dy : Double(a) * dy
        case .sigmoid?: return dy * y * (1 - y)
        case .tanh?: return dy * (1 - y * y)
        case .clip?, .swish?, .hardSigmoid?, .hardSwish?: preconditionFailure("BatchNormTraining: no backward for \(act!)")
        }
    }

    /// Scalar reference of `backward`: y = act(x·a + b) with the float a·x + b, the rest in double.
    public static func backwardReference(dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                         mean: UnsafePointer<Float>, variance: UnsafePointer<Float>,
                                         scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float, activation: Activation?,
                                         dx: UnsafeMutablePointer<Float>, dscale: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                         batch: Int, channels: Int, spatial: Int) {
        let count = Double(batch * spatial)
        for ch in 0..<channels {
            let a = scale[ch] / (variance[ch] + epsilon).squareRoot(), b = bias[ch] - mean[ch] * a
            let inv = 1 / (Double(variance[ch]) + Double(epsilon)).squareRoot()
            let m = Double(mean[ch])
            func at(_ n: Int, _ i: Int) -> (g: Double, xc: Double) {
                let k = (n * channels + ch) * spatial + i
                let p = x[k] * a + b
                let y = activation.map { $0.apply(p) } ?? p
                return (activationGrad(activation, Double(dy[k]), Double(y)), Double(x[k]) - m)
            }
            var sg = 0.0, sgx = 0.0
            for n in 0..<batch { for i in 0..<spatial { let (g, xc) = at(n, i); sg += g; sgx += g * xc } }
            dbias[ch] = Float(sg)
            dscale[ch] = Float(sgx * inv)
            let s = Double(scale[ch])
            for n in 0..<batch {
                for i in 0..<spatial {
                    let (g, xc) = at(n, i)
                    dx[(n * channels + ch) * spatial + i] = Float(s * inv * (g - sg / count - xc * inv * (sgx * inv) / count))
                }
            }
        }
    }
}
