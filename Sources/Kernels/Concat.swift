// Concat: ONNX Concat of N dense inputs along one axis.
//
// Contract: input k is viewed as outer × axisSizes[k] × inner and the output as
// outer × Σ axisSizes × inner. Each (outer index, input) pair is one contiguous block copy;
// blocks are split over the pool. The caller keeps the input pointer list and the axis sizes
// (computed once) so a call allocates nothing. Exact: equals `reference` bit for bit.

public enum Concat {
    /// y = concat(inputs, along the axis). `inputs.count == axisSizes.count`.
    public static func run(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, axisSizes: UnsafeBufferPointer<Int>,
                           outer: Int, inner: Int, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        let k = inputs.count
        var total = 0
        for s in axisSizes { total += s }
        let rowOut = total * inner
        pool.splitWork(outer * k, work: outer * rowOut) { range in
            var o = range.lowerBound / k, i = range.lowerBound % k
            var at = 0
            for j in 0..<i { at += axisSizes[j] }
            for _ in range {
                let n = axisSizes[i] * inner
                (y + o * rowOut + at * inner).update(from: inputs[i] + o * n, count: n)
                at += axisSizes[i]; i += 1
                if i == k { i = 0; at = 0; o += 1 }
            }
        }
    }

    /// Convenience over arrays (allocation-free when the arrays are stored by the caller).
    public static func run(inputs: [UnsafePointer<Float>], axisSizes: [Int], outer: Int, inner: Int,
                           _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        precondition(inputs.count == axisSizes.count)
        inputs.withUnsafeBufferPointer { ip in
            axisSizes.withUnsafeBufferPointer { sp in run(inputs: ip, axisSizes: sp, outer: outer, inner: inner, y, pool: pool) }
        }
    }

    /// Scalar reference.
    public static func reference(inputs: [UnsafePointer<Float>], axisSizes: [Int], outer: Int, inner: Int, _ y: UnsafeMutablePointer<Float>) {
        let total = axisSizes.reduce(0, +)
        for o in 0..<outer {
            var at = 0
            for (k, s) in axisSizes.enumerated() {
                for a in 0..<s { for i in 0..<inner { y[(o * total + at + a) * inner + i] = inputs[k][(o * s + a) * inner + i] } }
                at += s
            }
        }
    }
}
