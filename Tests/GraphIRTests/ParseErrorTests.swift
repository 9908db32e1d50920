import XCTest
import GraphIR

final class ParseErrorTests: XCTestCase {
    static let good = """
    graph "g" {
      input %x: f32[N,4]
      init %w: f32[2,2] = [1.0, 2.0, 3.0, 4.0]
      %y: f32[N,4] = Relu(%x)
      output %y
    }

    """

    func assertParseError(_ text: String, line: Int, column: Int, _ message: String,
                          file: StaticString = #filePath, lineNo: UInt = #line) {
        do {
            _ = try Graph.parse(text)
            XCTFail("expected a parse error", file: file, line: lineNo)
        } catch let e as IRParseError {
            XCTAssertEqual("\(e.line):\(e.column)", "\(line):\(column)", "\(e)", file: file, line: lineNo)
            XCTAssert(e.message.contains(message), "message '\(e.message)' lacks '\(message)'", file: file, line: lineNo)
            XCTAssertEqual(e.description, "\(e.line):\(e.column): \(e.message)", file: file, line: lineNo)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: lineNo)
        }
    }

    func replacing(_ a: String, _ b: String) -> String {
        precondition(Self.good.contains(a))
        return Self.good.replacingOccurrences(of: a, with: b)
    }

    func testGoodTextParses() throws {
        XCTAssertEqual(try Graph.parse(Self.good).text, Self.good)
    }

    func testUnknownOp() {
        assertParseError(replacing("Relu(", "Rleu("), line: 4, column: 18, "unknown op 'Rleu'")
    }

    func testUnknownDType() {
        assertParseError(replacing("input %x: f32", "input %x: f16"), line: 2, column: 13, "unknown element type 'f16'")
        assertParseError(replacing("%y: f32[N,4]", "%y: float[N,4]"), line: 4, column: 7, "unknown element type 'float'")
    }

    func testUseBeforeDefinition() {
        assertParseError(replacing("Relu(%x)", "Relu(%z)"), line: 4, column: 23, "value '%z' is used before it is defined")
        assertParseError(replacing("output %y", "output %\"onnx::Q\""), line: 5, column: 10, "value '%onnx::Q' is used before it is defined")
        // A node may not read its own output.
        assertParseError(replacing("Relu(%x)", "Relu(%y)"), line: 4, column: 23, "'%y' is used before it is defined")
    }

    func testDuplicateDefinition() {
        assertParseError(replacing("%y: f32[N,4] =", "%w: f32[N,4] ="), line: 4, column: 3, "value '%w' is defined twice")
        assertParseError(replacing("init %w", "init %x"), line: 3, column: 8, "value '%x' is defined twice")
        assertParseError(replacing("%y: f32[N,4] =", "%y, %y ="), line: 4, column: 7, "value '%y' is defined twice")
    }

    func testUnterminatedString() {
        assertParseError("graph \"g {\n  input %x: f32[1]\n}\n", line: 1, column: 7, "unterminated string")
        assertParseError(replacing("output %y", "output %\"y"), line: 5, column: 11, "unterminated string")
        assertParseError("graph \"g\\", line: 1, column: 7, "unterminated string")
    }

    func testBadBase64() {
        assertParseError(replacing("[1.0, 2.0, 3.0, 4.0]", "base64 \"@@not base64@@\""), line: 3, column: 30, "invalid base64")
        // Valid base64 of the wrong length: 12 bytes for 16 needed.
        assertParseError(replacing("[1.0, 2.0, 3.0, 4.0]", "base64 \"AAAAAAAAAAAAAAAA\""), line: 3, column: 30,
                         "base64 data holds 12 bytes, f32[2,2] needs 16")
    }

    func testWrongElementCount() {
        assertParseError(replacing("[1.0, 2.0, 3.0, 4.0]", "[1.0, 2.0, 3.0]"), line: 3, column: 23, "f32[2,2] needs 4 elements, found 3")
        assertParseError(replacing("[1.0, 2.0, 3.0, 4.0]", "[1.0, 2.0, 3.0, 4.0, 5.0]"), line: 3, column: 23, "needs 4 elements, found 5")
    }

    func testMissingClosingBrace() {
        let text = String(Self.good.dropLast(2))  // drops "}\n"
        assertParseError(text, line: 6, column: 1, "missing '}'")
    }

    func testTrailingGarbage() {
        assertParseError(Self.good + "graph", line: 7, column: 1, "unexpected 'graph' after the graph")
        assertParseError(Self.good + "\n  }", line: 8, column: 3, "unexpected '}' after the graph")
    }

    func testOtherErrors() {
        assertParseError("", line: 1, column: 1, "expected 'graph'")
        assertParseError(replacing("f32[N,4]\n  init", "f32[N,-4]\n  init"), line: 2, column: 19, "non-negative")
        assertParseError(replacing("[1.0, 2.0, 3.0, 4.0]", "[1.0, 2.0, x, 4.0]"), line: 3, column: 34, "expected a number")
        assertParseError(replacing("Relu(%x)", "Relu(%x) {alpha=1, alpha=2}"), line: 4, column: 37, "attribute 'alpha' is given twice")
        assertParseError(replacing("Relu(%x)", "Relu(%x ?"), line: 4, column: 26, "unexpected character '?'")
        assertParseError(replacing("input %x: f32[N,4]", "input %x: f32[N,4"), line: 3, column: 3, "expected ']'")
        assertParseError(replacing("init %w: f32[2,2]", "init %w: f32[N,2]"), line: 3, column: 23, "needs a static shape")
    }
}
