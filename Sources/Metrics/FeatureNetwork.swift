// FeatureNetwork: runs a feature network in inference mode and returns its feature output (and
// logits output, when it has one) for a batch of images. Two kinds:
// - classifier (trained by `gannet train-classifier`; `init(graph:threads:)`): the graph takes one
//   image input [N, C, H, W] and images come in exactly that shape. Metadata
//   `gannet.feature_output` names the features (default: the first output) and
//   `gannet.logits_output` the logits (default: the last output), both [N, D] after flattening.
//   `gannet.input_range` ("0,1" default, or "-1,1") is the pixel range it was trained on.
// - inception (`init(inceptionGraph:threads:)`, FeatureNetwork+Inception.swift): the
//   pytorch-fid protocol; images of any size with 1 or 3 channels are preprocessed per batch.
// `extract` maps images from the caller's range to the network's, in batches of `batch` images
// (only one batch is preprocessed at a time, so memory stays bounded).

import Foundation
import GraphIR
import Kernels
import Runtime

public enum MetricsError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case .invalid(let m) = self { return m }; return "" }
}

public final class FeatureNetwork {
    /// How images reach the network's input.
    public enum Kind: Equatable, Sendable {
        /// Images already in the input shape; only the pixel range is mapped.
        case classifier
        /// pytorch-fid: to [0, 1] (clamped), grey replicated to 3 channels, bilinear resize to the
        /// input's H×W (align_corners=False, no antialias), then to the input range.
        case inception
    }

    public let kind: Kind
    public let graph: Graph
    public let session: Session
    public let featureOutput: String
    /// nil: the network has no logits output (no Inception Score, no class accuracy).
    public let logitsOutput: String?
    /// The network's input shape [C, H, W].
    public let imageShape: [Int]
    public let inputRange: ClosedRange<Float>
    /// Logits width (0 without logits).
    public let classes: Int
    public let featureDimension: Int
    public var batch = 500

    init(kind: Kind, graph: Graph, threads: Int, featureOutput: String, logitsOutput: String?, imageShape: [Int],
         inputRange: ClosedRange<Float>, classes: Int, featureDimension: Int) throws {
        (self.kind, self.graph, self.featureOutput, self.logitsOutput, self.imageShape) = (kind, graph, featureOutput, logitsOutput, imageShape)
        (self.inputRange, self.classes, self.featureDimension) = (inputRange, classes, featureDimension)
        session = try Session(graph: graph, threads: max(1, threads))
    }

    /// A classifier graph (see the file contract).
    public convenience init(graph: Graph, threads: Int) throws {
        let (input, _) = try Self.imageInput(graph, "the classifier")
        guard input.dropFirst().allSatisfy({ $0 != nil }) else {
            throw MetricsError.invalid("the classifier must take one image input [N, C, H, W]")
        }
        let names = graph.outputs.map { graph.name(of: $0) }
        guard let first = names.first, let last = names.last else { throw MetricsError.invalid("the classifier has no outputs") }
        let featureOutput = graph.gannet.featureOutput ?? first
        let logitsOutput = graph.gannet.logitsOutput ?? last
        let featureDimension = try Self.width(graph, featureOutput, "the classifier")
        let classes = try Self.width(graph, logitsOutput, "the classifier")
        try self.init(kind: .classifier, graph: graph, threads: threads, featureOutput: featureOutput, logitsOutput: logitsOutput,
                      imageShape: input.dropFirst().map { $0! }, inputRange: try Self.metadataRange(graph) ?? 0...1,
                      classes: classes, featureDimension: featureDimension)
    }

    /// The one image input's dims (nil = symbolic) and name; an error unless rank 4.
    static func imageInput(_ graph: Graph, _ what: String) throws -> ([Int?], String) {
        guard graph.inputs.count == 1, let t = graph.type(of: graph.inputs[0]), t.rank == 4 else {
            throw MetricsError.invalid("\(what) must take one image input [N, C, H, W]")
        }
        return (t.shape.map(\.value), graph.name(of: graph.inputs[0]))
    }

    /// The per-sample width of output `name` (product of its non-batch dims).
    static func width(_ graph: Graph, _ name: String, _ what: String) throws -> Int {
        let dims = try perSampleShape(graph, name, what)
        return dims.reduce(1, *)
    }

    /// The non-batch dims of output `name` (all must be known).
    static func perSampleShape(_ graph: Graph, _ name: String, _ what: String) throws -> [Int] {
        let names = graph.outputs.map { graph.name(of: $0) }
        guard let k = names.firstIndex(of: name) else {
            throw MetricsError.invalid("\(what) has no output '\(name)' (outputs: \(names.joined(separator: ", ")))")
        }
        let ty = graph.type(of: graph.outputs[k])
        let w = ty?.shape.dropFirst().compactMap(\.value) ?? []
        guard let ty, ty.rank >= 2, w.count == ty.rank - 1 else {
            throw MetricsError.invalid("\(what)'s output '\(name)' needs a known per-sample shape")
        }
        return w
    }

    /// `gannet.input_range` ("a,b") when present.
    static func metadataRange(_ graph: Graph) throws -> ClosedRange<Float>? {
        guard let r = graph.gannet.inputRange else { return nil }
        let p = r.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 2, p[0] < p[1] else { throw MetricsError.invalid("metadata gannet.input_range '\(r)' is not 'a,b'") }
        return p[0]...p[1]
    }

    public var imageSize: Int { imageShape.reduce(1, *) }

    /// Features (count × featureDimension) and logits (count × classes; empty without logits)
    /// of `images`: NCHW floats in `range`, each of `shape` [C, H, W] (default: the network's
    /// input shape; a classifier takes only that). `progress` gets the done count.
    public func extract(images: [Float], shape: [Int]? = nil, range: ClosedRange<Float>,
                        progress: (Int) -> Void = { _ in }) throws -> (features: [Float], logits: [Float]) {
        let shape = shape ?? imageShape
        let size = shape.reduce(1, *)
        try checkImages(shape)
        precondition(size > 0 && images.count % size == 0, "images must be whole \(shape) images")
        let n = images.count / size
        var features: [Float] = [], logits: [Float] = []
        features.reserveCapacity(n * featureDimension)
        logits.reserveCapacity(n * classes)
        var start = 0
        let inputName = session.inputNames[0]
        try images.withUnsafeBufferPointer { all in
            while start < n {
                let b = min(batch, n - start)
                let x = prepare(UnsafeBufferPointer(rebasing: all[(start * size)..<((start + b) * size)]), count: b, shape: shape, range: range)
                let outs = try session.run([inputName: Tensor(shape: [b] + imageShape, floats: x)])
                features += outs[featureOutput]!.floats
                if let l = logitsOutput { logits += outs[l]!.floats }
                start += b
                progress(start)
            }
        }
        return (features, logits)
    }

    /// An error unless images of `shape` [C, H, W] can be fed to this network.
    public func checkImages(_ shape: [Int]) throws {
        switch kind {
        case .classifier:
            guard shape == imageShape else {
                throw MetricsError.invalid("the classifier takes \(imageShape.map(String.init).joined(separator: "x")) images, got \(shape.map(String.init).joined(separator: "x"))")
            }
        case .inception:
            guard shape.count == 3, shape[0] == 1 || shape[0] == 3, shape[1] > 0, shape[2] > 0 else {
                throw MetricsError.invalid("Inception features need grey (1-channel) or RGB (3-channel) images, got \(shape.map(String.init).joined(separator: "x"))")
            }
        }
    }

    /// One batch in the network's input shape and range.
    func prepare(_ x: UnsafeBufferPointer<Float>, count b: Int, shape: [Int], range: ClosedRange<Float>) -> [Float] {
        switch kind {
        case .classifier:
            let scale = (inputRange.upperBound - inputRange.lowerBound) / (range.upperBound - range.lowerBound)
            if range == inputRange { return Array(x) }
            return x.map { ($0 - range.lowerBound) * scale + inputRange.lowerBound }
        case .inception:
            return InceptionPreprocess.batch(x, count: b, shape: shape, range: range, outH: imageShape[1], outW: imageShape[2],
                                             outRange: inputRange)
        }
    }
}
