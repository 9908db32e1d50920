// Elementwise+Binary: y = a ∘ b with numpy (ONNX multidirectional) broadcasting.
//
// Contract: `BroadcastPlan` is computed once from the shapes (at compile time); it right-aligns
// the shapes, drops size-1 dimensions and merges dimensions that are contiguous for every
// operand, leaving an innermost run (`inner`) in which each input is either a vector (stride 1)
// or a scalar (stride 0), and at most 8 outer dimensions walked by an odometer. Fast paths fall
// out of that: same shape → one run; scalar operand → stride 0; per-channel bias
// (N,C,H,W)+(1,C,1,1) → runs of H·W against a scalar; row vector (M,N)+(N) → runs of N.
// `y` may alias `a` or `b` only when that input has the output's shape (in-place update).
// add/sub/mul/div are exact (IEEE) so the fast kernel equals `reference` bit for bit; pow uses
// powf (ONNX/numpy float semantics: powf special cases), with pow(x, 2) computed as x·x.
// max/min propagate NaN (numpy maximum/minimum) and, like prelu (a < 0 ? b·a : a), are exact.
import Foundation

public enum BinaryOp: Equatable, Sendable, CustomStringConvertible {
    case add, sub, mul, div, pow, max, min, prelu
    public var description: String {
        switch self {
        case .add: "add"; case .sub: "sub"; case .mul: "mul"; case .div: "div"; case .pow: "pow"
        case .max: "max"; case .min: "min"; case .prelu: "prelu"
        }
    }
}

/// How two input shapes broadcast to an output shape, collapsed for the kernels.
public struct BroadcastPlan: Equatable, Sendable, CustomStringConvertible {
    public let outShape: [Int]
    public let aShape: [Int]
    public let bShape: [Int]
    /// Elements in the output.
    public let count: Int
    /// Length of the innermost collapsed run.
    public let inner: Int
    /// Stride of a and b along the innermost run: 1 (vector) or 0 (scalar).
    public let aInner: Int, bInner: Int
    /// Collapsed outer dimensions (row-major) and the strides of a and b along them.
    let outerSizes: [Int], outerA: [Int], outerB: [Int], outerY: [Int]
    /// Number of rows (product of `outerSizes`).
    public let rows: Int

    /// The numpy broadcast of two shapes.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
                throw KernelError.invalidShape("shapes \(a) and \(b) do not broadcast")
            }
        }
        return out
    }

    /// Plans `outShape = broadcast(aShape, bShape)`; each input must broadcast to `outShape`
    /// (right-aligned, each dimension equal or 1). Pass `bShape: []` for a one-input plan (Expand).
    public init(outShape: [Int], aShape: [Int], bShape: [Int]) throws {
        func strides(_ s: [Int]) throws -> [Int] { try broadcastStrides(s, to: outShape) }
        guard outShape.allSatisfy({ $0 >= 0 }) else { throw KernelError.invalidShape("negative dimension in \(outShape)") }
        self.outShape = outShape; self.aShape = aShape; self.bShape = bShape
        count = outShape.reduce(1, *)
        let c = collapseDims(outShape, [try strides(aShape), try strides(bShape), denseStrides(outShape)])
        guard c.shape.count <= maxOuterRank + 1 else { throw KernelError.invalidShape("broadcast of \(aShape) and \(bShape) to \(outShape) is too irregular") }
        if let last = c.shape.last {
            inner = last; aInner = c.strides[0].last!; bInner = c.strides[1].last!
            outerSizes = Array(c.shape.dropLast()); outerA = Array(c.strides[0].dropLast())
            outerB = Array(c.strides[1].dropLast()); outerY = Array(c.strides[2].dropLast())
        } else {
            inner = 1; aInner = 0; bInner = 0; outerSizes = []; outerA = []; outerB = []; outerY = []
        }
        rows = count == 0 ? 0 : outerSizes.reduce(1, *)
    }

    public var description: String {
        "broadcast(inner: \(inner) a:\(aInner) b:\(bInner), outer: \(outerSizes) a:\(outerA) b:\(outerB))"
    }

    /// Walks (row, column range) units: rows of `inner`, cut into chunks when the plan has few rows.
    @inline(__always)
    func forEachRun(pool: ThreadPool, _ body: (_ aOff: Int, _ bOff: Int, _ yOff: Int, _ c0: Int, _ c1: Int) -> Void) {
        if count == 0 { return }
        let chunk = rows >= pool.threads * 4 || inner <= 8192 ? inner : 4096
        let perRow = (inner + chunk - 1) / chunk
        pool.splitWork(rows * perRow, work: count) { range in
            var row = range.lowerBound / perRow
            var odo = Odometer(start: row, sizes: outerSizes, outerA, outerB, outerY)
            for u in range {
                let r = u / perRow
                if r != row { odo.next(sizes: outerSizes, outerA, outerB, outerY); row = r }
                let c0 = (u - r * perRow) * chunk
                body(odo.o0, odo.o1, odo.o2, c0, min(inner, c0 + chunk))
            }
        }
    }
}

public enum Binary {
    /// The scalar definition of `op`.
    @inlinable
    public static func scalar(_ op: BinaryOp, _ a: Float, _ b: Float) -> Float {
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return Foundation.pow(a, b)
        case .max: return a.isNaN || b.isNaN ? a + b : (b > a ? b : a)
        case .min: return a.isNaN || b.isNaN ? a + b : (b < a ? b : a)
        case .prelu: return a < 0 ? b * a : a
        }
    }

    struct Add: LaneOp2 { @inline(__always) func callAsFunction(_ a: V16, _ b: V16) -> V16 { a + b } }
    struct Sub: LaneOp2 { @inline(__always) func callAsFunction(_ a: V16, _ b: V16) -> V16 { a - b } }
    struct Mul: LaneOp2 { @inline(__always) func callAsFunction(_ a: V16, _ b: V16) -> V16 { a * b } }
    struct Div: LaneOp2 { @inline(__always) func callAsFunction(_ a: V16, _ b: V16) -> V16 { a / b } }
    /// Lane-wise maximum (NaN propagates).
    struct Max: LaneOp2 {
        @inline(__always) func callAsFunction(_ a: V16, _ b: V16) -> V16 {
            a.replacing(with: b, where: b .> a).replacing(with: a + b, where: (a .!= a) .| (b .!= b))
        }
    }
    /// Lane-wise minimum (NaN propagates).
    struct Min: LaneOp2 {
        @inline(__always) func callAsFunction(_ a: V16, _ b: V16) -> V16 {
            a.replacing(with: b, where: b .< a).replacing(with: a + b, where: (a .!= a) .| (b .!= b))
        }
    }
    struct PRelu: LaneOp2 {
        @inline(__always) func callAsFunction(_ a: V16, _ b: V16) -> V16 { a.replacing(with: b * a, where: a .< 0) }
    }

    /// y = a ∘ b over `plan.outShape`.
    public static func run(_ op: BinaryOp, _ plan: BroadcastPlan, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        switch op {
        case .add: runs(plan, a, b, y, pool, Add())
        case .sub: runs(plan, a, b, y, pool, Sub())
        case .mul: runs(plan, a, b, y, pool, Mul())
        case .div: runs(plan, a, b, y, pool, Div())
        case .max: runs(plan, a, b, y, pool, Max())
        case .min: runs(plan, a, b, y, pool, Min())
        case .prelu: runs(plan, a, b, y, pool, PRelu())
        case .pow:
            let (sa, sb) = (plan.aInner, plan.bInner)
            plan.forEachRun(pool: pool) { ao, bo, yo, c0, c1 in
                if sb == 0 && b[bo] == 2 {
                    for c in c0..<c1 { let v = a[ao + c * sa]; y[yo + c] = v * v }
                } else {
                    for c in c0..<c1 { y[yo + c] = Foundation.pow(a[ao + c * sa], b[bo + c * sb]) }
                }
            }
        }
    }

    @inline(__always)
    static func runs<F: LaneOp2>(_ plan: BroadcastPlan, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                 _ y: UnsafeMutablePointer<Float>, _ pool: ThreadPool, _ f: F) {
        if shortRunBlocks(plan, a, b, y, pool, f) { return }
        switch (plan.aInner, plan.bInner) {
        case (1, 1): plan.forEachRun(pool: pool) { ao, bo, yo, c0, c1 in
            let (pa, pb, py, n) = (a + ao + c0, b + bo + c0, y + yo + c0, c1 - c0)
            var c = 0
            while c + 16 <= n { store16(f(load16(pa + c), load16(pb + c)), py + c); c += 16 }
            if c < n { storePartial(f(loadPartial(pa + c, n - c), loadPartial(pb + c, n - c)), py + c, n - c) }
        }
        case (1, 0): plan.forEachRun(pool: pool) { ao, bo, yo, c0, c1 in
            let (pa, vb, py, n) = (a + ao + c0, V16(repeating: b[bo]), y + yo + c0, c1 - c0)
            var c = 0
            while c + 16 <= n { store16(f(load16(pa + c), vb), py + c); c += 16 }
            if c < n { storePartial(f(loadPartial(pa + c, n - c), vb), py + c, n - c) }
        }
        case (0, 1): plan.forEachRun(pool: pool) { ao, bo, yo, c0, c1 in
            let (va, pb, py, n) = (V16(repeating: a[ao]), b + bo + c0, y + yo + c0, c1 - c0)
            var c = 0
            while c + 16 <= n { store16(f(va, load16(pb + c)), py + c); c += 16 }
            if c < n { storePartial(f(va, loadPartial(pb + c, n - c)), py + c, n - c) }
        }
        default: plan.forEachRun(pool: pool) { ao, bo, yo, c0, c1 in
            let v = f(V16(repeating: a[ao]), V16(repeating: b[bo]))[0]
            (y + yo + c0).update(repeating: v, count: c1 - c0)
        }
        }
    }

    /// Runs shorter than a vector (e.g. a 3×3 kernel's 9 taps) where one input is contiguous
    /// across the last outer dimension too and the other holds one value per run: convolution
    /// weights (O, I, 3, 3) times a per-(sample, input channel) scale (N, 1, I, 1, 1), StyleGAN's
    /// modulation, ran 9 lanes of 16 per operation. Here each block of the last outer dimension
    /// (L runs, L·inner floats) is one vector loop against the per-run values expanded into a
    /// contiguous buffer, expanded again only when the block's offset into them changes (they
    /// repeat across the output channels). The same op on the same values: the same bits.
    /// Returns false when the plan does not have that form.
    @inline(__always)
    static func shortRunBlocks<F: LaneOp2>(_ plan: BroadcastPlan, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                           _ y: UnsafeMutablePointer<Float>, _ pool: ThreadPool, _ f: F) -> Bool {
        let n = plan.inner
        guard n < 16, plan.count > 0, let lastSize = plan.outerSizes.last, lastSize > 1, plan.outerY.last == n,
              lastSize * n <= 1 << 16 else { return false }
        let vectorA: Bool
        if plan.aInner == 1 && plan.bInner == 0 && plan.outerA.last == n {
            vectorA = true
        } else if plan.aInner == 0 && plan.bInner == 1 && plan.outerB.last == n {
            vectorA = false
        } else {
            return false
        }
        let sizes = Array(plan.outerSizes.dropLast()), sa = Array(plan.outerA.dropLast())
        let sb = Array(plan.outerB.dropLast()), sy = Array(plan.outerY.dropLast())
        let runStride = vectorA ? plan.outerB.last! : plan.outerA.last!
        let len = lastSize * n
        pool.splitWork(plan.rows / lastSize, work: plan.count) { range in
            let expanded = Gemm.threadBuffer(len + 16)
            var odo = Odometer(start: range.lowerBound, sizes: sizes, sa, sb, sy)
            var expandedAt = -1
            for block in range {
                if block != range.lowerBound { odo.next(sizes: sizes, sa, sb, sy) }
                let (vOff, sOff) = vectorA ? (odo.o0, odo.o1) : (odo.o1, odo.o0)
                if sOff != expandedAt {
                    let src = vectorA ? b : a
                    for j in 0..<lastSize {
                        let v = src[sOff + j * runStride]
                        for k in 0..<n { expanded[j * n + k] = v }
                    }
                    expandedAt = sOff
                }
                let pv = (vectorA ? a : b) + vOff, py = y + odo.o2
                var c = 0
                while c + 16 <= len {
                    let v = load16(pv + c), e = load16(expanded + c)
                    store16(vectorA ? f(v, e) : f(e, v), py + c)
                    c += 16
                }
                if c < len {
                    let v = loadPartial(pv + c, len - c), e = loadPartial(expanded + c, len - c)
                    storePartial(vectorA ? f(v, e) : f(e, v), py + c, len - c)
                }
            }
        }
        return true
    }

    /// Scalar reference: y[i] = op(a[ia(i)], b[ib(i)]) by explicit index arithmetic.
    public static func reference(_ op: BinaryOp, outShape: [Int], aShape: [Int], bShape: [Int],
                                 _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let n = outShape.reduce(1, *)
        for i in 0..<n {
            y[i] = scalar(op, a[broadcastIndex(i, outShape, aShape)], b[broadcastIndex(i, outShape, bShape)])
        }
    }

    /// The index in an input of shape `inShape` read by output element `i` under broadcasting.
    static func broadcastIndex(_ i: Int, _ outShape: [Int], _ inShape: [Int]) -> Int {
        var rest = i, index = 0, step = 1
        for d in stride(from: outShape.count - 1, through: 0, by: -1) {
            let c = rest % outShape[d]; rest /= outShape[d]
            let k = d - (outShape.count - inShape.count)
            if k >= 0 { if inShape[k] != 1 { index += c * step }; step *= inShape[k] }
        }
        return index
    }
}

