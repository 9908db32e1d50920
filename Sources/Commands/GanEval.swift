// GanEval: `gan-eval MODEL [--n 10000] [--reference test|train] [--json] [--classifier PATH]
// [--features inception:PATH.onnx] [--class K] [--seed S] [--threads T]` — FID, Inception Score,
// precision/recall/F1 and density/coverage of a generator on the features of Gannet's own
// Fashion-MNIST classifier (default) or of an Inception-v3 ONNX file (standard FID, pytorch-fid
// protocol: Metrics' FeatureNetwork+Inception), always beside the real-vs-real baseline.
//
// Contract (shared/reference/gan-metrics.md; the metrics themselves are Metrics'
// EvaluationProtocol, this command loads the sets and prints):
// - Generated set: n images; image i uses latent stream (seed, i) (Latents.vector, as
//   gan-sample --seed S); conditional models get class K (`--class K`) or classes i mod K.
//   Images are mapped from the generator's output range to the classifier's input range.
// - Real sets: the first n images of the reference split (default test) and of the other
//   split. Model metrics compare generated vs reference; the baseline compares the other split
//   (in the generator's role) vs reference, with the same n and code path.
// - FID on the classifier's feature output (unbiased covariances, symmetric-eigen trace term);
//   IS on its softmax, 10 contiguous splits, mean ± population std; precision/recall with
//   k = 3 (`<=`), density/coverage with k = 5 (`<`); F1 = 2PR/(P+R); for conditional models,
//   classifier accuracy = fraction of samples classified as the requested class.
// - `--features inception:PATH`: pool3 (2048-d) features; generated and real images at their own
//   size, each resized to 299×299 by the protocol (no resize to a classifier size); IS on the
//   network's `gannet.logits_output` when it has one, else unavailable (null); no class accuracy.
// - Mode collapse is flagged when recall and coverage are both below 0.1.
// - `--json` prints exactly {"fid", "is_mean", "is_std", "precision", "recall", "f1",
//   "density", "coverage", "baseline": {same keys}, "classifier_accuracy"} (null for
//   unconditional models) on stdout; info lines go to stderr.

import GAN
import Core
import ArgumentParser
import Data
import Foundation
import GraphIR
import Kernels
import Metrics
import Runtime

public struct GanEval: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gan-eval",
        abstract: "Evaluate a generator: FID, IS, precision/recall, density/coverage, beside the real-vs-real baseline.",
        discussion: """
        Examples:
          gan-eval output/mnist_gan/generator.pb
          gan-eval seed:mnist-generator --n 2000 --json
          gan-eval cgan.pb --class 7 --n 5000
          gan-eval generator.pb --features inception:pt_inception.onnx --n 10000

        By default metrics use the features of Gannet's own Fashion-MNIST classifier
        (Models/classifier_fashion_mnist.pb, trained by `gannet train-classifier`), so they are
        NOT comparable with published Inception-based FID/IS; compare with the baseline printed
        beside them (real train split vs real test split, same n). `--features inception:PATH`
        computes standard FID on the pool3 features of an Inception-v3 ONNX file
        (Tools/reference/export_fid_inception.py exports pytorch-fid's), about 6 GFLOP per image.
        """,
        version: GannetVersion.string)

    @OptionGroup public var common: GeneratorOptions

    @Option(help: "Images per set (generated, reference, baseline).")
    public var n = 10000

    @Option(help: "Real reference split: test or train.")
    public var reference = "test"

    @Flag(help: "Print one JSON object on stdout.")
    public var json = false

    @Option(help: "Classifier (feature network) model.")
    public var classifier = "Models/classifier_fashion_mnist.pb"

    @Option(help: ArgumentHelp("Feature network: inception:PATH.onnx (standard FID on Inception-v3 pool3, pytorch-fid protocol) or classifier:PATH (as --classifier).",
                               valueName: "kind:path"))
    public var features: String?

    @Option(name: .customLong("class"), help: "Class for a conditional model (default: classes i mod K).")
    public var classLabel: Int?

    @Option(help: "Latent seed: image i uses latent stream (S, i).")
    public var seed: UInt64 = 0

    @Option(help: "Fashion-MNIST directory.")
    public var data = Dataset.defaultFashionMNISTDirectory

    public init() {}

    public func validate() throws {
        try common.validateCommon()
        guard (10...60000).contains(n) else { throw ValidationError("--n must be in 10...60000") }
        guard reference == "test" || reference == "train" else { throw ValidationError("--reference must be test or train") }
        _ = try featureChoice()
    }

    /// `--features` parsed: (inception?, path).
    func featureChoice() throws -> (inception: Bool, path: String) {
        guard let f = features else { return (false, classifier) }
        for (prefix, inception) in [("inception:", true), ("classifier:", false)] where f.hasPrefix(prefix) {
            let path = String(f.dropFirst(prefix.count))
            guard !path.isEmpty else { throw ValidationError("--features \(f): no file after '\(prefix)'") }
            return (inception, path)
        }
        throw ValidationError("--features must be inception:PATH.onnx or classifier:PATH, got '\(f)'")
    }

    public func run() throws {
        let threads = common.threadCount
        let pool = ThreadPool(threads: threads)
        let t0 = Date()
        func info(_ s: String) { common.info(String(format: "[%5.1fs] ", Date().timeIntervalSince(t0)) + s) }

        // Feature network.
        let (inception, classifier) = try featureChoice()
        guard FileManager.default.fileExists(atPath: classifier) else {
            if inception {
                throw CommandError("\(classifier): Inception network not found; export pytorch-fid's with `python Tools/reference/export_fid_inception.py --out \(classifier)`")
            }
            throw CommandError("\(classifier): classifier not found; train one with `gannet train-classifier Specs/classifier_fashion_mnist.yaml --out \(classifier)` or pass --classifier PATH")
        }
        let classifierGraph = try loadGraph(path: classifier)
        let net = try at(classifier) {
            inception ? try FeatureNetwork(inceptionGraph: classifierGraph, threads: threads) : try FeatureNetwork(graph: classifierGraph, threads: threads)
        }
        let acc = net.graph.gannet.testAccuracy.map { ", test accuracy \($0)" } ?? ""
        let logitsNote = net.logitsOutput.map { "logits '\($0)' (\(net.classes) classes)" } ?? "no logits output (no IS)"
        info("\(inception ? "Inception network" : "classifier") \(classifier): features '\(net.featureOutput)' (\(net.featureDimension)-d), \(logitsNote)\(acc)")

        // Real sets.
        let refSplit: Split = reference == "test" ? .test : .train
        let otherSplit: Split = refSplit == .test ? .train : .test
        let ref = try Dataset.fashionMNIST(directory: data, split: refSplit)
        let other = try Dataset.fashionMNIST(directory: data, split: otherSplit)
        let count = min(n, ref.count, other.count)
        if count < n { common.warn("--n \(n) reduced to \(count): the \(ref.count < other.count ? refSplit.rawValue : otherSplit.rawValue) split has \(min(ref.count, other.count)) images") }
        guard inception || ref.imageShape == net.imageShape else {
            throw CommandError("\(classifier): the classifier takes \(net.imageShape) images, Fashion-MNIST has \(ref.imageShape)")
        }
        func realImages(_ d: Dataset) -> [Float] {
            var x = [Float](repeating: 0, count: count * d.imageSize)
            x.withUnsafeMutableBufferPointer { d.fill(Array(0..<count), into: $0.baseAddress!) }
            return x
        }

        // Generated set.
        let model = try common.loadModel()
        var classes: [Int]? = nil
        var requested: [Int]? = nil
        if model.isConditional {
            if let k = classLabel {
                try model.checkClass(k)
                requested = Array(repeating: k, count: count)
            } else {
                let k = try model.requireNumClasses()
                requested = (0..<count).map { $0 % k }
            }
            classes = requested
        } else if let k = classLabel {
            common.warn("--class \(k) ignored: \(model.path) is not a conditional generator")
        }
        let latents = (0..<count).map { Latents.vector(seed: seed, index: UInt64($0), size: model.latentSize, truncation: common.truncation,
                                          distribution: model.latentDistribution) }
        let runner = try GeneratorRunner(model: model, batch: common.batch, threads: threads)
        var lastReport = Date()
        let generated = try runner.generate(latents: latents, classes: classes) { done in
            if Date().timeIntervalSince(lastReport) > 5 || done == count { lastReport = Date(); info("sampled \(done)/\(count)") }
        }
        let shape = runner.imageShape!
        var fakes = generated
        if inception {
            // The protocol resizes every set to 299×299 itself; only the channel counts must agree.
            guard shape.channels == ref.imageShape[0] else {
                throw CommandError("\(model.path): generates \(shape.channels)x\(shape.height)x\(shape.width) images; the reference data has \(ref.imageShape[0])-channel images")
            }
        } else if shape.channels == net.imageShape[0] && [shape.height, shape.width] != Array(net.imageShape[1...]) {
            // A generator of another size (the 64×64 DCGAN, say) is scored at the classifier's size.
            fakes = FloatResize.bilinear(generated, planes: count * shape.channels, inH: shape.height, inW: shape.width,
                                         outH: net.imageShape[1], outW: net.imageShape[2])
            info("resized generated \(shape.height)x\(shape.width) images to \(net.imageShape[1])x\(net.imageShape[2]) (Pillow bilinear, antialiased)")
        }
        guard inception || shape.channels == net.imageShape[0] else {
            throw CommandError("\(model.path): generates \(shape.channels)x\(shape.height)x\(shape.width) images; the classifier takes \(net.imageShape.map(String.init).joined(separator: "x"))")
        }

        // Features and metrics (Metrics' EvaluationProtocol).
        let result = try EvaluationProtocol.run(
            net: net, count: count, generated: fakes, generatedShape: inception ? [shape.channels, shape.height, shape.width] : nil,
            generatedRange: model.range, realShape: inception ? ref.imageShape : nil, reference: (realImages(ref), "\(refSplit.rawValue) split"), other: (realImages(other), "\(otherSplit.rawValue) split"),
            requested: inception ? nil : requested, pool: pool, classifierFile: classifier, generatorFile: model.path, info: info)
        let modelScores = result.model, baseScores = result.baseline, accuracy = result.classifierAccuracy
        let d = net.featureDimension

        if json {
            var obj = modelScores.json
            obj["baseline"] = baseScores.json
            obj["classifier_accuracy"] = accuracy.map { $0 as Any } ?? NSNull()
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let title = "\(common.model) vs Fashion-MNIST \(refSplit.rawValue) (n = \(count), seed \(seed))"
            print(title)
            if inception {
                print("features: Inception \(classifier) '\(net.featureOutput)' (\(d)-d; pytorch-fid protocol: bilinear 299x299, [-1, 1])")
            } else {
                print("features: \(classifier) '\(net.featureOutput)' (\(d)-d)\(acc); not comparable with Inception-based numbers")
            }
            let col1 = "model", col2 = "baseline (real \(otherSplit.rawValue) vs \(refSplit.rawValue))"
            func row(_ name: String, _ a: String, _ b: String) {
                print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + a.padding(toLength: 20, withPad: " ", startingAt: 0) + b)
            }
            func f(_ v: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", v) }
            row("metric", col1, col2)
            row("FID", f(modelScores.fid, 3), f(baseScores.fid, 3))
            func isText(_ s: EvaluationScores) -> String {
                guard let m = s.isMean, let sd = s.isStd else { return "n/a" }
                return "\(f(m, 3)) ± \(f(sd, 3))"
            }
            row("IS", isText(modelScores), isText(baseScores) + (net.logitsOutput == nil ? " (no logits output in \(classifier))" : ""))
            row("precision", f(modelScores.prdc.precision), f(baseScores.prdc.precision))
            row("recall", f(modelScores.prdc.recall), f(baseScores.prdc.recall))
            row("F1", f(modelScores.prdc.f1), f(baseScores.prdc.f1))
            row("density", f(modelScores.prdc.density), f(baseScores.prdc.density))
            row("coverage", f(modelScores.prdc.coverage), f(baseScores.prdc.coverage))
            if inception && model.isConditional {
                row("class acc.", "n/a", "(the Inception network has no Fashion-MNIST classes)")
            }
            if let a = accuracy {
                let what = classLabel.map { "class \($0)" } ?? "requested classes (i mod K)"
                row("class acc.", f(a), "(\(what))")
            }
            print("precision/recall: k = 3 (Kynkäänniemi et al.); density/coverage: k = 5 (Naeem et al.); IS: 10 splits")
        }
        if modelScores.collapsed {
            let msg = String(format: "mode collapse: recall %.3f and coverage %.3f are near 0 (baseline %.3f / %.3f)",
                             modelScores.prdc.recall, modelScores.prdc.coverage, baseScores.prdc.recall, baseScores.prdc.coverage)
            if json { common.warn(msg) } else { print("WARNING: " + msg) }
        }
    }
}
