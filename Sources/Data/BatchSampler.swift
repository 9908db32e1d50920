// BatchSampler: seeded shuffling and batching whose order depends only on (seed, epoch),
// so a resumed run sees the same batches as an uninterrupted one. The permutation is Core's
// `RandomStream(seed, step: epoch, purpose: .shuffle).permutation` (Philox4x32-10), the same
// generator as every other run-time draw.

import Core
import GraphIR

/// Index batches for each epoch: a Fisher–Yates permutation of 0..<count keyed by
/// (seed, epoch) (or 0..<count in order when `shuffle` is false), cut into batches of
/// `batchSize`; the last, shorter batch is kept unless `dropLast`.
/// 60,000 images in batches of 128 give 469 batches, the last holding 96.
public struct BatchSampler: Sendable, Equatable {
    public let count: Int
    public let batchSize: Int
    public let dropLast: Bool
    public let seed: UInt64
    public let shuffle: Bool

    /// `count` ≥ 0 and `batchSize` ≥ 1 (callers validate user settings first).
    public init(count: Int, batchSize: Int, dropLast: Bool = false, seed: UInt64, shuffle: Bool = true) {
        precondition(count >= 0, "BatchSampler: negative count \(count)")
        precondition(batchSize >= 1, "BatchSampler: batch size \(batchSize) must be at least 1")
        self.count = count
        self.batchSize = batchSize
        self.dropLast = dropLast
        self.seed = seed
        self.shuffle = shuffle
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The order of the images in `epoch` (0-based).
    public func permutation(epoch: Int) -> [Int] {
        guard shuffle, count > 1 else { return Array(0..<count) }
        var rng = RandomStream(seed: seed, step: UInt64(bitPattern: Int64(epoch)), purpose: .shuffle)
        return rng.permutation(count)
    }

    /// All batches of `epoch`, in order.
    public func batches(epoch: Int) -> [[Int]] {
        let p = permutation(epoch: epoch)
        return (0..<batchesPerEpoch).map { b in Array(p[b * batchSize ..< min((b + 1) * batchSize, count)]) }
    }

    /// Batch `index` of `epoch` (0 ≤ index < batchesPerEpoch).
    public func batch(_ index: Int, epoch: Int) -> [Int] {
        precondition(index >= 0 && index < batchesPerEpoch, "batch \(index) out of 0..<\(batchesPerEpoch)")
        let p = permutation(epoch: epoch)
        return Array(p[index * batchSize ..< min((index + 1) * batchSize, count)])
    }

    /// (epoch, batch within the epoch) of the 0-based iteration `iteration`, for resuming.
    public func position(ofIteration iteration: Int) -> (epoch: Int, batch: Int) {
        let n = max(batchesPerEpoch, 1)
        return (iteration / n, iteration % n)
    }
}

/// Makes batch tensors from a dataset, reusing its float and label buffers: when the caller
/// has let go of the previous batch's tensors, the next batch is written in place.
public final class BatchLoader {
    public let dataset: Dataset
    private var images: [Float] = []
    private var labels: [Int64] = []

    public init(dataset: Dataset) {
        self.dataset = dataset
    }

    /// Images [n, C, H, W] as floats in the dataset's range, and labels [n] (int64) when the
    /// dataset has labels. Indices must lie in 0..<dataset.count.
    public func makeBatch(_ indices: [Int]) -> (images: Tensor, labels: Tensor?) {
        let n = indices.count
        let size = dataset.imageSize
        if images.count != n * size {
            images = [Float](repeating: 0, count: n * size)
        }
        images.withUnsafeMutableBufferPointer { buf in
            if let base = buf.baseAddress { dataset.fill(indices, into: base) }
        }
        let imageTensor = Tensor(shape: [n, dataset.channels, dataset.height, dataset.width], floats: images)
        guard let all = dataset.labels else { return (imageTensor, nil) }
        if labels.count != n { labels = [Int64](repeating: 0, count: n) }
        for (k, i) in indices.enumerated() { labels[k] = all[i] }
        return (imageTensor, Tensor(shape: [n], int64s: labels))
    }
}
