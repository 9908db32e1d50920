// BatchNorm+Inference: ONNX BatchNormalization in inference mode, optionally with a fused activation.
//
// Contract: x and y are batch × channels × spatial (NCHW with spatial = H·W, or N×C with
// spatial = 1); scale, bias, mean and variance have `channels` elements.
// reference: y = act((x − mean) / sqrt(var + ε) · scale + bias).
// fast:      y = act(x · a + b) with a = scale / sqrt(var + ε), b = bias − mean · a per channel,
// which agrees with the reference to a few ulp of the terms. `x == y` is allowed. Work is split
// over (n, c) planes, or over rows of channels when spatial == 1.

public enum BatchNormInference {
    public static func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                           mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
                           batch: Int, channels: Int, spatial: Int, activation: Activation? = nil, pool: ThreadPool = .serial) {
        let work = batch * channels * spatial
        let eps = V16(repeating: epsilon)
        if spatial == 1 {
            @inline(__always) func rows<F: LaneOp1>(_ f: F) {
                pool.splitWork(batch, work: work) { range in
                    for n in range {
                        let px = x + n * channels, py = y + n * channels
                        var c = 0
                        while c < channels {
                            let m = min(16, channels - c)
                            @inline(__always) func ld(_ p: UnsafePointer<Float>) -> V16 { m == 16 ? load16(p + c) : loadPartial(p + c, m, fill: 1) }
                            let a = ld(scale) / SIMDMath.sqrt(ld(variance) + eps)
                            let b = ld(bias) - ld(mean) * a
                            let v = f(ld(px) * a + b)
                            if m == 16 { store16(v, py + c) } else { storePartial(v, py + c, m) }
                            c += 16
                        }
                    }
                }
            }
            switch activation {
            case nil: rows(Activation.IdentityLanes())
            case .relu?: rows(Activation.ReluLanes())
            case .leakyRelu(let alpha)?: rows(Activation.LeakyReluLanes(alpha: alpha))
            case let act?: rows(Activation.AnyLanes(activation: act))
            }
            return
        }
        // The activation is chosen once per call, not per vector (a per-vector switch made a
        // fused BatchNorm + ReLU as slow as the two ops apart: densenet121, batch 1).
        @inline(__always) func planes<F: LaneOp1>(_ f: F) {
            pool.splitWork(batch * channels, work: work) { range in
                for p in range {
                    let c = p % channels
                    let a = scale[c] / (variance[c] + epsilon).squareRoot()
                    let b = bias[c] - mean[c] * a
                    let va = V16(repeating: a), vb = V16(repeating: b)
                    let px = x + p * spatial, py = y + p * spatial
                    var i = 0
                    while i + 16 <= spatial { store16(f(load16(px + i) * va + vb), py + i); i += 16 }
                    if i < spatial { storePartial(f(loadPartial(px + i, spatial - i) * va + vb), py + i, spatial - i) }
                }
            }
        }
        switch activation {
        case nil: planes(Activation.IdentityLanes())
        case .relu?: planes(Activation.ReluLanes())
        case .leakyRelu(let alpha)?: planes(Activation.LeakyReluLanes(alpha: alpha))
        case let act?: planes(Activation.AnyLanes(activation: act))
        }
    }

    /// Scalar reference.
    public static func reference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                 scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
                                 batch: Int, channels: Int, spatial: Int, activation: Activation? = nil) {
        for n in 0..<batch {
            for c in 0..<channels {
                let d = (variance[c] + epsilon).squareRoot()
                for i in 0..<spatial {
                    let k = (n * channels + c) * spatial + i
                    let v = (x[k] - mean[c]) / d * scale[c] + bias[c]
                    y[k] = activation.map { $0.apply(v) } ?? v
                }
            }
        }
    }
}
