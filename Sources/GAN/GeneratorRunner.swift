// GeneratorRunner: runs a `GeneratorModel` in batches (the engine behind gan-sample,
// gan-interpolate and gan-eval's generated set).
//
// Contract: a fixed batch dim in the graph forces that batch size (the last batch is
// zero-padded); each sample's result does not depend on the batch it is in. Outputs must be
// images ([N,C,H,W] with C 1 or 3, [N,H,W], or [N,D] with metadata gannet.image_shape); a
// non-finite output value is an error naming the output and the sample, so no image of NaNs is
// written. Errors are `GannetError`s located at the model file.

import Core
import Foundation
import GraphIR
import Runtime

/// Image geometry of a generator output.
public struct ImageShape: Equatable {
    public var channels: Int, height: Int, width: Int
    public var count: Int { channels * height * width }
}

/// Runs a generator in batches.
public final class GeneratorRunner {
    public let model: GeneratorModel
    public let session: Session
    public let batch: Int
    public private(set) var imageShape: ImageShape?

    public init(model: GeneratorModel, batch: Int, threads: Int) throws {
        self.model = model
        self.batch = model.fixedBatch ?? max(1, batch)
        session = try at(model.path) { try Session(graph: model.graph, threads: max(1, threads)) }
    }

    /// Per-sample extra float inputs (e.g. cut embedding rows), by input name.
    public typealias Extra = [String: [[Float]]]

    /// Generates images for `latents` (and `classes`/`extra` when the model takes them); returns
    /// NCHW floats, one image after the other. `progress` is called with the done count.
    public func generate(latents: [[Float]], classes: [Int]? = nil, extra: Extra = [:],
                         progress: ((Int) -> Void)? = nil) throws -> [Float] {
        let n = latents.count
        var result: [Float] = []
        var start = 0
        let names = Set(session.inputNames)
        while start < n {
            let real = min(batch, n - start)
            let b = model.fixedBatch ?? real
            var feeds: [String: Tensor] = [:]
            var z = [Float](repeating: 0, count: b * model.latentSize)
            for i in 0..<real {
                let v = latents[start + i]
                guard v.count == model.latentSize else { throw Failure("latent \(start + i) has \(v.count) values, the model takes \(model.latentSize)") }
                z.replaceSubrange(i * model.latentSize..<(i + 1) * model.latentSize, with: v)
            }
            feeds[model.latentInput] = Tensor(shape: [b] + model.latentShape, floats: z)
            if let c = model.classInput, names.contains(c) {
                guard let classes else { throw Failure("\(model.path): the model is conditional; a class is needed") }
                var y = [Int64](repeating: 0, count: b)
                for i in 0..<real { y[i] = Int64(classes[start + i]) }
                feeds[c] = Tensor(shape: [b] + model.classShape, int64s: y, dtype: model.classDType)
            }
            for (name, rows) in extra {
                let d = rows.first?.count ?? 0
                var e = [Float](repeating: 0, count: b * d)
                for i in 0..<real { e.replaceSubrange(i * d..<(i + 1) * d, with: rows[start + i]) }
                let t = session.graph.value(named: name).flatMap { session.graph.type(of: $0) }
                let tail = t.map { $0.shape.dropFirst().map { $0.value ?? 1 } } ?? [d]
                feeds[name] = Tensor(shape: [b] + tail, floats: e)
            }
            let outs = try at(model.path) { try session.run(feeds) }
            guard let y = outs[model.output] else { throw Failure("\(model.path): no output '\(model.output)'") }
            let shape = try imageShape(of: y)
            if imageShape == nil { imageShape = shape }
            let f = y.floats
            let first = f[0..<(real * shape.count)].firstIndex { !$0.isFinite }
            if let first {
                throw Failure("\(model.path): output '\(model.output)' is not finite (\(f[first])) for sample \(start + first / shape.count); no image is written")
            }
            result += f[0..<(real * shape.count)]
            start += real
            progress?(start)
        }
        return result
    }

    func imageShape(of y: Tensor) throws -> ImageShape {
        let s = y.shape
        var shape: ImageShape?
        if s.count == 4, s[1] == 1 || s[1] == 3 { shape = ImageShape(channels: s[1], height: s[2], width: s[3]) }
        else if s.count == 3 { shape = ImageShape(channels: 1, height: s[1], width: s[2]) }
        else if s.count == 2, let p = model.graph.gannet.imageShape {
            if p.reduce(1, *) == s[1], p[0] == 1 || p[0] == 3 { shape = ImageShape(channels: p[0], height: p[1], width: p[2]) }
        }
        guard let shape, shape.count > 0 else {
            throw Failure("\(model.path): output '\(model.output)' has shape \(s); expected images [N,C,H,W] with C = 1 or 3")
        }
        return shape
    }
}
