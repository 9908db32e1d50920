// Activation+Math: the scalar and SIMD definitions of each `Activation`, and `EpilogueApply`,
// which runs an `[EpilogueOp]` list over a row-major tile.
//
// The scalar `apply` is the reference (Foundation's tanh/exp); the SIMD `apply` uses SIMDMath
// and agrees with it to <= 1e-6 absolute for sigmoid/tanh (swish: x times that), exactly for
// relu/leakyRelu/clip. Swish's SIMD form is x·SIMDMath.sigmoid(x), bit for bit what Sigmoid then
// Mul compute; hardSigmoid and hardSwish are the Unary kernel's, bit for bit.
import Foundation

extension Activation {
    /// The activation of one value (reference definition).
    @inlinable
    public func apply(_ x: Float) -> Float {
        switch self {
        case .relu: return x < 0 ? 0 : x
        case .leakyRelu(let a): return x < 0 ? x * a : x
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case let .clip(lo, hi): return Unary.scalar(.clip(min: lo, max: hi), x)
        case .swish: return x * Unary.scalar(.sigmoid, x)
        case let .hardSigmoid(a, b): return Unary.scalar(.hardSigmoid(alpha: a, beta: b), x)
        case .hardSwish: return Unary.scalar(.hardSwish, x)
        }
    }

    /// The activation of sixteen values. (Transparent: inlined wherever it is used, so that a
    /// kernel's loop never calls it per vector whatever the inliner's size limits.)
    @_transparent
    public func apply(_ x: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .relu: return x.replacing(with: 0, where: x .< 0)
        case .leakyRelu(let a): return x.replacing(with: x * a, where: x .< 0)
        case .sigmoid: return SIMDMath.sigmoid(x)
        case .tanh: return SIMDMath.tanh(x)
        case let .clip(lo, hi): return Unary.clip(lo, hi, x)
        case .swish: return x * SIMDMath.sigmoid(x)
        case let .hardSigmoid(a, b): return Unary.hardSigmoid(a, b, x)
        case .hardSwish: return x * Unary.hardSigmoid(1 / 6, 0.5, x)
        }
    }

    /// Applies the activation in place to `count` contiguous values.
    @inlinable
    public func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        switch self {
        case .relu:
            while i + 16 <= count {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: v.replacing(with: 0, where: v .< 0), as: SIMD16<Float>.self)
                i += 16
            }
        case .leakyRelu(let a):
            while i + 16 <= count {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: v.replacing(with: v * a, where: v .< 0), as: SIMD16<Float>.self)
                i += 16
            }
        case .sigmoid:
            i = Activation.sigmoidVectors(p, count: count)
        case .tanh:
            while i + 16 <= count {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: SIMDMath.tanh(v), as: SIMD16<Float>.self)
                i += 16
            }
        case .swish:
            i = Activation.swishVectors(p, count: count)
        case let .clip(lo, hi):
            while i + 16 <= count {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: Unary.clip(lo, hi, v), as: SIMD16<Float>.self)
                i += 16
            }
        case let .hardSigmoid(a, b):
            while i + 16 <= count {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: Unary.hardSigmoid(a, b, v), as: SIMD16<Float>.self)
                i += 16
            }
        case .hardSwish:
            while i + 16 <= count {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: v * Unary.hardSigmoid(1 / 6, 0.5, v), as: SIMD16<Float>.self)
                i += 16
            }
        }
        if i < count {
            // Tail through a padded SIMD vector so that it matches the vector path bit for bit.
            var v = SIMD16<Float>(repeating: 0)
            for j in 0..<(count - i) { v[j] = p[i + j] }
            v = apply(v)
            for j in 0..<(count - i) { p[i + j] = v[j] }
        }
    }

    // Sigmoid and swish each run in a function of their own: inside the many-case `apply`, Swift
    // left `SIMDMath.sigmoid` out of line (a call per vector, its argument split into four xmm
    // pieces: 20% of efficientnet_b0's forward pass).

    /// Sigmoid over the whole vectors of `p[0..<count]`; returns how many values it did.
    @usableFromInline @inline(never)
    static func sigmoidVectors(_ p: UnsafeMutablePointer<Float>, count: Int) -> Int {
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: SIMDMath.sigmoid(v), as: SIMD16<Float>.self)
            i += 16
        }
        return i
    }

    /// Swish (x·sigmoid(x)) over the whole vectors of `p[0..<count]`; returns how many values it did.
    @usableFromInline @inline(never)
    static func swishVectors(_ p: UnsafeMutablePointer<Float>, count: Int) -> Int {
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: v * SIMDMath.sigmoid(v), as: SIMD16<Float>.self)
            i += 16
        }
        return i
    }
}

/// Activations as lane operations (LaneOp.swift), for loops that choose the activation once per
/// call: each is `apply` of that case, so the same bits.
extension Activation {
    struct IdentityLanes: LaneOp1 { @inline(__always) func callAsFunction(_ x: V16) -> V16 { x } }
    struct ReluLanes: LaneOp1 { @inline(__always) func callAsFunction(_ x: V16) -> V16 { Activation.relu.apply(x) } }
    struct LeakyReluLanes: LaneOp1 {
        let alpha: Float
        @inline(__always) func callAsFunction(_ x: V16) -> V16 { Activation.leakyRelu(alpha).apply(x) }
    }
    struct ClipLanes: LaneOp1 {
        let lo: Float, hi: Float
        @inline(__always) func callAsFunction(_ x: V16) -> V16 { Activation.clip(lo, hi).apply(x) }
    }
    struct SigmoidLanes: LaneOp1 { @inline(__always) func callAsFunction(_ x: V16) -> V16 { Activation.sigmoid.apply(x) } }
    struct TanhLanes: LaneOp1 { @inline(__always) func callAsFunction(_ x: V16) -> V16 { Activation.tanh.apply(x) } }
    /// Any activation, switched on per vector.
    struct AnyLanes: LaneOp1 {
        let activation: Activation
        @inline(__always) func callAsFunction(_ x: V16) -> V16 { activation.apply(x) }
    }
}

/// Applies an epilogue list to a row-major tile.
public enum EpilogueApply {
    /// Applies `ops` in order to `c[r * ldc + col]` for `r` in `rows`, `col` in `cols`.
    /// `.bias(perRow: false)` adds `bias[col]`, `.bias(perRow: true)` adds `bias[r]`
    /// (indices are absolute, as in the whole matrix). A bias op with a nil `bias` is skipped.
    public static func applyRows(c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, cols: Range<Int>,
                                 bias: UnsafePointer<Float>?, ops: [EpilogueOp]) {
        if ops.isEmpty || rows.isEmpty || cols.isEmpty { return }
        // A bias then ReLU, LeakyReLU or Clip (ReLU6) (a fused convolution's usual epilogues): one pass.
        if ops.count == 2, let bias, case .bias(let perRow) = ops[0], case .activation(let act) = ops[1] {
            switch act {
            case .relu: return biasThen(Activation.ReluLanes(), c: c, ldc: ldc, rows: rows, cols: cols, bias: bias, perRow: perRow)
            case .leakyRelu(let a):
                return biasThen(Activation.LeakyReluLanes(alpha: a), c: c, ldc: ldc, rows: rows, cols: cols, bias: bias, perRow: perRow)
            case let .clip(lo, hi):
                return biasThen(Activation.ClipLanes(lo: lo, hi: hi), c: c, ldc: ldc, rows: rows, cols: cols, bias: bias, perRow: perRow)
            default: break
            }
        }
        let width = cols.count
        for r in rows {
            let row = c + r * ldc + cols.lowerBound
            for op in ops {
                switch op {
                case .bias(let perRow):
                    guard let bias else { continue }
                    if perRow {
                        let b = bias[r]
                        let bv = SIMD16<Float>(repeating: b)
                        var j = 0
                        while j + 16 <= width {
                            let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
                            UnsafeMutableRawPointer(row + j).storeBytes(of: v + bv, as: SIMD16<Float>.self)
                            j += 16
                        }
                        while j < width { row[j] += b; j += 1 }
                    } else {
                        let bp = bias + cols.lowerBound
                        var j = 0
                        while j + 16 <= width {
                            let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
                            let bv = UnsafeRawPointer(bp + j).loadUnaligned(as: SIMD16<Float>.self)
                            UnsafeMutableRawPointer(row + j).storeBytes(of: v + bv, as: SIMD16<Float>.self)
                            j += 16
                        }
                        while j < width { row[j] += bp[j]; j += 1 }
                    }
                case .activation(let act):
                    act.apply(row, count: width)
                }
            }
        }
    }

    /// `applyRows` for [bias, activation f] in one pass over each row: v = f(v + b), the same
    /// bits as the two passes (each lane's f sees the same sum). (The second pass over a block
    /// of C was most of a 1×1 16 → 64 convolution's epilogue, a sixth of its time.)
    @inline(__always)
    static func biasThen<F: LaneOp1>(_ f: F, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, cols: Range<Int>,
                                     bias: UnsafePointer<Float>, perRow: Bool) {
        let width = cols.count
        let bp = bias + cols.lowerBound
        for r in rows {
            let row = c + r * ldc + cols.lowerBound
            let rowBias = V16(repeating: perRow ? bias[r] : 0)
            var j = 0
            while j + 16 <= width {
                store16(f(load16(row + j) + (perRow ? rowBias : load16(bp + j))), row + j)
                j += 16
            }
            if j < width {
                let n = width - j
                storePartial(f(loadPartial(row + j, n) + (perRow ? rowBias : loadPartial(bp + j, n))), row + j, n)
            }
        }
    }

    /// Applies `ops` to an NCHW tensor: bias is per channel (any `.bias` op), `plane` = H·W.
    public static func applyNCHW(y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int,
                                 bias: UnsafePointer<Float>?, ops: [EpilogueOp], pool: ThreadPool) {
        if ops.isEmpty { return }
        let perRowOps = ops.map { op -> EpilogueOp in
            if case .bias = op { return .bias(perRow: true) }
            return op
        }
        pool.parallelFor(batch * channels) { range in
            for nc in range {
                let c = nc % channels
                // One row: treat bias[c] as row c of a 1-row tile at row index c.
                applyRows(c: y + nc * plane - c * plane, ldc: plane, rows: c..<(c + 1), cols: 0..<plane,
                          bias: bias, ops: perRowOps)
            }
        }
    }

    /// Scalar reference: the same semantics as `applyRows`, one element at a time.
    public static func referenceRows(c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, cols: Range<Int>,
                                     bias: UnsafePointer<Float>?, ops: [EpilogueOp]) {
        for r in rows {
            for j in cols {
                var v = c[r * ldc + j]
                for op in ops {
                    switch op {
                    case .bias(let perRow):
                        if let bias { v += perRow ? bias[r] : bias[j] }
                    case .activation(let act):
                        v = act.apply(v)
                    }
                }
                c[r * ldc + j] = v
            }
        }
    }
}
