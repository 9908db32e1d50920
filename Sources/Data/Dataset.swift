// Dataset: images kept as bytes (N×C×H×W), converted to Float per batch.

import GraphIR

/// How byte pixels map to floats: `zeroToOne` is torchvision's ToTensor (v / 255);
/// `minusOneToOne` adds Normalize(0.5, 0.5): (v / 255 − 0.5) / 0.5, computed in Float
/// in that order so values match PyTorch bit for bit.
public enum PixelRange: String, Sendable, CaseIterable {
    case zeroToOne
    case minusOneToOne

    /// The 256 float values of the byte values 0…255.
    public var table: [Float] {
        (0..<256).map { v -> Float in
            let x = Float(v) / 255
            switch self {
            case .zeroToOne: return x
            case .minusOneToOne: return (x - 0.5) / 0.5
            }
        }
    }
}

/// A split of a standard dataset.
public enum Split: String, Sendable, CaseIterable {
    case train
    case test
}

/// A set of equally sized images with optional integer labels.
///
/// Pixels are stored as bytes, `count × channels × height × width` (NCHW), exactly as the
/// files hold them (after an optional resize that rounds to bytes like PIL does), and become
/// `Float` in `range` when a batch is made: 60,000 MNIST images resized to 64×64 take 245 MB
/// this way instead of 983 MB as floats.
public struct Dataset: Sendable {
    /// NCHW bytes, `count * imageSize` of them.
    public private(set) var pixels: [UInt8]
    /// One label per image (class indices), or nil when the source has none.
    public private(set) var labels: [Int64]?
    public let count: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    /// The float range of images handed out (`floats(at:)`, batches).
    public var range: PixelRange
    /// Class names in label order, when the source names them.
    public var classNames: [String]?
    /// Where the data came from (a file or directory), for messages.
    public var source: String

    /// Checks that the sizes agree; labels must be non-negative.
    public init(pixels: [UInt8], labels: [Int64]?, count: Int, channels: Int, height: Int, width: Int,
                range: PixelRange = .zeroToOne, classNames: [String]? = nil, source: String = "") throws {
        guard count >= 0, channels > 0, height > 0, width > 0 else {
            throw DataError("\(source): bad dataset shape \(count)×\(channels)×\(height)×\(width)")
        }
        guard let total = checkedProduct([count, channels, height, width]), total == pixels.count else {
            throw DataError("\(source): \(pixels.count) pixel bytes do not match \(count)×\(channels)×\(height)×\(width)")
        }
        if let labels {
            guard labels.count == count else {
                throw DataError("\(source): \(labels.count) labels for \(count) images")
            }
            if let bad = labels.first(where: { $0 < 0 }) {
                throw DataError("\(source): negative label \(bad)")
            }
        }
        self.pixels = pixels
        self.labels = labels
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.range = range
        self.classNames = classNames
        self.source = source
    }

    /// [channels, height, width].
    public var imageShape: [Int] { [channels, height, width] }
    /// Bytes (and floats) per image.
    public var imageSize: Int { channels * height * width }
    /// Number of classes: the class names' count, else 1 + the largest label, else 0.
    public var classCount: Int {
        if let classNames { return classNames.count }
        if let labels, let m = labels.max() { return Int(m) + 1 }
        return 0
    }

    /// How many images carry each label (empty without labels).
    public func labelCounts() -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        for l in labels ?? [] { counts[l, default: 0] += 1 }
        return counts
    }

    /// The bytes of image `index` (CHW).
    public func bytes(at index: Int) -> ArraySlice<UInt8> {
        precondition(index >= 0 && index < count, "image index \(index) out of 0..<\(count)")
        return pixels[index * imageSize ..< (index + 1) * imageSize]
    }

    /// Image `index` as floats in `range` (CHW).
    public func floats(at index: Int) -> [Float] {
        let t = range.table
        return bytes(at: index).map { t[Int($0)] }
    }

    /// Writes the images `indices` as floats in `range` to `out` (NCHW, `indices.count *
    /// imageSize` floats). Indices must lie in 0..<count.
    public func fill(_ indices: [Int], into out: UnsafeMutablePointer<Float>) {
        let t = range.table
        let size = imageSize
        t.withUnsafeBufferPointer { table in
            pixels.withUnsafeBufferPointer { px in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "image index \(i) out of 0..<\(count)")
                    let src = px.baseAddress! + i * size
                    let dst = out + k * size
                    for j in 0..<size { dst[j] = table[Int(src[j])] }
                }
            }
        }
    }

    /// The whole dataset as one float tensor [count, C, H, W] (mind the memory).
    public func imagesTensor() -> Tensor {
        var all = [Float](repeating: 0, count: count * imageSize)
        all.withUnsafeMutableBufferPointer { fill(Array(0..<count), into: $0.baseAddress!) }
        return Tensor(shape: [count, channels, height, width], floats: all)
    }

    /// The first `n` images (or all, if fewer): for quick runs and tests.
    public func prefix(_ n: Int) -> Dataset {
        let m = max(0, min(n, count))
        var d = self
        d.pixels = Array(pixels[0 ..< m * imageSize])
        d.labels = labels.map { Array($0[0 ..< m]) }
        return try! Dataset(pixels: d.pixels, labels: d.labels, count: m, channels: channels, height: height,
                            width: width, range: range, classNames: classNames, source: source)
    }

    /// Every image resized to `height`×`width` with `filter` (PIL's algorithms: bilinear is
    /// what torchvision's `Resize` does to a PIL image, rounded to bytes).
    public func resized(height newH: Int, width newW: Int, filter: ResizeFilter = .bilinear) throws -> Dataset {
        guard newH > 0, newW > 0, newH <= 1 << 14, newW <= 1 << 14 else {
            throw DataError("\(source): resize target \(newH)×\(newW) is out of range")
        }
        if newH == height && newW == width { return self }
        guard let total = checkedProduct([count, channels, newH, newW], limit: 1 << 36) else {
            throw DataError("\(source): resized dataset \(count)×\(channels)×\(newH)×\(newW) is too large")
        }
        let resizer = Resizer(inH: height, inW: width, outH: newH, outW: newW, filter: filter)
        var out = [UInt8](repeating: 0, count: total)
        let planeIn = height * width, planeOut = newH * newW
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var scratch = [UInt8](repeating: 0, count: height * newW)
                for p in 0 ..< count * channels {
                    resizer.resize(src.baseAddress! + p * planeIn, into: dst.baseAddress! + p * planeOut, scratch: &scratch)
                }
            }
        }
        return try Dataset(pixels: out, labels: labels, count: count, channels: channels, height: newH, width: newW,
                           range: range, classNames: classNames, source: source)
    }
}
