// InferShapesTests+Logic: the shape and type rules of the comparisons, connectives, Where,
// Split, Tile, ArgMax and ArgMin (issue 14).

import XCTest
import GraphIR
import Passes

extension InferShapesTests {
    func bools(_ shape: [Int]) -> In { .c(Tensor(shape: shape, int64s: [Int64](repeating: 1, count: shape.reduce(1, *)), dtype: .bool)) }

    func testComparisonsAndConnectives() {
        for op in [Op.equal, .less, .lessOrEqual, .greater, .greaterOrEqual] {
            XCTAssertEqual(shape(op, [.t("f32[N,3,1]"), zeros([4])]), "bool[N,3,4]", op.rawValue)
            XCTAssertEqual(shape(op, [.t("i64[2,3]"), .ints([1, 2, 3])]), "bool[2,3]", op.rawValue)
            assertError(inferError(op, [.t("f32[N,3]"), .ints([1, 2, 3])]), "(\(op.rawValue))", "one element type")
            assertError(inferError(op, [.t("f32[N,3]"), zeros([2])]), "(\(op.rawValue))", "do not broadcast")
        }
        for op in [Op.and, .or, .xor] {
            XCTAssertEqual(shape(op, [.t("bool[N,1,5]"), bools([3, 1])]), "bool[N,3,5]", op.rawValue)
            assertError(inferError(op, [.t("f32[N,3]"), bools([3])]), "(\(op.rawValue))", "needs bool inputs")
        }
        XCTAssertEqual(shape(.not, [.t("bool[N,7]")]), "bool[N,7]")
        assertError(inferError(.not, [.t("i64[N,7]")]), "(Not)", "needs a bool input")
    }

    func testWhere() {
        XCTAssertEqual(shape(.where, [.t("bool[N,1,5]"), .t("f32[3,1]"), zeros([])]), "f32[N,3,5]")
        XCTAssertEqual(shape(.where, [bools([2]), .ints([1, 2]), .t("i64[3,1]")]), "i64[3,2]")
        assertError(inferError(.where, [.t("f32[N,5]"), zeros([5]), zeros([5])]), "(Where)", "condition must be bool")
        assertError(inferError(.where, [bools([5]), zeros([5]), .ints([1])]), "(Where)", "one element type")
        assertError(inferError(.where, [bools([5]), zeros([4]), zeros([5])]), "(Where)", "do not broadcast")
    }

    func splitTypes(_ ins: [In], _ attrs: [String: Attribute], outputs: Int) throws -> [String] {
        try infer(.split, ins, attrs, outputs: outputs).map(\.description)
    }

    func splitError(_ ins: [In], _ attrs: [String: Attribute], outputs: Int) -> String {
        do {
            XCTFail("expected an error, got \(try splitTypes(ins, attrs, outputs: outputs))")
            return ""
        } catch let e as GraphError { return e.message } catch { return "\(error)" }
    }

    func testSplit() throws {
        XCTAssertEqual(try splitTypes([.t("f32[N,7,3]"), .ints([2, 0, 5])], ["axis": .int(1)], outputs: 3),
                       ["f32[N,2,3]", "f32[N,0,3]", "f32[N,5,3]"])
        XCTAssertEqual(try splitTypes([.t("f32[N,7,3]")], ["axis": .int(-2), "num_outputs": .int(3)], outputs: 3),
                       ["f32[N,3,3]", "f32[N,3,3]", "f32[N,1,3]"])
        XCTAssertEqual(try splitTypes([.t("i64[6]")], [:], outputs: 2), ["i64[3]", "i64[3]"])
        XCTAssertEqual(try splitTypes([.t("f32[N,4]"), .ints([1, 2])], [:], outputs: 2), ["f32[1,4]", "f32[2,4]"])
        assertError(splitError([.t("f32[N,7]"), .ints([2, 4])], ["axis": .int(1)], outputs: 2), "sum to 6")
        assertError(splitError([.t("f32[N,7]"), .ints([2, 5])], ["axis": .int(1)], outputs: 3), "2 sizes for 3 outputs")
        assertError(splitError([.t("f32[N,7]"), .ints([8, -1])], ["axis": .int(1)], outputs: 2), "must not be negative")
        assertError(splitError([.t("f32[N,7]")], ["axis": .int(1)], outputs: 2), "equal parts")
        assertError(splitError([.t("f32[N,7]")], ["axis": .int(1), "num_outputs": .int(3)], outputs: 2), "num_outputs is 3")
        assertError(splitError([.t("f32[N,5]")], ["axis": .int(1), "num_outputs": .int(4)], outputs: 4), "last part negative")
        assertError(splitError([.t("f32[N,5]")], [:], outputs: 2), "symbolic dim N")
        assertError(splitError([.t("f32[N,5]")], ["axis": .int(2)], outputs: 1), "axis 2 is out of range")
    }

    func testTileAndArgExtrema() {
        XCTAssertEqual(shape(.tile, [.t("f32[N,3,5]"), .ints([1, 2, 3])]), "f32[N,6,15]")
        XCTAssertEqual(shape(.tile, [.t("i64[4]"), .ints([0])]), "i64[0]")
        assertError(inferError(.tile, [.t("f32[N,3]"), .ints([2, 1])]), "(Tile)", "cannot tile symbolic dim N")
        assertError(inferError(.tile, [.t("f32[N,3]"), .ints([2])]), "(Tile)", "one entry per axis")
        assertError(inferError(.tile, [.t("f32[2,3]"), .ints([1, -1])]), "(Tile)", "must not be negative")
        assertError(inferError(.tile, [.t("f32[2,3]"), .t("i64[2]")]), "(Tile)", "must be a constant")
        for op in [Op.argMax, .argMin] {
            XCTAssertEqual(shape(op, [.t("f32[N,3,5]")]), "i64[1,3,5]", op.rawValue)
            XCTAssertEqual(shape(op, [.t("f32[N,3,5]")], ["axis": .int(-1), "keepdims": .int(0)]), "i64[N,3]", op.rawValue)
            assertError(inferError(op, [.t("f32[N,3,5]")], ["axis": .int(3)]), "(\(op.rawValue))", "out of range")
            assertError(inferError(op, [.t("f32[N,0]")], ["axis": .int(1)]), "(\(op.rawValue))", "empty axis")
        }
    }
}
