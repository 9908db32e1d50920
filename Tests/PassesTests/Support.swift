import XCTest
import GraphIR
import Passes
import Runtime

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
func inferError(_ op: Op, _ ins: [In], _ attrs: [String: Attribute] = [:], outputs: Int = 1,
                file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        let t = try infer(op, ins, attrs, outputs: outputs)
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

/// Deterministic feeds for a training-fusion test graph: U(−1, 1), except BatchNorm scales and
/// running variances, U(0.5, 1.5).
func trainingFeeds(_ g: Graph, seed: UInt64) -> [Tensor] {
    var s = seed
    return g.inputs.map { v in
        let shape = g.type(of: v)!.fixedShape!
        let name = g.name(of: v)
        return Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let u = Float(Int64(bitPattern: s >> 11) % 2000) / 1000
            return name.hasSuffix("running_var") || (name.hasPrefix("bn") && name.hasSuffix("weight")) ? 0.5 + u / 2 : u - 1
        })
    }
}

/// Each tensor of `a` equals `b`'s within `rtol` of max(|b|, 1e-3 · the largest |b| of that tensor).
func assertTensorsClose(_ a: [Tensor], _ b: [Tensor], rtol: Float = 1e-5, what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (k, (x, y)) in zip(a, b).enumerated() {
        XCTAssertEqual(x.shape, y.shape, file: file, line: line)
        let scale = max(1e-3, y.floats.map(abs).max() ?? 0)
        let worst = zip(x.floats, y.floats).map { abs($0 - $1) / max(abs($1), scale) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, rtol, "\(what) #\(k): max relative error \(worst)", file: file, line: line)
    }
}

/// A training-step test graph being built: every parameter is a graph input (`params`, in
/// order) and each training BatchNorm's running statistics are extra outputs (`running`).
struct TrainingGraph {
    var g: Graph
    var params: [ValueID] = []
    var running: [ValueID] = []

    init(name: String) { g = Graph(name: name) }

    mutating func param(_ name: String, _ shape: [Int]) -> ValueID {
        let v = g.addInput(name, TensorType(.float32, shape.map { .fixed($0) }))
        params.append(v)
        return v
    }

    /// Training-mode BatchNormalization "bn<i>" of x with c channels (scale and bias are params).
    mutating func batchNorm(_ x: ValueID, _ i: Int, _ c: Int) -> ValueID {
        let s = param("bn\(i).weight", [c]), b = param("bn\(i).bias", [c])
        let rm = g.addInput("bn\(i).running_mean", TensorType(.float32, [.fixed(c)]))
        let rv = g.addInput("bn\(i).running_var", TensorType(.float32, [.fixed(c)]))
        let outs = g.addNode(.batchNormalization, [x, s, b, rm, rv], outputs: ["bn\(i)", "bn\(i).running_mean.new", "bn\(i).running_var.new"],
                             attributes: ["training_mode": .int(1), "epsilon": .float(1e-5), "momentum": .float(0.9)], name: "bn\(i)")
        running += outs[1...]
        return outs[0]
    }
}

/// Gradients of sum(output 0 · R) w.r.t. every parameter of `make()`'s graph after `passes`
/// (`createGraph` for this first order), and with `doubleBackward` those of a gradient penalty
/// ‖∂L/∂x‖² (x the first parameter) w.r.t. the others, run by the compiled runtime on
/// `trainingFeeds(seed:)`. `afterAutodiff` runs on the graph with the first-order gradient
/// (keeping value ids), and `check` sees the result; `afterPenalty` on the graph with the
/// penalty's gradients too (as a training step's pipeline does).
func trainingGradients(_ make: () -> (Graph, [ValueID]), passes: [Pass], createGraph: Bool = true, doubleBackward: Bool,
                       afterAutodiff: [Pass] = [], afterPenalty: [Pass] = [], seed: UInt64,
                       check: (Graph) -> Void = { _ in }) throws -> [Tensor] {
    var (g, params) = make()
    try Pipelines.run(passes, on: &g)
    let out = g.outputs[0]
    let shape = g.type(of: out)!.fixedShape!
    let r = g.addInitializer("R", Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float(($0 * 37) % 23) / 11 - 1 }))
    let loss = g.add(.reduceSum, g.add(.mul, out, r, output: "weighted"), output: "loss", attributes: ["keepdims": .int(0)])
    try InferShapes().run(&g)
    var grads = try Autodiff.gradients(of: loss, wrt: params, in: &g, createGraph: createGraph).map { $0! }
    try Pipelines.run(afterAutodiff, on: &g)
    check(g)
    if doubleBackward {
        let gx = grads[0]
        let penalty = g.add(.reduceSum, g.add(.mul, gx, gx, output: "gx2"), output: "penalty", attributes: ["keepdims": .int(0)])
        try InferShapes().run(&g)
        grads = try Autodiff.gradients(of: penalty, wrt: Array(params.dropFirst()), in: &g).map { $0! }
        try Pipelines.run(afterPenalty, on: &g)
    }
    g.outputs = grads
    try InferShapes().run(&g)
    try g.verify()
    return try Session(graph: g, threads: 2, passes: [InferShapes()]).run(trainingFeeds(make().0, seed: seed))
}
