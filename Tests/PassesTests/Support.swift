import XCTest
import GraphIR
import Passes

/// `"f32[N,3,8,8]"` → TensorType.
func T(_ s: String) -> TensorType {
    let open = s.firstIndex(of: "[")!
    let dtype = DType(rawValue: String(s[..<open]))!
    let body = s[s.index(after: open)..<s.index(before: s.endIndex)]
    let dims: [Dim] = body.isEmpty ? [] : body.split(separator: ",").map { Int($0).map(Dim.fixed) ?? .symbol(String($0)) }
    return TensorType(dtype, dims)
}

/// An operand of a one-node test graph.
enum In {
    case t(String)        // a graph input of this type
    case c(Tensor)        // an initializer
    case ints([Int64])    // an i64 initializer of shape [n]
    case none             // an absent optional input
}

/// Builds a graph with one node `op` named "n0" and returns the output types InferShapes gives.
func infer(_ op: Op, _ ins: [In], _ attrs: [String: Attribute] = [:], outputs: Int = 1) throws -> [TensorType] {
    var g = Graph(name: "t")
    var ids: [ValueID?] = []
    for (i, x) in ins.enumerated() {
        switch x {
        case .t(let s): ids.append(g.addInput("in\(i)", T(s)))
        case .c(let t): ids.append(g.addInitializer("c\(i)", t))
        case .ints(let v): ids.append(g.addInitializer("c\(i)", Tensor(shape: [v.count], int64s: v)))
        case .none: ids.append(nil)
        }
    }
    let outs = g.addNode(op, ids, outputs: (0..<outputs).map { "out\($0)" }, attributes: attrs, name: "n0")
    g.outputs = outs
    try g.verify()
    try InferShapes().run(&g)
    return outs.map { g.type(of: $0)! }
}

/// The single output type, as text.
func shape(_ op: Op, _ ins: [In], _ attrs: [String: Attribute] = [:], file: StaticString = #filePath, line: UInt = #line) -> String {
    do { return try infer(op, ins, attrs)[0].description } catch {
        XCTFail("\(error)", file: file, line: line)
        return ""
    }
}

/// The message InferShapes throws.
func inferError(_ op: Op, _ ins: [In], _ attrs: [String: Attribute] = [:], file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        let t = try infer(op, ins, attrs)
        XCTFail("expected an error, got \(t)", file: file, line: line)
        return ""
    } catch let e as GraphError {
        return e.message
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
        return ""
    }
}

func zeros(_ shape: [Int]) -> In { .c(Tensor(shape: shape, repeating: 0)) }

func ints(_ a: [Int]) -> Attribute { .ints(a) }
