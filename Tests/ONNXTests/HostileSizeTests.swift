// HostileSizeTests: the ONNX crashes and hangs of issue 15 — absurd strides, dilations and
// Reshape constants, deeply nested subgraphs, unsupported opset and IR versions — are each a
// clear error naming the file, never a trap.

import Foundation
import GraphIR
import ONNX
import Passes
import XCTest

final class HostileSizeTests: XCTestCase {
    typealias B = ONNXBytes

    /// Imports `bytes` and runs the inference passes (their errors prefixed with the file, as
    /// the commands do); the first error's text (nil: it worked).
    func importAndInfer(_ bytes: [UInt8], file: String = "hostile.onnx") -> String? {
        do {
            var g = try ONNXImport.graph(fromModelBytes: bytes, file: file)
            do { try Pipelines.run(Pipelines.inference, on: &g) } catch let e as GraphError { return "\(file): \(e.message)" }
            return nil
        } catch {
            return "\(error)"
        }
    }

    func expectFailure(_ bytes: [UInt8], _ fragments: [String], line: UInt = #line) {
        guard let m = importAndInfer(bytes) else { return XCTFail("accepted", line: line) }
        for f in fragments { XCTAssertTrue(m.contains(f), "'\(m)' should mention '\(f)'", line: line) }
    }

    static func convTranspose(strides: [Int64] = [1, 1], dilations: [Int64] = [1, 1]) -> [UInt8] {
        let w = B.tensor("w", dims: [1, 1, 2, 2], type: B.FLOAT, floats: [1, 2, 3, 4])
        return B.model(nodes: [B.node("ConvTranspose", ["x", "w"], ["y"], name: "up",
                                      attrs: [("strides", .ints(strides)), ("dilations", .ints(dilations))])],
                       inputs: [B.valueInfo("x", dims: [1, 1, 3, 3])], outputs: [B.valueInfo("y", dims: nil)],
                       initializers: [w])
    }

    func testConvTransposeHugeStridesAndDilations() {
        XCTAssertNil(importAndInfer(Self.convTranspose()))
        expectFailure(Self.convTranspose(strides: [1 << 40, 1 << 40]), ["hostile.onnx", "'up'"])
        expectFailure(Self.convTranspose(dilations: [1 << 31, 1 << 31]), ["hostile.onnx", "'up'"])
        expectFailure(Self.convTranspose(strides: [Int64.max, 1]), ["hostile.onnx", "overflows"])
        expectFailure(Self.convTranspose(dilations: [Int64.max, Int64.max]), ["hostile.onnx", "overflows"])
    }

    static func reshape(_ shape: [Int64]) -> [UInt8] {
        B.model(nodes: [B.node("Reshape", ["x", "s"], ["y"], name: "r")],
                inputs: [B.valueInfo("x", dims: [1, 16])], outputs: [B.valueInfo("y", dims: nil)],
                initializers: [B.tensor("s", dims: [Int64(shape.count)], type: B.INT64, ints64: shape)])
    }

    func testReshapeConstantTooLarge() {
        XCTAssertNil(importAndInfer(Self.reshape([1, 4, 2, 2])))
        expectFailure(Self.reshape([1 << 40, 1 << 40, 1, 1]), ["hostile.onnx", "'r'"])
        expectFailure(Self.reshape([-1, 1 << 62, 4]), ["hostile.onnx", "'r'"])
        expectFailure(Self.reshape([Int64.max, Int64.max]), ["hostile.onnx", "'r'"])
    }

    func testGraphInputOverTheTensorLimit() {
        let big = B.model(nodes: [B.node("Relu", ["x"], ["y"])],
                          inputs: [B.valueInfo("x", dims: [1 << 20, 1 << 20, 4])], outputs: [B.valueInfo("y", dims: nil)])
        expectFailure(big, ["hostile.onnx", "graph input 'x'", "GANNET_MAX_TENSOR_BYTES"])
    }

    /// Every single-bit flip of the Reshape constant in Models/fashion_dcgan.pb imports to a
    /// working graph or a clear error.
    func testFlippedReshapeConstantInFashionDCGAN() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let path = url.appendingPathComponent("Models/fashion_dcgan.pb").path
        let good = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        var pattern: [UInt8] = []
        for v in [Int64(-1), 128, 7, 7] { withUnsafeBytes(of: v.littleEndian) { pattern += $0 } }
        guard let at = (0...(good.count - pattern.count)).first(where: { Array(good[$0..<($0 + pattern.count)]) == pattern }) else {
            return XCTFail("the Reshape constant [-1,128,7,7] is not in \(path)")
        }
        var errors = 0
        for byte in at..<(at + pattern.count) {
            for bit in 0..<8 {
                var bytes = good
                bytes[byte] ^= UInt8(1 << bit)
                if let m = importAndInfer(bytes, file: "flipped.pb") {
                    XCTAssertTrue(m.contains("flipped.pb") || m.contains("reshape"), m)
                    errors += 1
                }
            }
        }
        XCTAssertGreaterThan(errors, 200)
    }

    /// Found by Tools/fuzz (fuzz-onnx): an empty int64 initializer whose other dims multiply
    /// past 64 bits ([69,127,0,0,16383,10485502,130979,2172]) sliced by constant folding
    /// trapped computing strides.
    func testFuzzEmptyTensorWithHugeDims() throws {
        let b64 = "CAg68QEKHgoBeAoBaRIBYSIGR2F0aGVyKgsKBGF4aXMYAaABAgoeCgFpegFhEgFjIgZDb25jYXQqCwoEYXhpcxgBoAECChYKAWMKAnN0CgJlbhICczIiBVNsaWNlSiEKAnMyEgF5IglUcmFuc3Bvc2UqDQoEcG4AAAAAAAAAAQcSAWcqGQhFEAdCAWkKEP8AAAD//wD+/f8Eo/8H/BAqGggCEAdCAnN0ShAAAAAAAAAAAP7///8F/wAAKhoIAhAHQgJlbkoQAgAAAAAAAAQEAAAAAAAAAFoTCgF4Eg4KDAgBEggKAggCCgIIA2IJCgFpEgQKAggBQgQKABAR"
        expectFailure(Array(Data(base64Encoded: b64)!), ["hostile.onnx", "initializer 'i'", "more elements than fit in 64 bits"])
        let empty = B.model(nodes: [B.node("Slice", ["e", "st", "en"], ["y"])], inputs: [B.valueInfo("x", dims: [1])],
                            outputs: [B.valueInfo("y", dims: nil)],
                            initializers: [B.tensor("e", dims: [0, 1 << 31, 1 << 31, 1 << 31], type: B.INT64, raw: []),
                                           B.tensor("st", dims: [1], type: B.INT64, ints64: [0]),
                                           B.tensor("en", dims: [1], type: B.INT64, ints64: [1])])
        expectFailure(empty, ["hostile.onnx", "initializer 'e'"])
    }

    /// Found by Tools/fuzz (fuzz-onnx): a float shape operand of 1e30 trapped converting to Int64.
    func testFuzzFloatShapeOperandOutOfInt64Range() {
        for v: Float in [1e30, -1e30, .infinity, .nan, 0x1p63] {
            let m = B.model(nodes: [B.node("Reshape", ["x", "s"], ["y"], name: "r")],
                            inputs: [B.valueInfo("x", dims: [1, 4])], outputs: [B.valueInfo("y", dims: nil)],
                            initializers: [B.tensor("s", dims: [2], type: B.FLOAT, floats: [v, 1])])
            expectFailure(m, ["hostile.onnx", "'r'"])
        }
        XCTAssertEqual(Tensor(shape: [5], floats: [1e30, -1e30, .nan, -3.7, 0x1p62]).int64s, [.max, .min, 0, -3, 1 << 62])
    }

    /// Found by Tools/fuzz (fuzz-onnx, CI smoke run): a legacy (opset 8) Softmax with no outputs
    /// and an input of undeclared shape trapped naming the rewrite's values after output 0.
    func testFuzzLegacySoftmaxWithoutOutputs() {
        let b64 = "CAg6ywIKHwoBeAoCZ3cSAWgiBEdlbW0qDQoGdHJhVgGlGAGgAQIKJwoBaAoBZwoCYmUKAW0KAXYSAW4iEkJhdGNoTm9ybWFsaXphdGlvbgoiCgFuEgFsIglMZWFreVJlbHUSDwoFYWxwaGEVzcxMPqABAQocCgFsMgF5IgdTb2Z0bWF4KgsKBGF4aXMYAaABAhIBZyo8CAMIBBABQgJngUowAACAPwAAgD8AAIDBBQD6PwAAgD8AAIA/AACAPwAAgF0AAIA/AACAPwAAgD8AAIA/KhUIAxABQgFnSgwAAIA/AACAPwAAgD8qFggDEAFCAmJlSgwAAAAAAAEAAF0AAAAqFQgDEAFCAadKDAAAAAAAAAAAAAAAACoVCAMQAUIBdkoMAACAPwAAgD8AAIA/WhQKAXgSDwoNCAESCQoDEgFOCgIIBGIJCgF5EgQKAggBQgQKABABCAg68QEKHgoBeAoBaRIBYSIGR2F0aGVyKgsKBGF4aXMYAaBAXQoeCgFhCgFhEgFjIgZDb25jYXQqCwoEYXhpcxgBoAECChYKAWMKAnN0CgJlbhICczQiBVNsaWNlCiEKAnMyEgF5IglUcmFuc3Bvc2UqDQoEcGX/bUABQDGgAQcSAWcqGQgCEAdCAWlKEAAAAAAAAAAA/////////xMqGggCEAdCAnN0ShAIAAAAAAAAAAEAAAAAAAAAKhoIAhAHQgJlbkoQAgAAAAAAAABzAAAAAAAAAFoTCgF8Eg4KDAgBEggKAggCCgIIA2IJCgF5EgQKAggBQgQKABAR"
        expectFailure(Array(Data(base64Encoded: b64)!), ["hostile.onnx", "Softmax", "has no outputs"])
        for op in ["Softmax", "LogSoftmax", "Reshape", "Dropout", "Clip", "Upsample", "Pad"] {
            let m = B.model(opset: 8, nodes: [B.node(op, ["x"], [], name: "n")],
                            inputs: [B.valueInfo("x", dims: [2, 3])], outputs: [B.valueInfo("x", dims: [2, 3])])
            expectFailure(m, ["hostile.onnx", "has no outputs"])
        }
    }

    /// Found by Tools/fuzz (fuzz-onnx, 7.7M executions): a one-input Equal read as shape
    /// arithmetic indexed its missing second operand. Shape-fold ops now check their arity, and
    /// Int64.min / −1 no longer traps.
    func testFuzzShapeFoldArity() {
        let b64 = "CAg6ywIKHwoBeAoCZ3cSAWgiBEdlbW0qDQoGdHJhbnNCGAGgAQIKJwoBbQoLADICYmUKAW0KAXYSAW4iEkVxdWFsAAAAbWFsaXphdGlvJgoiCgFuEgFsIglMZWFreVJlbHUqDwoFYWxwaGEVzTizPqABAQocCgFsEgF5IgdTb2Z0bWF4KgsKBGF4aXMYAaABAhIBZyo8CAMIBBABQgJnd0owAACAPwAAgD8AAIA/AACAPwAAgD8AAIA/AACAPwAAPwCAAIA/AACAPwAAgD8AAIA/KhUIAxABQgFnSgwAAIBbAQOAPwAAgD8qFggDEAFCAmJlSgwAAAAAAAAA9gAAAAAqFQgDEAFCAW1KDAAAAAAAAAH/CgAAACoVCAMQAUIBdgoMfAAAAAAAgD8AAIA/WhQKAXgSDwoNCAESCQoDEgFOCgIIBGIJCgF5EgQKAggBQgQqABAD"
        expectFailure(Array(Data(base64Encoded: b64)!), ["hostile.onnx", "inputs, got 1"])
        for op in ["Equal", "Add", "Sub", "Mul", "Div"] {
            let m = B.model(nodes: [B.node(op, ["c"], ["y"], name: "n")], inputs: [B.valueInfo("x", dims: [1])],
                            outputs: [B.valueInfo("y", dims: nil)],
                            initializers: [B.tensor("c", dims: [1], type: B.INT64, ints64: [3])])
            XCTAssertNotNil(importAndInfer(m), op)
        }
        let div = B.model(nodes: [B.node("Div", ["a", "b"], ["q"], name: "d"), B.node("Reshape", ["x", "q"], ["y"], name: "r")],
                          inputs: [B.valueInfo("x", dims: [1])], outputs: [B.valueInfo("y", dims: nil)],
                          initializers: [B.tensor("a", dims: [1], type: B.INT64, ints64: [Int64.min]),
                                         B.tensor("b", dims: [1], type: B.INT64, ints64: [-1])])
        XCTAssertNotNil(importAndInfer(div))
    }

    /// An `If` whose then_branch holds an `If` … `levels` deep.
    static func nestedIf(levels: Int) -> [UInt8] {
        var inner = PB()
        _ = inner.string(2, "leaf")
        for _ in 0..<levels {
            var attr = PB()
            _ = attr.string(1, "then_branch")
            _ = attr.message(6, inner)
            _ = attr.int(20, 5)
            var node = PB()
            _ = node.string(1, "c")
            _ = node.string(2, "y")
            _ = node.string(4, "If")
            _ = node.message(5, attr)
            var g = PB()
            _ = g.message(1, node)
            _ = g.string(2, "branch")
            inner = g
        }
        var o = PB()
        _ = o.string(1, "")
        _ = o.int(2, 17)
        var m = PB()
        _ = m.int(1, 8)
        _ = m.message(7, inner)
        _ = m.message(8, o)
        return m.bytes
    }

    func testDeeplyNestedSubgraphsAreRejectedBeforeDecoding() {
        for levels in [40, 10_000, 30_000] {
            XCTAssertThrowsError(try ONNXImport.graph(fromModelBytes: Self.nestedIf(levels: levels), file: "deep.onnx")) { e in
                XCTAssertTrue("\(e)".contains("deep.onnx: messages nest more than 100 levels"), "\(e)")
            }
        }
        // A few levels decode (and fail later only because Gannet has no If).
        XCTAssertThrowsError(try ONNXImport.graph(fromModelBytes: Self.nestedIf(levels: 3), file: "if.onnx")) { e in
            XCTAssertTrue("\(e)".contains("'If' is not supported"), "\(e)")
        }
    }

    func testOpsetAndIRVersionsOutsideWhatONNXRuntimeLoads() {
        func relu(opset: Int64?, ir: Int64 = 8) -> [UInt8] {
            B.model(opset: opset, nodes: [B.node("Relu", ["x"], ["y"])], inputs: [B.valueInfo("x", dims: [1, 4])],
                    outputs: [B.valueInfo("y", dims: [1, 4])], irVersion: ir)
        }
        expectFailure(relu(opset: 99), ["hostile.onnx", "opset 99", "1 to \(ONNXImport.maxOpset)"])
        expectFailure(relu(opset: 0), ["hostile.onnx", "opset 0"])
        expectFailure(relu(opset: -3), ["hostile.onnx", "opset -3"])
        expectFailure(relu(opset: nil), ["hostile.onnx", "no opset_import"])
        expectFailure(relu(opset: 17, ir: 999), ["hostile.onnx", "ir_version 999"])
        for ok in [1, 6, 17, Int64(ONNXImport.maxOpset)] { XCTAssertNil(importAndInfer(relu(opset: ok)), "opset \(ok)") }
        XCTAssertNil(importAndInfer(relu(opset: 17, ir: Int64(ONNXImport.maxIRVersion))))
    }
}
