// ImageFolder: a directory of PNG and JPEG images, optionally in class subfolders
// (torchvision's ImageFolder layout: sorted subfolder names are the classes 0, 1, …).
//
// Contract: files are found by extension (.png, .jpg, .jpeg, any case) and read in sorted
// order; JPEGs decode through libjpeg-turbo (JPEG.swift). Each image is decoded, center-cropped
// (`crop`, torchvision's CenterCrop: offsets round((H − c) / 2), round((W − c) / 2), half to
// even), converted to the channel count and resized (Pillow's filters) straight into the
// dataset's byte buffer, on `threads` worker threads at once (strided over the files, disjoint
// slots, so the result does not depend on the thread count). A file that cannot be read is an
// error naming it, or with `skipBadImages` it is left out and listed in `skipped`.

import Core
import Foundation
import Media

/// The result of reading an image folder: the dataset and the files left out.
public struct ImageFolderLoad: Sendable {
    public var dataset: Dataset
    /// Unreadable files skipped (with `skipBadImages`), in file order, with the reason.
    public var skipped: [(file: String, reason: String)]
}

extension Dataset {
    /// Reads every `.png`, `.jpg` and `.jpeg` under `path`; see `loadImageFolder`.
    public static func imageFolder(_ path: String, channels: Int? = nil, size: (height: Int, width: Int)? = nil,
                                   filter: ResizeFilter = .bilinear, range: PixelRange = .zeroToOne) throws -> Dataset {
        try loadImageFolder(path, channels: channels, size: size, filter: filter, range: range).dataset
    }

    /// Reads every `.png`, `.jpg` and `.jpeg` under `path`.
    ///
    /// - If `path` has subdirectories, each one (sorted by name) is a class and its images
    ///   (recursively, sorted by path) get that class's label; images directly in `path` are
    ///   ignored. Otherwise the images in `path` are read without labels.
    /// - `channels`: 1 or 3; nil takes the first image's (3 when it has color, else 1). Gray
    ///   becomes RGB by repetition, RGB becomes gray with Pillow's "L" conversion (0.299, 0.587,
    ///   0.114); alpha is dropped.
    /// - `crop`: a center square of crop × crop pixels is cut first (an image smaller than
    ///   that is an error naming it).
    /// - `size`: every (cropped) image is resized to it with `filter`; without it all images
    ///   must have the first image's (cropped) size.
    /// - `skipBadImages`: unreadable, corrupt or truncated files (and ones too small for the
    ///   crop) are skipped and reported in `skipped` instead of failing the load.
    /// - `threads`: decoding workers (default: the active processor count).
    public static func loadImageFolder(_ path: String, channels: Int? = nil, size: (height: Int, width: Int)? = nil,
                                       crop: Int? = nil, filter: ResizeFilter = .bilinear, range: PixelRange = .zeroToOne,
                                       skipBadImages: Bool = false, threads: Int? = nil) throws -> ImageFolderLoad {
        guard directoryExists(path) else { throw DataError("\(path): not a directory") }
        if let channels, channels != 1 && channels != 3 {
            throw DataError("\(path): channels must be 1 or 3, not \(channels)")
        }
        if let size, size.height <= 0 || size.width <= 0 || size.height > 1 << 14 || size.width > 1 << 14 {
            throw DataError("\(path): image size \(size.height)×\(size.width) is out of range")
        }
        if let crop, crop <= 0 || crop > 1 << 14 { throw DataError("\(path): crop \(crop) is out of range") }
        let fm = FileManager.default
        let entries = try listing(path)
        let classDirs = entries.filter { directoryExists(path + "/" + $0) }
        var files: [(String, Int64?)] = []
        var classNames: [String]?
        if classDirs.isEmpty {
            files = entries.filter { isImage($0) && fileExists(path + "/" + $0) }.map { (path + "/" + $0, nil) }
        } else {
            classNames = classDirs
            for (k, dir) in classDirs.enumerated() {
                let root = path + "/" + dir
                var found: [String] = []
                if let walker = fm.enumerator(atPath: root) {
                    while let rel = walker.nextObject() as? String {
                        if isImage(rel) && fileExists(root + "/" + rel) { found.append(root + "/" + rel) }
                    }
                }
                files += found.sorted().map { ($0, Int64(k)) }
            }
        }
        guard !files.isEmpty else {
            throw DataError("\(path): no .png or .jpg images found" + (classDirs.isEmpty ? "" : " in its class subfolders"))
        }
        // The first readable image fixes the channel count and (without `size`) the size.
        var skipped: [(file: String, reason: String)] = []
        var first: Image8? = nil
        var start = 0
        while first == nil && start < files.count {
            do { first = try readCropped(files[start].0, crop: crop) } catch {
                guard skipBadImages else { throw error }
                skipped.append((files[start].0, "\(error)"))
                start += 1
            }
        }
        guard let first else { throw DataError("\(path): none of its \(files.count) images could be read") }
        let c = channels ?? (first.channels >= 3 ? 3 : 1)
        let (h, w) = size ?? (first.height, first.width)
        let rest = Array(files[start...])
        guard let total = checkedProduct([rest.count, c, h, w], limit: 1 << 36) else {
            throw DataError("\(path): \(rest.count) images of \(c)×\(h)×\(w) are too many")
        }
        let imageBytes = c * h * w
        var pixels = [UInt8](repeating: 0, count: total)
        var failures = [String?](repeating: nil, count: rest.count)
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, rest.count))
        let firstFile = rest[0].0
        pixels.withUnsafeMutableBufferPointer { px in
            failures.withUnsafeMutableBufferPointer { fails in
                let base = px.baseAddress!, failBase = fails.baseAddress!
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    var i = worker
                    while i < rest.count {
                        do {
                            let img = i == 0 ? first : try readCropped(rest[i].0, crop: crop)
                            if size == nil && (img.height != h || img.width != w) {
                                throw DataError("\(rest[i].0): image is \(img.width)×\(img.height), but \(firstFile) is \(w)×\(h); "
                                    + "pass a size to resize them all")
                            }
                            let planes = toPlanes(img, channels: c, height: h, width: w, filter: filter)
                            planes.withUnsafeBufferPointer { (base + i * imageBytes).update(from: $0.baseAddress!, count: imageBytes) }
                        } catch {
                            (failBase + i).pointee = "\(error)"
                        }
                        i += workers
                    }
                }
            }
        }
        var keep: [Int] = []
        for (i, f) in failures.enumerated() {
            guard let f else { keep.append(i); continue }
            guard skipBadImages else { throw DataError(f) }
            skipped.append((rest[i].0, f))
        }
        guard !keep.isEmpty else { throw DataError("\(path): none of its \(files.count) images could be read") }
        if keep.count < rest.count {
            var compact = [UInt8](repeating: 0, count: keep.count * imageBytes)
            for (j, i) in keep.enumerated() {
                compact.replaceSubrange(j * imageBytes ..< (j + 1) * imageBytes, with: pixels[i * imageBytes ..< (i + 1) * imageBytes])
            }
            pixels = compact
        }
        let labels = classNames == nil ? nil : keep.map { rest[$0].1! }
        let ds = try Dataset(pixels: pixels, labels: labels, count: keep.count, channels: c, height: h, width: w,
                             range: range, classNames: classNames, source: path)
        return ImageFolderLoad(dataset: ds, skipped: skipped)
    }

    /// Decodes `file` (PNG or JPEG by its extension) and center-crops it to crop × crop.
    static func readCropped(_ file: String, crop: Int?) throws -> Image8 {
        let img = try rethrowing(MediaError.self, as: { DataError($0.description) }) {
            isPNG(file) ? try PNG.read(file) : try JPEG.read(file)
        }
        guard let crop else { return img }
        return try centerCrop(img, crop, file: file)
    }

    /// torchvision's CenterCrop of a square `size`: top = round((H − size) / 2), left =
    /// round((W − size) / 2), half to even (Python's round).
    public static func centerCrop(_ img: Image8, _ size: Int, file: String) throws -> Image8 {
        guard img.height >= size, img.width >= size else {
            throw DataError("\(file): image is \(img.width)×\(img.height), smaller than the crop \(size)×\(size)")
        }
        let top = Int((Double(img.height - size) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(img.width - size) / 2).rounded(.toNearestOrEven))
        let c = img.channels
        var out = [UInt8](repeating: 0, count: size * size * c)
        for y in 0..<size {
            let src = ((top + y) * img.width + left) * c
            out.replaceSubrange(y * size * c ..< (y + 1) * size * c, with: img.pixels[src ..< src + size * c])
        }
        return Image8(width: size, height: size, channels: c, pixels: out)
    }

    /// CHW planes of `img` with `c` channels at height × width (resized with `filter` when needed).
    static func toPlanes(_ img: Image8, channels c: Int, height h: Int, width w: Int, filter: ResizeFilter) -> [UInt8] {
        let planes = toPlanes(img, channels: c)
        if img.height == h && img.width == w { return planes }
        let r = Resizer(inH: img.height, inW: img.width, outH: h, outW: w, filter: filter)
        var out = [UInt8](repeating: 0, count: c * h * w)
        var scratch = [UInt8](repeating: 0, count: img.height * w)
        let inPlane = img.height * img.width
        planes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for ch in 0..<c { r.resize(src.baseAddress! + ch * inPlane, into: dst.baseAddress! + ch * h * w, scratch: &scratch) }
            }
        }
        return out
    }

    static func listing(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DataError("\(path): cannot list directory: \(error.localizedDescription)")
        }
    }

    static func isPNG(_ name: String) -> Bool { name.lowercased().hasSuffix(".png") }

    static func isImage(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.hasSuffix(".png") || n.hasSuffix(".jpg") || n.hasSuffix(".jpeg")
    }

    /// Interleaved HWC bytes → CHW planes with `channels` channels.
    static func toPlanes(_ img: Image8, channels c: Int) -> [UInt8] {
        let n = img.width * img.height
        var out = [UInt8](repeating: 0, count: c * n)
        let ic = img.channels
        img.pixels.withUnsafeBufferPointer { px in
            for p in 0..<n {
                let s = p * ic
                if c == 1 {
                    if ic == 1 {
                        out[p] = px[s]
                    } else {
                        // Pillow's RGB→L (L24): 16-bit fixed-point 0.299 R + 0.587 G + 0.114 B, rounded.
                        let l = (Int(px[s]) * 19595 + Int(px[s + 1]) * 38470 + Int(px[s + 2]) * 7471 + 0x8000) >> 16
                        out[p] = UInt8(min(l, 255))
                    }
                } else {
                    for ch in 0..<3 { out[ch * n + p] = ic == 1 ? px[s] : px[s + ch] }
                }
            }
        }
        return out
    }
}
