import TestSupport
import XCTest
import GraphIR

/// Bit-exact comparison of two graphs (NaN-aware: tensors compare by bit pattern).
func assertSameGraph(_ a: Graph, _ b: Graph, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.name, b.name, file: file, line: line)
    XCTAssertEqual(a.docString, b.docString, file: file, line: line)
    XCTAssertEqual(a.metadata, b.metadata, file: file, line: line)
    XCTAssertEqual(a.values, b.values, file: file, line: line)
    XCTAssertEqual(a.inputs, b.inputs, file: file, line: line)
    XCTAssertEqual(a.outputs, b.outputs, file: file, line: line)
    XCTAssertEqual(a.nodes.count, b.nodes.count, file: file, line: line)
    for (n, m) in zip(a.nodes, b.nodes) {
        XCTAssertEqual(n.op, m.op, file: file, line: line)
        XCTAssertEqual(n.name, m.name, file: file, line: line)
        XCTAssertEqual(n.inputs, m.inputs, file: file, line: line)
        XCTAssertEqual(n.outputs, m.outputs, file: file, line: line)
        XCTAssertEqual(n.attributes.sortedKeys, m.attributes.sortedKeys, file: file, line: line)
        for k in n.attributes.sortedKeys {
            switch (n.attributes[k]!, m.attributes[k]!) {
            case (.float(let x), .float(let y)): XCTAssertEqual(x.bitPattern, y.bitPattern, "attribute \(k)", file: file, line: line)
            case (.floats(let x), .floats(let y)): XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), "attribute \(k)", file: file, line: line)
            case (.tensor(let x), .tensor(let y)): assertSameTensor(x, y, file: file, line: line)
            case (let x, let y): XCTAssertEqual(x, y, "attribute \(k)", file: file, line: line)
            }
        }
    }
    XCTAssertEqual(Set(a.initializers.keys), Set(b.initializers.keys), file: file, line: line)
    for (k, t) in a.initializers {
        if let u = b.initializers[k] { assertSameTensor(t, u, file: file, line: line) }
    }
}

func assertSameTensor(_ a: Tensor, _ b: Tensor, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.dtype, b.dtype, file: file, line: line)
    XCTAssertEqual(a.shape, b.shape, file: file, line: line)
    switch (a.storage, b.storage) {
    case (.float(let x), .float(let y)): XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), file: file, line: line)
    case (.int64(let x), .int64(let y)): XCTAssertEqual(x, y, file: file, line: line)
    default: XCTFail("storage kinds differ", file: file, line: line)
    }
}

/// Prints, parses and prints again; asserts identical text and an identical graph.
@discardableResult
func assertRoundTrip(_ g: Graph, file: StaticString = #filePath, line: UInt = #line) -> Graph? {
    let text = g.text
    do {
        let h = try Graph.parse(text)
        XCTAssertEqual(h.text, text, file: file, line: line)
        assertSameGraph(g, h, file: file, line: line)
        return h
    } catch {
        XCTFail("parse failed: \(error)\n\(text)", file: file, line: line)
        return nil
    }
}

/// The message of the GraphError thrown by `body`, or a failure.
func graphError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
        return ""
    } catch let e as GraphError {
        return e.message
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return ""
    }
}

/// Generated IR test data: TestSupport's `SeededRandom` plus a float that mixes ordinary
/// values with arbitrary bit patterns.
extension SeededRandom {
    mutating func anyFloat() -> Float {
        // Mix ordinary values with arbitrary bit patterns.
        switch int(0...3) {
        case 0:
            // Literal text keeps no NaN payload, so arbitrary NaNs become the canonical one.
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: next()))
            return f.isNaN ? .nan : f
        case 1: return pick([Float.infinity, -.infinity, -0.0, 0, 1e-5, Float.leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e20])
        default: return Float(int(-1000...1000)) / 8
        }
    }
}
