import Foundation
import GraphIR
import ONNX
import XCTest

final class TensorProtoTests: XCTestCase {
    func roundTrip(_ t: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = TensorProtoIO.encode(t, name: "x")
        let (name, back) = try TensorProtoIO.decode(bytes, file: "mem.pb")
        XCTAssertEqual(name, "x", file: file, line: line)
        XCTAssertEqual(back, t, file: file, line: line)
    }

    func testRoundTripEachDType() throws {
        try roundTrip(Tensor(shape: [2, 3], floats: [1, -2.5, 0, .infinity, -0.0, 3e-38]))
        try roundTrip(Tensor(shape: [4], int64s: [0, -1, Int64.max, Int64.min]))
        try roundTrip(Tensor(shape: [2, 2], int64s: [0, -1, Int64(Int32.max), Int64(Int32.min)], dtype: .int32))
        try roundTrip(Tensor(shape: [3], int64s: [1, 0, 1], dtype: .bool))
        try roundTrip(Tensor(shape: [], floats: [7]))
        try roundTrip(Tensor(shape: [0, 3], floats: []))
    }

    func testNaNSurvives() throws {
        let bytes = TensorProtoIO.encode(Tensor(shape: [1], floats: [.nan]), name: "n")
        XCTAssertTrue(try TensorProtoIO.decode(bytes, file: "n.pb").tensor.floats[0].isNaN)
    }

    func testTypedFields() throws {
        let f = ONNXBytes.tensor("f", dims: [2], type: ONNXBytes.FLOAT, floats: [1.5, -2])
        XCTAssertEqual(try TensorProtoIO.decode(f.bytes, file: "f.pb").tensor, Tensor(shape: [2], floats: [1.5, -2]))
        let d = ONNXBytes.tensor("d", dims: [3], type: ONNXBytes.DOUBLE, doubles: [0.25, 1e10, -3])
        XCTAssertEqual(try TensorProtoIO.decode(d.bytes, file: "d.pb").tensor, Tensor(shape: [3], floats: [0.25, 1e10, -3]))
        let i = ONNXBytes.tensor("i", dims: [2], type: ONNXBytes.INT64, ints64: [5, -7])
        XCTAssertEqual(try TensorProtoIO.decode(i.bytes, file: "i.pb").tensor, Tensor(shape: [2], int64s: [5, -7]))
        let i32 = ONNXBytes.tensor("i", dims: [2], type: ONNXBytes.INT32, ints32: [5, -7])
        XCTAssertEqual(try TensorProtoIO.decode(i32.bytes, file: "i.pb").tensor, Tensor(shape: [2], int64s: [5, -7], dtype: .int32))
        let b = ONNXBytes.tensor("b", dims: [2], type: ONNXBytes.BOOL, ints32: [1, 0])
        XCTAssertEqual(try TensorProtoIO.decode(b.bytes, file: "b.pb").tensor, Tensor(shape: [2], int64s: [1, 0], dtype: .bool))
        let rawDouble = [0.5, -4.0].flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let rd = ONNXBytes.tensor("rd", dims: [2], type: ONNXBytes.DOUBLE, raw: rawDouble)
        XCTAssertEqual(try TensorProtoIO.decode(rd.bytes, file: "rd.pb").tensor, Tensor(shape: [2], floats: [0.5, -4]))
        // FLOAT16 widens to f32: raw little-endian halves, or bit patterns in int32_data.
        let rh = ONNXBytes.tensor("rh", dims: [3], type: ONNXBytes.FLOAT16, raw: [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00])
        XCTAssertEqual(try TensorProtoIO.decode(rh.bytes, file: "rh.pb").tensor, Tensor(shape: [3], floats: [1, -2, 0x1p-24]))
        let th = ONNXBytes.tensor("th", dims: [2], type: ONNXBytes.FLOAT16, ints32: [0x7BFF, 0xFC00])
        XCTAssertEqual(try TensorProtoIO.decode(th.bytes, file: "th.pb").tensor, Tensor(shape: [2], floats: [65504, -.infinity]))
    }

    func testFiles() throws {
        let path = NSTemporaryDirectory() + "gannet-tensor-\(getpid()).pb"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = Tensor(shape: [2, 1], floats: [3, 4])
        try TensorProtoIO.write(t, name: "t", path: path)
        let back = try TensorProtoIO.read(path: path)
        XCTAssertEqual(back.name, "t")
        XCTAssertEqual(back.tensor, t)
        XCTAssertThrowsError(try TensorProtoIO.read(path: path + ".missing")) { e in
            XCTAssertTrue("\(e)".contains(".missing"), "\(e)")
        }
    }

    func expectError(_ bytes: [UInt8], _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TensorProtoIO.decode(bytes, file: "bad.pb"), file: file, line: line) { e in
            XCTAssertTrue(e is ONNXError, "\(type(of: e))", file: file, line: line)
            for f in ["bad.pb"] + fragments {
                XCTAssertTrue("\(e)".contains(f), "'\(e)' should mention '\(f)'", file: file, line: line)
            }
        }
    }

    func testBadTensors() {
        expectError(ONNXBytes.tensor("w", dims: [2, -3], type: ONNXBytes.FLOAT, floats: []).bytes, ["'w'", "negative"])
        expectError(ONNXBytes.tensor("w", dims: [1 << 20, 1 << 20, 1 << 20], type: ONNXBytes.FLOAT, raw: [0, 0, 0, 0]).bytes, ["'w'", "elements"])
        expectError(ONNXBytes.tensor("w", dims: [Int64.max, Int64.max], type: ONNXBytes.FLOAT, raw: []).bytes, ["'w'"])
        expectError(ONNXBytes.tensor("w", dims: [2, 3], type: ONNXBytes.FLOAT, raw: [0, 0, 0, 0]).bytes, ["raw_data holds 4 bytes", "need 24"])
        expectError(ONNXBytes.tensor("w", dims: [2, 3], type: ONNXBytes.FLOAT, floats: [1, 2]).bytes, ["float_data holds 2"])
        expectError(ONNXBytes.tensor("w", dims: [2], type: ONNXBytes.FLOAT, external: true).bytes, ["external"])
        expectError(ONNXBytes.tensor("w", dims: [2], type: ONNXBytes.BFLOAT16, raw: [0, 0, 0, 0]).bytes, ["BFLOAT16"])
        expectError(ONNXBytes.tensor("w", dims: [2], type: ONNXBytes.FLOAT16, raw: [0, 0, 0, 0, 0, 0]).bytes, ["raw_data holds 6 bytes", "need 4"])
        expectError([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], ["not a valid"])
        expectError([], ["no data type"])
    }
}
