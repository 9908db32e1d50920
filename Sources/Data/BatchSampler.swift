// BatchSampler: seeded shuffling and batching whose order depends only on (seed, epoch),
// so a resumed run sees the same batches as an uninterrupted one.

import GraphIR

/// A small counter-based generator: value i of stream (seed, epoch) is a SplitMix64-style
/// hash of a key derived from both, plus i. No state beyond the counter.
public struct CounterRNG: Sendable {
    public let key: UInt64
    public private(set) var counter: UInt64 = 0

    public init(seed: UInt64, stream: UInt64) {
        key = CounterRNG.mix(CounterRNG.mix(seed ^ 0x5DEE_CE66_D1CE_4E5B) &+ CounterRNG.mix(stream &+ 0x9E37_79B9_7F4A_7C15))
    }

    /// SplitMix64's finaliser (Stafford variant 13).
    @inline(__always) public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let v = CounterRNG.mix(key &+ counter &* 0xD1B5_4A32_D192_ED03)
        counter &+= 1
        return v
    }

    /// Uniform in 0..<bound (bound > 0), unbiased (Lemire's multiply-and-reject).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }
}

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
        var p = Array(0..<count)
        guard shuffle, count > 1 else { return p }
        var rng = CounterRNG(seed: seed, stream: UInt64(bitPattern: Int64(epoch)))
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(rng.next(below: UInt64(i + 1)))
            p.swapAt(i, j)
        }
        return p
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
