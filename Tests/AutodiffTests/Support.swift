// Support: a reference graph evaluator and the finite-difference gradient checker.
//
// Tolerance (every FD test): for a loss L built as sum(output · R) with a fixed random R, the
// analytic gradient g of each checked element must satisfy |g − fd| ≤ tol·max(1, |fd|), where
// fd = (L(p + h) − L(p − h)) / 2h is the central difference evaluated in float32 with the
// scalar reference kernels (ConstantEvaluator); default h = 1e-2, tol = 2e-2. Inputs of kinked
// ops (Relu, LeakyRelu, Abs) are kept at least 0.2 away from the kink. A nil gradient (the loss
// does not depend on the value) counts as zeros. The analytic gradients are also computed by
// the compiled runtime (Session, SIMD kernels) and must match the reference within 1e-4·max(1,|g|).

import XCTest
import GraphIR
import Passes
import Runtime
import Kernels
import TestSupport

/// `Ref` is the shared reference evaluator (TestSupport); `SeededRandom` the shared generator.
typealias Ref = ReferenceEvaluator

/// A forward graph under test: its leaves (graph inputs, all fed) and the output to check.
struct GradCase {
    var graph = Graph(name: "case")
    var feeds: [ValueID: Tensor] = [:]
    var rng: SeededRandom

    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    /// A fed float input with a random value.
    mutating func input(_ name: String, _ shape: [Int], _ range: ClosedRange<Float> = -1...1) -> ValueID {
        let t = rng.tensor(shape, range)
        return input(name, t)
    }
    mutating func input(_ name: String, _ t: Tensor) -> ValueID {
        let v = graph.addInput(name, t.type)
        feeds[v] = t
        return v
    }
    mutating func ints(_ name: String, _ x: [Int], shape: [Int]? = nil) -> ValueID {
        graph.addInitializer(name, Tensor(shape: shape ?? [x.count], int64s: x.map(Int64.init)))
    }
    mutating func node(_ op: Op, _ ins: [ValueID?], _ attrs: [String: Attribute] = [:], name: String? = nil) -> ValueID {
        let n = name ?? "\(op.rawValue.lowercased())\(graph.nodes.count)"
        return graph.addNode(op, ins, outputs: [n], attributes: attrs, name: n)[0]
    }
}

enum FD {
    /// Builds loss = sum(out · R), differentiates it w.r.t. `wrt` and checks every gradient
    /// against central differences (up to `maxChecks` elements per value) and the runtime.
    @discardableResult
    static func check(_ c0: GradCase, output: ValueID, wrt: [ValueID], h: Float = 1e-2, tol: Float = 2e-2,
                      maxChecks: Int = 20, runtime: Bool = true, createGraph: Bool = true, what: String,
                      file: StaticString = #filePath, line: UInt = #line) throws -> Graph {
        var c = c0
        var g = c.graph
        try InferShapes().run(&g)
        let outShape = try XCTUnwrap(g.type(of: output)?.fixedShape, "\(what): output shape", file: file, line: line)
        let r = g.addInitializer("R", c.rng.tensor(outShape, -1...1))
        let prod = g.addNode(.mul, [output, r], outputs: ["out_times_R"], name: "out_times_R")[0]
        let loss = g.addNode(.reduceSum, [prod], outputs: ["loss"], attributes: ["keepdims": .int(0)], name: "loss")[0]
        g.outputs = [loss]
        try InferShapes().run(&g)
        try g.verify()
        let grads = try Autodiff.gradients(of: loss, wrt: wrt, in: &g, createGraph: createGraph)
        try g.verify()
        try checkAgainstFD(g, c.feeds, loss: loss, wrt: wrt, grads: grads, h: h, tol: tol, maxChecks: maxChecks,
                           runtime: runtime, what: what, rng: &c.rng, file: file, line: line)
        return g
    }

    static func checkAgainstFD(_ g: Graph, _ feeds: [ValueID: Tensor], loss: ValueID, wrt: [ValueID], grads: [ValueID?],
                               h: Float, tol: Float, maxChecks: Int, runtime: Bool, what: String, rng: inout SeededRandom,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let present = grads.compactMap { $0 }
        let analytic = try Ref.evaluate(g, feeds, present)
        var byValue: [ValueID: Tensor] = [:]
        for (v, t) in zip(present, analytic) { byValue[v] = t }
        if runtime && !present.isEmpty {
            var rg = g
            rg.outputs = present
            let session = try Session(graph: rg, threads: 2, passes: [InferShapes()])
            let outs = try session.run(rg.inputs.map { feeds[$0]! })
            for (v, (want, got)) in zip(present, zip(analytic, outs)) {
                XCTAssertEqual(want.shape, got.shape, "\(what): runtime shape of \(g.name(of: v))", file: file, line: line)
                for (a, b) in zip(want.floats, got.floats) where !(abs(a - b) <= 1e-4 * max(1, abs(a))) {
                    XCTFail("\(what): runtime \(g.name(of: v)) got \(b), reference \(a)", file: file, line: line)
                    break
                }
            }
        }
        for (p, gv) in zip(wrt, grads) {
            let base = try XCTUnwrap(feeds[p] ?? g.initializers[p], "\(what): no value for \(g.name(of: p))", file: file, line: line)
            let n = base.count
            let grad = gv.map { byValue[$0]!.floats } ?? [Float](repeating: 0, count: n)
            XCTAssertEqual(grad.count, n, "\(what): gradient of \(g.name(of: p)) has \(grad.count) elements, value \(n)", file: file, line: line)
            guard grad.count == n else { continue }
            var indices = Array(0..<n)
            if n > maxChecks {
                for i in indices.indices.reversed() where i > 0 { indices.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                indices = Array(indices.prefix(maxChecks))
            }
            for i in indices {
                var f = base.floats
                var fe = feeds
                f[i] = base.floats[i] + h
                fe[p] = Tensor(shape: base.shape, floats: f)
                let lp = try Ref.scalar(g, fe, loss)
                f[i] = base.floats[i] - h
                fe[p] = Tensor(shape: base.shape, floats: f)
                let lm = try Ref.scalar(g, fe, loss)
                let fd = (lp - lm) / (2 * h)
                if !(abs(grad[i] - fd) <= tol * max(1, abs(fd))) {
                    XCTFail("\(what): d loss/d \(g.name(of: p))[\(i)] analytic \(grad[i]), finite difference \(fd)", file: file, line: line)
                    return
                }
            }
        }
    }
}
