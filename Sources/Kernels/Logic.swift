// Logic: comparisons, boolean connectives and element selection over the runtime's storage.
//
// Contract: the runtime holds booleans, like every integer type, as Int64 (0 = false, 1 = true;
// any nonzero value reads as true). `Compare.run` writes y[i] = op(a[ia(i)], b[ib(i)]) ? 1 : 0
// over a `BroadcastPlan` (numpy broadcasting), for float32 or Int64 operands of one type:
// equal, less, lessOrEqual, greater, greaterOrEqual compare values (IEEE: every comparison
// with a NaN is false, so Equal(NaN, NaN) is 0); and, or, xor combine truth values.
// `Compare.not` writes y[i] = x[i] == 0 ? 1 : 0. `Where.run` writes
// out[i] = c[ic(i)] != 0 ? x[ix(i)] : y[iy(i)] over a `WherePlan` (numpy broadcasting of the
// three shapes) for float32 or Int64 elements (the bits are copied, so −0 and NaN payloads
// survive). Outputs must not alias inputs of another element type. `CompareOp.holds` and
// `Where.reference` (index arithmetic per element) are the scalar definitions.

/// A predicate of two values.
public enum CompareOp: String, Equatable, Sendable, CaseIterable {
    case equal, less, lessOrEqual, greater, greaterOrEqual, and, or, xor

    /// The scalar definition (truth values: nonzero is true).
    @inlinable
    public func holds<T: Comparable & Numeric>(_ a: T, _ b: T) -> Bool {
        switch self {
        case .equal: return a == b
        case .less: return a < b
        case .lessOrEqual: return a <= b
        case .greater: return a > b
        case .greaterOrEqual: return a >= b
        case .and: return a != .zero && b != .zero
        case .or: return a != .zero || b != .zero
        case .xor: return (a != .zero) != (b != .zero)
        }
    }
}

public enum Compare {
    /// y = op(a, b) ? 1 : 0 over `plan.outShape` (a, b float32 or Int64; y Int64).
    public static func run<T: Comparable & Numeric>(_ op: CompareOp, _ plan: BroadcastPlan, _ a: UnsafePointer<T>,
                                                    _ b: UnsafePointer<T>, _ y: UnsafeMutablePointer<Int64>,
                                                    pool: ThreadPool = .serial) {
        switch op {
        case .equal: map(plan, a, b, y, pool) { $0 == $1 }
        case .less: map(plan, a, b, y, pool) { $0 < $1 }
        case .lessOrEqual: map(plan, a, b, y, pool) { $0 <= $1 }
        case .greater: map(plan, a, b, y, pool) { $0 > $1 }
        case .greaterOrEqual: map(plan, a, b, y, pool) { $0 >= $1 }
        case .and: map(plan, a, b, y, pool) { $0 != .zero && $1 != .zero }
        case .or: map(plan, a, b, y, pool) { $0 != .zero || $1 != .zero }
        case .xor: map(plan, a, b, y, pool) { ($0 != .zero) != ($1 != .zero) }
        }
    }

    @inline(__always)
    static func map<T>(_ plan: BroadcastPlan, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ y: UnsafeMutablePointer<Int64>,
                       _ pool: ThreadPool, _ f: (T, T) -> Bool) {
        let (sa, sb) = (plan.aInner, plan.bInner)
        plan.forEachRun(pool: pool) { ao, bo, yo, c0, c1 in
            for c in c0..<c1 { y[yo + c] = f(a[ao + c * sa], b[bo + c * sb]) ? 1 : 0 }
        }
    }

    /// Scalar reference: y[i] = op(a[ia(i)], b[ib(i)]) ? 1 : 0 by explicit index arithmetic.
    public static func reference<T: Comparable & Numeric>(_ op: CompareOp, outShape: [Int], aShape: [Int], bShape: [Int],
                                                          _ a: [T], _ b: [T]) -> [Int64] {
        (0..<outShape.reduce(1, *)).map { i in
            op.holds(a[Binary.broadcastIndex(i, outShape, aShape)], b[Binary.broadcastIndex(i, outShape, bShape)]) ? 1 : 0
        }
    }

    /// y[i] = x[i] == 0 ? 1 : 0 (logical not of Int64 truth values), split over the pool.
    public static func not(_ x: UnsafePointer<Int64>, _ y: UnsafeMutablePointer<Int64>, count: Int, pool: ThreadPool = .serial) {
        let chunk = 8192
        pool.splitWork((count + chunk - 1) / chunk, work: count) { range in
            for u in range {
                for i in u * chunk..<min(count, (u + 1) * chunk) { y[i] = x[i] == 0 ? 1 : 0 }
            }
        }
    }
}

/// How a condition and two branches broadcast to Where's output, collapsed for the kernel: an
/// innermost run in which each operand is a vector (stride 1) or a scalar (stride 0), and at
/// most 8 outer dimensions walked by an odometer (the output is dense: row r starts at r·inner).
public struct WherePlan: Equatable, Sendable, CustomStringConvertible {
    public let outShape: [Int]
    public let count: Int
    public let inner: Int
    /// Strides of condition, x and y along the innermost run.
    let cInner: Int, xInner: Int, yInner: Int
    let outerSizes: [Int], outerC: [Int], outerX: [Int], outerY: [Int]
    public let rows: Int

    /// Plans `outShape` = the broadcast of the three shapes (each must broadcast to it).
    public init(outShape: [Int], condShape: [Int], xShape: [Int], yShape: [Int]) throws {
        guard outShape.allSatisfy({ $0 >= 0 }) else { throw KernelError.invalidShape("negative dimension in \(outShape)") }
        self.outShape = outShape
        count = outShape.reduce(1, *)
        let c = collapseDims(outShape, [try broadcastStrides(condShape, to: outShape), try broadcastStrides(xShape, to: outShape),
                                        try broadcastStrides(yShape, to: outShape), denseStrides(outShape)])
        guard c.shape.count <= maxOuterRank + 1 else {
            throw KernelError.invalidShape("broadcast of \(condShape), \(xShape) and \(yShape) to \(outShape) is too irregular")
        }
        if let last = c.shape.last {
            inner = last
            cInner = c.strides[0].last!; xInner = c.strides[1].last!; yInner = c.strides[2].last!
            outerSizes = Array(c.shape.dropLast())
            outerC = Array(c.strides[0].dropLast()); outerX = Array(c.strides[1].dropLast()); outerY = Array(c.strides[2].dropLast())
        } else {
            inner = 1; cInner = 0; xInner = 0; yInner = 0; outerSizes = []; outerC = []; outerX = []; outerY = []
        }
        rows = count == 0 ? 0 : outerSizes.reduce(1, *)
    }

    public var description: String {
        "where(inner: \(inner) c:\(cInner) x:\(xInner) y:\(yInner), outer: \(outerSizes))"
    }
}

public enum Where {
    /// out = c ? x : y over `plan.outShape` (c Int64 truth values; x, y, out float32 or Int64).
    public static func run<T>(_ plan: WherePlan, _ c: UnsafePointer<Int64>, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>,
                              _ out: UnsafeMutablePointer<T>, pool: ThreadPool = .serial) {
        if plan.count == 0 { return }
        let (sc, sx, sy, inner) = (plan.cInner, plan.xInner, plan.yInner, plan.inner)
        pool.splitWork(plan.rows, work: plan.count) { range in
            var odo = Odometer(start: range.lowerBound, sizes: plan.outerSizes, plan.outerC, plan.outerX, plan.outerY)
            for r in range {
                if r != range.lowerBound { odo.next(sizes: plan.outerSizes, plan.outerC, plan.outerX, plan.outerY) }
                let (pc, px, py, po) = (c + odo.o0, x + odo.o1, y + odo.o2, out + r * inner)
                for i in 0..<inner { po[i] = pc[i * sc] != 0 ? px[i * sx] : py[i * sy] }
            }
        }
    }

    /// Scalar reference: out[i] = c[ic(i)] != 0 ? x[ix(i)] : y[iy(i)] by explicit index arithmetic.
    public static func reference<T>(outShape: [Int], condShape: [Int], xShape: [Int], yShape: [Int],
                                    _ c: [Int64], _ x: [T], _ y: [T]) -> [T] {
        (0..<outShape.reduce(1, *)).map { i in
            c[Binary.broadcastIndex(i, outShape, condShape)] != 0
                ? x[Binary.broadcastIndex(i, outShape, xShape)] : y[Binary.broadcastIndex(i, outShape, yShape)]
        }
    }
}
