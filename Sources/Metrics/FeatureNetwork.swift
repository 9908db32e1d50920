// FeatureNetwork: runs a classifier graph (trained by `gannet train-classifier`) in inference
// mode and returns its feature and logits outputs for a batch of images.
//
// Contract: the graph takes one image input [N, C, H, W]. Outputs: metadata
// `gannet.feature_output` names the features (default: the first output) and
// `gannet.logits_output` the logits (default: the last output), both [N, D] after flattening.
// `gannet.input_range` ("0,1" default, or "-1,1") is the pixel range it was trained on;
// `extract` maps images from the caller's range to it. Batches of `batch` images.

import Foundation
import GraphIR
import Runtime

public enum MetricsError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case .invalid(let m) = self { return m }; return "" }
}

public final class FeatureNetwork {
    public let graph: Graph
    public let session: Session
    public let featureOutput: String
    public let logitsOutput: String
    public let imageShape: [Int]
    public let inputRange: ClosedRange<Float>
    public let classes: Int
    public let featureDimension: Int
    public var batch = 500

    public init(graph: Graph, threads: Int) throws {
        guard graph.inputs.count == 1, let t = graph.type(of: graph.inputs[0]), t.rank == 4,
              t.shape.dropFirst().allSatisfy({ $0.value != nil }) else {
            throw MetricsError.invalid("the classifier must take one image input [N, C, H, W]")
        }
        imageShape = t.shape.dropFirst().map { $0.value! }
        let names = graph.outputs.map { graph.name(of: $0) }
        guard let first = names.first, let last = names.last else { throw MetricsError.invalid("the classifier has no outputs") }
        featureOutput = graph.gannet.featureOutput ?? first
        logitsOutput = graph.gannet.logitsOutput ?? last
        for n in [featureOutput, logitsOutput] where !names.contains(n) {
            throw MetricsError.invalid("the classifier has no output '\(n)' (outputs: \(names.joined(separator: ", ")))")
        }
        func width(_ name: String) throws -> Int {
            let v = graph.outputs[names.firstIndex(of: name)!]
            let ty = graph.type(of: v)
            let w = ty?.shape.dropFirst().compactMap(\.value) ?? []
            guard let ty, ty.rank >= 2, w.count == ty.rank - 1 else {
                throw MetricsError.invalid("classifier output '\(name)' needs a known per-sample shape")
            }
            return w.reduce(1, *)
        }
        featureDimension = try width(featureOutput)
        classes = try width(logitsOutput)
        if let r = graph.gannet.inputRange {
            let p = r.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 2, p[0] < p[1] else { throw MetricsError.invalid("metadata gannet.input_range '\(r)' is not 'a,b'") }
            inputRange = p[0]...p[1]
        } else {
            inputRange = 0...1
        }
        self.graph = graph
        session = try Session(graph: graph, threads: max(1, threads))
    }

    public var imageSize: Int { imageShape.reduce(1, *) }

    /// Features (count × featureDimension) and logits (count × classes) of `images` (NCHW
    /// floats in `range`), in batches. `progress` gets the done count.
    public func extract(images: [Float], range: ClosedRange<Float>, progress: ((Int) -> Void)? = nil) throws -> (features: [Float], logits: [Float]) {
        let size = imageSize
        precondition(images.count % size == 0, "images must be whole \(imageShape) images")
        let n = images.count / size
        let scale = (inputRange.upperBound - inputRange.lowerBound) / (range.upperBound - range.lowerBound)
        let identity = range == inputRange
        var features: [Float] = [], logits: [Float] = []
        features.reserveCapacity(n * featureDimension)
        logits.reserveCapacity(n * classes)
        var start = 0
        let inputName = session.inputNames[0]
        while start < n {
            let b = min(batch, n - start)
            var x = Array(images[(start * size)..<((start + b) * size)])
            if !identity { for i in x.indices { x[i] = (x[i] - range.lowerBound) * scale + inputRange.lowerBound } }
            let outs = try session.run([inputName: Tensor(shape: [b] + imageShape, floats: x)])
            features += outs[featureOutput]!.floats
            logits += outs[logitsOutput]!.floats
            start += b
            progress?(start)
        }
        return (features, logits)
    }
}
