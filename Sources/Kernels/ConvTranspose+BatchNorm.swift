// ConvTranspose+BatchNorm: ConvTranspose, training-mode BatchNormalization and an activation
// in one kernel (the FusedConvTransposeBatchNorm op).
//
// Contract: x (N, inC, inH, inW), weight (inC, outC/group, kH, kW), bias (outC) or nil, scale
// and beta (outC). Writes z = convTranspose(x, weight) + bias (N, outC, outH, outW); mean and
// variance (outC) = the biased batch statistics of z over N, outH, outW; and
// y = act((z − mean)/√(variance + ε)·scale + beta). The statistics are accumulated in double
// per (n, c) plane in the ConvTranspose epilogue while the plane is in cache, then summed over
// n in order, so results do not depend on the thread count; y is written in one pass over z.
// reference: the unfused definition (two-pass statistics in double).

public enum ConvTransposeBatchNorm {
    /// Floats of scratch `forward` needs: ConvTranspose's, then 2·N·outC doubles.
    public static func scratchCount(_ s: Conv2DShape, threads: Int) -> Int {
        statsOffset(s, threads: threads) + 4 * s.batch * s.outChannels
    }

    static func statsOffset(_ s: Conv2DShape, threads: Int) -> Int {
        (ConvTranspose2D.scratchCount(s, threads: threads) + 15) / 16 * 16
    }

    /// Stores the sum and the sum of squares of `p[0..<count]`, in double, at `into[0]`, `into[1]`.
    @inline(__always)
    static func storePlaneSums(_ p: UnsafePointer<Float>, _ count: Int, into: UnsafeMutablePointer<Double>) {
        (into[0], into[1]) = BatchNormTraining.planeSums(p, count)
    }

    public static func forward(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, scale: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                               epsilon: Float, activation: Activation?,
                               y: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>,
                               mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                               scratch: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let c = s.outChannels, n = s.batch, plane = s.outHeight * s.outWidth
        let stats = UnsafeMutableRawPointer(scratch + statsOffset(s, threads: pool.threads)).bindMemory(to: Double.self, capacity: 2 * n * c)
        stats.update(repeating: 0, count: 2 * n * c)
        ConvTranspose2D.forward(s, x: x, weight: weight, bias: bias, y: z, epilogue: bias != nil ? [.bias(perRow: true)] : [],
                                scratch: scratch, pool: pool, planeStats: stats)
        finishStatistics(stats, batch: n, channels: c, plane: plane, mean: mean, variance: variance)
        UnsafeMutableRawPointer(stats).bindMemory(to: Float.self, capacity: 4 * n * c)
        BatchNormInference.run(z, y, scale: scale, bias: beta, mean: mean, variance: variance, epsilon: epsilon,
                               batch: n, channels: c, spatial: plane, activation: activation, pool: pool)
    }

    /// mean = Σ sum / count, variance = max(0, Σ sumsq / count − mean²), summed over n in order.
    static func finishStatistics(_ stats: UnsafePointer<Double>, batch: Int, channels: Int, plane: Int,
                                 mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        let count = Double(batch * plane)
        for ch in 0..<channels {
            var s1 = 0.0, s2 = 0.0
            for b in 0..<batch {
                s1 += stats[2 * (b * channels + ch)]
                s2 += stats[2 * (b * channels + ch) + 1]
            }
            let m = s1 / count
            mean[ch] = Float(m)
            variance[ch] = Float(max(0, s2 / count - m * m))
        }
    }

    /// Scalar reference with the same contract.
    public static func reference(_ s: Conv2DShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, scale: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                 epsilon: Float, activation: Activation?,
                                 y: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>,
                                 mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        ConvTranspose2D.reference(s, x: x, weight: weight, bias: bias, y: z, epilogue: bias != nil ? [.bias(perRow: true)] : [])
        normalizeReference(z, batch: s.batch, channels: s.outChannels, plane: s.outHeight * s.outWidth, scale: scale, beta: beta,
                           epsilon: epsilon, activation: activation, y: y, mean: mean, variance: variance)
    }

    /// The BatchNormalization half of `reference`: statistics of z (two passes in double), then y.
    public static func normalizeReference(_ z: UnsafePointer<Float>, batch: Int, channels c: Int, plane: Int,
                                          scale: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float,
                                          activation: Activation?, y: UnsafeMutablePointer<Float>,
                                          mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        let count = Double(batch * plane)
        for ch in 0..<c {
            var total = 0.0
            for b in 0..<batch { for i in 0..<plane { total += Double(z[(b * c + ch) * plane + i]) } }
            let m = total / count
            var sq = 0.0
            for b in 0..<batch { for i in 0..<plane { let d = Double(z[(b * c + ch) * plane + i]) - m; sq += d * d } }
            mean[ch] = Float(m)
            variance[ch] = Float(sq / count)
        }
        BatchNormInference.reference(z, y, scale: scale, bias: beta, mean: mean, variance: variance, epsilon: epsilon,
                                     batch: batch, channels: c, spatial: plane, activation: activation)
    }
}
