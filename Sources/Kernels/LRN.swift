// LRN: local response normalisation across channels (AlexNet, GoogLeNet), ONNX semantics.
//
// Contract: over a dense (batch, channels, spatial) tensor, for every channel c
//   y = x / (bias + alpha/size · Σ_{c' = c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉, 0 ≤ c' < C} x[c']²)^beta
// at each (batch, spatial) position. `run` vectorises 16 spatial positions at a time (the power
// through SIMDMath's exp/log, within a few ulp) and splits (batch, channel) planes over the
// pool; `reference` is the scalar definition with Foundation's pow. x and y must not alias.

import Foundation

/// The geometry and coefficients of one LRN call.
public struct LRNShape: Equatable, Sendable, CustomStringConvertible {
    public let batch: Int, channels: Int, spatial: Int, size: Int
    public let alpha: Float, beta: Float, bias: Float

    public init(batch: Int, channels: Int, spatial: Int, size: Int, alpha: Float, beta: Float, bias: Float) {
        self.batch = batch; self.channels = channels; self.spatial = spatial; self.size = size
        self.alpha = alpha; self.beta = beta; self.bias = bias
    }

    /// The channel window of channel c (inclusive bounds, clipped to the tensor).
    @inline(__always) func window(_ c: Int) -> ClosedRange<Int> {
        max(0, c - (size - 1) / 2)...min(channels - 1, c + size / 2)
    }

    public var description: String {
        "batch=\(batch) channels=\(channels) spatial=\(spatial) size=\(size) alpha=\(alpha) beta=\(beta) bias=\(bias)"
    }
}

public enum LRN {
    public static func run(_ s: LRNShape, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        let planes = s.batch * s.channels, sp = s.spatial
        let k = V16(repeating: s.alpha / Float(s.size)), b = V16(repeating: s.bias), nb = V16(repeating: -s.beta)
        pool.splitWork(planes, work: planes * sp * s.size) { range in
            for p in range {
                let n = p / s.channels, c = p % s.channels
                let w = s.window(c)
                let xc = x + p * sp, yc = y + p * sp
                let base = x + n * s.channels * sp
                var i = 0
                while i < sp {
                    let m = min(16, sp - i)
                    var sum = V16()
                    for cc in w {
                        let v = m == 16 ? load16(base + cc * sp + i) : loadPartial(base + cc * sp + i, m)
                        sum += v * v
                    }
                    let xv = m == 16 ? load16(xc + i) : loadPartial(xc + i, m)
                    let scale = SIMDMath.exp(nb * SIMDMath.log(b + k * sum))
                    if m == 16 { store16(xv * scale, yc + i) } else { storePartial(xv * scale, yc + i, m) }
                    i += 16
                }
            }
        }
    }

    /// Scalar reference (the contract's formula, Foundation's pow).
    public static func reference(_ s: LRNShape, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        for n in 0..<s.batch {
            for c in 0..<s.channels {
                for i in 0..<s.spatial {
                    var sum: Float = 0
                    for cc in s.window(c) {
                        let v = x[(n * s.channels + cc) * s.spatial + i]
                        sum += v * v
                    }
                    let at = (n * s.channels + c) * s.spatial + i
                    y[at] = x[at] / pow(s.bias + s.alpha / Float(s.size) * sum, s.beta)
                }
            }
        }
    }
}
