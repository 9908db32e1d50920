// AxisSplit: ONNX Split of one dense input into parts along one axis — Concat's inverse.
//
// Contract: the input is viewed as outer × Σ sizes × inner and output k as
// outer × sizes[k] × inner, each element `elementBytes` wide (4: float32, 8: the runtime's
// Int64 integers), so one kernel serves every element type. Each (outer index, part) pair is
// one contiguous block copy; blocks are split over the pool. Outputs must not overlap the
// input. Exact: equals `reference` (element-wise index arithmetic) bit for bit.

public enum AxisSplit {
    /// outputs[k] = the k-th slab of x along the axis.
    public static func run(_ x: UnsafeRawPointer, _ outputs: [UnsafeMutableRawPointer], sizes: [Int], outer: Int, inner: Int,
                           elementBytes: Int, pool: ThreadPool = .serial) {
        precondition(outputs.count == sizes.count)
        let k = sizes.count
        let total = sizes.reduce(0, +)
        pool.splitWork(outer * k, work: outer * total * inner) { range in
            for u in range {
                let o = u / k, i = u % k
                var start = 0
                for j in 0..<i { start += sizes[j] }
                let bytes = sizes[i] * inner * elementBytes
                (outputs[i] + o * bytes).copyMemory(from: x + (o * total + start) * inner * elementBytes, byteCount: bytes)
            }
        }
    }

    /// Scalar reference over element arrays.
    public static func reference<T>(_ x: [T], sizes: [Int], outer: Int, inner: Int) -> [[T]] {
        let total = sizes.reduce(0, +)
        var at = 0
        return sizes.map { s in
            defer { at += s }
            var part: [T] = []
            part.reserveCapacity(outer * s * inner)
            for o in 0..<outer { for a in 0..<s { for i in 0..<inner { part.append(x[(o * total + at + a) * inner + i]) } } }
            return part
        }
    }
}
