// EvaluationProtocol: gan-eval's protocol (shared/reference/gan-metrics.md) once the three image
// sets exist — features, FID, Inception Score, precision/recall/F1, density/coverage, the
// real-vs-real baseline and, for conditional models, classifier accuracy.
//
// Contract: `generated`, `reference` and `other` hold `count` NCHW images each, in the
// classifier's image shape; `generated` is in `generatedRange`, the real sets in [0, 1].
// Model metrics compare generated vs reference; the baseline compares `other` (in the
// generator's role) vs reference with the same n and code path. FID on the feature output
// (unbiased covariances, symmetric-eigen trace term); IS on the softmax, 10 contiguous splits,
// mean ± population std; precision/recall k = 3 (`<=`), density/coverage k = 5 (`<`);
// F1 = 2PR/(P+R); accuracy = fraction of generated images classified as `requested[i]`.
// Mode collapse: recall and coverage both below 0.1. A failure of the classifier is an error
// located at `classifierFile`; a non-finite FID or IS one located at `generatorFile`.

import Core
import Foundation
import Kernels

/// One set's scores.
public struct EvaluationScores {
    public var fid: Double, isMean: Double, isStd: Double
    public var prdc: PRDCResult

    /// gan-eval's JSON keys (non-finite values as null).
    public var json: [String: Any] {
        func num(_ v: Double) -> Any { v.isFinite ? v : NSNull() }
        return ["fid": num(fid), "is_mean": num(isMean), "is_std": num(isStd), "precision": num(prdc.precision),
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
    /// progress lines ("features of …", "metrics of … done").
    public static func run(net: FeatureNetwork, count: Int, generated: [Float], generatedRange: ClosedRange<Float>,
                           reference: (images: [Float], name: String), other: (images: [Float], name: String),
                           requested: [Int]?, pool: ThreadPool, classifierFile: String, generatorFile: String,
                           info: (String) -> Void) throws -> Evaluation {
        func features(_ images: [Float], _ range: ClosedRange<Float>, _ what: String) throws -> (features: [Float], logits: [Float]) {
            let r = try at(classifierFile) { try net.extract(images: images, range: range) }
            info("features of \(what): \(images.count / net.imageSize) images")
            return r
        }
        let fake = try features(generated, generatedRange, "generated images")
        let real = try features(reference.images, 0...1, reference.name)
        let base = try features(other.images, 0...1, other.name)

        let d = net.featureDimension
        let refStats = FeatureStatistics(features: real.features, count: count, dimension: d, pool: pool)
        func scores(_ x: (features: [Float], logits: [Float]), _ what: String) -> EvaluationScores {
            let fid = FID.distance(refStats, FeatureStatistics(features: x.features, count: count, dimension: d, pool: pool))
            let inception = InceptionScore.compute(logits: x.logits, classes: net.classes, splits: 10)
            let prdc = PRDC.compute(real: real.features, fake: x.features, dimension: d, options: .standard, pool: pool)
            info("metrics of \(what) done")
            return EvaluationScores(fid: fid, isMean: inception.mean, isStd: inception.std, prdc: prdc)
        }
        let modelScores = scores(fake, "the model")
        let baseScores = scores(base, "the baseline")
        for (what, v) in [("FID", modelScores.fid), ("IS", modelScores.isMean), ("baseline FID", baseScores.fid)] where !v.isFinite {
            throw Failure("\(what) is not finite (\(v)); the features of the generated images hold NaN or infinity", at: generatorFile)
        }
        let accuracy = requested.map { Classification.accuracy(logits: fake.logits, classes: net.classes, labels: $0) }
        return Evaluation(model: modelScores, baseline: baseScores, classifierAccuracy: accuracy)
    }
}
