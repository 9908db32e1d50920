// CommunicatorTests: the single-process communicator and the data-parallel helpers that need
// no MPI job (sharding rows, scalar reduction, the replica hash).

import Distributed
import GAN
import GraphIR
import Runtime
import XCTest

final class CommunicatorTests: XCTestCase {
    func testSingleProcessCollectivesLeaveBuffersAlone() throws {
        let c = SingleProcess()
        XCTAssertEqual(c.rank, 0)
        XCTAssertEqual(c.size, 1)
        XCTAssertEqual(try c.mean([1, 2, 3]), [1, 2, 3])
        XCTAssertTrue(try c.any(true))
        XCTAssertFalse(try c.any(false))
    }
}
