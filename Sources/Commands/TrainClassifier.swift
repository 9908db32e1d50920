// TrainClassifier: `gannet train-classifier SPEC [--epochs E] [--out MODEL.pb] [--seed S]
// [--threads T] [--batch B] [--lr LR] [--init-from MODEL.pb] [--limit N] [--data DIR]` — trains the spec's classifier network on
// Fashion-MNIST (train split) and exports it as the feature network of gan-eval.
//
// Contract: the network is the spec's `role: classifier` network (else one named
// `classifier`); its LAST output is the logits (N, K), its first output (when there are two)
// the features. The loop is Training's `ClassifierTraining` (cross-entropy, the spec's
// optimizer, a seeded permutation per epoch, test accuracy after each epoch, printed).
// The exported ONNX model carries metadata (GraphIR's ModelMetadata) `gannet.feature_output`,
// `gannet.logits_output`, `gannet.classes` (class count), `gannet.class_names`,
// `gannet.test_accuracy`, `gannet.input_range` ("0,1" or "-1,1") and `gannet.image_shape`.

import Core
import ArgumentParser
import Foundation
import GraphIR
import Kernels
import Passes
import Runtime
import SpecFormat
import Training
import Data

public struct TrainClassifier: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train-classifier",
        abstract: "Train a spec's classifier network on Fashion-MNIST (the feature network of gan-eval).",
        discussion: """
        Example:
          gannet train-classifier Specs/classifier_fashion_mnist.yaml --epochs 4 \\
              --out Models/classifier_fashion_mnist.pb
        The spec's classifier must output logits (N, 10) last, and may output features first.
        """,
        version: GannetVersion.string)

    @Argument(help: "Spec file (.yaml) with a classifier network.") var spec: String
    @Option(help: "Epochs (default: the spec's).") var epochs: Int?
    @Option(name: .shortAndLong, help: "Output ONNX model.") var out = "Models/classifier_fashion_mnist.pb"
    @Option(help: "Seed for initialisation and data order (default: the spec's).") var seed: UInt64?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "Batch size (default: the spec's).") var batch: Int?
    @Option(help: "Train on the first N training images only (quick runs).") var limit: Int?
    @Option(help: "Evaluate on the first N test images only (quick runs).") var testLimit: Int?
    @Option(help: "IDX dataset directory: Fashion-MNIST (default), or MNIST (train-/t10k-images-idx3-ubyte[.gz] and labels).") var data = Dataset.defaultFashionMNISTDirectory
    @Option(help: "Log the running loss every N steps.") var logEvery = 50
    @Option(help: "Learning rate override (default: the spec's).") var lr: Double?
    @Option(help: "Start from the weights of this model (a classifier exported earlier; fine-tuning).") var initFrom: String?

    public init() {}

    public func validate() throws {
        if let e = epochs, e < 1 { throw ValidationError("--epochs must be at least 1") }
        if let b = batch, b < 1 { throw ValidationError("--batch must be at least 1") }
        if let t = threads, t < 1 || t > 256 { throw ValidationError("--threads must be in 1...256") }
        if let l = limit, l < 1 { throw ValidationError("--limit must be at least 1") }
        if let l = testLimit, l < 1 { throw ValidationError("--test-limit must be at least 1") }
        if let r = lr, !(r > 0 && r.isFinite) { throw ValidationError("--lr must be a number > 0") }
        guard logEvery >= 1 else { throw ValidationError("--log-every must be at least 1") }
    }

    func say(_ s: String) { print(s); fflush(stdout) }

    public func run() throws {
        let spec = try Spec.load(path: self.spec)
        guard let net = spec.network(role: .classifier) ?? spec.network("classifier") else {
            throw CommandError("\(self.spec): the spec has no network with role 'classifier' (networks: \(spec.networkNames.joined(separator: ", ")))")
        }
        let seed = self.seed ?? spec.seed
        let graph = try spec.buildGraph(network: net.name, seed: seed)
        guard graph.inputs.count == 1, let inType = graph.type(of: graph.inputs[0]), inType.rank == 4 else {
            throw CommandError("\(self.spec): classifier '\(net.name)' must take one image input [N, C, H, W]")
        }
        guard let logitsV = graph.outputs.last, let lt = graph.type(of: logitsV), lt.rank == 2, let classes = lt.shape[1].value else {
            throw CommandError("\(self.spec): classifier '\(net.name)' must output logits [N, K] last")
        }
        let featureV = graph.outputs.count >= 2 ? graph.outputs[0] : logitsV
        let range: PixelRange = spec.dataset.range.low < 0 ? .minusOneToOne : .zeroToOne
        let threadCount = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount)

        var train = try Dataset.fashionMNIST(directory: data, split: .train, range: range)
        var test = try Dataset.fashionMNIST(directory: data, split: .test, range: range)
        if let l = limit { train = train.prefix(l) }
        if let l = testLimit { test = test.prefix(l) }
        guard train.imageShape == inType.shape.dropFirst().compactMap(\.value), train.labels != nil, test.labels != nil else {
            throw CommandError("\(self.spec): the classifier input \(inType) does not match Fashion-MNIST images \(train.imageShape) with labels")
        }

        // Parameters.
        let store = ParameterStore()
        for (v, t) in graph.initializers where t.dtype == .float32 { try store.set("\(graph.name)/\(graph.name(of: v))", t) }
        var priorEpochs = 0
        if let path = initFrom {
            let start = try loadGraph(path: path)
            var loaded = 0
            for (v, t) in start.initializers where t.dtype == .float32 {
                let name = "\(graph.name)/\(start.name(of: v))"
                guard let e = store.entry(name) else { continue }
                guard e.shape == t.shape else { throw CommandError("\(path): '\(start.name(of: v))' is \(t.shape), the spec's is \(e.shape)") }
                try store.set(name, t)
                loaded += 1
            }
            priorEpochs = start.gannet.trainedEpochs ?? 0
            say("initialised \(loaded) tensors from \(path)")
        }
        let opt: OptimizerChoice
        let o = spec.optimizers[net.name]
        switch o?.kind {
        case .sgd?: opt = .sgd(SGDConfig(lr: Float(lr ?? o!.lr), momentum: Float(o!.momentum), weightDecay: Float(o!.weightDecay)))
        case .rmsprop?: opt = .rmsprop(RMSpropConfig(lr: Float(lr ?? o!.lr), alpha: Float(o!.alpha), eps: Float(o!.eps), weightDecay: Float(o!.weightDecay)))
        default: opt = .adam(AdamConfig(lr: Float(lr ?? o?.lr ?? 1e-3), beta1: Float(o?.beta1 ?? 0.9), beta2: Float(o?.beta2 ?? 0.999),
                                        eps: Float(o?.eps ?? 1e-8), weightDecay: Float(o?.weightDecay ?? 0)))
        }
        let epochs = self.epochs ?? spec.schedule.epochs
        let bs = batch ?? spec.schedule.batchSize
        say("train-classifier: \(net.name) (\(Spec.parameterCount(graph)) parameters), \(train.count) train / \(test.count) test images, batch \(bs), \(epochs) epochs, \(threadCount) threads, seed \(seed)")
        let t0 = Date()
        let loop = ClassifierTraining(epochs: epochs, batchSize: bs, seed: seed, threads: threadCount, logEvery: logEvery, optimizer: opt)
        let (trained, accuracy) = try loop.run(graph, classes: classes, trainable: Spec.trainableParameters(graph), store: store,
                                               train: train, test: test, log: say)

        var g = trained
        var md = g.gannet
        md.featureOutput = g.name(of: featureV)
        md.logitsOutput = g.name(of: logitsV)
        md.classes = classes
        md.numClasses = classes
        if let names = train.classNames { md.classNames = names }
        md.testAccuracy = String(format: "%.4f", accuracy)
        md.inputRange = range == .minusOneToOne ? "-1,1" : "0,1"
        md.imageShape = train.imageShape
        md.trainedEpochs = epochs + priorEpochs
        // IDX files of another dataset (MNIST from a directory the user names) under the same names.
        md.dataset = data == Dataset.defaultFashionMNISTDirectory ? "fashion-mnist" : "idx:\(data)"
        g.gannet = md
        try InferShapes().run(&g)
        let dir = (out as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try saveGraph(g, path: out)
        say(String(format: "wrote %@ (test accuracy %.4f, %.0fs)", out, accuracy, Date().timeIntervalSince(t0)))
    }
}

/// Data's datasets feed the classifier loop directly.
extension Dataset: LabelledImages {}
