import GraphIR
import ONNX
import XCTest

/// Malformed models: each is one clear `ONNXError` naming the file (and the node), never a trap.
final class BadInputTests: XCTestCase {
    typealias B = ONNXBytes

    func expectError(_ bytes: [UInt8], _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXImport.graph(fromModelBytes: bytes, file: "bad.onnx"), file: file, line: line) { e in
            XCTAssertTrue(e is ONNXError, "\(type(of: e)): \(e)", file: file, line: line)
            for f in ["bad.onnx"] + fragments {
                XCTAssertTrue("\(e)".contains(f), "'\(e)' should mention '\(f)'", file: file, line: line)
            }
        }
    }

    static func relu(initializers: [PB] = [], extraNodes: [PB] = []) -> [UInt8] {
        B.model(nodes: [B.node("Relu", ["x"], ["y"], name: "r")] + extraNodes,
                inputs: [B.valueInfo("x", dims: [1, 4])], outputs: [B.valueInfo("y", dims: [1, 4])],
                initializers: initializers)
    }

    func testGoodBaseline() throws {
        XCTAssertEqual(try ONNXImport.graph(fromModelBytes: Self.relu(), file: "ok.onnx").nodes.count, 1)
    }

    func testTruncatedFile() throws {
        let good = try ONNXExport.modelBytes(ExportImportTests.convGraph())
        for cut in [good.count / 2, good.count - 1, 3] {
            expectError(Array(good[..<cut]), ["not a valid ONNX model"])
        }
    }

    func testRandomBytesNeverTrap() {
        var state: UInt64 = 0x9E3779B97F4A7C15
        for n in [1, 7, 64, 1000, 100_000] {
            var bytes: [UInt8] = []
            for _ in 0..<n {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(UInt8(truncatingIfNeeded: state >> 56))
            }
            XCTAssertThrowsError(try ONNXImport.graph(fromModelBytes: bytes, file: "bad.onnx")) { e in
                XCTAssertTrue(e is ONNXError && "\(e)".hasPrefix("bad.onnx: "), "\(e)")
            }
        }
    }

    func testWrongMagic() {
        expectError([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52], ["not a valid ONNX model"])
        expectError(Array("graph \"g\" { }\n".utf8), ["not a valid ONNX model"])
        expectError([], ["no graph"])
    }

    func testNegativeDims() {
        expectError(Self.relu(initializers: [B.tensor("w", dims: [-4], type: B.FLOAT, raw: [])]), ["initializer 'w'", "negative"])
        let input = B.model(nodes: [B.node("Relu", ["x"], ["y"])], inputs: [B.valueInfo("x", dims: [1, -4])], outputs: [B.valueInfo("y", dims: nil)])
        expectError(input, ["graph input 'x'", "-4"])
    }

    func testDimsNeedingTerabytes() {
        expectError(Self.relu(initializers: [B.tensor("w", dims: [1 << 20, 1 << 20], type: B.FLOAT, raw: [1, 2, 3, 4])]),
                    ["initializer 'w'", "2147483648 elements"])
    }

    func testInitializerSizeDisagreesWithDims() {
        expectError(Self.relu(initializers: [B.tensor("w", dims: [3, 3], type: B.FLOAT, raw: [UInt8](repeating: 0, count: 32))]),
                    ["initializer 'w'", "raw_data holds 32 bytes", "need 36"])
        expectError(Self.relu(initializers: [B.tensor("w", dims: [3], type: B.INT64, ints64: [1])]), ["int64_data holds 1 values"])
    }

    func testExternalData() {
        expectError(Self.relu(initializers: [B.tensor("w", dims: [3], type: B.FLOAT, external: true)]), ["'w'", "external"])
    }

    func testCyclicGraph() {
        let bytes = B.model(nodes: [B.node("Relu", ["b"], ["a"], name: "first"), B.node("Tanh", ["a"], ["b"], name: "second")],
                            inputs: [B.valueInfo("x", dims: [1])], outputs: [B.valueInfo("b", dims: nil)])
        expectError(bytes, ["cycle"])
    }

    func testDanglingInput() {
        let bytes = B.model(nodes: [B.node("Add", ["x", "nowhere"], ["y"], name: "plus")],
                            inputs: [B.valueInfo("x", dims: [1])], outputs: [B.valueInfo("y", dims: nil)])
        expectError(bytes, ["'plus'", "'nowhere'"])
    }

    func testUnsupportedOpNamesNode() {
        let bytes = Self.relu(extraNodes: [B.node("NonMaxSuppression", ["y"], ["z"], name: "nms")])
        expectError(bytes, ["node 1 'nms'", "'NonMaxSuppression' is not supported"])
    }

    /// Gannet's internal ops (fusions, gradients, collectives) under their names in the default
    /// domain are refused, not imported.
    func testGannetInternalOpsAreRefused() {
        for name in ["FusedConv", "FusedGemm", "FusedBatchNormalization", "LeakyReluGrad", "AllReduce"] {
            let bytes = Self.relu(extraNodes: [B.node(name, ["y"], ["z"], name: "inner")])
            expectError(bytes, ["node 1 'inner'", "'\(name)' is a Gannet-internal operator"])
        }
    }

    /// Attributes Gannet's lowering passes set on their own copies (MatMul transA/transB,
    /// Conv channels_last) mean something else in a file: refused, naming the attribute.
    func testGannetInternalAttributesAreRefused() {
        for (op, inputs, key) in [("MatMul", ["y", "y"], "transA"), ("MatMul", ["y", "y"], "transB"), ("Conv", ["y", "y"], "channels_last")] {
            let bytes = Self.relu(extraNodes: [B.node(op, inputs, ["z"], name: "inner", attrs: [(key, .i(1))])])
            expectError(bytes, ["node 1 'inner'", "attribute '\(key)' is Gannet-internal"])
        }
    }

    /// The exporter will not write them either (a `.ir` file can hold them: `gannet convert`).
    func testGannetInternalAttributesAreNotExported() {
        var g = ExportImportTests.convGraph()
        let conv = g.nodes.firstIndex { $0.op == .conv }!
        g.nodes[conv].attributes["channels_last"] = .int(1)
        XCTAssertThrowsError(try ONNXExport.modelBytes(g)) { error in
            XCTAssertTrue("\(error)".contains("Gannet-internal attribute 'channels_last'"), "\(error)")
        }
    }

    func testUnknownDomain() {
        let bytes = B.model(nodes: [B.node("FusedConv", ["x"], ["y"], name: "fc", domain: "com.microsoft")],
                            inputs: [B.valueInfo("x", dims: [1])], outputs: [B.valueInfo("y", dims: nil)])
        expectError(bytes, ["node 0 'fc' (FusedConv)", "com.microsoft"])
    }

    func testUnsupportedElementType() {
        let bytes = B.model(nodes: [B.node("Relu", ["x"], ["y"])],
                            inputs: [B.valueInfo("x", type: B.BFLOAT16, dims: [1])], outputs: [B.valueInfo("y", dims: nil)])
        expectError(bytes, ["graph input 'x'", "BFLOAT16"])
    }

    func testValueDefinedTwice() {
        let bytes = Self.relu(extraNodes: [B.node("Tanh", ["x"], ["y"], name: "again")])
        expectError(bytes, ["'again'", "'y'", "already defines"])
    }

    func testUndefinedOutputAndWrongAttribute() {
        let noOut = B.model(nodes: [B.node("Relu", ["x"], ["y"])], inputs: [B.valueInfo("x", dims: [1])], outputs: [B.valueInfo("z", dims: nil)])
        expectError(noOut, ["graph output 'z'"])
        let attr = B.model(nodes: [B.node("Relu", ["x"], ["y"], name: "r", attrs: [("bogus", .i(1))])],
                           inputs: [B.valueInfo("x", dims: [1])], outputs: [B.valueInfo("y", dims: nil)])
        expectError(attr, ["'r'", "bogus"])
    }

    func testLegacyBroadcastWithoutRanks() {
        let bytes = B.model(opset: 6,
            nodes: [B.node("Gemm", ["x", "x"], ["h"]),
                    B.node("Add", ["h", "x"], ["y"], name: "a", attrs: [("broadcast", .i(1)), ("axis", .i(1))])],
            inputs: [B.valueInfo("x", dims: [2, 2])], outputs: [B.valueInfo("y", dims: nil)])
        expectError(bytes, ["node 1 'a' (Add)", "legacy broadcast", "ranks"])
    }
}
