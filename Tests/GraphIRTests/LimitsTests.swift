// LimitsTests: the checked-arithmetic helper, the tensor ceiling, and IR text whose dims
// overflow (issue 15: `2^63−1`, `2^32 × 2^32` trapped).

import GraphIR
import XCTest

final class LimitsTests: XCTestCase {
    func testCheckedArithmetic() throws {
        XCTAssertEqual(try Limits.multiply(1 << 20, 1 << 20, "x"), 1 << 40)
        XCTAssertEqual(try Limits.add(Int.max - 1, 1, "x"), Int.max)
        XCTAssertEqual(try Limits.subtract(Int.min + 1, 1, "x"), Int.min)
        XCTAssertThrowsError(try Limits.multiply(1 << 32, 1 << 32, "stride")) { e in
            XCTAssertEqual("\(e)", "stride: 4294967296 × 4294967296 overflows")
        }
        XCTAssertThrowsError(try Limits.add(Int.max, 1, "pad"))
        XCTAssertThrowsError(try Limits.subtract(Int.min, 1, "span"))
        XCTAssertEqual(try Limits.elementCount([2, 3, 4], "t"), 24)
        XCTAssertEqual(try Limits.elementCount([], "t"), 1)
        XCTAssertEqual(try Limits.elementCount([0, Int.max, Int.max], "t"), 0)
        XCTAssertThrowsError(try Limits.elementCount([1 << 32, 1 << 32], "t"))
        XCTAssertThrowsError(try Limits.elementCount([4, -1], "t")) { e in XCTAssertTrue("\(e)".contains("negative")) }
        XCTAssertNil(Limits.elementCountIfValid([Int.max, 2]))
        XCTAssertNil(TensorType(.float32, fixed: [1 << 32, 1 << 32]).elementCount)
    }

    func testTensorCeiling() throws {
        XCTAssertEqual(Limits.maxTensorBytes, Limits.defaultMaxTensorBytes, "tests run without \(Limits.tensorBytesVariable)")
        XCTAssertEqual(try Limits.checkTensor([1 << 30, 2], .float32, "t"), 8 << 30)
        XCTAssertThrowsError(try Limits.checkTensor([1 << 30, 2], .int64, "w")) { e in
            XCTAssertEqual("\(e)", "w: a tensor of shape [1073741824, 2] needs 16 GiB, over the 8 GiB limit on one tensor (set GANNET_MAX_TENSOR_BYTES to raise it)")
        }
        XCTAssertThrowsError(try Limits.checkTensor([1 << 62, 4], .float32, "w")) { e in
            XCTAssertTrue("\(e)".contains("more elements than fit in 64 bits"), "\(e)")
        }
        XCTAssertThrowsError(try Limits.checkTensor([1 << 61, 2], .float32, "w")) { e in
            XCTAssertTrue("\(e)".contains("over the 8 GiB limit"), "\(e)")
        }
        // Symbols count as 1: the per-sample size.
        XCTAssertEqual(try Limits.checkType(TensorType(.float32, [.symbol("N"), .fixed(3)]), "x"), 12)
        XCTAssertThrowsError(try Limits.checkTotal(Limits.maxTotalBytes + 1, "graph 'g'"))
    }

    func testParseBytes() {
        XCTAssertEqual(Limits.parseBytes("8G"), 8 << 30)
        XCTAssertEqual(Limits.parseBytes("512MiB"), 512 << 20)
        XCTAssertEqual(Limits.parseBytes("1048576"), 1 << 20)
        XCTAssertEqual(Limits.parseBytes(" 2t "), 2 << 40)
        for bad in ["", "-1", "0", "8X", "1e9", "99999999999T"] { XCTAssertNil(Limits.parseBytes(bad), bad) }
        XCTAssertEqual(Limits.describeBytes(1536), "1.5 KiB")
        XCTAssertEqual(Limits.describeBytes(12), "12 bytes")
    }

    func assertTypeRejected(_ typeText: String, _ fragment: String, line: UInt = #line) {
        let text = "graph \"g\" {\n  input %x: \(typeText)\n  %y: f32[N,4] = Relu(%x)\n  output %y\n}\n"
        XCTAssertThrowsError(try Graph.parse(text), line: line) { e in
            guard let p = e as? IRParseError else { return XCTFail("\(e)", line: line) }
            XCTAssertEqual("\(p.line):\(p.column)", "2:13", line: line)
            XCTAssertTrue(p.message.contains(fragment), p.message, line: line)
        }
    }

    func testIRTextDimsThatOverflow() {
        assertTypeRejected("f32[9223372036854775807,2]", "more elements than fit in 64 bits")
        assertTypeRejected("f32[4294967296,4294967296]", "more elements than fit in 64 bits")
        assertTypeRejected("f32[9223372036854775807]", "over the 8 GiB limit")
        assertTypeRejected("i64[N,1073741824,2]", "over the 8 GiB limit")
        assertTypeRejected("f32[0,4294967296,4294967296]", "more elements than fit in 64 bits")
        assertTypeRejected("f32[4294967296,0,4]", "(empty, but its other dims span that much)")
        XCTAssertNoThrow(try Graph.parse("graph \"g\" {\n  input %x: f32[N,4]\n  %y: f32[N,4] = Relu(%x)\n  output %y\n}\n"))
    }
}
