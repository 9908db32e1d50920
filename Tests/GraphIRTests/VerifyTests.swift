import TestSupport
import XCTest
import GraphIR
import SeedModels

final class VerifyTests: XCTestCase {
    /// x → Relu "r1" → Sigmoid "s1" → output.
    func chain() -> (Graph, ValueID, ValueID, ValueID) {
        var g = Graph(name: "chain")
        let x = g.addInput("x", TensorType(.float32, [.symbol("N"), .fixed(4)]))
        let a = g.addNode(.relu, [x], outputs: ["a"], name: "r1")[0]
        let b = g.addNode(.sigmoid, [a], outputs: ["b"], name: "s1")[0]
        g.outputs = [b]
        return (g, x, a, b)
    }

    func assertRejects(_ g: Graph, _ parts: String..., file: StaticString = #filePath, line: UInt = #line) {
        let m = graphError({ try g.verify() }, file: file, line: line)
        for p in parts { XCTAssert(m.contains(p), "'\(m)' lacks '\(p)'", file: file, line: line) }
    }

    func testValidChain() throws {
        try chain().0.verify()
        try SeedGraphs.mnistGenerator().verify()
        try SeedGraphs.mnistDiscriminator(batchNorm: false).verify()
    }

    func testInputArity() {
        var (g, x, _, _) = chain()
        g.nodes[1].inputs = [g.nodes[1].inputs[0], x]
        assertRejects(g, "node 1 's1' (Sigmoid) takes 1 inputs, got 2")
        var h = chain().0
        h.nodes[0].inputs = []
        assertRejects(h, "node 0 'r1' (Relu) takes 1 inputs, got 0")
        var c = Graph()
        let y = c.addInput("y", TensorType(.float32, fixed: [1]))
        c.addNode(.conv, [y], outputs: ["c"], name: "conv1")
        c.outputs = [c.value(named: "c")!]
        assertRejects(c, "node 0 'conv1' (Conv) takes 2 to 3 inputs, got 1")
        var k = Graph()
        let z = k.addInput("z", TensorType(.float32, fixed: [1]))
        k.outputs = [k.addNode(.concat, [], outputs: ["k"], attributes: ["axis": .int(0)])[0]]
        _ = z
        assertRejects(k, "node 0 (Concat) takes at least 1 inputs, got 0")
    }

    func testMissingFirstInput() {
        var (g, _, _, _) = chain()
        g.nodes[0].inputs = [nil]
        assertRejects(g, "node 0 'r1' (Relu) is missing its required input 0")
    }

    func testOutputArity() {
        var (g, _, _, _) = chain()
        let extra = g.addValue("extra")
        g.nodes[0].outputs.append(extra)
        assertRejects(g, "node 0 'r1' (Relu) produces 1 outputs, got 2")
        var h = chain().0
        h.nodes[1].outputs = []
        assertRejects(h, "node 1 's1' (Sigmoid) produces 1 outputs, got 0")
    }

    func testUnknownAttribute() {
        var (g, _, _, _) = chain()
        g.nodes[0].attributes["alpha"] = .float(0.1)
        assertRejects(g, "node 0 'r1' (Relu) has unknown attribute 'alpha'")
    }

    func testWrongAttributeKind() {
        var (g, _, _, _) = chain()
        g.nodes[1] = Node(.leakyRelu, name: "lr", inputs: g.nodes[1].inputs, outputs: g.nodes[1].outputs,
                          attributes: Attributes(["alpha": .string("0.2")]))
        assertRejects(g, "node 1 'lr' (LeakyRelu): attribute 'alpha' must be float, got string")
        // An int where a float is expected is accepted (ONNX exporters write alpha=1).
        g.nodes[1].attributes["alpha"] = .int(1)
        XCTAssertNoThrow(try g.verify())
        g.nodes[1].attributes["alpha"] = .ints([1])
        assertRejects(g, "attribute 'alpha' must be float, got ints")
    }

    func testUndefinedInput() {
        var (g, _, _, _) = chain()
        let dangling = g.addValue("dangling")
        g.nodes[1].inputs = [dangling]
        assertRejects(g, "node 1 's1' (Sigmoid) reads 'dangling', which no input, initializer or node defines")
    }

    func testOutOfOrderNodesAndCycles() throws {
        var (g, _, _, _) = chain()
        g.nodes.swapAt(0, 1)
        assertRejects(g, "node 0 's1' (Sigmoid) reads 'a' before node 1 'r1' (Relu) produces it", "cycle or nodes out of order")
        try g.sortTopologically()
        XCTAssertEqual(g.nodes.map(\.name), ["r1", "s1"])
        try g.verify()

        // A real cycle: r1 reads b, s1 reads a.
        var (c, _, a, b) = chain()
        c.nodes[0].inputs = [b]
        _ = a
        assertRejects(c, "node 0 'r1' (Relu) reads 'b' before node 1 's1' (Sigmoid) produces it")
        let m = graphError { try c.sortTopologically() }
        XCTAssert(m.contains("cycle"), m)
        XCTAssert(m.contains("'r1'") || m.contains("'s1'"), m)

        // An undefined value is named by the sort too.
        var d = chain().0
        d.nodes[0].inputs = [d.addValue("ghost")]
        let m2 = graphError { try d.sortTopologically() }
        XCTAssert(m2.contains("reads 'ghost', which no input, initializer or node defines"), m2)
    }

    func testSortKeepsValidOrderAndFixesShuffles() throws {
        var g = SeedGraphs.mnistGenerator(latent: 8)
        let original = g.nodes
        try g.sortTopologically()
        XCTAssertEqual(g.nodes, original)
        var rng = SeededRandom(seed: 7)
        for _ in 0..<5 {
            var h = g
            for i in stride(from: h.nodes.count - 1, to: 0, by: -1) { h.nodes.swapAt(i, rng.int(0...i)) }
            try h.sortTopologically()
            try h.verify()
            XCTAssertEqual(Set(h.nodes.map(\.name)), Set(original.map(\.name)))
        }
    }

    func testValueDefinedTwice() {
        var (g, x, _, _) = chain()
        g.nodes[1].outputs = [g.nodes[0].outputs[0]]
        g.outputs = [g.nodes[0].outputs[0]]
        assertRejects(g, "node 1 's1' (Sigmoid) writes 'a', which is already defined")
        var h = chain().0
        h.nodes[0].outputs = [x]
        assertRejects(h, "node 0 'r1' (Relu) writes 'x', which is already defined")
        var i = chain().0
        i.inputs.append(i.inputs[0])
        assertRejects(i, "graph input 'x' is listed twice")
    }

    func testDuplicateValueNames() {
        var (g, _, _, _) = chain()
        g[g.nodes[1].outputs[0]].name = "a"
        assertRejects(g, "value name 'a' is used by two values (1 and 2)")
        var h = chain().0
        h[ValueID(1)].name = ""
        assertRejects(h, "value 1 has an empty name")
    }

    func testMissingGraphOutput() {
        var (g, _, _, _) = chain()
        g.outputs = []
        assertRejects(g, "graph 'chain' has no outputs")
        var h = chain().0
        h.outputs = [h.addValue("nowhere")]
        assertRejects(h, "graph output 'nowhere' is never defined")
    }

    func testOutOfRangeValueIDs() {
        var (g, _, _, _) = chain()
        g.nodes[1].inputs = [ValueID(99)]
        assertRejects(g, "node 1 's1' (Sigmoid): value id 99 is out of range (graph has 3 values)")
        var h = chain().0
        h.nodes[0].outputs = [ValueID(-1)]
        assertRejects(h, "node 0 'r1' (Relu): value id -1 is out of range")
        var o = chain().0
        o.outputs = [ValueID(3)]
        assertRejects(o, "graph output: value id 3 is out of range")
        var i = chain().0
        i.inputs = [ValueID(5)]
        assertRejects(i, "graph input: value id 5 is out of range")
        var k = chain().0
        k.initializers[ValueID(8)] = Tensor(shape: [1], floats: [0])
        assertRejects(k, "initializer: value id 8 is out of range")
    }

    func testInitializerTypeMismatch() throws {
        var (g, _, _, _) = chain()
        let w = g.addInitializer("w", Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]))
        g.nodes[1].inputs = [w]
        try g.verify()
        g[w].type = TensorType(.float32, fixed: [3, 2])
        assertRejects(g, "initializer 'w' holds f32[2,3] but its value is declared f32[3,2]")
        g[w].type = TensorType(.int64, fixed: [2, 3])
        assertRejects(g, "initializer 'w' holds f32[2,3] but its value is declared i64[2,3]")
    }

    func testInitializerThatIsAlsoAnInput() throws {
        // Old ONNX models list initializers among the graph inputs (overridable defaults).
        var g = Graph()
        let w = g.addInput("w", TensorType(.float32, fixed: [2]))
        g.initializers[w] = Tensor(shape: [2], floats: [1, 2])
        g.outputs = [g.add(.relu, w, output: "y")]
        try g.verify()
    }
}
