// Spec sections about data: the dataset, the latent space and class conditioning.
//
// Contract: plain values filled by `SpecReader` (SpecReader.swift); the YAML keys and their
// defaults are documented in Specs/README.md.

/// The training data.
public struct DatasetSpec: Equatable, Sendable {
    /// `fashion-mnist`, `mnist`, `cifar10` or `folder`.
    public var name: String
    /// Datasets that may replace `name` (same shape and labels), e.g. `mnist` for `fashion-mnist`.
    public var alternatives: [String]
    /// Where the files are; nil: the dataset's usual place.
    public var path: String?
    public var split: String
    /// Pixel range after loading: (0, 1) or (−1, 1).
    public var range: (low: Double, high: Double)
    /// Channels, height, width as stored.
    public var shape: [Int]
    /// Square size to resize to (bilinear), if any.
    public var resize: Int?
    /// Image folders: a center square of crop × crop pixels is cut before resizing.
    public var crop: Int? = nil
    /// Image folders: skip unreadable, corrupt or truncated files (with a count) instead of failing.
    public var skipBadImages = false
    /// Whether the label of each sample is used.
    public var labels: Bool
    public var shuffle: Bool
    public var dropLast: Bool

    /// The shape the networks see: (C, resize, resize), else (C, crop, crop), else `shape`.
    public var imageShape: [Int] { (resize ?? crop).map { [shape[0], $0, $0] } ?? shape }

    public static func == (a: DatasetSpec, b: DatasetSpec) -> Bool {
        a.name == b.name && a.alternatives == b.alternatives && a.path == b.path && a.split == b.split
            && a.range == b.range && a.shape == b.shape && a.resize == b.resize && a.labels == b.labels
            && a.shuffle == b.shuffle && a.dropLast == b.dropLast && a.crop == b.crop && a.skipBadImages == b.skipBadImages
    }
}

/// The latent space of the generator.
public struct LatentSpec: Equatable, Sendable {
    public var size: Int
    /// `normal` (N(0,1)) or `uniform` (U(−1,1)).
    public var distribution: String

    public init(size: Int, distribution: String = "normal") {
        self.size = size
        self.distribution = distribution
    }
}

/// Class conditioning.
public struct ConditionalSpec: Equatable, Sendable {
    public var classes: Int
    public var embedding: Int

    public init(classes: Int, embedding: Int) {
        self.classes = classes
        self.embedding = embedding
    }
}
