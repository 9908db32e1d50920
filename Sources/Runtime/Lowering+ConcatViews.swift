// Lowering+ConcatViews: a Concat whose inputs can be written where its output puts them
// emits no copy; its producers write straight into the concatenated tensor.
//
// Contract: `place` decides, when the Concat is lowered, whether its inputs' arena buffers
// become views of its output's buffer; if so the Concat emits nothing, else it copies as
// before. Two cases:
// - One outer block (every dimension before the axis is 1: a batch-1 channel concatenation,
//   or any concatenation along the first axis) stores the inputs back to back. Every input
//   must be an arena buffer written by an instruction (not a graph input, constant or
//   persistent state), none listed twice, each at a byte offset that is a multiple of
//   `MemoryPlan.alignment`. A run of inputs that, in order, fills an earlier view group
//   exactly joins as that group (DenseNet's concat(x0, …, xk) after concat(x0, …, xk−1)), so a
//   chain of such concatenations is one buffer.
// - Several outer blocks (a channel concatenation at batch > 1): each image's inputs are
//   channel slices at the output's image stride. Every input must be the output of a Conv2D
//   instruction on a path that writes strided images (`Conv2D.writesStridedImages`), read by
//   this Concat alone, with 64-byte aligned slices and image stride; the convolution's shape
//   then carries the stride (`outImageStride`) and writes there (SqueezeNet's fire modules,
//   Inception's branches).
// `plan` then places only the groups' roots, each live over the union of its members' live
// ranges, and gives every view its root's offset plus its own.
// Only programs without state updates use views: an optimizer's flat gradient region pins its
// buffers, which a view could not follow. `GANNET_BASELINE=concatViews` copies as before.
// Why it is safe: a view's producer writes exactly its own bytes (no buffer is padded, since
// every offset is aligned and sizes follow shapes; strided convolutions write their images'
// channels and nothing between), and the root is live whenever any member is.

import Kernels

/// Buffers placed inside other buffers (see the file header).
struct ConcatViews {
    /// Buffer → (the buffer it lies in, byte offset there).
    private(set) var parent: [Int: (root: Int, offset: Int)] = [:]

    var isEmpty: Bool { parent.isEmpty }

    /// The outermost buffer holding `b`, and `b`'s byte offset in it.
    func top(_ b: Int) -> (root: Int, offset: Int) {
        var r = b, o = 0
        while let p = parent[r] { o += p.offset; r = p.root }
        return (r, o)
    }

    /// A Concat input as `place` sees it.
    struct Member {
        /// Its arena buffer, its bytes in each outer block of the output, and the bytes its
        /// buffer holds.
        var buffer: Int, bytes: Int, storedBytes: Int
        /// Graph readers of its value (the Concat included), and the shape of the convolution
        /// instruction that writes it, if one writes it alone.
        var readers: Int, conv: Conv2DShape?
    }

    /// Tries to make `inputs` (in concatenation order) views of buffer `output` (`outputBytes`;
    /// the caller creates it after a success), a Concat's output with `outer` blocks.
    /// `bytes(b)` is buffer b's size. Returns nil when it cannot (nothing changed: the caller emits the copy),
    /// else 0 for back-to-back views (`outer` = 1), or the output's image stride in floats that
    /// every input's convolution must now write at.
    mutating func place(_ inputs: [Member], outer: Int, into output: Int, outputBytes: Int,
                        bytes bufferBytes: (Int) -> Int) -> Int? {
        guard outer > 1 else {
            return placeBackToBack(inputs, into: output, outputBytes: outputBytes, bytes: bufferBytes) ? 0 : nil
        }
        // Channel slices of a batch: each input must be a convolution output read by nothing
        // else, on a path that writes strided images, with every image's slice aligned.
        let imageBytes = outputBytes / outer
        guard imageBytes % MemoryPlan.alignment == 0 else { return nil }
        var offsets: [Int] = []
        var offset = 0
        for m in inputs {
            guard let s = m.conv, m.readers == 1, m.bytes * outer == m.storedBytes, m.bytes > 0, s.batch == outer, s.outImageStride == 0,
                  m.bytes == s.outChannels * s.outHeight * s.outWidth * 4, Conv2D.writesStridedImages(s),
                  parent[m.buffer] == nil, !parent.values.contains(where: { $0.root == m.buffer }),
                  offset % MemoryPlan.alignment == 0 else { return nil }
            offsets.append(offset)
            offset += m.bytes
        }
        guard offset == imageBytes, Set(inputs.map(\.buffer)).count == inputs.count else { return nil }
        for (m, o) in zip(inputs, offsets) { parent[m.buffer] = (output, o) }
        return imageBytes / 4
    }

    /// `place` for one outer block: the inputs back to back (see the file header).
    private mutating func placeBackToBack(_ members: [Member], into output: Int, outputBytes: Int,
                                          bytes bufferBytes: (Int) -> Int) -> Bool {
        guard members.allSatisfy({ $0.bytes == $0.storedBytes }) else { return false }
        let inputs = members.map { (buffer: $0.buffer, bytes: $0.bytes) }
        var pieces: [(buffer: Int, bytes: Int)] = []
        var i = 0
        while i < inputs.count {
            let (r, o) = top(inputs[i].buffer)
            if r == inputs[i].buffer {
                pieces.append(inputs[i])
                i += 1
                continue
            }
            // A view: it and the inputs after it must fill its group exactly, in order.
            guard o == 0 else { return false }
            var filled = 0
            while i < inputs.count, top(inputs[i].buffer) == (r, filled) {
                filled += inputs[i].bytes
                i += 1
            }
            guard filled == bufferBytes(r) else { return false }
            pieces.append((r, filled))
        }
        guard Set(pieces.map(\.buffer)).count == pieces.count, !pieces.contains(where: { $0.buffer == output }) else { return false }
        var offset = 0
        var offsets: [Int] = []
        for p in pieces {
            guard p.bytes > 0, offset % MemoryPlan.alignment == 0 else { return false }
            offsets.append(offset)
            offset += p.bytes
        }
        guard offset == outputBytes else { return false }
        for (p, o) in zip(pieces, offsets) { parent[p.buffer] = (output, o) }
        return true
    }

    /// Plans `requests` with views placed in their roots: roots get the union of their
    /// members' live ranges; `pinned` must name roots only.
    func plan(_ requests: [BufferRequest], pinned: [Int]) -> MemoryPlan {
        if parent.isEmpty { return MemoryPlan.plan(requests, pinned: pinned) }
        let roots = requests.indices.filter { parent[$0] == nil }
        var index = [Int: Int]()
        for (k, r) in roots.enumerated() { index[r] = k }
        var merged = roots.map { requests[$0] }
        for b in requests.indices where parent[b] != nil {
            let k = index[top(b).root]!
            merged[k].first = min(merged[k].first, requests[b].first)
            merged[k].last = max(merged[k].last, requests[b].last)
        }
        let inner = MemoryPlan.plan(merged, pinned: pinned.map { index[$0]! })
        let offsets = requests.indices.map { b -> Int in
            let (r, o) = top(b)
            return inner.offsets[index[r]!] + o
        }
        return MemoryPlan(offsets: offsets, arenaBytes: inner.arenaBytes, unsharedBytes: inner.unsharedBytes)
    }
}
