// EvaluationProtocol: gan-eval's protocol (shared/reference/gan-metrics.md) once the three image
// sets exist — features, FID, Inception Score, precision/recall/F1, density/coverage, the
// real-vs-real baseline and, for conditional models, classifier accuracy.
//
// Contract: `generated`, `reference` and `other` hold `count` NCHW images each, of
// `generatedShape` and `realShape` [C, H, W] (default: the network's input shape; a classifier
// takes only that, an Inception network any grey or RGB size); `generated` is in
// `generatedRange`, the real sets in [0, 1].
// Model metrics compare generated vs reference; the baseline compares `other` (in the
// generator's role) vs reference with the same n and code path. FID on the feature output
// (unbiased covariances, symmetric-eigen trace term); IS on the softmax, 10 contiguous splits,
// mean ± population std; precision/recall k = 3 (`<=`), density/coverage k = 5 (`<`);
// F1 = 2PR/(P+R); accuracy = fraction of generated images classified as `requested[i]`.
// A network without a logits output (pytorch-fid's Inception) has no IS (nil, JSON null) and no
// accuracy. The reference's Σ^{1/2} is computed once for both FIDs.
// Mode collapse: recall and coverage both below 0.1. A failure of the classifier is an error
// located at `classifierFile`; a non-finite FID or IS one located at `generatorFile`.

import Core
import Foundation
import Kernels

/// One set's scores.
public struct EvaluationScores {
    public var fid: Double
    /// nil when the feature network has no logits output.
    public var isMean: Double?, isStd: Double?
    public var prdc: PRDCResult

    /// gan-eval's JSON keys (non-finite values as null).
    public var json: [String: Any] {
        func num(_ v: Double) -> Any { v.isFinite ? v : NSNull() }
        return ["fid": num(fid), "is_mean": isMean.map(num) ?? NSNull(), "is_std": isStd.map(num) ?? NSNull(), "precision": num(prdc.precision),
                "recall": num(prdc.recall), "f1": num(prdc.f1), "density": num(prdc.density), "coverage": num(prdc.coverage)]
    }

    /// Recall and coverage both below 0.1.
    public var collapsed: Bool { prdc.recall < 0.1 && prdc.coverage < 0.1 }
}

/// The result of one evaluation.
public struct Evaluation {
    public var model: EvaluationScores
    public var baseline: EvaluationScores
    /// Conditional models: the fraction classified as the requested class.
    public var classifierAccuracy: Double?
}

public enum EvaluationProtocol {
    /// Scores `generated` against `reference`, beside `other` vs `reference`. `info` gets
    /// progress lines ("features of …: done/total" every 10 s, "features of …: N images (R
    /// images/s)", "metrics of … done").
    public static func run(net: FeatureNetwork, count: Int, generated: [Float], generatedShape: [Int]? = nil,
                           generatedRange: ClosedRange<Float>, realShape: [Int]? = nil,
                           reference: (images: [Float], name: String), other: (images: [Float], name: String),
                           requested: [Int]?, pool: ThreadPool, classifierFile: String, generatorFile: String,
                           info: (String) -> Void) throws -> Evaluation {
        func features(_ images: [Float], _ shape: [Int]?, _ range: ClosedRange<Float>, _ what: String) throws -> (features: [Float], logits: [Float]) {
            let t0 = Date()
            var last = t0
            let total = images.count / max((shape ?? net.imageShape).reduce(1, *), 1)
            let r = try at(classifierFile) {
                try net.extract(images: images, shape: shape, range: range) { done in
                    if Date().timeIntervalSince(last) > 10 && done < total { last = Date(); info("features of \(what): \(done)/\(total)") }
                }
            }
            let n = r.features.count / net.featureDimension
            info("features of \(what): \(n) images (" + String(format: "%.1f", Double(n) / max(Date().timeIntervalSince(t0), 1e-9)) + " images/s)")
            return r
        }
        let fake = try features(generated, generatedShape, generatedRange, "generated images")
        let real = try features(reference.images, realShape, 0...1, reference.name)
        let base = try features(other.images, realShape, 0...1, other.name)

        let d = net.featureDimension
        let ref = FID.Reference(FeatureStatistics(features: real.features, count: count, dimension: d, pool: pool), pool: pool)
        func scores(_ x: (features: [Float], logits: [Float]), _ what: String) -> EvaluationScores {
            let fid = FID.distance(ref, FeatureStatistics(features: x.features, count: count, dimension: d, pool: pool), pool: pool)
            let inception = net.logitsOutput == nil ? nil : InceptionScore.compute(logits: x.logits, classes: net.classes, splits: 10)
            let prdc = PRDC.compute(real: real.features, fake: x.features, dimension: d, options: .standard, pool: pool)
            info("metrics of \(what) done")
            return EvaluationScores(fid: fid, isMean: inception?.mean, isStd: inception?.std, prdc: prdc)
        }
        let modelScores = scores(fake, "the model")
        let baseScores = scores(base, "the baseline")
        for (what, v) in [("FID", modelScores.fid), ("IS", modelScores.isMean ?? 1), ("baseline FID", baseScores.fid)] where !v.isFinite {
            throw Failure("\(what) is not finite (\(v)); the features of the generated images hold NaN or infinity", at: generatorFile)
        }
        let accuracy = net.logitsOutput == nil ? nil
            : requested.map { Classification.accuracy(logits: fake.logits, classes: net.classes, labels: $0) }
        return Evaluation(model: modelScores, baseline: baseScores, classifierAccuracy: accuracy)
    }
}
