// GeneratorModel: finds a generator's latent input, class input, class count and output range
// (GeneratorRunner.swift runs it in batches; the engine behind gan-sample and gan-interpolate).
//
// Contract:
// - Latent input: metadata `gannet.latent_input`, else `--latent-input`, else the only float
//   graph input of rank 2 ([N, Z]) or rank 4 ([N, Z, 1, 1]); Z must be fixed (or given by
//   metadata `gannet.latent_size`, which must agree when both exist).
// - Class input: metadata `gannet.label_input`, else `--class-input`, else the only integer
//   graph input. Its class count: metadata `gannet.num_classes`, else `--num-classes`, else the
//   first dim of the weight initializer of a Gather (Embedding) that reads the class input.
// - Output range: `--range a,b` if given, else metadata `gannet.output_range` ("a,b"), else the
//   op producing the output (looking through shape-only ops): Tanh → [−1, 1], Sigmoid → [0, 1],
//   else an error that names `--range`. Output shapes [N,C,H,W] (C 1 or 3), [N,H,W], or
//   [N,D] with metadata `gannet.image_shape` ("C,H,W").
// - A fixed batch dim in the graph forces that batch size (the last batch is zero-padded).
//   Each sample's result does not depend on the batch it is in (inference pipeline: BatchNorm
//   uses running statistics).
// - `cutClassEmbedding()` replaces every Gather(weight initializer, class input) by a new graph
//   input `<gather output>` of type f32[N, D] (the class input is dropped when nothing else reads
//   it), so a caller can feed interpolated embedding rows.
// - A float initializer holding a NaN or an infinity is an error at load, and so is a
//   non-finite generated value (naming the output and the sample): no image of NaNs is written
//   and no metric of one is reported.
// Every failure is a `GannetError` (Core) naming the model file and, where it helps, the flag
// to pass. Metadata is read through GraphIR's `ModelMetadata` (the keys the spec builder writes).
// Loading a model file (ONNX or IR text) is the caller's: Commands' `GeneratorModel.load`.

import Core
import Foundation
import GraphIR
import Runtime

/// User overrides for what a generator's graph does not say.
public struct GeneratorHints {
    public var latentInput: String?
    public var classInput: String?
    public var numClasses: Int?
    public var range: ClosedRange<Float>?
    public init(latentInput: String? = nil, classInput: String? = nil, numClasses: Int? = nil, range: ClosedRange<Float>? = nil) {
        self.latentInput = latentInput
        self.classInput = classInput
        self.numClasses = numClasses
        self.range = range
    }

    /// Parses `a,b` (a < b) as a value range.
    public static func parseRange(_ text: String) throws -> ClosedRange<Float> {
        let p = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 2, let a = p[0], let b = p[1], a.isFinite, b.isFinite, a < b else {
            throw Failure("--range \(text): expected two numbers a,b with a < b (e.g. -1,1 or 0,1)")
        }
        return a...b
    }
}

/// What the sampling tools know about a generator graph.
public struct GeneratorModel {
    public var graph: Graph
    public let path: String
    public let latentInput: String
    /// Per-sample latent shape ([Z] or [Z,1,1]).
    public let latentShape: [Int]
    public var latentSize: Int { latentShape.reduce(1, *) }
    /// `normal` or `uniform` (metadata gannet.latent_distribution; default normal).
    public let latentDistribution: String
    public let classInput: String?
    public let classDType: DType
    /// Per-sample class shape ([] for [N], [1] for [N,1]).
    public let classShape: [Int]
    public let numClasses: Int?
    public let range: ClosedRange<Float>
    public let rangeSource: String
    public let output: String
    /// The graph's batch size when its inputs have a fixed batch dim.
    public let fixedBatch: Int?

    public var isConditional: Bool { classInput != nil }

    public init(graph: Graph, path: String, hints: GeneratorHints = GeneratorHints()) throws {
        self.graph = graph
        self.path = path
        let md = graph.gannet
        let inputs = graph.inputs.map { (name: graph.name(of: $0), type: graph.type(of: $0)!) }
        func input(_ name: String, _ what: String) throws -> (name: String, type: TensorType) {
            guard let i = inputs.first(where: { $0.name == name }) else {
                throw Failure("\(path): \(what) '\(name)' is not a graph input (inputs: \(inputs.map(\.name).joined(separator: ", ")))")
            }
            return i
        }

        // Latent input.
        let z: (name: String, type: TensorType)
        if let name = hints.latentInput ?? md.latentInput {
            z = try input(name, "latent input")
        } else {
            let candidates = inputs.filter { $0.type.dtype == .float32 && ($0.type.rank == 2 || $0.type.rank == 4) }
            guard candidates.count == 1 else {
                let list = inputs.map { "\($0.name): \($0.type)" }.joined(separator: ", ")
                throw Failure(candidates.isEmpty
                    ? "\(path): no latent input found (a float input of shape [N,Z] or [N,Z,1,1]; inputs: \(list)); pass --latent-input NAME"
                    : "\(path): several float inputs could be the latent (\(candidates.map(\.name).joined(separator: ", "))); pass --latent-input NAME")
            }
            z = candidates[0]
        }
        guard z.type.dtype == .float32, z.type.rank >= 2 else {
            throw Failure("\(path): latent input '\(z.name)' must be float with a batch dim, got \(z.type)")
        }
        var zShape: [Int] = []
        let mdLatent = md.latentSize
        for (k, d) in z.type.shape.dropFirst().enumerated() {
            if let v = d.value { zShape.append(v); continue }
            guard k == 0, z.type.rank == 2, let m = mdLatent else {
                throw Failure("\(path): latent input '\(z.name)' has a symbolic dim (\(z.type)); only the batch dim may be symbolic")
            }
            zShape.append(m)
        }
        if let m = mdLatent, m != zShape.reduce(1, *) {
            throw Failure("\(path): metadata gannet.latent_size is \(m) but latent input '\(z.name)' is \(z.type)")
        }
        guard zShape.reduce(1, *) > 0 else { throw Failure("\(path): latent input '\(z.name)' is empty (\(z.type))") }
        latentInput = z.name
        latentShape = zShape
        latentDistribution = md.latentDistribution ?? "normal"
        guard ["normal", "uniform"].contains(latentDistribution) else {
            throw Failure("\(path): metadata gannet.latent_distribution is '\(latentDistribution)'; the sampling tools draw 'normal' or 'uniform' latents")
        }

        // Class input.
        var cls: (name: String, type: TensorType)?
        if let name = hints.classInput ?? md.labelInput {
            cls = try input(name, "class input")
        } else {
            let ints = inputs.filter { $0.type.dtype != .float32 }
            if ints.count > 1 {
                throw Failure("\(path): several integer inputs could be the class (\(ints.map(\.name).joined(separator: ", "))); pass --class-input NAME")
            }
            cls = ints.first
        }
        let others = inputs.filter { $0.name != z.name && $0.name != cls?.name }
        if !others.isEmpty {
            throw Failure("\(path): the sampler feeds only a latent and a class input; the model also needs \(others.map { "\($0.name): \($0.type)" }.joined(separator: ", "))")
        }
        classInput = cls?.name
        classDType = cls?.type.dtype ?? .int64
        if let c = cls {
            guard c.type.dtype != .float32 else {
                throw Failure("\(path): class input '\(c.name)' is float (one-hot class inputs are not supported; expected integer labels)")
            }
            let tail = c.type.shape.dropFirst().map { $0.value ?? -1 }
            guard c.type.rank >= 1, tail.allSatisfy({ $0 == 1 }) else {
                throw Failure("\(path): class input '\(c.name)' must be [N] or [N,1] integers, got \(c.type)")
            }
            classShape = tail
            var n = hints.numClasses ?? md.numClasses
            if n == nil, let v = graph.value(named: c.name) {
                for node in graph.nodes where node.op == .gather && node.input(1) == v {
                    if let w = node.input(0).flatMap({ graph.constantValue($0) }), w.shape.count >= 1,
                       (try? node.attributes.int("axis", default: 0)) == 0 {
                        n = w.shape[0]
                        break
                    }
                }
            }
            numClasses = n
        } else {
            classShape = []
            numClasses = nil
        }

        // Output and range.
        guard let out = graph.outputs.first else { throw Failure("\(path): the graph has no outputs") }
        output = graph.name(of: out)
        if let r = hints.range {
            range = r
            rangeSource = "--range"
        } else if let text = md.outputRange {
            guard let r = try? GeneratorHints.parseRange(text) else {
                throw Failure("\(path): metadata gannet.output_range '\(text)' is not 'a,b'; pass --range a,b")
            }
            range = r
            rangeSource = "metadata gannet.output_range"
        } else if let (r, op) = Self.rangeFromGraph(graph, out) {
            range = r
            rangeSource = "final \(op.rawValue)"
        } else {
            throw Failure("\(path): cannot tell the output value range (no gannet.output_range metadata, output not produced by Tanh or Sigmoid); pass --range a,b (e.g. --range -1,1)")
        }

        // Batch dim.
        var fixed: Int?
        for v in graph.inputs {
            if let b = graph.type(of: v)!.shape.first?.value { fixed = b }
        }
        fixedBatch = fixed
        for (v, t) in graph.initializers.sorted(by: { $0.key < $1.key }) where t.dtype == .float32 {
            let bad = NonFiniteGuard.nonFiniteCount(t.floats)
            guard bad == 0 else {
                throw Failure("\(path): initializer '\(graph.name(of: v))' holds \(bad) non-finite values (NaN or infinity) of \(t.count); the model is broken (was it saved from a diverged run?)")
            }
        }
    }

    /// The [lo, hi] of a final Tanh/Sigmoid, looking through shape-only ops.
    static func rangeFromGraph(_ g: Graph, _ out: ValueID) -> (ClosedRange<Float>, Op)? {
        let producers = g.producers()
        var v = out
        for _ in 0..<16 {
            guard let i = producers[v] else { return nil }
            let n = g.nodes[i]
            switch n.op {
            case .tanh: return (-1...1, .tanh)
            case .sigmoid: return (0...1, .sigmoid)
            case .identity, .reshape, .flatten, .transpose, .squeeze, .unsqueeze:
                guard let x = n.input(0) else { return nil }
                v = x
            default: return nil
            }
        }
        return nil
    }

    /// A description for stderr.
    public var summary: String {
        var s = "\(path): latent '\(latentInput)' [N,\(latentShape.map(String.init).joined(separator: ","))]"
        if latentDistribution != "normal" { s += " (\(latentDistribution))" }
        if let c = classInput { s += ", class '\(c)' (\(numClasses.map { "\($0) classes" } ?? "class count unknown"))" }
        s += ", output '\(output)' in [\(range.lowerBound), \(range.upperBound)] (\(rangeSource))"
        return s
    }

    /// Checks a class label against the model (an error for unconditional models is the caller's).
    public func checkClass(_ k: Int) throws {
        guard let n = numClasses else { return }
        guard (0..<n).contains(k) else { throw Failure("\(path): class \(k) is out of range (the model has \(n) classes: 0…\(n - 1))") }
    }

    /// The class count, or an error naming `--num-classes`.
    public func requireNumClasses() throws -> Int {
        guard let n = numClasses else {
            throw Failure("\(path): cannot tell how many classes class input '\(classInput ?? "?")' has (no gannet.num_classes metadata, no Embedding Gather); pass --num-classes K")
        }
        return n
    }

    // MARK: class embedding cut

    /// The embedding tables cut out of the graph, with the inputs that replace their rows.
    public struct EmbeddingCut {
        public var inputName: String
        public var weight: Tensor
        public var rowSize: Int { weight.count / max(weight.shape[0], 1) }
    }

    /// Replaces each Gather(weight initializer, class input) by a new input; returns the cuts.
    public mutating func cutClassEmbedding() throws -> [EmbeddingCut] {
        guard let c = classInput, let cv = graph.value(named: c) else {
            throw Failure("\(path): the model has no class input, so there is no class embedding to interpolate")
        }
        let batchDim = graph.type(of: cv)!.shape[0]
        var cuts: [EmbeddingCut] = []
        var keep: [Node] = []
        for node in graph.nodes {
            guard node.op == .gather, node.input(1) == cv else { keep.append(node); continue }
            guard let wv = node.input(0), let w = graph.constantValue(wv), w.dtype == .float32, w.shape.count == 2,
                  (try? node.attributes.int("axis", default: 0)) == 0 else {
                throw Failure("\(path): class input '\(c)' feeds a Gather that is not an embedding lookup (float [classes, D] weight, axis 0)")
            }
            let o = node.outputs[0]
            graph[o].type = TensorType(.float32, [batchDim] + classShape.map { .fixed($0) } + [.fixed(w.shape[1])])
            graph.inputs.append(o)
            cuts.append(EmbeddingCut(inputName: graph.name(of: o), weight: w))
        }
        guard !cuts.isEmpty else {
            throw Failure("\(path): class input '\(c)' does not feed an Embedding (Gather on a weight); --class-from/--class-to need one")
        }
        graph.nodes = keep
        if !graph.nodes.contains(where: { $0.inputs.contains(cv) }) && !graph.outputs.contains(cv) {
            graph.inputs.removeAll { $0 == cv }
        } else {
            throw Failure("\(path): class input '\(c)' is read by more than the embedding; cannot interpolate between classes")
        }
        graph.compactValues()
        try rethrowing(GraphError.self, as: { Failure("after cutting the class embedding: \($0.message)", at: path) }) { try graph.verify() }
        return cuts
    }
}
