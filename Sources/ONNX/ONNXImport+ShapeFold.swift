// ONNXImport+ShapeFold: evaluates the constant shape arithmetic that exporters emit with ops
// outside the IR's op set, so the imported graph holds a plain `Constant` instead.
//
// Contract:
// - `ConstantOfShape` is read only when every input is a constant known at import time (an
//   initializer, a `Constant` node, or a value this rule already computed); the node becomes a
//   `Constant` with the computed value. `Equal` and `Where` on such integer constants become
//   `Constant`s the same way (so an Expand shape built from them is known when shapes are
//   inferred); on anything else they stay the runtime ops they are. ConstantOfShape may fill a tensor up
//   to `Limits.maxTensorBytes` (models that ship weights as fills); integer broadcasts stay
//   under 2^20 elements. Otherwise: one error naming the node
//   and op ("supported only on constant inputs").
// - To know those inputs, the int64 results of `Add`/`Sub`/`Mul`/`Div`, `Concat`, `Unsqueeze`
//   and `Identity` on constant int64 operands are evaluated too, but those nodes stay in the
//   graph as they are (import maps 1:1; the constant-folding pass removes them).
// Example: PyTorch's TorchScript exporter writes `t.expand(-1, -1, 28, 28)` as
//   ConstantOfShape([4]) → Mul(-1) → Equal([-1,-1,28,28], ·) → Where(·, ones, [-1,-1,28,28]) → Expand,
// which imports as Expand(t, Constant [1, 1, 28, 28]).
// Float data is never folded here, and nothing depending on a graph input is evaluated.
import Core
import GraphIR

extension ModelReader {
    /// ONNX ops read only as constant shape arithmetic (not in the IR's op set), with their input
    /// counts (the IR ops this rule evaluates take theirs from `Op.inputArity`).
    static let shapeFoldOnly: [String: ClosedRange<Int>] = ["ConstantOfShape": 1...2]

    mutating func foldShapeConstants(_ read: inout [ReadNode]) throws {
        var known: [ValueID: Tensor] = g.initializers
        for k in read.indices {
            let n = read[k].node
            let here = describe(read[k].index, n.name, read[k].opType)
            let args = n.inputs.map { $0.flatMap { known[$0] } }
            let allKnown = !args.isEmpty && args.allSatisfy { $0 != nil }
            if Self.shapeFoldOnly[read[k].opType] != nil {
                guard allKnown, n.outputs.count == 1 else {
                    throw fail("\(here): operator '\(read[k].opType)' is supported only on constant inputs (shape arithmetic); this one depends on a graph input")
                }
                let t = try evaluate(read[k].opType, args.map { $0! }, n.attributes, here)
                known[n.outputs[0]] = t
                read[k].node = Node(.constant, name: n.name, inputs: [], outputs: n.outputs, attributes: Attributes(["value": .tensor(t)]))
                continue
            }
            switch n.op {
            case .constant:
                if case .tensor(let t)? = n.attributes["value"], let o = n.outputs.first { known[o] = t }
            case .equal, .where:
                guard allKnown, args.allSatisfy({ if case .int64 = $0!.storage { return true } else { return false } }),
                      n.outputs.count == 1 else { continue }
                let t = try evaluate(read[k].opType, args.map { $0! }, n.attributes, here)
                known[n.outputs[0]] = t
                read[k].node = Node(.constant, name: n.name, inputs: [], outputs: n.outputs, attributes: Attributes(["value": .tensor(t)]))
            case .add, .sub, .mul, .div, .concat, .unsqueeze, .identity:
                guard allKnown, args.allSatisfy({ if case .int64 = $0!.storage { return true } else { return false } }),
                      let o = n.outputs.first, n.outputs.count == 1 else { continue }
                if let t = try? evaluate(read[k].opType, args.map { $0! }, n.attributes, here) { known[o] = t }
            default:
                continue
            }
        }
    }

    private func evaluate(_ op: String, _ a: [Tensor], _ attrs: Attributes, _ here: String) throws -> Tensor {
        let arity = Self.shapeFoldOnly[op] ?? Op(onnxName: op)?.inputArity ?? 1...Int.max
        guard arity.contains(a.count) else {
            throw fail("\(here): \(op) takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) or more") inputs, got \(a.count)")
        }
        switch op {
        case "ConstantOfShape":
            let shape = a[0].int64s.map(Int.init)
            // A filled weight tensor (the backend's light/ models hold every weight this way) may
            // be as large as any tensor Gannet accepts (`Limits`), not just shape-sized.
            guard let count = Limits.elementCountIfValid(shape) else {
                throw fail("\(here): ConstantOfShape shape \(shape) has a negative dim or overflows")
            }
            var dtype = DType.float32
            if case .tensor(let v)? = attrs["value"] { dtype = v.dtype }
            try rethrowing(GraphError.self, as: { fail("\(here): \($0.message)") }) {
                try Limits.checkTensor(shape, dtype, "ConstantOfShape output")
            }
            if case .tensor(let v)? = attrs["value"] {
                guard v.count == 1 else { throw fail("\(here): ConstantOfShape value must hold one element") }
                switch v.storage {
                case .float(let f): return Tensor(shape: shape, floats: [Float](repeating: f[0], count: count))
                case .int64(let i): return Tensor(shape: shape, int64s: [Int64](repeating: i[0], count: count), dtype: v.dtype)
                }
            }
            return Tensor(shape: shape, repeating: 0)
        case "Equal":
            return try broadcast(a, here, dtype: .bool) { $0[0] == $0[1] ? 1 : 0 }
        case "Where":
            guard a.count == 3, a[1].dtype == a[2].dtype, a[1].dtype != .float32 else {
                throw fail("\(here): Where is folded for integer branches of one type only")
            }
            return try broadcast(a, here, dtype: a[1].dtype) { $0[0] != 0 ? $0[1] : $0[2] }
        case "Add": return try broadcast(a, here, dtype: a[0].dtype) { $0[0] &+ $0[1] }
        case "Sub": return try broadcast(a, here, dtype: a[0].dtype) { $0[0] &- $0[1] }
        case "Mul": return try broadcast(a, here, dtype: a[0].dtype) { $0[0] &* $0[1] }
        case "Div":
            guard !a[1].int64s.contains(0) else { throw fail("\(here): integer division by zero") }
            return try broadcast(a, here, dtype: a[0].dtype) { $0[0].dividedReportingOverflow(by: $0[1]).partialValue }
        case "Identity": return a[0]
        case "Concat":
            guard a.allSatisfy({ $0.shape.count == 1 }) else { throw fail("\(here): only 1-D Concat is evaluated") }
            let v = a.flatMap { $0.int64s }
            return Tensor(shape: [v.count], int64s: v, dtype: a[0].dtype)
        case "Unsqueeze":
            guard a[0].shape.isEmpty else { throw fail("\(here): only scalar Unsqueeze is evaluated") }
            return Tensor(shape: [1], int64s: a[0].int64s, dtype: a[0].dtype)
        default:
            throw fail("\(here): cannot evaluate '\(op)'")
        }
    }

    /// Multidirectional (numpy) broadcasting of integer tensors.
    private func broadcast(_ a: [Tensor], _ here: String, dtype: DType, _ f: ([Int64]) -> Int64) throws -> Tensor {
        let rank = a.map { $0.shape.count }.max() ?? 0
        let shapes = a.map { [Int](repeating: 1, count: rank - $0.shape.count) + $0.shape }
        var out = [Int](repeating: 1, count: rank)
        for d in 0..<rank {
            for s in shapes where s[d] != 1 {
                guard out[d] == 1 || out[d] == s[d] else { throw fail("\(here): shapes \(a.map { $0.shape }) do not broadcast") }
                out[d] = s[d]
            }
        }
        guard let count = Limits.elementCountIfValid(out), count <= 1 << 20 else {
            throw fail("\(here): a constant of shape \(out) is too large to evaluate")
        }
        let data = a.map { $0.int64s }
        var result = [Int64](repeating: 0, count: count)
        var idx = [Int](repeating: 0, count: rank)
        for flat in 0..<count {
            var r = flat
            for d in stride(from: rank - 1, through: 0, by: -1) { idx[d] = r % out[d]; r /= out[d] }
            let vals: [Int64] = zip(shapes, data).map { s, v in
                var off = 0
                for d in 0..<rank { off = off * s[d] + (s[d] == 1 ? 0 : idx[d]) }
                return v[off]
            }
            result[flat] = f(vals)
        }
        return Tensor(shape: out, int64s: result, dtype: dtype == .float32 ? .int64 : dtype)
    }
}
