// Limits: overflow-checked size arithmetic and memory ceilings for sizes read from input.
//
// Contract: every dim, element count, pad, stride and dilation that comes from a file (ONNX,
// IR text, spec, checkpoint) goes through these helpers before anything is computed from it or
// allocated. `multiply`/`add`/`subtract` return the exact result or throw a `GraphError`
// naming what was being computed; `elementCount` rejects negative dims and overflow;
// `checkTensor`/`checkType` also reject a tensor whose bytes exceed `maxTensorBytes`, and
// `checkTotal` a sum over `maxTotalBytes`. The ceilings are read once from the environment:
//   GANNET_MAX_TENSOR_BYTES  one tensor          (default 8 GiB)
//   GANNET_MAX_TOTAL_BYTES   one graph/program   (default 64 GiB)
// as a byte count with an optional K, M, G or T suffix (powers of 1024). An unreadable value
// is reported once on stderr and the default is used. Symbolic dims (the batch `N`) count as
// 1 in `checkType`: the per-sample size is checked when a graph is built and the bound size
// when a session binds the batch.

import Foundation

public enum Limits {
    public static let tensorBytesVariable = "GANNET_MAX_TENSOR_BYTES"
    public static let totalBytesVariable = "GANNET_MAX_TOTAL_BYTES"
    public static let defaultMaxTensorBytes = 8 << 30
    public static let defaultMaxTotalBytes = 64 << 30

    /// The largest tensor, in bytes, that Gannet builds from input.
    public static let maxTensorBytes: Int = setting(tensorBytesVariable, default: defaultMaxTensorBytes)
    /// The largest total (a graph's parameters, a program's arena), in bytes.
    public static let maxTotalBytes: Int = setting(totalBytesVariable, default: defaultMaxTotalBytes)

    /// Reads a byte count such as `8G`, `512M` or `1048576`; nil when it is not one.
    public static func parseBytes(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
        var shift = 0
        if let last = s.last, let k = ["K": 10, "M": 20, "G": 30, "T": 40][String(last)] {
            shift = k
            s.removeLast()
        }
        guard let v = Int(s), v > 0, v <= (Int.max >> shift) else { return nil }
        return v << shift
    }

    static func setting(_ name: String, default value: Int) -> Int {
        guard let raw = ProcessInfo.processInfo.environment[name] else { return value }
        if let v = parseBytes(raw) { return v }
        FileHandle.standardError.write(Data("warning: \(name)='\(raw)' is not a byte count (e.g. 8G); using \(describeBytes(value))\n".utf8))
        return value
    }

    /// `8 GiB`, `1.5 TiB`, `12 bytes`.
    public static func describeBytes(_ n: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        if n < 1024 { return "\(n) bytes" }
        var v = Double(n), u = -1
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        let text = v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v)
        return "\(text) \(units[u])"
    }

    // MARK: checked arithmetic

    /// a × b, or an error naming `what` when the product overflows.
    public static func multiply(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        if o { throw GraphError("\(what()): \(a) × \(b) overflows") }
        return r
    }

    /// a + b, or an error naming `what` when the sum overflows.
    public static func add(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        if o { throw GraphError("\(what()): \(a) + \(b) overflows") }
        return r
    }

    /// a − b, or an error naming `what` when the difference overflows.
    public static func subtract(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (r, o) = a.subtractingReportingOverflow(b)
        if o { throw GraphError("\(what()): \(a) − \(b) overflows") }
        return r
    }

    /// The product of `dims` (each ≥ 0), or an error naming `what`.
    public static func elementCount<S: Sequence>(_ dims: S, _ what: @autoclosure () -> String) throws -> Int where S.Element == Int {
        var n = 1
        for d in dims {
            if d < 0 { throw GraphError("\(what()): dimension \(d) is negative") }
            let (r, o) = n.multipliedReportingOverflow(by: d)
            if o { throw GraphError("\(what()): \(Array(dims)) has more elements than fit in 64 bits") }
            n = r
        }
        return n
    }

    /// The product of `dims`, nil when it overflows or a dim is negative (no error).
    public static func elementCountIfValid<S: Sequence>(_ dims: S) -> Int? where S.Element == Int {
        try? elementCount(dims, "")
    }

    // MARK: ceilings

    /// Bytes of a tensor of `shape` with `elementBytes`-byte elements, or an error naming
    /// `what` when a dim is negative, the size overflows or it exceeds `maxTensorBytes`.
    /// An empty tensor (a zero dim) is sized by its other dims: strides and loop bounds are
    /// products of them, so they must fit as if the tensor were not empty.
    @discardableResult
    public static func checkTensor(_ shape: [Int], elementBytes: Int, _ what: @autoclosure () -> String) throws -> Int {
        let count = try elementCount(shape, what())
        let span = count == 0 ? try elementCount(shape.filter { $0 != 0 }, what()) : count
        let (bytes, o) = span.multipliedReportingOverflow(by: elementBytes)
        if o || bytes > maxTensorBytes {
            let size = o ? "more than \(describeBytes(Int.max))" : describeBytes(bytes)
            let empty = count == 0 ? " (empty, but its other dims span that much)" : ""
            throw GraphError("\(what()): a tensor of shape \(shape) needs \(size)\(empty), over the \(describeBytes(maxTensorBytes)) limit on one tensor (set \(tensorBytesVariable) to raise it)")
        }
        return count * elementBytes
    }

    /// `checkTensor` for a dtype.
    @discardableResult
    public static func checkTensor(_ shape: [Int], _ dtype: DType, _ what: @autoclosure () -> String) throws -> Int {
        try checkTensor(shape, elementBytes: dtype.byteSize, what())
    }

    /// `checkTensor` for a type, symbolic dims counted as 1 (the per-sample size).
    @discardableResult
    public static func checkType(_ t: TensorType, _ what: @autoclosure () -> String) throws -> Int {
        try checkTensor(t.shape.map { $0.value ?? 1 }, t.dtype, what())
    }

    /// Errors when `bytes` (a total over many tensors) exceeds `maxTotalBytes`.
    public static func checkTotal(_ bytes: Int, _ what: @autoclosure () -> String) throws {
        if bytes > maxTotalBytes {
            throw GraphError("\(what()) needs \(describeBytes(bytes)) in all, over the \(describeBytes(maxTotalBytes)) limit (set \(totalBytesVariable) to raise it)")
        }
    }
}
