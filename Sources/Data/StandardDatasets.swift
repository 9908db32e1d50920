// Standard datasets: Fashion-MNIST (Debian package), MNIST (IDX files in a directory),
// CIFAR-10 binary batches.

import Foundation

extension Dataset {
    /// Where Debian's `dataset-fashion-mnist` package installs the gzipped IDX files.
    public static let defaultFashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    public static let fashionMNISTClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    public static let mnistClassNames = (0...9).map(String.init)
    public static let cifar10ClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"]

    /// The IDX file names of a split ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", …).
    public static func idxFileNames(_ split: Split) -> (images: String, labels: String) {
        let p = split == .train ? "train" : "t10k"
        return ("\(p)-images-idx3-ubyte", "\(p)-labels-idx1-ubyte")
    }

    /// Fashion-MNIST from `directory` (default: the Debian package's location).
    public static func fashionMNIST(directory: String = defaultFashionMNISTDirectory, split: Split = .train,
                                    range: PixelRange = .zeroToOne) throws -> Dataset {
        try idxPair(directory: directory, split: split, range: range, classNames: fashionMNISTClassNames,
                    missingHint: "Fashion-MNIST is not installed there; on Debian/Ubuntu run `apt-get install dataset-fashion-mnist` "
                        + "(installs \(defaultFashionMNISTDirectory)), or download the four *-ubyte.gz files from "
                        + "https://github.com/zalandoresearch/fashion-mnist (data/fashion) into that directory")
    }

    /// MNIST from a user-named directory holding the four IDX files (gzipped or not; also
    /// found under `raw/` or `MNIST/raw/`, torchvision's layout).
    public static func mnist(directory: String, split: Split = .train, range: PixelRange = .zeroToOne) throws -> Dataset {
        try idxPair(directory: directory, split: split, range: range, classNames: mnistClassNames,
                    missingHint: "download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz "
                        + "and t10k-labels-idx1-ubyte.gz from https://ossci-datasets.s3.amazonaws.com/mnist/ "
                        + "(mirror of http://yann.lecun.com/exdb/mnist/) into that directory")
    }

    static func idxPair(directory: String, split: Split, range: PixelRange, classNames: [String],
                        missingHint: String) throws -> Dataset {
        let names = idxFileNames(split)
        let dirs = [directory, directory + "/raw", directory + "/MNIST/raw"]
        func find(_ name: String) -> String? {
            for d in dirs {
                for candidate in ["\(d)/\(name).gz", "\(d)/\(name)"] where fileExists(candidate) { return candidate }
            }
            return nil
        }
        guard let images = find(names.images) else {
            throw DataError("\(directory)/\(names.images).gz: not found; \(missingHint)")
        }
        guard let labels = find(names.labels) else {
            throw DataError("\(directory)/\(names.labels).gz: not found; \(missingHint)")
        }
        return try IDX.dataset(images: images, labels: labels, range: range, classNames: classNames)
    }

    /// CIFAR-10 binary version from `directory` (or its `cifar-10-batches-bin` subfolder):
    /// train = data_batch_1.bin … data_batch_5.bin, test = test_batch.bin. Each record is
    /// one label byte and 3,072 pixel bytes (3×32×32, CHW).
    public static func cifar10(directory: String, split: Split = .train, range: PixelRange = .zeroToOne) throws -> Dataset {
        let names = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        let base = directoryExists(directory + "/cifar-10-batches-bin") && !fileExists(directory + "/" + names[0])
            ? directory + "/cifar-10-batches-bin" : directory
        let paths = names.map { "\(base)/\($0)" }
        if let missing = paths.first(where: { !fileExists($0) }) {
            throw DataError("\(missing): not found; download the CIFAR-10 binary version from "
                + "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and unpack it into \(directory)")
        }
        return try cifar10(files: paths, range: range)
    }

    /// CIFAR-10 records from the given batch files, in order.
    public static func cifar10(files: [String], range: PixelRange = .zeroToOne) throws -> Dataset {
        let record = 1 + 3 * 32 * 32
        var pixels: [UInt8] = []
        var labels: [Int64] = []
        for path in files {
            let reader = try GzipReader(path)
            var bytes: [UInt8] = []
            // Read in whole records; the array grows only as data arrives.
            while try reader.read(record * 1024, appendingTo: &bytes) > 0 {}
            guard bytes.count % record == 0, !bytes.isEmpty else {
                throw DataError("\(path): \(bytes.count) bytes is not a whole number of CIFAR-10 records (\(record) bytes each: label + 3×32×32)")
            }
            let n = bytes.count / record
            pixels.reserveCapacity(pixels.count + n * (record - 1))
            for r in 0..<n {
                let label = bytes[r * record]
                guard label < 10 else {
                    throw DataError("\(path): record \(r) has label \(label), CIFAR-10 labels are 0…9")
                }
                labels.append(Int64(label))
                pixels.append(contentsOf: bytes[r * record + 1 ..< (r + 1) * record])
            }
        }
        return try Dataset(pixels: pixels, labels: labels, count: labels.count, channels: 3, height: 32, width: 32,
                           range: range, classNames: cifar10ClassNames, source: files.first ?? "")
    }

    /// Writes a CIFAR-10 batch file (for tests and tools): one label byte + 3,072 CHW bytes each.
    public static func writeCIFAR10Batch(labels: [UInt8], pixels: [UInt8], to path: String) throws {
        guard pixels.count == labels.count * 3072 else {
            throw DataError("\(path): \(pixels.count) pixel bytes for \(labels.count) records")
        }
        var out: [UInt8] = []
        out.reserveCapacity(labels.count * 3073)
        for (i, l) in labels.enumerated() {
            out.append(l)
            out.append(contentsOf: pixels[i * 3072 ..< (i + 1) * 3072])
        }
        try writeFile(out, to: path, gzip: false)
    }
}
