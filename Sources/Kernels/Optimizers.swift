// Optimizers: in-place parameter updates with PyTorch semantics (Adam, SGD with momentum,
// RMSprop), each with a scalar reference and a SIMD kernel.
//
// Contract: every kernel updates `count` parameters and their state buffers in place from the
// gradient; `step` is the 1-based update count (Adam's bias correction). Element i of every
// buffer depends only on element i, so the work splits over threads deterministically. The
// SIMD kernels evaluate the same expressions in the same order as the references (so results
// are bit-identical, FMA contraction aside: both use separate multiply and add).

import Foundation

/// Adam hyperparameters (torch.optim.Adam; eps added outside the square root).
public struct AdamConfig: Equatable, Sendable {
    public var lr: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    public init(lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0) {
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }
}

/// SGD hyperparameters (torch.optim.SGD: momentum buffer starts as the first gradient).
public struct SGDConfig: Equatable, Sendable {
    public var lr: Float
    public var momentum: Float
    public var dampening: Float
    public var weightDecay: Float
    public var nesterov: Bool
    public init(lr: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.lr = lr; self.momentum = momentum; self.dampening = dampening; self.weightDecay = weightDecay; self.nesterov = nesterov
    }
}

/// RMSprop hyperparameters (torch.optim.RMSprop without centering or momentum).
public struct RMSpropConfig: Equatable, Sendable {
    public var lr: Float
    public var alpha: Float
    public var eps: Float
    public var weightDecay: Float
    public init(lr: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8, weightDecay: Float = 0) {
        self.lr = lr; self.alpha = alpha; self.eps = eps; self.weightDecay = weightDecay
    }
}

public enum Optimizers {
    /// Adam's per-step scalars: step size lr/(1−β₁ᵗ) and √(1−β₂ᵗ).
    @inline(__always)
    static func adamScalars(_ c: AdamConfig, _ step: Int) -> (Float, Float) {
        let bc1 = 1 - Float(Foundation.pow(Double(c.beta1), Double(step)))
        let bc2 = 1 - Float(Foundation.pow(Double(c.beta2), Double(step)))
        return (c.lr / bc1, bc2.squareRoot())
    }

    public static func adamReference(_ c: AdamConfig, step: Int, param p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>,
                                     m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int) {
        let (stepSize, bc2Root) = adamScalars(c, step)
        for i in 0..<count {
            var gi = g[i]
            if c.weightDecay != 0 { gi = gi + c.weightDecay * p[i] }
            m[i] = c.beta1 * m[i] + (1 - c.beta1) * gi
            v[i] = c.beta2 * v[i] + (1 - c.beta2) * (gi * gi)
            let denom = v[i].squareRoot() / bc2Root + c.eps
            p[i] = p[i] - stepSize * (m[i] / denom)
        }
    }

    public static func adam(_ c: AdamConfig, step: Int, param p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>,
                            m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool) {
        let (stepSize, bc2Root) = adamScalars(c, step)
        let blocks = (count + 4095) / 4096
        pool.parallelFor(blocks) { range in
            let lo = range.lowerBound * 4096, hi = min(count, range.upperBound * 4096)
            var i = lo
            let b1 = SIMD16<Float>(repeating: c.beta1), b2 = SIMD16<Float>(repeating: c.beta2)
            let ob1 = SIMD16<Float>(repeating: 1 - c.beta1), ob2 = SIMD16<Float>(repeating: 1 - c.beta2)
            let wd = SIMD16<Float>(repeating: c.weightDecay), eps = SIMD16<Float>(repeating: c.eps)
            let ss = SIMD16<Float>(repeating: stepSize), bc = SIMD16<Float>(repeating: bc2Root)
            while i + 16 <= hi {
                let pp = UnsafeMutableRawPointer(p + i), gp = UnsafeRawPointer(g + i)
                let mp = UnsafeMutableRawPointer(m + i), vp = UnsafeMutableRawPointer(v + i)
                var pv = pp.loadUnaligned(as: SIMD16<Float>.self)
                var gv = gp.loadUnaligned(as: SIMD16<Float>.self)
                if c.weightDecay != 0 { gv = gv + wd * pv }
                let mv = b1 * mp.loadUnaligned(as: SIMD16<Float>.self) + ob1 * gv
                let vv = b2 * vp.loadUnaligned(as: SIMD16<Float>.self) + ob2 * (gv * gv)
                let denom = SIMDMath.sqrt(vv) / bc + eps
                pv = pv - ss * (mv / denom)
                mp.storeBytes(of: mv, as: SIMD16<Float>.self)
                vp.storeBytes(of: vv, as: SIMD16<Float>.self)
                pp.storeBytes(of: pv, as: SIMD16<Float>.self)
                i += 16
            }
            if i < hi { adamReference(c, step: step, param: p + i, grad: g + i, m: m + i, v: v + i, count: hi - i) }
        }
    }

    public static func sgdReference(_ c: SGDConfig, step: Int, param p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>,
                                    buffer b: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            var d = g[i]
            if c.weightDecay != 0 { d = d + c.weightDecay * p[i] }
            if c.momentum != 0 {
                b[i] = step == 1 ? d : c.momentum * b[i] + (1 - c.dampening) * d
                d = c.nesterov ? d + c.momentum * b[i] : b[i]
            }
            p[i] = p[i] - c.lr * d
        }
    }

    public static func sgd(_ c: SGDConfig, step: Int, param p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>,
                           buffer b: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool) {
        // Memory-bound and rare in the seed experiments: the reference over thread chunks.
        let blocks = (count + 4095) / 4096
        pool.parallelFor(blocks) { range in
            let lo = range.lowerBound * 4096, hi = min(count, range.upperBound * 4096)
            sgdReference(c, step: step, param: p + lo, grad: g + lo, buffer: b + lo, count: hi - lo)
        }
    }

    public static func rmspropReference(_ c: RMSpropConfig, param p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>,
                                        square s: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            var d = g[i]
            if c.weightDecay != 0 { d = d + c.weightDecay * p[i] }
            s[i] = c.alpha * s[i] + (1 - c.alpha) * (d * d)
            p[i] = p[i] - c.lr * (d / (s[i].squareRoot() + c.eps))
        }
    }

    public static func rmsprop(_ c: RMSpropConfig, param p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>,
                               square s: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool) {
        let blocks = (count + 4095) / 4096
        pool.parallelFor(blocks) { range in
            let lo = range.lowerBound * 4096, hi = min(count, range.upperBound * 4096)
            var i = lo
            let al = SIMD16<Float>(repeating: c.alpha), oal = SIMD16<Float>(repeating: 1 - c.alpha)
            let wd = SIMD16<Float>(repeating: c.weightDecay), eps = SIMD16<Float>(repeating: c.eps)
            let lr = SIMD16<Float>(repeating: c.lr)
            while i + 16 <= hi {
                let pp = UnsafeMutableRawPointer(p + i), gp = UnsafeRawPointer(g + i), sp = UnsafeMutableRawPointer(s + i)
                var pv = pp.loadUnaligned(as: SIMD16<Float>.self)
                var d = gp.loadUnaligned(as: SIMD16<Float>.self)
                if c.weightDecay != 0 { d = d + wd * pv }
                let sv = al * sp.loadUnaligned(as: SIMD16<Float>.self) + oal * (d * d)
                pv = pv - lr * (d / (SIMDMath.sqrt(sv) + eps))
                sp.storeBytes(of: sv, as: SIMD16<Float>.self)
                pp.storeBytes(of: pv, as: SIMD16<Float>.self)
                i += 16
            }
            if i < hi { rmspropReference(c, param: p + i, grad: g + i, square: s + i, count: hi - i) }
        }
    }
}
