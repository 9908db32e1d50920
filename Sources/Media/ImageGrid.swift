// ImageGrid: lays a batch of NCHW float images out as one 8-bit grid image (torchvision style).

/// Grid layout: `nrow` images per row, `padding` pixels between and around tiles, filled with
/// `padValue`; values are mapped from `range` to 0…255 and clamped.
public struct GridLayout: Equatable {
    public var nrow: Int
    public var padding: Int
    public var padValue: UInt8

    public init(nrow: Int = 8, padding: Int = 2, padValue: UInt8 = 0) {
        self.nrow = max(1, nrow)
        self.padding = max(0, padding)
        self.padValue = padValue
    }

    /// Grid size in pixels for `count` tiles of `h`×`w`.
    public func size(count: Int, height h: Int, width w: Int) -> (width: Int, height: Int) {
        let cols = min(nrow, max(count, 1))
        let rows = (count + nrow - 1) / nrow
        return (cols * (w + padding) + padding, max(rows, 1) * (h + padding) + padding)
    }
}

public enum ImageGrid {
    /// Converts one float to a byte, mapping `range` linearly to 0…255.
    @inline(__always)
    public static func byte(_ v: Float, _ range: ClosedRange<Float>) -> UInt8 {
        let t = (v - range.lowerBound) / (range.upperBound - range.lowerBound)
        if !(t > 0) { return 0 }
        if t >= 1 { return 255 }
        return UInt8((t * 255).rounded())
    }

    /// Makes a grid from `count` images of `channels`×`height`×`width` floats (NCHW).
    /// Channels 1 gives a gray image, 3 an RGB image.
    public static func make(_ data: UnsafePointer<Float>, count: Int, channels: Int, height: Int, width: Int,
                            range: ClosedRange<Float>, layout: GridLayout = GridLayout()) -> Image8 {
        precondition(channels == 1 || channels == 3)
        let (gw, gh) = layout.size(count: count, height: height, width: width)
        var pixels = [UInt8](repeating: layout.padValue, count: gw * gh * channels)
        let plane = height * width
        for i in 0..<count {
            let x0 = layout.padding + (i % layout.nrow) * (width + layout.padding)
            let y0 = layout.padding + (i / layout.nrow) * (height + layout.padding)
            let img = data + i * channels * plane
            for y in 0..<height {
                for x in 0..<width {
                    let dst = ((y0 + y) * gw + x0 + x) * channels
                    for c in 0..<channels {
                        pixels[dst + c] = byte(img[c * plane + y * width + x], range)
                    }
                }
            }
        }
        return Image8(width: gw, height: gh, channels: channels, pixels: pixels)
    }
}
