// Transpose: ONNX Transpose with any permutation, plus the strided-copy engine that Slice shares.
//
// Contract: `TransposePlan` (computed once) describes the output as a dense tensor whose input
// position is a base offset plus per-dimension strides; dimensions of size 1 are dropped and
// dimensions contiguous in both input and output are merged. The copy then takes one of four
// paths per innermost run: contiguous copy (input stride 1), fill (stride 0), a 16×16 blocked
// 2-D transpose when another dimension is contiguous in the input (whole blocks in registers:
// `Gemm.transpose16`), or a strided gather. Exact:
// equals `reference` bit for bit. Work is split over disjoint output blocks.

/// A dense output gathered from an input by offset + Σ index·stride (strides of any sign).
public struct StridedCopyPlan: Equatable, Sendable {
    public let outShape: [Int]
    public let count: Int
    let offset: Int
    let inner: Int, innerStride: Int
    let outerSizes: [Int], outerIn: [Int], outerOut: [Int]
    /// Blocked-transpose form: the outer dim contiguous in the input (moved last), else nil.
    let tSize: Int, tOut: Int, blocked: Bool

    public init(outShape: [Int], inStrides: [Int], offset: Int) throws {
        guard outShape.count == inStrides.count, outShape.allSatisfy({ $0 >= 0 }) else {
            throw KernelError.invalidShape("bad strided copy \(outShape) / \(inStrides)")
        }
        self.outShape = outShape
        self.offset = offset
        count = outShape.reduce(1, *)
        let c = collapseDims(outShape, [inStrides, denseStrides(outShape)])
        var sizes = c.shape, sin = c.strides[0], sout = c.strides[1]
        if sizes.isEmpty { sizes = [1]; sin = [0]; sout = [1] }
        inner = sizes.removeLast(); innerStride = sin.removeLast(); sout.removeLast()
        if innerStride != 1, let k = sin.firstIndex(of: 1) {
            blocked = true; tSize = sizes[k]; tOut = sout[k]
            sizes.remove(at: k); sin.remove(at: k); sout.remove(at: k)
        } else { blocked = false; tSize = 1; tOut = 0 }
        guard sizes.count <= maxOuterRank else { throw KernelError.invalidShape("strided copy of \(outShape) is too irregular") }
        outerSizes = sizes; outerIn = sin; outerOut = sout
    }

    /// y (dense, outShape) = x[offset + Σ i·stride].
    public func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        if count == 0 { return }
        let (sz, si, so) = (outerSizes, outerIn, outerOut)
        let rows = sz.reduce(1, *)
        let x = x + offset
        let n = inner, s = innerStride
        if blocked {
            let tb = (tSize + 15) / 16, nb = (n + 15) / 16
            let per = tb * nb
            pool.splitWork(rows * per, work: count) { range in
                var row = range.lowerBound / per
                var odo = Odometer(start: row, sizes: sz, si, so, so)
                for u in range {
                    let r = u / per
                    if r != row { odo.next(sizes: sz, si, so, so); row = r }
                    let b = u - r * per
                    let i0 = (b / nb) * 16, j0 = (b % nb) * 16
                    Transpose.block(x + odo.o0, s, y + odo.o1, tOut, i0..<min(tSize, i0 + 16), j0..<min(n, j0 + 16))
                }
            }
            return
        }
        let chunk = rows >= 8 || n <= 16384 ? n : 8192
        let per = (n + chunk - 1) / chunk
        pool.splitWork(rows * per, work: count) { range in
            var row = range.lowerBound / per
            var odo = Odometer(start: row, sizes: sz, si, so, so)
            for u in range {
                let r = u / per
                if r != row { odo.next(sizes: sz, si, so, so); row = r }
                let c0 = (u - r * per) * chunk, c1 = min(n, c0 + chunk)
                let px = x + odo.o0, py = y + odo.o1
                switch s {
                case 1: (py + c0).update(from: px + c0, count: c1 - c0)
                case 0: (py + c0).update(repeating: px[0], count: c1 - c0)
                default: for j in c0..<c1 { py[j] = px[j * s] }
                }
            }
        }
    }

    /// Scalar reference for the same description.
    public static func reference(outShape: [Int], inStrides: [Int], offset: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let n = outShape.reduce(1, *)
        for i in 0..<n {
            var rest = i, at = offset
            for d in stride(from: outShape.count - 1, through: 0, by: -1) {
                at += (rest % outShape[d]) * inStrides[d]; rest /= outShape[d]
            }
            y[i] = x[at]
        }
    }
}

/// A transpose of a dense `shape` by `perm` (output dim i is input dim perm[i]).
public struct TransposePlan: Equatable, Sendable {
    public let shape: [Int], perm: [Int], outShape: [Int]
    public let copy: StridedCopyPlan

    public init(shape: [Int], perm: [Int]) throws {
        guard perm.count == shape.count, Set(perm) == Set(0..<shape.count) else {
            throw KernelError.invalidShape("perm \(perm) is not a permutation of rank \(shape.count)")
        }
        let dense = denseStrides(shape)
        self.shape = shape; self.perm = perm
        outShape = perm.map { shape[$0] }
        copy = try StridedCopyPlan(outShape: outShape, inStrides: perm.map { dense[$0] }, offset: 0)
    }
}

public enum Transpose {
    /// y[i·ldy + j] = x[j·ldx + i] for i in `rows`, j in `cols` (at most 16 each): a whole 16×16
    /// block transposed in registers (`Gemm.transpose16`: 16 contiguous input runs), a partial
    /// one element by element.
    @inline(__always)
    static func block(_ x: UnsafePointer<Float>, _ ldx: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int,
                      _ rows: Range<Int>, _ cols: Range<Int>) {
        if rows.count == 16 && cols.count == 16 {
            Gemm.transpose16(x + cols.lowerBound * ldx + rows.lowerBound, ldx, y + rows.lowerBound * ldy + cols.lowerBound, ldy)
            return
        }
        for i in rows {
            let yi = y + i * ldy, xi = x + i
            for j in cols { yi[j] = xi[j * ldx] }
        }
    }

    public static func run(_ plan: TransposePlan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        plan.copy.run(x, y, pool: pool)
    }

    /// Scalar reference: y[i₀…] = x at the permuted index.
    public static func reference(shape: [Int], perm: [Int], _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let dense = denseStrides(shape)
        StridedCopyPlan.reference(outShape: perm.map { shape[$0] }, inStrides: perm.map { dense[$0] }, offset: 0, x, y)
    }
}
