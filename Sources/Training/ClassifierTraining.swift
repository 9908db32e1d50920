// ClassifierTraining: the classifier training loop behind `gannet train-classifier` — the
// feature network of gan-eval.
//
// Contract: one step = cross-entropy (GraphComposer.crossEntropy) of the graph's LAST output
// (logits [N, K]) over a batch, with `optimizer`, compiled once per batch size with TrainStep.
// Data order is a seeded permutation per epoch (Core's RandomStream(seed, epoch, .shuffle), the
// same stream Data's BatchSampler shuffles with); the last partial batch is kept. After each
// epoch the test images are classified by a Session in inference mode (batches of 500) and the
// accuracy reported through `log`. Parameters live in `store` under "<graph name>/<initializer>";
// the result is `graph` with the trained values. A non-finite loss is an error naming the epoch
// and step. Data comes through `LabelledImages`, so this module needs no dataset reader.

import Core
import Foundation
import GraphIR
import Kernels
import Runtime

/// Images with class labels, handed out as NCHW floats.
public protocol LabelledImages {
    var count: Int { get }
    /// (C, H, W).
    var imageShape: [Int] { get }
    var imageSize: Int { get }
    /// One label per image.
    var labels: [Int64]? { get }
    /// Writes images `indices` one after the other into `out` (indices.count × imageSize floats).
    func fill(_ indices: [Int], into out: UnsafeMutablePointer<Float>)
}

public struct ClassifierTraining {
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    public var threads: Int
    /// Report the running loss every `logEvery` steps.
    public var logEvery: Int
    public var optimizer: OptimizerChoice

    public init(epochs: Int, batchSize: Int, seed: UInt64, threads: Int, logEvery: Int, optimizer: OptimizerChoice) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.threads = threads
        self.logEvery = logEvery
        self.optimizer = optimizer
    }

    /// Trains `graph` (logits [N, `classes`] last) on `train`, evaluating on `test` after each
    /// epoch; `trainable` names parameters without the graph prefix. Returns the trained graph and
    /// the last test accuracy.
    public func run(_ graph: Graph, classes: Int, trainable: [String], store: ParameterStore,
                    train: LabelledImages, test: LabelledImages, log: (String) -> Void) throws -> (graph: Graph, accuracy: Double) {
        guard let trainLabels = train.labels, let testLabels = test.labels else {
            throw Failure("classifier training needs labelled images")
        }
        let pool = ThreadPool(threads: threads)
        let trainable = trainable.map { "\(graph.name)/\($0)" }
        var steps: [Int: TrainStep] = [:]
        func step(_ n: Int) throws -> TrainStep {
            if let s = steps[n] { return s }
            var c = GraphComposer(name: "classifier_step")
            let x = c.input("x", TensorType(.float32, fixed: [n] + train.imageShape))
            let y = c.input("labels", TensorType(.int64, fixed: [n]))
            let outs = try c.call(graph, [x], training: true)
            let loss = c.crossEntropy(outs.last!, labels: y, classes: classes)
            c.output([loss])
            let plan = StepPlan(graph: c.graph, loss: loss, trainable: trainable, optimizer: optimizer, assignments: c.finalState)
            let s = try TrainStep(plan: plan, store: store, inputShapes: [:], pool: pool)
            steps[n] = s
            return s
        }

        func currentGraph() -> Graph {
            var g = graph
            for v in g.initializers.keys {
                if let t = store.tensor("\(graph.name)/\(g.name(of: v))") { g.initializers[v] = t }
            }
            return g
        }

        func evaluate() throws -> Double {
            let session = try Session(graph: currentGraph(), threads: threads)
            let bs = 500
            var correct = 0
            var start = 0
            var buf = [Float](repeating: 0, count: bs * test.imageSize)
            while start < test.count {
                let n = min(bs, test.count - start)
                buf.withUnsafeMutableBufferPointer { test.fill(Array(start..<(start + n)), into: $0.baseAddress!) }
                let outs = try session.run([Tensor(shape: [n] + test.imageShape, floats: Array(buf[0..<(n * test.imageSize)]))])
                let logits = outs.last!.floats
                for i in 0..<n {
                    var best = 0
                    for k in 1..<classes where logits[i * classes + k] > logits[i * classes + best] { best = k }
                    if Int64(best) == testLabels[start + i] { correct += 1 }
                }
                start += n
            }
            return Double(correct) / Double(test.count)
        }

        let bs = batchSize
        let t0 = Date()
        var accuracy = 0.0
        var xbuf = [Float](repeating: 0, count: bs * train.imageSize)
        var stepCount = 0
        for epoch in 0..<epochs {
            var rng = RandomStream(seed: seed, step: UInt64(epoch), purpose: .shuffle)
            let order = rng.permutation(train.count)
            var start = 0
            var lossSum = 0.0, lossCount = 0
            while start < train.count {
                let n = min(bs, train.count - start)
                let idx = Array(order[start..<(start + n)])
                xbuf.withUnsafeMutableBufferPointer { train.fill(idx, into: $0.baseAddress!) }
                let x = Tensor(shape: [n] + train.imageShape, floats: Array(xbuf[0..<(n * train.imageSize)]))
                let y = Tensor(shape: [n], int64s: idx.map { trainLabels[$0] })
                let s = try step(n)
                let inputs = ["x": x, "labels": y].merging(s.dropoutInputs(seed: seed, step: stepCount)) { a, _ in a }
                let out = try s.run(inputs)
                let loss = Double(out[s.outputNames[0]]!.floats[0])
                guard loss.isFinite else { throw Failure("training diverged: loss \(loss) at epoch \(epoch + 1), step \(stepCount + 1)") }
                lossSum += loss; lossCount += 1
                stepCount += 1
                start += n
                if stepCount % logEvery == 0 {
                    log(String(format: "epoch %d step %d: loss %.4f [%.0fs]", epoch + 1, stepCount, lossSum / Double(lossCount), Date().timeIntervalSince(t0)))
                }
            }
            accuracy = try evaluate()
            log(String(format: "epoch %d: train loss %.4f, test accuracy %.4f [%.0fs]", epoch + 1, lossSum / Double(max(lossCount, 1)), accuracy, Date().timeIntervalSince(t0)))
        }
        return (currentGraph(), accuracy)
    }
}
