// Lowering+ConcatViews: a Concat whose inputs already lie where its output would put them
// emits no copy; its producers write straight into the concatenated tensor.
//
// Contract: a Concat with one outer block (every dimension before the axis is 1: the channel
// concatenation of a batch-1 image, or any concatenation along the first axis) stores its
// inputs back to back. When every input is an arena buffer produced by an instruction (not a
// graph input, constant or persistent state), no buffer is listed twice, and every input's
// byte offset in the output is a multiple of `MemoryPlan.alignment`, `place` makes the inputs'
// buffers views of the output's buffer at those offsets and the Concat emits nothing. Inputs
// that are themselves views may take part as a whole: a run of inputs that, in order, fills a
// view group exactly (DenseNet's concat(x0, …, xk) after concat(x0, …, xk−1)) places that group
// whole. `plan` then places only the groups' roots, each live over the union of its members'
// live ranges, and gives every view its root's offset plus its own.
// Only programs without state updates use views: an optimizer's flat gradient region pins its
// buffers, which a view could not follow. `GANNET_BASELINE=concatViews` copies as before.
// Why it is safe: a view's producer writes exactly its own bytes (no buffer is padded, since
// every offset is aligned and sizes follow shapes), and the root is live whenever any member is.

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

    /// Tries to make `inputs` (buffer indices with their byte sizes, in concatenation order)
    /// views of `output`; on failure nothing changes and the caller emits the copy.
    mutating func place(_ inputs: [(buffer: Int, bytes: Int)], into output: Int, sizes bufferBytes: (Int) -> Int) -> Bool {
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
        guard offset == bufferBytes(output) else { return false }
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
