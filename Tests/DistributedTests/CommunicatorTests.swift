// CommunicatorTests: the single-process communicator and the data-parallel helpers that need
// no MPI job: how a global batch and a step's inputs are split over ranks (DataParallel.rows,
// shard), and the replica hash.

import Distributed
import GAN
import GraphIR
import Runtime
import XCTest

/// Rank `rank` of `size` whose collectives do nothing (the split logic only reads rank and size).
final class PretendRank: Communicator {
    let rank: Int, size: Int
    init(_ rank: Int, of size: Int) { self.rank = rank; self.size = size }
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    func allreduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) throws {}
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
    func barrier() throws {}
    func abort(code: Int32) -> Never { fatalError("abort \(code)") }
    func finalize() {}
}

final class CommunicatorTests: XCTestCase {
    func testSingleProcessCollectivesLeaveBuffersAlone() throws {
        let c = SingleProcess()
        XCTAssertEqual(c.rank, 0)
        XCTAssertEqual(c.size, 1)
        XCTAssertEqual(try c.mean([1, 2, 3]), [1, 2, 3])
        XCTAssertTrue(try c.any(true))
        XCTAssertFalse(try c.any(false))
    }

    func testRowsCoverTheGlobalBatchOnceInRankOrder() throws {
        for (n, k) in [(8, 2), (8, 3), (7, 7), (128, 5)] {
            let ranges = try (0..<k).map { try DataParallel(communicator: PretendRank($0, of: k)).rows(of: n) }
            XCTAssertEqual(ranges.first?.lowerBound, 0)
            XCTAssertEqual(ranges.last?.upperBound, n)
            for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            XCTAssertLessThanOrEqual(ranges.map(\.count).max()! - ranges.map(\.count).min()!, 1)
        }
        XCTAssertEqual(try DataParallel(communicator: PretendRank(1, of: 3)).rows(of: 8), 2..<5)
        XCTAssertThrowsError(try DataParallel(communicator: PretendRank(0, of: 3)).rows(of: 2))
    }

    func testShardSlicesBatchInputsAndKeepsTheRest() throws {
        let p = DataParallel(communicator: PretendRank(1, of: 2))
        let inputs: [String: Tensor] = [
            "z": Tensor(shape: [4, 2], floats: [0, 1, 2, 3, 4, 5, 6, 7]),
            "labels": Tensor(shape: [4], int64s: [9, 8, 7, 6]),
            "k": Tensor(shape: [1], floats: [0.5]),
            "real": Tensor(shape: [4, 1], floats: [10, 11, 12, 13]),
        ]
        let s = try p.shard(inputs, global: 4)
        XCTAssertEqual(s["z"]!.shape, [2, 2])
        XCTAssertEqual(s["z"]!.floats, [4, 5, 6, 7])
        XCTAssertEqual(s["labels"]!.int64s, [7, 6])
        XCTAssertEqual(s["k"]!.floats, [0.5])
        XCTAssertEqual(s["real"]!.floats, [12, 13])
    }

    func testReplicaHashSeesEveryBit() throws {
        let store = ParameterStore()
        try store.set("a/w", Tensor(shape: [3], floats: [1, 2, 3]))
        let h = DataParallel.replicaHash(store)
        store.pointer("a/w")![1] = Float(bitPattern: Float(2).bitPattern ^ 1)
        XCTAssertNotEqual(DataParallel.replicaHash(store), h)
    }
}
