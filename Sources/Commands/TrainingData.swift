// TrainingData: the spec's dataset (or --dataset's) as a GAN BatchSource.
//
// Contract: `fashion-mnist` (default for MNIST-like specs) reads Debian's package location,
// `mnist:DIR`/`cifar10:DIR`/`folder:DIR` or a bare directory read those; images are resized when
// the spec asks (DCGAN: 64×64 bilinear) and mapped to the spec's range. Folders (PNG and JPEG)
// are decoded in parallel before training, center-cropped (`crop`) and resized once; with
// `skip_bad_images` unreadable files are skipped with a note on stderr giving the count. Batches follow a
// permutation keyed by (seed, epoch) when shuffling (Data's BatchSampler), so resumed runs see the same order; the
// last partial batch is kept unless the spec drops it. `batch(epoch:index:rows:)` builds only
// some rows of a batch (a data-parallel rank's shard) in the same global order.

import Data
import Foundation
import GAN
import GraphIR
import SpecFormat

final class DatasetBatches: BatchSource {
    let data: Dataset
    let sampler: BatchSampler
    let withLabels: Bool
    private var order: (epoch: Int, permutation: [Int])? = nil

    init(data: Dataset, batchSize: Int, shuffle: Bool, dropLast: Bool, seed: UInt64, withLabels: Bool) {
        self.data = data
        self.sampler = BatchSampler(count: data.count, batchSize: batchSize, dropLast: dropLast, seed: seed, shuffle: shuffle)
        self.withLabels = withLabels
    }

    var batchesPerEpoch: Int { sampler.batchesPerEpoch }

    func batch(epoch: Int, index: Int) throws -> (images: Tensor, labels: Tensor?) {
        try batch(epoch: epoch, index: index, rows: 0..<batchCount(epoch: epoch, index: index))
    }

    func batchCount(epoch: Int, index: Int) throws -> Int {
        guard (0..<batchesPerEpoch).contains(index) else {
            throw CommandError("\(data.source): batch \(index) of epoch \(epoch) does not exist (\(batchesPerEpoch) batches per epoch)")
        }
        let lo = index * sampler.batchSize
        return min(data.count, lo + sampler.batchSize) - lo
    }

    /// Rows `rows` of the batch: only those images are decoded into floats.
    func batch(epoch: Int, index: Int, rows: Range<Int>) throws -> (images: Tensor, labels: Tensor?) {
        let n = try batchCount(epoch: epoch, index: index)
        guard rows.lowerBound >= 0 && rows.upperBound <= n else {
            throw CommandError("\(data.source): rows \(rows) of batch \(index) do not exist (it holds \(n) images)")
        }
        if order?.epoch != epoch { order = (epoch, sampler.permutation(epoch: epoch)) }
        let lo = index * sampler.batchSize
        let indices = Array(order!.permutation[(lo + rows.lowerBound)..<(lo + rows.upperBound)])
        var pixels = [Float](repeating: 0, count: indices.count * data.imageSize)
        pixels.withUnsafeMutableBufferPointer { data.fill(indices, into: $0.baseAddress!) }
        let images = Tensor(shape: [indices.count] + data.imageShape, floats: pixels)
        var labels: Tensor? = nil
        if withLabels {
            guard let all = data.labels else { throw CommandError("\(data.source): the spec needs labels but the dataset has none") }
            labels = Tensor(shape: [indices.count], int64s: indices.map { all[$0] })
        }
        return (images, labels)
    }

    /// Loads the dataset a spec names (or `override`).
    static func load(_ spec: Spec, override: String?, note: (String) -> Void = { _ in }) throws -> Dataset {
        let d = spec.dataset
        let range: PixelRange = d.range.low < 0 ? .minusOneToOne : .zeroToOne
        let name = override ?? d.name
        let split: Split = d.split == "test" ? .test : .train
        var data: Dataset
        if name == "fashion-mnist" {
            data = try Dataset.fashionMNIST(directory: d.path ?? Dataset.defaultFashionMNISTDirectory, split: split, range: range)
        } else if name.hasPrefix("fashion-mnist:") {
            data = try Dataset.fashionMNIST(directory: String(name.dropFirst(14)), split: split, range: range)
        } else if name == "mnist" || name.hasPrefix("mnist:") {
            guard let dir = name.hasPrefix("mnist:") ? String(name.dropFirst(6)) : d.path else {
                throw CommandError("MNIST needs its directory: --dataset mnist:DIR (the four IDX files)")
            }
            data = try Dataset.mnist(directory: dir, split: split, range: range)
        } else if name == "cifar10" || name.hasPrefix("cifar10:") {
            guard let dir = name.hasPrefix("cifar10:") ? String(name.dropFirst(8)) : d.path else {
                throw CommandError("CIFAR-10 needs its directory: --dataset cifar10:DIR (data_batch_1.bin … from the binary version)")
            }
            data = try Dataset.cifar10(directory: dir, split: split, range: range)
        } else {
            let dir: String
            if name == "folder" {
                guard let p = d.path else {
                    throw CommandError("a folder dataset needs its directory: dataset.path in the spec, or --dataset folder:DIR")
                }
                dir = p
            } else {
                dir = name.hasPrefix("folder:") ? String(name.dropFirst(7)) : name
            }
            // Crop, then one resize straight to the networks' size (resize, else the crop, else the stored shape).
            let size = (d.resize ?? d.crop).map { ($0, $0) } ?? (d.shape[1], d.shape[2])
            let load = try Dataset.loadImageFolder(dir, channels: d.shape[0], size: size, crop: d.crop, range: range,
                                                   skipBadImages: d.skipBadImages)
            if let first = load.skipped.first {
                note("skipped \(load.skipped.count) unreadable image\(load.skipped.count == 1 ? "" : "s") in \(dir) (first: \(first.reason))")
            }
            data = load.dataset
        }
        if let r = d.resize, r != data.height || r != data.width {
            data = try data.resized(height: r, width: r)
        }
        guard data.imageShape == d.imageShape else {
            throw CommandError("\(data.source): images are \(data.imageShape), the spec's networks expect \(d.imageShape)")
        }
        return data
    }
}
