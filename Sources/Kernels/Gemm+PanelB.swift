// Gemm+PanelB: where the microkernels (GemmMicrokernels.swift) read B's 32 values of a k step.
//
// Contract: `row(p)` returns B[p0 + p, j0 ..< j0 + 32] of the tile being computed as two
// 16-lane vectors. `PackedPanel` reads a panel that `packB` (or a `BBlockPacker`) wrote: k step
// p at byte 128·p, 64-byte aligned; `StreamedPanel` reads the same layout and prefetches 32 k
// steps ahead (weights packed at load time, streamed from memory). `OffsetPanel` reads B where
// it lies: k step p starts at `base + offsets[p]` (floats), its 32 columns contiguous — the rows of a convolution's
// zero-padded input planes, shifted per tap (`Gemm.DirectB`, Conv+Direct.swift); its loads are
// unaligned and may read up to 31 floats past the tile's last real column. With `CompactRows` the
// GEMM stores C without the virtual columns a direct convolution drops (Gemm.swift, `compactTile`).
// All give the microkernel the same values for the same B, so the same bits.

import CSIMD

/// The B side of one register tile.
protocol PanelB {
    /// B's 32 values of k step `p` (columns 0..<16, 16..<32).
    func row(_ p: Int) -> (SIMD16<Float>, SIMD16<Float>)
}

extension Gemm {
    /// A packed B panel: k step p is the 32 floats at `base + 32·p`.
    struct PackedPanel: PanelB {
        let base: UnsafeRawPointer
        init(_ b: UnsafePointer<Float>) { base = UnsafeRawPointer(b) }
        @inline(__always)
        func row(_ p: Int) -> (SIMD16<Float>, SIMD16<Float>) {
            (base.load(fromByteOffset: 128 * p, as: V.self), base.load(fromByteOffset: 128 * p + 64, as: V.self))
        }
    }

    /// A packed B panel read from memory (weights packed at load time, `sgemmPackedB`, by every
    /// row panel when a K block's panels overflow L2, else by the first): as `PackedPanel`, and
    /// each k step also prefetches the k step `prefetchRows` ahead (the same panel's, or the
    /// next panel's of the K block, which follows it), so that more of the stream is in flight
    /// than the hardware prefetchers keep: a batch-1 ConvTranspose 1024 → 512 on 4² reads its
    /// 32 MiB of packed weights for 16 columns of work, resnet18's 512 → 512 3×3 convolutions
    /// on 7² 9 MiB for 49.
    struct StreamedPanel: PanelB {
        static let prefetchRows = 32
        let base: UnsafeRawPointer
        init(_ b: UnsafePointer<Float>) { base = UnsafeRawPointer(b) }
        @inline(__always)
        func row(_ p: Int) -> (SIMD16<Float>, SIMD16<Float>) {
            let ahead = base + 128 * (p + StreamedPanel.prefetchRows)
            gannet_prefetch(ahead)
            gannet_prefetch(ahead + 64)
            return (base.load(fromByteOffset: 128 * p, as: V.self), base.load(fromByteOffset: 128 * p + 64, as: V.self))
        }
    }

    /// An unpacked B: k step p is the 32 floats at `base + offsets[p]`.
    struct OffsetPanel: PanelB {
        let base: UnsafeRawPointer
        let offsets: UnsafePointer<Int>
        @inline(__always)
        func row(_ p: Int) -> (SIMD16<Float>, SIMD16<Float>) {
            let r = base + 4 * offsets[p]
            return (r.loadUnaligned(as: V.self), r.loadUnaligned(fromByteOffset: 64, as: V.self))
        }
    }

    /// A B matrix (k × n) that is never packed: B[p, j] = base[offsets[p] + j]. Reading column
    /// j may touch base[offsets[p] + j + 31] (a register tile reads 32 columns whatever its
    /// width), so that much must be readable.
    public struct DirectB: @unchecked Sendable {
        public let base: UnsafePointer<Float>
        /// k offsets, in floats.
        public let offsets: UnsafePointer<Int>
        /// When set, C is written compacted (`CompactRows`).
        public let compact: CompactRows?
        public init(base: UnsafePointer<Float>, offsets: UnsafePointer<Int>, compact: CompactRows? = nil) {
            self.base = base; self.offsets = offsets; self.compact = compact
        }
    }

    /// A direct convolution's C with its dropped columns left out: the GEMM's n columns are
    /// rows of `virtualWidth` virtual columns, of which the first `width` are kept. Virtual column
    /// t = r·virtualWidth + u (u < width) is stored at column r·width + u of C (whose rows then
    /// hold the output planes as they are laid out), and u ≥ width is never stored.
    public struct CompactRows: Sendable {
        public let virtualWidth: Int, width: Int
        public init(virtualWidth: Int, width: Int) {
            precondition(0 < width && width <= virtualWidth)
            self.virtualWidth = virtualWidth; self.width = width
        }

        /// C's column of virtual column t rounded up to a kept one: the first stored column at or
        /// after t (a range of virtual columns [a, b) is stored in [stored(a), stored(b))).
        @inline(__always)
        func stored(_ t: Int) -> Int {
            let r = t / virtualWidth, u = t - r * virtualWidth
            return r * width + min(u, width)
        }
    }
}
