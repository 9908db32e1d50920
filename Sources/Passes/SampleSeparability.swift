// SampleSeparability: whether a graph computes each sample of its batch from that sample alone,
// so that a Session may run a large batch as chunks of a smaller one (Runtime's
// Program+BatchChunks) and get the same values; and the per-sample figures its chunking rule
// weighs. An analysis: it rewrites nothing.
//
// Contract: `reason(full:chunk:batch:chunkBatch:)` takes one graph after the same passes at
// two bindings of its batch (`batch` in `full`, `chunkBatch` in `chunk`, different) and returns
// nil when all of these hold, else a sentence naming the first that does not:
//  - both have the same nodes (op, operands, attributes), inputs and outputs: the passes made
//    the same decisions at both sizes;
//  - every value is typed alike in both: the same shape, or axis 0 `batch` in `full` and
//    `chunkBatch` in `chunk` with the other axes alike (the value carries the batch); every
//    graph input and output, and every value computed from a graph input, carries it;
//  - initializers and Constant nodes are the same, except integer ones that only shape
//    operands read (Reshape's shape, Resize's sizes, …: what a batch size folds into);
//  - no node mixes samples (`OperatorFamily.mixesSamples`, the carrying inputs marked).
// `footprint(_:batch:)` gives, per sample, the largest bytes one node reads and writes of
// batch-carrying values, those bytes summed over the nodes, the multiply-add FLOPs of the
// convolutions and matrix products, and the bytes of float initializers.

import GraphIR

public enum SampleSeparability {
    /// Why `full` (bound to `batch`) cannot run as chunks of `chunk` (the same graph bound to
    /// `chunkBatch`), or nil when it can.
    public static func reason(full: Graph, chunk: Graph, batch: Int, chunkBatch: Int) throws -> String? {
        precondition(batch != chunkBatch, "the two bindings must differ")
        guard full.nodes.count == chunk.nodes.count, full.values.count == chunk.values.count,
              full.inputs == chunk.inputs, full.outputs == chunk.outputs else {
            return "the passes made different graphs at batch \(batch) and \(chunkBatch)"
        }
        let shapeOnly = shapeOperandReaders(full)
        // Values whose shapes carry the batch (axis 0 is it in both bindings).
        var carries = [Bool](repeating: false, count: full.values.count)
        for i in full.values.indices {
            let a = full.values[i].type, b = chunk.values[i].type
            guard a?.dtype == b?.dtype, let sa = a?.fixedShape, let sb = b?.fixedShape, sa.count == sb.count else {
                if a == nil && b == nil { continue }
                return "value '\(full.values[i].name)' is typed \(a.map { "\($0)" } ?? "nil") at batch \(batch) but \(b.map { "\($0)" } ?? "nil") at \(chunkBatch)"
            }
            if sa == sb { continue }
            guard sa.first == batch, sb.first == chunkBatch, sa.dropFirst() == sb.dropFirst() else {
                return "value '\(full.values[i].name)' has shape \(sa) at batch \(batch) but \(sb) at \(chunkBatch)"
            }
            carries[i] = true
        }
        for v in full.inputs + full.outputs where !carries[v.index] {
            return "'\(full.name(of: v))' does not carry the batch on axis 0"
        }
        for (v, t) in full.initializers {
            guard let u = chunk.initializers[v] else { return "initializer '\(full.name(of: v))' is missing at batch \(chunkBatch)" }
            if t == u || (carries[v.index] && repeatsChunk(t, u, chunkBatch: chunkBatch)) { continue }
            guard t.dtype != .float32, shapeOnly.contains(v) else {
                return "initializer '\(full.name(of: v))' differs between batch \(batch) and \(chunkBatch)"
            }
        }
        if chunk.initializers.count != full.initializers.count { return "the initializers differ between the bindings" }
        // Values computed from a graph input, in node order (the graph is topologically sorted).
        var fromInput = [Bool](repeating: false, count: full.values.count)
        for v in full.inputs { fromInput[v.index] = true }
        for (a, b) in zip(full.nodes, chunk.nodes) {
            guard a.op == b.op, a.inputs == b.inputs, a.outputs == b.outputs else {
                return "node '\(a.name)' (\(a.op.rawValue)) differs between the bindings"
            }
            if a.attributes != b.attributes && !(a.op == .constant && a.outputs.allSatisfy { shapeOnly.contains($0) }) {
                return "node '\(a.name)' (\(a.op.rawValue)) has other attributes at batch \(chunkBatch)"
            }
            let batched = a.inputs.map { $0.map { carries[$0.index] } ?? false }
            let computed = a.inputs.contains { $0.map { fromInput[$0.index] } ?? false }
            for o in a.outputs {
                fromInput[o.index] = computed
                if computed && !carries[o.index] {
                    return "node '\(a.name)' (\(a.op.rawValue)) computes '\(full.name(of: o))' from the batch without carrying it"
                }
            }
            if try a.op.family.mixesSamples(a, batched, full) {
                return "node '\(a.name)' (\(a.op.rawValue)) combines samples of the batch"
            }
        }
        return nil
    }

    /// Whether `full` (a constant carrying the batch, folded at the whole batch) holds at each
    /// sample b what `chunk` (the same constant folded at the chunk size) holds at b mod
    /// `chunkBatch`: what every chunk would see of it.
    public static func repeatsChunk(_ full: Tensor, _ chunk: Tensor, chunkBatch: Int) -> Bool {
        guard full.dtype == chunk.dtype, chunk.count > 0, full.count % chunk.count == 0 else { return false }
        switch (full.storage, chunk.storage) {
        case (.float(let a), .float(let b)):
            return a.indices.allSatisfy { a[$0].bitPattern == b[$0 % b.count].bitPattern }
        case (.int64(let a), .int64(let b)):
            return a.indices.allSatisfy { a[$0] == b[$0 % b.count] }
        default:
            return false
        }
    }

    /// The values that only shape operands read: what an integer constant may fold a batch
    /// size into without changing what a sample computes. Only operands that give an output
    /// shape (checked apart) and select no data: Slice's starts and ends, Pad's pads and
    /// Resize's roi pick which values a sample reads, so a batch size folded into them is not
    /// allowed (`Slice(x, N − 1, N, axis 1)` reads another channel in every chunk size).
    static func shapeOperandReaders(_ g: Graph) -> Set<ValueID> {
        let shapeSlots: [Op: Set<Int>] = [
            .reshape: [1], .expand: [1], .constantOfShape: [0], .tile: [1], .resize: [3],
            .split: [1], .squeeze: [1], .unsqueeze: [1],
        ]
        var only: [ValueID: Bool] = [:]
        for n in g.nodes {
            for (i, v) in n.inputs.enumerated() {
                guard let v else { continue }
                let ok = shapeSlots[n.op]?.contains(i) ?? false
                only[v] = (only[v] ?? true) && ok
            }
        }
        for v in g.outputs { only[v] = false }
        return Set(only.filter(\.value).keys)
    }

    /// Per-sample figures of a graph bound to `batch` (fixed shapes), for a chunking rule.
    public struct Footprint: Equatable {
        /// The most bytes one node reads and writes of batch-carrying values, per sample.
        public var largestNodeBytes: Int
        /// Those bytes summed over the nodes, per sample.
        public var trafficBytes: Int
        /// Multiply-add FLOPs (2 per multiply-add) of the convolutions and matrix products, per sample.
        public var flops: Double
        /// Bytes of the float initializers (the weights every chunk reads again).
        public var weightBytes: Int

        public init(largestNodeBytes: Int, trafficBytes: Int, flops: Double, weightBytes: Int) {
            self.largestNodeBytes = largestNodeBytes
            self.trafficBytes = trafficBytes
            self.flops = flops
            self.weightBytes = weightBytes
        }
    }

    /// The footprint of `g` at batch `batch` (values whose axis 0 is `batch` count as carrying it).
    public static func footprint(_ g: Graph, batch: Int) -> Footprint {
        func bytes(_ v: ValueID?) -> Int {
            guard let v, g.initializers[v] == nil, let t = g.type(of: v), let s = t.fixedShape,
                  s.first == batch, batch > 0 else { return 0 }
            return s.reduce(1, *) / batch * t.dtype.byteSize
        }
        var largest = 0, traffic = 0
        var flops = 0.0
        for n in g.nodes {
            let b = n.inputs.reduce(0) { $0 + bytes($1) } + n.outputs.reduce(0) { $0 + bytes($1) }
            largest = max(largest, b)
            traffic += b
            flops += nodeFlops(n, g) / Double(max(batch, 1))
        }
        let weights = g.initializers.values.reduce(0) { $0 + ($1.dtype == .float32 ? $1.count * 4 : 0) }
        return Footprint(largestNodeBytes: largest, trafficBytes: traffic, flops: flops, weightBytes: weights)
    }

    /// 2·multiply-adds of a convolution, transposed convolution or matrix product (fused or
    /// not); 0 for other ops.
    static func nodeFlops(_ n: Node, _ g: Graph) -> Double {
        guard n.inputs.count > 1, let w = n.inputs[1].flatMap({ g.type(of: $0)?.fixedShape }),
              let x = n.inputs[0].flatMap({ g.type(of: $0)?.fixedShape }),
              let y = g.type(of: n.outputs[0])?.fixedShape else { return 0 }
        let outCount = Double(y.reduce(1, *)), inCount = Double(x.reduce(1, *))
        switch n.op {
        case .conv, .fusedConv:
            // Each output element: C_in/group · kernel multiply-adds (w is [C_out, C_in/g, k…]).
            return 2 * outCount * Double(w.dropFirst().reduce(1, *))
        case .convTranspose, .fusedConvTranspose, .fusedConvTransposeBatchNorm:
            // Each input element feeds C_out/group · kernel outputs (w is [C_in, C_out/g, k…]).
            return 2 * inCount * Double(w.dropFirst().reduce(1, *))
        case .gemm, .fusedGemm, .matMul:
            // Each output element: the contracted size (x's last axis, or its first when transposed).
            let transA = ((try? n.attributes.int("transA", default: 0)) ?? 0) != 0
            let k = n.op == .matMul || !transA ? x.last ?? 1 : x.first ?? 1
            return 2 * outCount * Double(k)
        default:
            return 0
        }
    }
}
