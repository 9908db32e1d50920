// RunNoFuseTests: `gannet run --no-fuse` runs the graph as written. A 2× nearest upsample into a
// 3×3 convolution folds into a transposed convolution by default, whose summed taps turn the
// plain graph's inf − inf (NaN) into inf; with --no-fuse the output is the plain graph's.

import Commands
import Foundation
import GraphIR
import XCTest

final class RunNoFuseTests: XCTestCase {
    func testNoFuseRunsThePlainGraph() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gannet-nofuse-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = dir + "/up.ir"
        try """
        graph "up" {
          input %x: f32[1,1,1,1]
          init %scales: f32[4] = [1.0, 1.0, 2.0, 2.0]
          init %w: f32[1,1,3,3] = [0.0, 0.0, 0.0, 0.0, 1.0, -2.0, 0.0, 0.0, 0.0]
          %up = Resize(%x, _, %scales) {mode="nearest"}
          %y = Conv(%up, %w) {pads=[1, 1, 1, 1]}
          output %y
        }
        """.write(toFile: model, atomically: true, encoding: .utf8)
        try saveTensor(Tensor(shape: [1, 1, 1, 1], floats: [.infinity]), name: "x", path: dir + "/x.pb")
        func run(_ extra: [String]) throws -> [Float] {
            let out = dir + "/out\(extra.count)"
            var command = try Run.parse([model, "--input", "x=" + dir + "/x.pb", "--out", out] + extra)
            try command.run()
            return try loadTensor(path: out + "/output_0.pb").floats
        }
        // Output (0, 0) reads up[0, 0]·1 + up[0, 1]·(−2) = inf − 2·inf: NaN as written; folded, inf·(1 − 2).
        let plain = try run(["--no-fuse"]), folded = try run([])
        XCTAssertTrue(plain[0].isNaN, "\(plain)")
        XCTAssertEqual(folded[0], -.infinity, "\(folded)")
    }
}
