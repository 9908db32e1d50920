// HostileSpecTests: the spec crashes and hangs of issue 15 — absurd kernel, padding, widths,
// batch and sample counts, deeply nested YAML, a 20k-layer network — are each a SpecError
// naming the file and the setting (or, for the long network, a build in linear time); and
// checking a spec allocates none of its parameters (a legal 6.6 GB layer parses in kilobytes).

import Foundation
import GraphIR
import SpecFormat
import XCTest

final class HostileSpecTests: XCTestCase {
    static let base: String = (try? String(contentsOfFile: "\(specsDir)/mnist_gan.yaml", encoding: .utf8)) ?? ""

    /// mnist_gan.yaml with `old` (which must occur) replaced by `new` once.
    func variant(_ old: String, _ new: String) -> String {
        XCTAssertTrue(Self.base.contains(old), old)
        guard let r = Self.base.range(of: old) else { return Self.base }
        return Self.base.replacingCharacters(in: r, with: new)
    }

    func expectSpecError(_ yaml: String, _ fragments: [String], line: UInt = #line) {
        let m = specError(yaml, file: "hostile.yaml", line)
        for f in ["hostile.yaml:"] + fragments { XCTAssertTrue(m.contains(f), "'\(m)' should mention '\(f)'", line: line) }
    }

    let disc1 = "- conv: {out: 64, kernel: 4, stride: 2, padding: 1}"

    func testBaseBuilds() throws {
        XCTAssertNoThrow(try Spec.parse(yaml: Self.base, file: "ok.yaml").buildGraphs())
    }

    func testHugeKernelAndPadding() {
        expectSpecError(variant(disc1, "- conv: {out: 64, kernel: 1099511627776, stride: 2, padding: 1}"),
                        ["layers[0] (conv)", "parameter 'conv1.weight'"])
        expectSpecError(variant(disc1, "- conv: {out: 64, kernel: 4, stride: 2, padding: 4611686018427387904}"),
                        ["layers[0] (conv)", "overflows"])
        expectSpecError(variant(disc1, "- conv: {out: 64, kernel: 4, stride: 2, padding: 9223372036854775807}"),
                        ["layers[0] (conv)"])
    }

    func testHugeWidthsAreErrorsBeforeAllocation() {
        for out in ["1000000000", "1000000000000"] {
            expectSpecError(variant(disc1, "- conv: {out: \(out), kernel: 4, stride: 2, padding: 1}"),
                            ["layers[0] (conv)", "GANNET_MAX_TENSOR_BYTES"])
            expectSpecError(variant("- linear: 1024", "- linear: \(out)"), ["layers[0] (linear)", "GANNET_MAX_TENSOR_BYTES"])
        }
        // One-channel input, 1×1 kernel: the 4 GB weight fits a tensor, the output does not.
        expectSpecError(variant(disc1, "- conv: {out: 1000000000, kernel: 1, stride: 1, padding: 0}"),
                        ["layers[0] (conv)", "output 0 'conv1'", "GANNET_MAX_TENSOR_BYTES"])
    }

    func testHugeBatchAndFixedSamples() {
        expectSpecError(variant("batch_size: 128", "batch_size: 1000000000000"),
                        ["schedule.batch_size 1000000000000", "GANNET_MAX_TENSOR_BYTES"])
        expectSpecError(variant("fixed_samples: 100 ", "fixed_samples: 1000000000 "),
                        ["networks.generator", "output.fixed_samples 1000000000", "GANNET_MAX_TENSOR_BYTES"])
        // Large but reasonable values still parse.
        XCTAssertNoThrow(try Spec.parse(yaml: variant("batch_size: 128", "batch_size: 4096"), file: "ok.yaml"))
    }

    func testDeeplyNestedYAMLIsRejectedBeforeParsing() {
        expectSpecError("a: " + String(repeating: "[", count: 100_000), ["hostile.yaml:1:", "nests more than 256 levels"])
        expectSpecError(String(repeating: "{a: ", count: 20_000), ["hostile.yaml:1:", "nests more than 256 levels"])
        expectSpecError(String(repeating: "- ", count: 20_000) + "x\n", ["hostile.yaml:1:", "nests more than 256 levels"])
        var block = ""
        for i in 0..<300 { block += String(repeating: " ", count: i) + "k\(i):\n" }
        expectSpecError(block, ["hostile.yaml:257:", "nests more than 256 levels"])
        // Brackets inside quoted scalars and comments do not count; an apostrophe in a plain
        // scalar does not hide what follows.
        let quoted = variant("description: ", "description: '\(String(repeating: "[", count: 1000))' # \(String(repeating: "{", count: 1000))\n#")
        XCTAssertNoThrow(try Spec.parse(yaml: quoted, file: "ok.yaml"))
        expectSpecError("a: it's\nb: " + String(repeating: "[", count: 1000), ["hostile.yaml:2:", "nests more than 256"])
    }

    func testTwentyThousandLayersBuild() throws {
        let many = String(repeating: "      - leaky_relu: 0.01\n", count: 20_000)
        let yaml = variant("      - {reshape: [-1], name: logit}", many + "      - {reshape: [-1], name: logit}")
        let spec = try Spec.parse(yaml: yaml, file: "long.yaml")
        let g = try spec.buildGraph(network: "discriminator")
        XCTAssertEqual(g.nodes.count, 12 + 20_000)
        XCTAssertEqual(g.type(of: g.outputs[0])?.description, "f32[N]")
    }

    func testCheckingASpecAllocatesNoParameters() throws {
        // A legal but huge discriminator layer: 6272 × 262144 floats = 6.6 GB, under the 8 GiB
        // per-tensor ceiling. Spec.parse shape-walks every network; it used to zero-fill every
        // parameter (the spec fuzz target spent most of its time there), now parameters stay
        // typed inputs and only `buildGraph` allocates.
        let yaml = variant("- reshape: [-1, 6272]\n      - linear: 1024", "- reshape: [-1, 6272]\n      - linear: 262144")
        func maxRSSKiB() -> Int {
            var u = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
            return u.ru_maxrss
        }
        let before = maxRSSKiB()
        let spec = try Spec.parse(yaml: yaml, file: "huge.yaml")
        let count = try spec.parameterCount(network: "discriminator")
        XCTAssertLessThan(maxRSSKiB() - before, 1 << 20, "checking the spec allocated its parameters")
        // conv 64·1·4·4+64, BN 2·64, conv 128·64·4·4+128, BN 2·128, linear 6272·262144+262144,
        // BN 2·262144, linear 262144+1.
        XCTAssertEqual(count, 64 * 16 + 64 + 128 + 128 * 64 * 16 + 128 + 256 + 6272 * 262_144 + 262_144 + 2 * 262_144 + 262_144 + 1)
    }
}
