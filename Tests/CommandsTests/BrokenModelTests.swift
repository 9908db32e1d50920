// BrokenModelTests: a generator with NaN weights, or one whose output overflows, is an error
// naming the model and the bad initializer or output — gan-sample writes no PNG of NaNs and
// gan-eval reports no `FID nan` (issue 15) — and write failures name the path and the reason
// instead of Foundation's "NSCocoaErrorDomain error 512".

import GAN
import Commands
import Foundation
import GraphIR
import XCTest

extension GanTrainTests {
    /// The tiny run's generator.pb with `edit` applied to its first float weight matrix.
    func brokenGenerator(_ edit: (inout [Float]) -> Void) throws -> (path: String, initializer: String) {
        let dir = root + "/source"
        try train([try writeSpec(), "--out", dir, "--max-steps", "1"])
        var g = try loadGraph(path: dir + "/generator.pb")
        let (v, t) = try XCTUnwrap(g.initializers.sorted { $0.key < $1.key }.first { $0.value.dtype == .float32 && $0.value.shape.count == 2 })
        var values = t.floats
        edit(&values)
        g.initializers[v] = Tensor(shape: t.shape, floats: values)
        let path = root + "/broken.pb"
        try saveGraph(g, path: path)
        return (path, g.name(of: v))
    }

    func testNaNWeightsAreAnErrorNotAnImage() throws {
        let (model, initializer) = try brokenGenerator { $0[5] = .nan; $0[9] = .infinity }
        let out = root + "/nan.png"
        let m = errorMessage { try GanSample.parse([model, "--n", "4", "--seed", "0", "--out", out, "--quiet"]).run() }
        XCTAssertTrue(m.hasPrefix("\(model): initializer '\(initializer)' holds 2 non-finite values (NaN or infinity) of "), m)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // The same check guards gan-eval and gan-interpolate, which load models the same way.
        XCTAssertThrowsError(try GeneratorModel.load(model))
    }

    func testNonFiniteOutputIsAnErrorNotAnImage() throws {
        // Finite weights of ±3e38: the first layer's sums overflow to ∞ − ∞ = NaN.
        let (model, _) = try brokenGenerator { w in for i in w.indices { w[i] = i % 2 == 0 ? 3e38 : -3e38 } }
        let out = root + "/overflow.png"
        let m = errorMessage { try GanSample.parse([model, "--n", "4", "--seed", "0", "--out", out, "--quiet"]).run() }
        XCTAssertTrue(m.hasPrefix("\(model): output '"), m)
        XCTAssertTrue(m.contains("is not finite (") && m.hasSuffix("nan) for sample 0; no image is written"), m)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testWriteFailuresNameThePathAndTheReason() throws {
        let blocker = root + "/plain-file"
        FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        let spec = try writeSpec()
        XCTAssertEqual(errorMessage { try self.train([spec, "--out", blocker + "/run"]) },
                       "\(blocker)/run/frames: cannot create the directory: \(blocker) is not a directory")
        let dir = root + "/ok"
        try train([spec, "--out", dir, "--max-steps", "1"])
        let m = errorMessage { try GanSample.parse([dir + "/generator.pb", "--n", "4", "--seed", "0", "--out", dir + "/g.png",
                                                    "--individual", blocker + "/tiles", "--quiet"]).run() }
        XCTAssertEqual(m, "\(blocker)/tiles: cannot create the directory: \(blocker) is not a directory")
        XCTAssertFalse(m.contains("NSCocoaErrorDomain"))
    }

    /// A syntax error in an IR model names the file, line and column (GraphSources rethrows the
    /// parser's `line:column` under the path).
    func testIRSyntaxErrorNamesFileLineAndColumn() throws {
        let path = root + "/bad.ir"
        try "graph \"g\" {\n  input %x: f32[N,4]\n  %y: f32[N,4] = Rleu(%x)\n  output %y\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(errorMessage { _ = try loadGraph(path: path) }, "\(path):3:18: unknown op 'Rleu'")
    }
}
