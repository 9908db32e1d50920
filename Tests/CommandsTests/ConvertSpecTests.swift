// ConvertSpecTests: `gannet convert SPEC --out DIR` writes each network as an ONNX file that
// reads back with the spec's weights and metadata.

import Commands
import Foundation
import GraphIR
import XCTest

final class ConvertSpecTests: XCTestCase {
    func testConvertSpecWritesEveryNetwork() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let spec = url.appendingPathComponent("Specs/mnist_cwgangp.yaml").path
        let dir = NSTemporaryDirectory() + "gannet-convert-spec-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let written = try SpecConversion.convert(specPath: spec, outDir: dir, seed: 5)
        XCTAssertEqual(written.map { ($0 as NSString).lastPathComponent }, ["generator.pb", "critic.pb"])
        let g = try loadGraph(path: written[0])
        XCTAssertEqual(g.metadata["gannet.latent_size"], "100")
        XCTAssertEqual(g.metadata["gannet.num_classes"], "10")
        let names = (g.metadata["gannet.parameters"] ?? "").split(separator: ",").map(String.init)
        let count = names.reduce(0) { $0 + (g.value(named: $1).flatMap { g.initializers[$0]?.count } ?? 0) }
        XCTAssertEqual(count, 6_732_033)
        XCTAssertTrue(SpecConversion.isSpec(spec))
        XCTAssertThrowsError(try SpecConversion.convert(specPath: dir + "/missing.yaml", outDir: dir, seed: 1))
    }
}
