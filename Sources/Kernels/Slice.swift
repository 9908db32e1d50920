// Slice: ONNX Slice on a dense tensor, with per-axis starts and steps already normalised and
// clamped by the caller (the runtime computes them once from the ONNX starts/ends/axes/steps).
//
// Contract: output element (i₀, …) reads x[(starts[d] + i_d·steps[d]) along every d]; steps may
// be negative, never 0. `SlicePlan` validates that every read is in range and collapses the
// copy (see StridedCopyPlan in Transpose.swift). Exact: equals `reference` bit for bit.

public struct SlicePlan: Equatable, Sendable {
    public let shape: [Int], starts: [Int], steps: [Int], outShape: [Int]
    public let copy: StridedCopyPlan

    /// All arrays have the input's rank; starts[d] is the first index read along d.
    public init(shape: [Int], starts: [Int], steps: [Int], outShape: [Int]) throws {
        let r = shape.count
        guard starts.count == r, steps.count == r, outShape.count == r else {
            throw KernelError.invalidShape("slice parameters do not match rank \(r)")
        }
        for d in 0..<r where outShape[d] > 0 {
            let last = starts[d] + (outShape[d] - 1) * steps[d]
            guard steps[d] != 0, (0..<shape[d]).contains(starts[d]), (0..<shape[d]).contains(last) else {
                throw KernelError.invalidShape("slice along axis \(d) reads outside 0..<\(shape[d])")
            }
        }
        guard outShape.allSatisfy({ $0 >= 0 }) else { throw KernelError.invalidShape("negative slice extent in \(outShape)") }
        self.shape = shape; self.starts = starts; self.steps = steps; self.outShape = outShape
        let dense = denseStrides(shape)
        let empty = outShape.contains(0)
        copy = try StridedCopyPlan(outShape: outShape, inStrides: (0..<r).map { dense[$0] * steps[$0] },
                                   offset: empty ? 0 : (0..<r).reduce(0) { $0 + starts[$1] * dense[$1] })
    }
}

public enum Slice {
    public static func run(_ plan: SlicePlan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        plan.copy.run(x, y, pool: pool)
    }

    /// Scalar reference.
    public static func reference(shape: [Int], starts: [Int], steps: [Int], outShape: [Int],
                                 _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let n = outShape.reduce(1, *)
        let dense = denseStrides(shape)
        for i in 0..<n {
            var rest = i, at = 0
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                at += (starts[d] + (rest % outShape[d]) * steps[d]) * dense[d]; rest /= outShape[d]
            }
            y[i] = x[at]
        }
    }
}
