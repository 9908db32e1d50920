// RunConfig: what a training run was started with beyond its seed — the spec's text, a hash of
// it, and every command-line override — saved in each checkpoint (format version 2) so that
// `--resume` continues the same run: the same spec, the same dataset, the same learning rates.
//
// Contract: `specHash` is zlib's CRC-32 of the spec's UTF-8 bytes, as 8 hex digits (it names a
// version of the spec in messages; the texts themselves are compared). An override left nil
// means the spec's value. After a non-finite rollback the learning rates in `dLR`/`gLR` are
// the halved ones the run continued with.

import CZlib

public struct RunConfig: Codable, Equatable, Sendable {
    public var spec: String
    public var specHash: String
    /// `--dataset` (nil: the spec's dataset).
    public var dataset: String?
    public var generatorFrequency: Int?
    public var dLR: Double?
    public var gLR: Double?
    /// Adam (β1, β2) for every optimizer, as [b1, b2].
    public var betas: [Double]?

    public init(spec: String, dataset: String? = nil, generatorFrequency: Int? = nil, dLR: Double? = nil,
                gLR: Double? = nil, betas: [Double]? = nil) {
        self.spec = spec
        self.specHash = Self.hash(spec)
        self.dataset = dataset
        self.generatorFrequency = generatorFrequency
        self.dLR = dLR
        self.gLR = gLR
        self.betas = betas
    }

    /// zlib's CRC-32 of `text` as 8 hex digits.
    public static func hash(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let crc = bytes.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, uInt($0.count)) }
        let hex = String(UInt32(truncatingIfNeeded: crc), radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
