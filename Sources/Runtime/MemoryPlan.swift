// MemoryPlan: places every runtime buffer of a program in one arena by liveness.
//
// Contract: given buffers with byte sizes and inclusive live ranges [first, last] over the
// program's steps, returns 64-byte aligned offsets such that two buffers whose live ranges
// intersect never overlap in memory, and the arena size. `pinned` buffers come first, back to
// back from offset 0 in the order given (each at its aligned size: a flat region, such as a
// training program's gradients); then greedy by decreasing size, each other buffer takes the
// lowest offset that fits beside the already placed buffers it is live with.
// Deterministic: ties break by buffer index.

/// One buffer to place.
public struct BufferRequest: Equatable {
    public var bytes: Int
    /// First step at which the buffer holds data (−1 for program inputs).
    public var first: Int
    /// Last step that reads it (Int.max for program outputs).
    public var last: Int

    public init(bytes: Int, first: Int, last: Int) {
        self.bytes = bytes
        self.first = first
        self.last = last
    }

    func livesWith(_ o: BufferRequest) -> Bool { first <= o.last && o.first <= last }
}

/// The placement of buffers in one arena.
public struct MemoryPlan: Equatable {
    public static let alignment = 64
    public var offsets: [Int]
    public var arenaBytes: Int
    /// What the buffers would take without sharing (sum of aligned sizes).
    public var unsharedBytes: Int

    public static func plan(_ requests: [BufferRequest], pinned: [Int] = []) -> MemoryPlan {
        func align(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
        let isPinned = Set(pinned)
        let order = requests.indices.filter { !isPinned.contains($0) }.sorted {
            let a = requests[$0].bytes, b = requests[$1].bytes
            return a != b ? a > b : $0 < $1
        }
        var offsets = [Int](repeating: 0, count: requests.count)
        var placed: [Int] = []
        var arena = 0
        for i in pinned {
            offsets[i] = arena
            placed.append(i)
            arena += align(max(requests[i].bytes, 1))
        }
        for i in order {
            let r = requests[i]
            let size = align(max(r.bytes, 1))
            let clashes = placed.filter { requests[$0].livesWith(r) }
                .map { (offsets[$0], offsets[$0] + align(max(requests[$0].bytes, 1))) }
                .sorted { $0.0 < $1.0 }
            var offset = 0
            for (lo, hi) in clashes {
                if offset + size <= lo { break }
                offset = max(offset, hi)
            }
            offsets[i] = offset
            placed.append(i)
            arena = max(arena, offset + size)
        }
        let unshared = requests.reduce(0) { $0 + align(max($1.bytes, 1)) }
        return MemoryPlan(offsets: offsets, arenaBytes: arena, unsharedBytes: unshared)
    }
}
