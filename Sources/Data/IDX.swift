// IDX: the MNIST file format (big-endian header, then raw unsigned bytes), plain or gzipped.

/// The contents of an IDX file of unsigned bytes (type code 0x08).
public struct IDXFile: Equatable {
    /// Dimensions from the header, outermost first (images: N, H, W; labels: N).
    public var dims: [Int]
    /// The data, `dims.reduce(1, *)` bytes, row-major.
    public var bytes: [UInt8]

    public init(dims: [Int], bytes: [UInt8]) {
        self.dims = dims
        self.bytes = bytes
    }
}

public enum IDX {
    /// Magic of an image file: u8 data, three dimensions (N×H×W).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic of a label file: u8 data, one dimension (N).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Reads an IDX file of u8 data (gzipped or plain), checking the magic against `magic`
    /// when given, and that the data is exactly as long as the dimensions say.
    public static func read(_ path: String, magic: UInt32? = nil) throws -> IDXFile {
        let reader = try GzipReader(path)
        var header: [UInt8] = []
        guard try reader.read(4, appendingTo: &header) == 4 else {
            throw DataError("\(path): not an IDX file (shorter than the 4-byte magic)")
        }
        let found = UInt32(header[0]) << 24 | UInt32(header[1]) << 16 | UInt32(header[2]) << 8 | UInt32(header[3])
        if let magic {
            guard found == magic else {
                throw DataError("\(path): bad IDX magic 0x\(hex8(found)), expected 0x\(hex8(magic))"
                    + (magic == imagesMagic ? " (u8 images N×H×W)" : magic == labelsMagic ? " (u8 labels N)" : ""))
            }
        }
        guard header[0] == 0, header[1] == 0 else {
            throw DataError("\(path): bad IDX magic 0x\(hex8(found)) (first two bytes must be zero)")
        }
        guard header[2] == 0x08 else {
            throw DataError("\(path): IDX data type 0x\(String(header[2], radix: 16)) is not supported (only unsigned bytes, 0x08)")
        }
        let rank = Int(header[3])
        guard rank >= 1 else { throw DataError("\(path): IDX file has no dimensions") }
        var dimBytes: [UInt8] = []
        guard try reader.read(4 * rank, appendingTo: &dimBytes) == 4 * rank else {
            throw DataError("\(path): truncated IDX header (\(rank) dimensions announced)")
        }
        var dims: [Int] = []
        for i in 0..<rank {
            let d = Int(dimBytes[4 * i]) << 24 | Int(dimBytes[4 * i + 1]) << 16 | Int(dimBytes[4 * i + 2]) << 8 | Int(dimBytes[4 * i + 3])
            dims.append(d)
        }
        guard let total = checkedProduct(dims) else {
            throw DataError("\(path): IDX dimensions \(dims) are too large")
        }
        // A plain file's size settles the data length before anything is allocated or read.
        if let left = reader.remainingPlainBytes(), left != total {
            let shape = dims.map(String.init).joined(separator: "×")
            throw DataError(left < total
                ? "\(path): truncated: dimensions \(shape) need \(total) data bytes, the file has \(left)"
                : "\(path): data is longer than dimensions \(shape) say (\(total) bytes)")
        }
        var bytes: [UInt8] = []
        let got = try reader.read(total, appendingTo: &bytes)
        guard got == total else {
            throw DataError("\(path): truncated: dimensions \(dims.map(String.init).joined(separator: "×")) need \(total) data bytes, the file has \(got)")
        }
        guard try reader.atEnd() else {
            throw DataError("\(path): data is longer than dimensions \(dims.map(String.init).joined(separator: "×")) say (\(total) bytes)")
        }
        return IDXFile(dims: dims, bytes: bytes)
    }

    /// Writes u8 data as an IDX file (gzipped when `gzip`), for tests and tools.
    public static func write(_ file: IDXFile, to path: String, gzip: Bool) throws {
        guard file.dims.count >= 1, file.dims.count <= 255, file.dims.allSatisfy({ $0 >= 0 && $0 <= Int(UInt32.max) }),
              checkedProduct(file.dims) == file.bytes.count else {
            throw DataError("\(path): dimensions \(file.dims) do not match \(file.bytes.count) bytes")
        }
        var out: [UInt8] = [0, 0, 0x08, UInt8(file.dims.count)]
        for d in file.dims {
            out += [UInt8(truncatingIfNeeded: d >> 24), UInt8(truncatingIfNeeded: d >> 16), UInt8(truncatingIfNeeded: d >> 8), UInt8(truncatingIfNeeded: d)]
        }
        out += file.bytes
        try writeFile(out, to: path, gzip: gzip)
    }

    /// Reads an image file (N×H×W) and, when given, its label file (N), checking that the
    /// counts agree. Pixels become a 1-channel dataset.
    public static func dataset(images: String, labels: String?, range: PixelRange = .zeroToOne,
                               classNames: [String]? = nil) throws -> Dataset {
        let img = try read(images, magic: imagesMagic)
        guard img.dims.count == 3 else {
            throw DataError("\(images): image IDX file must have 3 dimensions (N×H×W), has \(img.dims.count)")
        }
        let (n, h, w) = (img.dims[0], img.dims[1], img.dims[2])
        guard h > 0, w > 0 else { throw DataError("\(images): image size \(h)×\(w) is empty") }
        var labelValues: [Int64]?
        if let labels {
            let lab = try read(labels, magic: labelsMagic)
            guard lab.dims.count == 1 else {
                throw DataError("\(labels): label IDX file must have 1 dimension (N), has \(lab.dims.count)")
            }
            guard lab.dims[0] == n else {
                throw DataError("\(labels): \(lab.dims[0]) labels, but \(images) has \(n) images")
            }
            labelValues = lab.bytes.map { Int64($0) }
        }
        return try Dataset(pixels: img.bytes, labels: labelValues, count: n, channels: 1, height: h, width: w,
                           range: range, classNames: classNames, source: images)
    }

    static func hex8(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}
