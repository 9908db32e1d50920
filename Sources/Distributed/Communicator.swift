// Communicator: the collectives data-parallel training needs, for one process or for the ranks
// of an MPI job.
//
// Contract: every rank calls the same collectives in the same order with the same element
// counts (the MPI rule); a call returns when this rank's part is done. `allreduceSum` sums a
// float buffer element-wise over all ranks, in place (every rank ends with the same sums);
// `reduceScatterSum` sums too but hands each rank only its block of the sums, and `allgather`
// copies each rank's block to every rank (together: an allreduce's bytes, split in two);
// `allreduceMax` takes the element-wise maximum of Int64s; `broadcast` copies rank `root`'s
// bytes to every rank; `barrier` waits for all ranks. `SingleProcess` (rank 0 of 1) makes each
// call a no-op, so code written against `Communicator` runs unchanged without MPI.
// `Communicators.world()` picks MPI only when the process was started by mpirun (Open MPI sets
// OMPI_COMM_WORLD_SIZE; PMIx launchers PMIX_RANK), so a run without mpirun never initialises
// MPI. Failures of an MPI call throw `CommunicatorError`; `abort` ends every rank of the job
// (used when one rank fails, so the others do not wait forever in a collective).

import Foundation

/// Collectives over the ranks of a job.
public protocol Communicator: AnyObject {
    /// This process's rank, 0..<size.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// Element-wise sum over all ranks, in place.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Element-wise sum over all ranks of `buffer` (the same count on every rank), of which this
    /// rank receives only its block — `counts[rank]` floats starting at Σ counts[..<rank] — in
    /// `shard` (MPI_Reduce_scatter).
    func reduceScatterSum(_ buffer: UnsafeBufferPointer<Float>, counts: [Int], into shard: UnsafeMutablePointer<Float>) throws
    /// Every rank's block of `buffer` (rank r's: `counts[r]` floats at Σ counts[..<r]) to every
    /// rank, in place (MPI_Allgatherv).
    func allgather(_ buffer: UnsafeMutableBufferPointer<Float>, counts: [Int]) throws
    /// Element-wise maximum over all ranks, in place.
    func allreduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) throws
    /// Rank `root`'s bytes to every rank (same count everywhere).
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Returns when every rank has called it.
    func barrier() throws
    /// Ends the job on every rank with `code` (never returns).
    func abort(code: Int32) -> Never
    /// Shuts the communicator down (MPI_Finalize); no collective may follow.
    func finalize()
}

extension Communicator {
    /// Whether more than one rank takes part.
    public var isDistributed: Bool { size > 1 }

    /// Element-wise mean over all ranks, in place (sum, then × 1/size).
    public func allreduceMean(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard size > 1 else { return }
        try allreduceSum(buffer)
        let scale = 1 / Float(size)
        for i in buffer.indices { buffer[i] *= scale }
    }

    /// The element-wise mean of `values` over all ranks.
    public func mean(_ values: [Float]) throws -> [Float] {
        var v = values
        try v.withUnsafeMutableBufferPointer { try allreduceMean($0) }
        return v
    }

    /// Reduce-scatter as an allreduce of a copy (the default of communicators without one).
    public func reduceScatterSum(_ buffer: UnsafeBufferPointer<Float>, counts: [Int], into shard: UnsafeMutablePointer<Float>) throws {
        var all = Array(buffer)
        try all.withUnsafeMutableBufferPointer { try allreduceSum($0) }
        let start = counts.prefix(rank).reduce(0, +)
        all.withUnsafeBufferPointer { shard.update(from: $0.baseAddress! + start, count: counts[rank]) }
    }

    /// Allgather as an allreduce with every other rank's block zeroed (exact: x + 0 = x).
    public func allgather(_ buffer: UnsafeMutableBufferPointer<Float>, counts: [Int]) throws {
        let start = counts.prefix(rank).reduce(0, +), end = start + counts[rank]
        for i in buffer.indices where i < start || i >= end { buffer[i] = 0 }
        try allreduceSum(buffer)
    }

    /// Whether any rank passed true.
    public func any(_ flag: Bool) throws -> Bool {
        guard size > 1 else { return flag }
        var v: [Int64] = [flag ? 1 : 0]
        try v.withUnsafeMutableBufferPointer { try allreduceMax($0) }
        return v[0] != 0
    }

    /// Rank `root`'s floats to every rank.
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int = 0) throws {
        guard size > 1 else { return }
        try broadcast(UnsafeMutableRawBufferPointer(values), root: root)
    }

    /// Rank `root`'s Int64s to every rank.
    public func broadcast(_ values: inout [Int64], root: Int = 0) throws {
        guard size > 1 else { return }
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
    }
}

/// A failed collective: the MPI function and its error code.
public struct CommunicatorError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One process: rank 0 of 1; collectives leave their buffers unchanged.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func reduceScatterSum(_ buffer: UnsafeBufferPointer<Float>, counts: [Int], into shard: UnsafeMutablePointer<Float>) throws {
        if let base = buffer.baseAddress, let n = counts.first { shard.update(from: base, count: n) }
    }
    public func allgather(_ buffer: UnsafeMutableBufferPointer<Float>, counts: [Int]) throws {}
    public func allreduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
    public func finalize() {}
}

public enum Communicators {
    /// Whether this process was started by an MPI launcher (mpirun / mpiexec / a PMIx server).
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil
    }

    /// The job's communicator: MPI's world when launched by mpirun, else a single process.
    /// MPI is initialised at most once per process.
    public static func world() throws -> Communicator {
        guard launchedByMPI else { return SingleProcess() }
        return try MPICommunicator.world()
    }
}
