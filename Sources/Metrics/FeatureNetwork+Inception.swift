// FeatureNetwork+Inception: standard (Inception) FID features with the pytorch-fid protocol, on
// an Inception-v3 ONNX file the user supplies (Tools/reference/export_fid_inception.py exports
// pytorch-fid's network).
//
// Contract of `init(inceptionGraph:threads:)`: one image input [N, 3, H, W]; H and W are 299 or
// symbolic (then 299 is fed). Features: output `gannet.feature_output` (default: the first
// output), N×2048 or N×2048×1×1 (pool3). Logits: only the output named by
// `gannet.logits_output` (no default: pytorch-fid's own network has none, and then IS and class
// accuracy are unavailable). Input range: `gannet.input_range`, default [−1, 1] (pytorch-fid's
// normalize_input). Batches of 25 images.
//
// `InceptionPreprocess.batch` is pytorch-fid's preprocessing for b images of [C, H, W] in
// `range`: (x − lo)/(hi − lo) clamped to [0, 1] (as images written to PNG files are), bilinear
// resize of every plane to outH×outW exactly as
// F.interpolate(size=(outH, outW), mode='bilinear', align_corners=False) computes it
// (source coordinate (o + 0.5)·in/out − 0.5 in Float, negative clamped to 0, taps floor and
// floor + 1 clamped to in − 1; no antialias), grey replicated to 3 channels, then mapped
// linearly from [0, 1] to `outRange`. Runs Kernels' Resample (separable taps).

import Foundation
import GraphIR
import Kernels

extension FeatureNetwork {
    /// pool3's width.
    public static let inceptionFeatures = 2048
    /// pytorch-fid's input size.
    public static let inceptionSize = 299

    /// An Inception-v3 feature network (see the file contract).
    public convenience init(inceptionGraph graph: Graph, threads: Int) throws {
        let (input, name) = try Self.imageInput(graph, "the Inception network")
        let size = Self.inceptionSize
        guard input[1] == 3, input[2] == nil || input[2] == size, input[3] == nil || input[3] == size else {
            let dims = input.map { $0.map(String.init) ?? "N" }.joined(separator: ", ")
            throw MetricsError.invalid("the Inception network's input '\(name)' is [\(dims)]; the pytorch-fid protocol feeds [N, 3, \(size), \(size)]")
        }
        let names = graph.outputs.map { graph.name(of: $0) }
        guard let first = names.first else { throw MetricsError.invalid("the Inception network has no outputs") }
        let featureOutput = graph.gannet.featureOutput ?? first
        let fs = try Self.perSampleShape(graph, featureOutput, "the Inception network")
        guard fs == [Self.inceptionFeatures] || fs == [Self.inceptionFeatures, 1, 1] else {
            throw MetricsError.invalid("the Inception network's feature output '\(featureOutput)' is N×\(fs.map(String.init).joined(separator: "×")); pool3 features are N×2048 (or N×2048×1×1)")
        }
        var classes = 0
        if let l = graph.gannet.logitsOutput {
            let ls = try Self.perSampleShape(graph, l, "the Inception network")
            guard ls.count == 1 else {
                throw MetricsError.invalid("the Inception network's logits output '\(l)' is N×\(ls.map(String.init).joined(separator: "×")); logits are N×K")
            }
            classes = ls[0]
        }
        try self.init(kind: .inception, graph: graph, threads: threads, featureOutput: featureOutput,
                      logitsOutput: graph.gannet.logitsOutput, imageShape: [3, size, size],
                      inputRange: try Self.metadataRange(graph) ?? -1...1, classes: classes,
                      featureDimension: Self.inceptionFeatures)
        batch = 25
    }
}

/// pytorch-fid's image preprocessing (see the file contract).
public enum InceptionPreprocess {
    /// F.interpolate's bilinear taps (align_corners=False) from `n` to `m` samples.
    public static func taps(from n: Int, to m: Int) -> Resample.Axis {
        let scale = Float(n) / Float(m)
        var i0 = [Int32](), i1 = [Int32](), w1 = [Float]()
        for o in 0..<m {
            let src = max(scale * (Float(o) + 0.5) - 0.5, 0)
            let lo = min(Int(src), n - 1)
            i0.append(Int32(lo))
            i1.append(Int32(lo < n - 1 ? lo + 1 : lo))
            w1.append(lo < n - 1 ? src - Float(lo) : 0)
        }
        return Resample.Axis(i0: i0, i1: i1, w1: w1)
    }

    /// `b` images of `shape` [C, H, W] (C = 1 or 3) in `range` → b×3×outH×outW in `outRange`.
    public static func batch(_ x: UnsafeBufferPointer<Float>, count b: Int, shape: [Int], range: ClosedRange<Float>,
                             outH: Int, outW: Int, outRange: ClosedRange<Float>, pool: ThreadPool = .serial) -> [Float] {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        precondition(x.count == b * c * h * w && (c == 1 || c == 3), "InceptionPreprocess: \(x.count) values are not \(b) images of \(shape)")
        let span = range.upperBound - range.lowerBound
        let unit = x.map { min(max(($0 - range.lowerBound) / span, 0), 1) }
        let planes = b * c
        let plan = Resample.Plan(inShape: [planes, h, w], outShape: [planes, outH, outW],
                                 axes: [Resample.Axis(nearest: Array(0..<planes)), taps(from: h, to: outH), taps(from: w, to: outW)])
        var resized = [Float](repeating: 0, count: planes * outH * outW)
        unit.withUnsafeBufferPointer { u in resized.withUnsafeMutableBufferPointer { Resample.run(plan, u.baseAddress!, $0.baseAddress!, pool: pool) } }
        let a = outRange.upperBound - outRange.lowerBound, lo = outRange.lowerBound
        let plane = outH * outW
        if c == 3 { return resized.map { $0 * a + lo } }
        var out = [Float](repeating: 0, count: b * 3 * plane)
        for i in 0..<b {
            for j in 0..<plane {
                let v = resized[i * plane + j] * a + lo
                out[(i * 3) * plane + j] = v
                out[(i * 3 + 1) * plane + j] = v
                out[(i * 3 + 2) * plane + j] = v
            }
        }
        return out
    }
}
