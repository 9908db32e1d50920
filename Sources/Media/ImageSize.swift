// ImageSize: the check an image decoder runs on a file's header, before it allocates anything
// for the pixels (issue 15: limits before allocation).
//
// Contract: `ImageSize.problem(width:height:bytesPerPixel:format:)` returns nil when an image of
// width × height pixels, costing `bytesPerPixel` bytes of memory per pixel while it is decoded,
// fits under the project's ceiling on one tensor (`Limits.maxTensorBytes`, set by
// GANNET_MAX_TENSOR_BYTES, default 8 GiB); otherwise the problem as a sentence without the file
// name (the caller prefixes it): a zero or negative dim, a size whose byte count overflows,
// or one over the ceiling. `pngDataProblem(width:height:fileBytes:)` rejects a PNG header
// that claims more pixels than the whole file could hold: a PNG's pixel data is one zlib
// stream of at least height × (1 + ⌈width / 8⌉) bytes (one filter byte per row, at least one
// bit per pixel), and deflate expands at most 1032 : 1 (a 2-bit code per 258-byte match), so a
// file of n bytes holds at most 1032 n of them. Both use only the header's numbers.

import GraphIR

public enum ImageSize {
    /// deflate's largest expansion: one 1-bit length code plus one 1-bit distance code (2 bits)
    /// per 258-byte match.
    public static let maxDeflateRatio = 1032

    /// nil when decoding a width × height `format` image at `bytesPerPixel` bytes per pixel
    /// fits under `Limits.maxTensorBytes`; else why not (without the file name).
    public static func problem(width: Int, height: Int, bytesPerPixel: Int, format: String) -> String? {
        guard width > 0, height > 0 else { return "\(format) size \(width)×\(height) is out of range" }
        guard let bytes = Limits.elementCountIfValid([width, height, bytesPerPixel]), bytes <= Limits.maxTensorBytes else {
            let need = Limits.elementCountIfValid([width, height, bytesPerPixel]).map(Limits.describeBytes) ?? "more than 64 bits of bytes"
            return "a \(width)×\(height) \(format) image needs \(need) to decode, over the "
                + "\(Limits.describeBytes(Limits.maxTensorBytes)) limit on one tensor (set \(Limits.tensorBytesVariable) to raise it)"
        }
        return nil
    }

    /// nil when a PNG file of `fileBytes` bytes can hold the compressed pixel data of a
    /// width × height image (both positive); else why not.
    public static func pngDataProblem(width: Int, height: Int, fileBytes: Int) -> String? {
        // width, height ≤ 2^31 (PNG's IHDR), so neither product overflows.
        let leastRawBytes = height * (1 + (width + 7) / 8)
        let leastFileBytes = (leastRawBytes + maxDeflateRatio - 1) / maxDeflateRatio
        guard fileBytes < leastFileBytes else { return nil }
        return "the header claims \(width)×\(height) pixels, more than the file's \(fileBytes) bytes can hold "
            + "(that many pixels compress to no less than \(Limits.describeBytes(leastFileBytes))); the file is truncated or corrupt"
    }
}
