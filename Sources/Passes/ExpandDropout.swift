// ExpandDropout: rewrites training-mode Dropout into a multiplication by a fed mask.
//
// Contract: input — a verified graph. Each Dropout node whose training_mode input (a constant
// bool scalar) is true, with ratio p (input 1, a constant float scalar; else 0.5;
// 0 ≤ p < 1), becomes `Y = Mul(X, mask)` where `mask` is a NEW graph
// input named "dropout/<node name>" (the output's name when the node is unnamed; made unique)
// of X's type, to be fed each step with inverted-dropout values: 0 with probability p, else
// 1/(1 − p) (PyTorch semantics; the caller draws it, e.g. from RandomStream with purpose
// .dropout). The node's output keeps its value id. The mask's ratio is recorded in
// `graph.metadata[ExpandDropout.ratioKey(maskName)]` (Float's round-tripping description), so
// whoever feeds the compiled graph can list its masks with `ExpandDropout.masks(in:)`. A node
// with p = 0 becomes Identity (no mask). The ONNX `mask` output may be present only when
// nothing reads it (no bool ops here). Inference-mode Dropout (the identity) is left alone.
// Autodiff then differentiates the Mul: dX = dY · mask. When every graph input is typed the
// graph is re-typed with InferShapes.

import GraphIR

/// A dropout mask input of a compiled graph: its name, shape and drop ratio.
public struct DropoutMask: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var ratio: Float
    public init(name: String, shape: [Int], ratio: Float) {
        self.name = name
        self.shape = shape
        self.ratio = ratio
    }
}

public struct ExpandDropout: Pass {
    public let name = "ExpandDropout"
    public init() {}

    /// The metadata key holding the ratio of mask input `maskName`.
    public static func ratioKey(_ maskName: String) -> String { "gannet.dropout_ratio/\(maskName)" }

    /// The mask inputs an expanded graph expects (inputs with a recorded ratio), in input order;
    /// shapes must be fixed.
    public static func masks(in graph: Graph) throws -> [DropoutMask] {
        try graph.inputs.compactMap { v -> DropoutMask? in
            let name = graph.name(of: v)
            guard let r = graph.metadata[ratioKey(name)], let ratio = Float(r) else { return nil }
            guard let s = graph.type(of: v)?.fixedShape else {
                throw GraphError("dropout mask '\(name)' has no static shape (\(graph.type(of: v)?.description ?? "untyped"))")
            }
            return DropoutMask(name: name, shape: s, ratio: ratio)
        }
    }

    /// Whether a Dropout node runs in training mode (its training_mode input is constant true).
    public static func isTraining(_ node: Node, graph: Graph) throws -> Bool {
        guard let m = node.input(2) else { return false }
        guard let t = graph.constantValue(m), t.count == 1 else {
            throw GraphError("Dropout '\(node.name)': training_mode must be a constant scalar")
        }
        return t.floats[0] != 0
    }

    /// The drop ratio of a Dropout node (input 1, else 0.5).
    public static func ratio(_ node: Node, graph: Graph) throws -> Float {
        let p: Float
        if let r = node.input(1) {
            guard let t = graph.constantValue(r), t.count == 1 else {
                throw GraphError("Dropout '\(node.name)': ratio must be a constant scalar")
            }
            p = t.floats[0]
        } else {
            p = 0.5
        }
        guard p >= 0 && p < 1 else { throw GraphError("Dropout '\(node.name)': ratio \(p) is outside [0, 1)") }
        return p
    }

    public func run(_ graph: inout Graph) throws {
        let b = GraphBuilder(graph)
        let readers = Dictionary(uniqueKeysWithValues: graph.nodes.filter { $0.op == .dropout && $0.outputs.count > 1 }
            .map { ($0.outputs[1], b.readers(of: $0.outputs[1]).count) })
        var changed = false
        for (i, node) in b.takeNodes().enumerated() {
            guard node.op == .dropout, try Self.isTraining(node, graph: graph) else {
                try b.append(node)
                continue
            }
            let here = "\(name): node \(i) '\(node.name)' (Dropout)"
            if node.outputs.count > 1 {
                let m = node.outputs[1]
                if readers[m, default: 0] > 0 || graph.outputs.contains(m) {
                    throw GraphError("\(here): the mask output of training-mode Dropout is not supported")
                }
            }
            changed = true
            let x = node.inputs[0]!
            let p = try Self.ratio(node, graph: graph)
            let base = node.name.isEmpty ? graph.name(of: node.outputs[0]) : node.name
            if p == 0 {
                try b.append(Node(.identity, name: base, inputs: [x], outputs: [node.outputs[0]]))
                continue
            }
            guard let xt = graph.type(of: x) else { throw GraphError("\(here): X needs a known type") }
            let maskName = b.freshName("dropout/\(base)")
            let mask = b.addInput(maskName, xt)
            b.setMetadata(Self.ratioKey(maskName), "\(p)")
            try b.append(Node(.mul, name: base, inputs: [x, mask], outputs: [node.outputs[0]]))
        }
        graph = b.graph
        if changed && graph.inputs.allSatisfy({ graph.type(of: $0) != nil }) {
            try InferShapes().run(&graph)
        }
    }
}

/// Helpers for one inference-mode or training-mode Dropout node.
enum Dropout {
    static func isTraining(_ node: Node, graph: Graph) throws -> Bool { try ExpandDropout.isTraining(node, graph: graph) }
}
