// ImageFolder: a directory of PNG images, optionally in class subfolders (torchvision's
// ImageFolder layout: sorted subfolder names are the classes 0, 1, …).

import Foundation
import Media

extension Dataset {
    /// Reads every `.png` under `path`.
    ///
    /// - If `path` has subdirectories, each one (sorted by name) is a class and its PNGs
    ///   (recursively, sorted by path) get that class's label; PNGs directly in `path` are
    ///   ignored. Otherwise the PNGs in `path` are read without labels.
    /// - `channels`: 1 or 3; nil takes 3 if any image has color, else 1. Gray becomes RGB by
    ///   repetition, RGB becomes gray with Pillow's "L" conversion (0.299, 0.587, 0.114); alpha
    ///   is dropped.
    /// - `size`: every image is resized to it with `filter`; without it all images must
    ///   have the first image's size.
    public static func imageFolder(_ path: String, channels: Int? = nil, size: (height: Int, width: Int)? = nil,
                                   filter: ResizeFilter = .bilinear, range: PixelRange = .zeroToOne) throws -> Dataset {
        guard directoryExists(path) else { throw DataError("\(path): not a directory") }
        if let channels, channels != 1 && channels != 3 {
            throw DataError("\(path): channels must be 1 or 3, not \(channels)")
        }
        if let size, size.height <= 0 || size.width <= 0 || size.height > 1 << 14 || size.width > 1 << 14 {
            throw DataError("\(path): image size \(size.height)×\(size.width) is out of range")
        }
        let fm = FileManager.default
        let entries = try listing(path)
        let classDirs = entries.filter { directoryExists(path + "/" + $0) }
        var files: [(String, Int64?)] = []
        var classNames: [String]?
        if classDirs.isEmpty {
            files = entries.filter { isPNG($0) && fileExists(path + "/" + $0) }.map { (path + "/" + $0, nil) }
        } else {
            classNames = classDirs
            for (k, dir) in classDirs.enumerated() {
                let root = path + "/" + dir
                var found: [String] = []
                if let walker = fm.enumerator(atPath: root) {
                    while let rel = walker.nextObject() as? String {
                        if isPNG(rel) && fileExists(root + "/" + rel) { found.append(root + "/" + rel) }
                    }
                }
                files += found.sorted().map { ($0, Int64(k)) }
            }
        }
        guard !files.isEmpty else {
            throw DataError("\(path): no .png images found" + (classDirs.isEmpty ? "" : " in its class subfolders"))
        }
        let images = try files.map { try PNG.read($0.0) }
        let c = channels ?? (images.contains { $0.channels >= 3 } ? 3 : 1)
        let (h, w) = size ?? (images[0].height, images[0].width)
        guard let total = checkedProduct([images.count, c, h, w], limit: 1 << 36) else {
            throw DataError("\(path): \(images.count) images of \(c)×\(h)×\(w) are too many")
        }
        var pixels = [UInt8](repeating: 0, count: total)
        let plane = h * w
        for (i, img) in images.enumerated() {
            var planes = toPlanes(img, channels: c)
            if img.height != h || img.width != w {
                guard size != nil else {
                    throw DataError("\(files[i].0): image is \(img.width)×\(img.height), but \(files[0].0) is \(w)×\(h); "
                        + "pass a size to resize them all")
                }
                let r = Resizer(inH: img.height, inW: img.width, outH: h, outW: w, filter: filter)
                var out = [UInt8](repeating: 0, count: c * plane)
                var scratch = [UInt8](repeating: 0, count: img.height * w)
                let inPlane = img.height * img.width
                planes.withUnsafeBufferPointer { src in
                    out.withUnsafeMutableBufferPointer { dst in
                        for ch in 0..<c { r.resize(src.baseAddress! + ch * inPlane, into: dst.baseAddress! + ch * plane, scratch: &scratch) }
                    }
                }
                planes = out
            }
            pixels.replaceSubrange(i * c * plane ..< (i + 1) * c * plane, with: planes)
        }
        return try Dataset(pixels: pixels, labels: classNames == nil ? nil : files.map { $0.1! }, count: images.count,
                           channels: c, height: h, width: w, range: range, classNames: classNames, source: path)
    }

    static func listing(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DataError("\(path): cannot list directory: \(error.localizedDescription)")
        }
    }

    static func isPNG(_ name: String) -> Bool { name.lowercased().hasSuffix(".png") }

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
