// Expand: ONNX Expand, a broadcast copy of one input to a larger shape.
//
// Contract: planned by `BroadcastPlan(outShape:aShape:bShape: [])` (the input is operand a);
// rows of the collapsed plan are copied (input stride 1) or filled (stride 0). Exact: equals
// `reference` bit for bit.

/// Expand: broadcast copy of one input (ONNX Expand), planned by `BroadcastPlan(outShape:aShape:bShape: [])`.
public enum Expand {
    /// y = x broadcast to `plan.outShape` (x has `plan.aShape`). Exact.
    public static func run(_ plan: BroadcastPlan, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           pool: ThreadPool = .serial) {
        let sa = plan.aInner
        plan.forEachRun(pool: pool) { ao, _, yo, c0, c1 in
            if sa == 1 { (y + yo + c0).update(from: x + ao + c0, count: c1 - c0) }
            else { (y + yo + c0).update(repeating: x[ao], count: c1 - c0) }
        }
    }

    /// Scalar reference.
    public static func reference(outShape: [Int], inShape: [Int], _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let n = outShape.reduce(1, *)
        for i in 0..<n { y[i] = x[Binary.broadcastIndex(i, outShape, inShape)] }
    }
}
