// Gather: ONNX Gather along one axis with Int64 indices.
//
// Contract: x is outer × axisSize × inner, the indices are a flat list of `indexCount` values
// (the caller owns their shape), y is outer × indexCount × inner. Negative indices count from the
// end; an index outside [-axisSize, axisSize) makes the call throw
// `KernelError.indexOutOfRange` before anything is written. Exact: equals `reference` bit for bit.

public enum Gather {
    public static func run(_ x: UnsafePointer<Float>, indices: UnsafePointer<Int64>, indexCount: Int, _ y: UnsafeMutablePointer<Float>,
                           outer: Int, axisSize: Int, inner: Int, pool: ThreadPool = .serial) throws {
        try validate(indices, indexCount, axisSize)
        let n = Int64(axisSize)
        if inner == 1 {
            pool.splitWork(outer, work: outer * indexCount) { range in
                for o in range {
                    let px = x + o * axisSize, py = y + o * indexCount
                    for j in 0..<indexCount { let i = indices[j]; py[j] = px[Int(i < 0 ? i + n : i)] }
                }
            }
            return
        }
        pool.splitWork(outer * indexCount, work: outer * indexCount * inner) { range in
            for u in range {
                let o = u / indexCount, j = u - o * indexCount
                let i = indices[j]
                (y + u * inner).update(from: x + (o * axisSize + Int(i < 0 ? i + n : i)) * inner, count: inner)
            }
        }
    }

    /// Throws `indexOutOfRange` for the first index outside [-axisSize, axisSize).
    public static func validate(_ indices: UnsafePointer<Int64>, _ count: Int, _ axisSize: Int) throws {
        let n = Int64(axisSize)
        for j in 0..<count where indices[j] < -n || indices[j] >= n {
            throw KernelError.indexOutOfRange(index: Int(indices[j]), size: axisSize)
        }
    }

    /// Scalar reference.
    public static func reference(_ x: UnsafePointer<Float>, indices: UnsafePointer<Int64>, indexCount: Int, _ y: UnsafeMutablePointer<Float>,
                                 outer: Int, axisSize: Int, inner: Int) throws {
        try validate(indices, indexCount, axisSize)
        for o in 0..<outer {
            for j in 0..<indexCount {
                var i = Int(indices[j]); if i < 0 { i += axisSize }
                for k in 0..<inner { y[(o * indexCount + j) * inner + k] = x[(o * axisSize + i) * inner + k] }
            }
        }
    }
}
