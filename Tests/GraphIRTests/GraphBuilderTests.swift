// GraphBuilderTests: typing through the typer hook, fresh names in each style, the constant
// cache, replace-all-uses, node removal and dead-node removal, canonical value order.

import XCTest
import GraphIR

final class GraphBuilderTests: XCTestCase {
    let f4 = TensorType(.float32, fixed: [4])

    /// A stand-in for the shape rules (GraphIR has none): element-wise ops keep input 0's type;
    /// Concat adds the lengths of rank-1 inputs; an untyped input is an error.
    static let typer: NodeTyper = { g, i in
        let n = g.nodes[i]
        let ts = try n.inputs.map { v -> TensorType in
            guard let v, let t = g.type(of: v) else { throw GraphError("untyped input") }
            return t
        }
        if n.op == .concat { return [TensorType(.float32, fixed: [ts.reduce(0) { $0 + ($1.fixedShape?[0] ?? 0) }])] }
        if n.op == .constant { return [try Graph.constantTensor(of: n).type] }
        return n.outputs.map { _ in ts[0] }
    }

    func testNodesAreTypedAsTheyAreAdded() throws {
        let b = GraphBuilder(name: "t", typer: Self.typer)
        let x = b.addInput("x", f4)
        let y = try b.add(.relu, [x], output: "y")
        XCTAssertEqual(b.graph.type(of: y), f4)
        let c = try b.add(.concat, [x, y], output: "c", attributes: ["axis": .int(0)])
        XCTAssertEqual(try b.fixed(c), [8])
        // A typing failure leaves no node behind.
        let untyped = b.addValue("u")
        XCTAssertThrowsError(try b.add(.relu, [untyped], output: "z"))
        XCTAssertEqual(b.graph.nodes.count, 2)
        XCTAssertThrowsError(try b.type(untyped)) { e in
            XCTAssertEqual((e as? GraphError)?.message, "value 'u' has no type (run InferShapes first)")
        }
        // Without a typer, outputs keep the type they were created with (none).
        let plain = GraphBuilder(name: "p")
        let px = plain.addInput("x", f4)
        let py = try plain.add(.relu, [px], output: "y")
        XCTAssertNil(plain.graph.type(of: py))
    }

    func testFreshNamesInEachStyle() {
        var g = Graph(name: "t")
        for n in ["a", "a_1", "b", "b2", "c", "fc1"] { g.addValue(n) }
        let b = GraphBuilder(g)
        XCTAssertEqual(b.freshName("a"), "a_2")
        XCTAssertEqual(b.freshName("a"), "a_3")
        XCTAssertEqual(b.freshName("new"), "new")
        XCTAssertEqual(b.freshName("new"), "new_1")
        XCTAssertEqual(b.freshName("b", style: .suffix), "b3")
        XCTAssertEqual(b.freshName("c", style: .hash), "c#2")
        XCTAssertEqual(b.freshName("c", style: .hash), "c#3")
        XCTAssertEqual(b.freshName("fc", style: .numbered), "fc2")
        XCTAssertEqual(b.freshName("fc", style: .numbered), "fc3")
        XCTAssertEqual(b.freshName("conv", style: .numbered), "conv1")
        // A name added exactly is taken for later fresh names.
        b.addValue("d")
        XCTAssertEqual(b.freshName("d"), "d_1")
        XCTAssertEqual(b.freshNodeName("n"), "n")
        XCTAssertEqual(b.freshNodeName("n"), "n_1")
        // Every name handed out is distinct and none is a name the graph had.
        XCTAssertEqual(Set(b.graph.values.map(\.name)).count, b.graph.values.count)
    }

    func testConstantCacheDeduplicates() {
        let b = GraphBuilder(name: "t", typer: Self.typer)
        let one = b.scalar(1), two = b.scalar(2)
        XCTAssertEqual(b.scalar(1), one)
        XCTAssertNotEqual(one, two)
        XCTAssertEqual(b.ints([1, 2]), b.ints([1, 2]))
        // Same values, other dtype or shape: a different constant.
        XCTAssertNotEqual(b.constant(Tensor(shape: [1], floats: [1])), one)
        XCTAssertEqual(b.graph.nodes.filter { $0.op == .constant }.count, 4)
        XCTAssertEqual(b.graph.nodes.map(\.name), ["const", "const_1", "const_2", "const_3"])
        XCTAssertEqual(b.graph.constantValue(two), Tensor(shape: [], floats: [2]))
        XCTAssertEqual(b.graph.type(of: two), TensorType(.float32, fixed: []))
    }

    func testReplaceAllUsesAndReaders() throws {
        let b = GraphBuilder(name: "t", typer: Self.typer)
        let x = b.addInput("x", f4), y = b.addInput("y", f4)
        let r = try b.add(.relu, [x], output: "r")
        let s = try b.add(.add, [x, r], output: "s")
        b.setOutputs([x, s])
        XCTAssertEqual(b.readers(of: x), [0, 1])
        XCTAssertNil(b.soleReader(of: x))
        XCTAssertEqual(b.soleReader(of: r), 1)
        b.replaceAllUses(of: x, with: y)
        XCTAssertEqual(b.graph.nodes[0].inputs, [y])
        XCTAssertEqual(b.graph.nodes[1].inputs, [y, r])
        XCTAssertEqual(b.graph.outputs, [y, s])
        XCTAssertEqual(b.readers(of: x), [])
        XCTAssertEqual(b.readers(of: y), [0, 1])
        try b.graph.verify()
    }

    func testMarkedNodesGoAtFinish() throws {
        let b = GraphBuilder(name: "t", typer: Self.typer)
        let x = b.addInput("x", f4)
        let r = try b.add(.relu, [x], output: "r")
        let n = try b.add(.neg, [r], output: "n")
        let e = try b.add(.exp, [r], output: "e")
        b.setOutputs([n])
        XCTAssertEqual(b.readers(of: r), [1, 2])
        b.remove(nodeAt: 2)
        XCTAssertTrue(b.isRemoved(2))
        XCTAssertEqual(b.soleReader(of: r), 1, "removed nodes are no readers")
        XCTAssertEqual(b.node(2).outputs, [e], "indices stay valid until finish")
        let g = b.finish()
        XCTAssertEqual(g.nodes.map(\.op), [.relu, .neg])
    }

    func testRemoveDeadNodes() throws {
        let b = GraphBuilder(name: "t", typer: Self.typer)
        let x = b.addInput("x", f4)
        _ = b.addInput("unused", f4)
        let w = b.addInitializer("w", Tensor(shape: [4], floats: [1, 2, 3, 4]))
        _ = b.addInitializer("dead_w", Tensor(shape: [4], floats: [0, 0, 0, 0]))
        let a = try b.add(.add, [x, w], output: "a")
        _ = try b.add(.exp, [a], output: "dead")
        let y = try b.add(.relu, [a], output: "y")
        b.setOutputs([y])
        let g = b.removeDeadNodes()
        try g.verify()
        XCTAssertEqual(g.nodes.map(\.op), [.add, .relu])
        XCTAssertEqual(g.values.map(\.name), ["x", "unused", "w", "a", "y"])
        XCTAssertEqual(g.initializers.count, 1)
        XCTAssertEqual(g.name(of: g.outputs[0]), "y")
        // The builder keeps working on the compacted graph.
        let z = try b.add(.neg, [g.outputs[0]], output: "z")
        XCTAssertEqual(b.graph.type(of: z), f4)
        XCTAssertEqual(b.value(named: "y"), g.outputs[0])
    }

    func testCanonicalValueOrderAndNameLookup() throws {
        let b = GraphBuilder(name: "t", typer: Self.typer)
        let x = b.addInput("x", f4)
        let r = try b.add(.relu, [x], output: "r")
        let w = b.addInitializer("w", Tensor(shape: [4], floats: [1, 2, 3, 4]))
        let s = try b.add(.add, [r, w], output: "s")
        b.setOutputs([s])
        XCTAssertEqual(b.value(named: "w"), w)
        b.orderValuesCanonically()
        let g = b.graph
        XCTAssertEqual(g.values.map(\.name), ["x", "w", "r", "s"])
        try g.verify()
        XCTAssertEqual(b.value(named: "w"), ValueID(1))
        XCTAssertEqual(try Graph.parse(g.text), g)
    }

    func testRenameAvoidsOtherNames() throws {
        let b = GraphBuilder(name: "t")
        let x = b.addInput("x", f4)
        b.addValue("grad/x")
        let v = b.addValue("tmp")
        b.rename(v, freshFrom: "grad/x")
        XCTAssertEqual(b.graph.name(of: v), "grad/x_1")
        b.rename(x, freshFrom: "x")
        XCTAssertEqual(b.graph.name(of: x), "x")
        XCTAssertEqual(b.value(named: "grad/x_1"), v)
    }
}
