// ImageOps: nearest-neighbour upscaling and even-size padding of 8-bit images.

extension Image8 {
    /// The image scaled by an integer factor with nearest-neighbour sampling (factor ≤ 1: itself).
    public func upscaled(by factor: Int) -> Image8 {
        guard factor > 1 else { return self }
        let w = width * factor, h = height * factor, c = channels
        var out = [UInt8](repeating: 0, count: w * h * c)
        for y in 0..<h {
            let sy = y / factor
            for x in 0..<w {
                let s = (sy * width + x / factor) * c, d = (y * w + x) * c
                for k in 0..<c { out[d + k] = pixels[s + k] }
            }
        }
        return Image8(width: w, height: h, channels: c, pixels: out)
    }

    /// The image padded on the right/bottom with `value` to even width and height (yuv420p).
    public func paddedToEven(value: UInt8 = 0) -> Image8 {
        let w = width + width % 2, h = height + height % 2
        guard w != width || h != height else { return self }
        var out = [UInt8](repeating: value, count: w * h * channels)
        for y in 0..<height {
            let s = y * width * channels, d = y * w * channels
            out.replaceSubrange(d..<(d + width * channels), with: pixels[s..<(s + width * channels)])
        }
        return Image8(width: w, height: h, channels: channels, pixels: out)
    }
}
