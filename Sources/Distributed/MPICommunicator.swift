// MPICommunicator: `Communicator` over Open MPI's MPI_COMM_WORLD (CMPI).
//
// Contract: `world()` initialises MPI once per process (MPI_Init_thread, FUNNELED: only the
// thread that initialised MPI calls it; the kernels' worker threads never do) and returns the
// same object afterwards. Every collective is the blocking MPI call on MPI_COMM_WORLD:
// allreduce in place (MPI_IN_PLACE), so no second buffer is needed; allgather in place;
// reduce-scatter from the full buffer into the rank's block. Counts above Int32.max
// elements are sent in chunks. A non-success return code throws CommunicatorError naming the
// call (MPI's default handler aborts the job first, so this is a second line of defence).

import CMPI
import Foundation

public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private var finalized = false
    nonisolated(unsafe) private static var shared: MPICommunicator?

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// MPI_COMM_WORLD, initialising MPI on first use.
    public static func world() throws -> MPICommunicator {
        if let s = shared { return s }
        var provided: Int32 = 0
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            try check(MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided), "MPI_Init_thread")
        }
        var r: Int32 = 0, n: Int32 = 0
        try check(MPI_Comm_rank(cmpi_comm_world(), &r), "MPI_Comm_rank")
        try check(MPI_Comm_size(cmpi_comm_world(), &n), "MPI_Comm_size")
        let c = MPICommunicator(rank: Int(r), size: Int(n))
        shared = c
        return c
    }

    static func check(_ code: Int32, _ call: String) throws {
        guard code != cmpi_success() else { return }
        var text = [CChar](repeating: 0, count: 512)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw CommunicatorError("\(call) failed: \(String(cString: text)) (code \(code))")
    }

    /// Runs `body` over chunks of at most Int32.max elements.
    private func chunks(_ count: Int, _ body: (Int, Int32) throws -> Void) rethrows {
        var start = 0
        while start < count {
            let n = min(count - start, Int(Int32.max))
            try body(start, Int32(n))
            start += n
        }
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = buffer.baseAddress else { return }
        try chunks(buffer.count) { s, n in
            try Self.check(MPI_Allreduce(cmpi_in_place(), base + s, n, cmpi_float(), cmpi_sum(), cmpi_comm_world()), "MPI_Allreduce(sum, \(n) floats)")
        }
    }

    /// `counts` as MPI's int counts and displacements (each block and the total must fit in an Int32).
    private func blocks(_ counts: [Int], _ call: String) throws -> (counts: [Int32], displacements: [Int32]) {
        guard counts.count == size, counts.allSatisfy({ $0 >= 0 }), counts.reduce(0, +) <= Int(Int32.max) else {
            throw CommunicatorError("\(call): \(counts.count) block counts for \(size) ranks, or more than \(Int32.max) floats in all")
        }
        var displacements: [Int32] = []
        var o = 0
        for c in counts { displacements.append(Int32(o)); o += c }
        return (counts.map { Int32($0) }, displacements)
    }

    public func reduceScatterSum(_ buffer: UnsafeBufferPointer<Float>, counts: [Int], into shard: UnsafeMutablePointer<Float>) throws {
        let b = try blocks(counts, "MPI_Reduce_scatter")
        guard buffer.count == counts.reduce(0, +) else { throw CommunicatorError("MPI_Reduce_scatter: \(buffer.count) floats, blocks of \(counts.reduce(0, +))") }
        try Self.check(MPI_Reduce_scatter(buffer.baseAddress, shard, b.counts, cmpi_float(), cmpi_sum(), cmpi_comm_world()),
                       "MPI_Reduce_scatter(sum, \(buffer.count) floats)")
    }

    public func allgather(_ buffer: UnsafeMutableBufferPointer<Float>, counts: [Int]) throws {
        let b = try blocks(counts, "MPI_Allgatherv")
        guard buffer.count == counts.reduce(0, +) else { throw CommunicatorError("MPI_Allgatherv: \(buffer.count) floats, blocks of \(counts.reduce(0, +))") }
        try Self.check(MPI_Allgatherv(cmpi_in_place(), 0, cmpi_float(), buffer.baseAddress, b.counts, b.displacements, cmpi_float(), cmpi_comm_world()),
                       "MPI_Allgatherv(\(buffer.count) floats)")
    }

    public func allreduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) throws {
        guard let base = buffer.baseAddress else { return }
        try chunks(buffer.count) { s, n in
            try Self.check(MPI_Allreduce(cmpi_in_place(), base + s, n, cmpi_int64(), cmpi_max(), cmpi_comm_world()), "MPI_Allreduce(max, \(n) int64s)")
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard let base = buffer.baseAddress else { return }
        try chunks(buffer.count) { s, n in
            try Self.check(MPI_Bcast(base + s, n, cmpi_byte(), Int32(root), cmpi_comm_world()), "MPI_Bcast(\(n) bytes)")
        }
    }

    public func barrier() throws {
        try Self.check(MPI_Barrier(cmpi_comm_world()), "MPI_Barrier")
    }

    public func abort(code: Int32) -> Never {
        MPI_Abort(cmpi_comm_world(), code)
        exit(code)
    }

    public func finalize() {
        guard !finalized else { return }
        finalized = true
        MPI_Finalize()
    }
}
