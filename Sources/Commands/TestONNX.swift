// TestONNX: `gannet test-onnx DIR…` — runs ONNX backend test directories.
//
// Each DIR holds model.onnx and test_data_set_*/input_N.pb, output_N.pb (TensorProto).
// input_N feeds the N-th graph input that is not an initializer; inputs that feed shape-like
// operands (Reshape/Expand shape, Slice starts/ends/axes/steps, Squeeze/Unsqueeze/Reduce*
// axes, Clip min/max, Resize/Upsample scales and sizes, …) become initializers before the
// graph is compiled. Outputs are compared element-wise at |a − e| ≤ atol + rtol·|e|
// (rtol 1e-3, atol 1e-5; NaN equals NaN) after exact shape and dtype checks.
// Prints `PASS name` or `FAIL name: reason` per case, then `N passed, N failed`; exits
// non-zero when any case failed.

import ArgumentParser
import Foundation
import GraphIR
import ONNX
import Runtime

public struct TestONNX: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "test-onnx",
        abstract: "Run ONNX backend test directories (model.onnx + test_data_set_*).",
        discussion: """
        Example:
          gannet test-onnx $DATA/node/test_relu $DATA/node/test_conv_with_strides_padding
        """)

    @Argument(help: "Test case directories.") public var dirs: [String]
    @Option(help: "Relative tolerance.") public var rtol: Float = 1e-3
    @Option(help: "Absolute tolerance.") public var atol: Float = 1e-5
    @Option(help: "Worker threads.") public var threads = 1

    public init() {}

    public func run() throws {
        var passed = 0, failed = 0
        for dir in dirs {
            let name = URL(fileURLWithPath: dir).standardizedFileURL.lastPathComponent
            do {
                try Self.runCase(dir: dir, rtol: rtol, atol: atol, threads: threads)
                print("PASS \(name)")
                passed += 1
            } catch {
                let reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
                print("FAIL \(name): \(reason)")
                failed += 1
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }

    /// Operand positions that hold shapes, axes or other compile-time parameters, by ONNX op.
    public static let shapeOperands: [String: Set<Int>] = [
        "Reshape": [1], "Expand": [1], "Slice": [1, 2, 3, 4], "Unsqueeze": [1], "Squeeze": [1],
        "ReduceMean": [1], "ReduceSum": [1], "ReduceMax": [1], "ReduceMin": [1], "ReduceProd": [1],
        "ReduceSumSquare": [1], "ReduceL1": [1], "ReduceL2": [1], "ReduceLogSum": [1], "ReduceLogSumExp": [1],
        "Clip": [1, 2], "Resize": [1, 2, 3], "Upsample": [1], "Pad": [1, 2, 3], "ConstantOfShape": [0],
        "Tile": [1], "Split": [1], "TopK": [1], "OneHot": [1], "Range": [0, 1, 2], "Dropout": [1, 2],
    ]

    /// Turns graph inputs that feed shape-like operands into initializers holding `values`.
    public static func bindShapeInputs(_ g: inout Graph, _ values: [ValueID: Tensor]) {
        var bind = Set<ValueID>()
        for n in g.nodes {
            guard let slots = shapeOperands[n.op.rawValue] else { continue }
            for (k, v) in n.inputs.enumerated() where slots.contains(k) {
                if let v, values[v] != nil { bind.insert(v) }
            }
        }
        for v in g.inputs where bind.contains(v) {
            g.initializers[v] = values[v]!
            g[v].type = values[v]!.type
        }
        g.inputs.removeAll { bind.contains($0) }
    }

    static func numbered(_ dir: String, _ prefix: String) -> [String] {
        var out: [String] = []
        while FileManager.default.fileExists(atPath: "\(dir)/\(prefix)_\(out.count).pb") {
            out.append("\(dir)/\(prefix)_\(out.count).pb")
        }
        return out
    }

    /// Runs every data set of one test directory; throws the first mismatch.
    public static func runCase(dir: String, rtol: Float, atol: Float, threads: Int) throws {
        let modelPath = "\(dir)/model.onnx"
        let graph = try loadGraph(path: modelPath)
        let sets = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty else { throw CommandError("\(dir): no test_data_set_* directories") }
        for set in sets {
            let setDir = "\(dir)/\(set)"
            let inputs = try numbered(setDir, "input").map(loadTensor)
            let expected = try numbered(setDir, "output").map(loadTensor)
            guard inputs.count == graph.inputs.count else {
                throw CommandError("\(set): \(inputs.count) input files for \(graph.inputs.count) graph inputs")
            }
            var g = graph
            var byValue: [ValueID: Tensor] = [:]
            for (v, t) in zip(graph.inputs, inputs) { byValue[v] = t }
            bindShapeInputs(&g, byValue)
            let session = try Session(graph: g, threads: threads)
            let actual = try session.run(g.inputs.map { byValue[$0]! })
            guard actual.count == expected.count else {
                throw CommandError("\(set): \(actual.count) outputs, expected \(expected.count)")
            }
            for (k, (a, e)) in zip(actual, expected).enumerated() {
                let what = "\(set) output \(k) '\(g.name(of: g.outputs[k]))'"
                if let problem = compare(a, e, rtol: rtol, atol: atol) { throw CommandError("\(what): \(problem)") }
            }
        }
    }

    /// nil when `actual` matches `expected`, else what differs.
    public static func compare(_ actual: Tensor, _ expected: Tensor, rtol: Float, atol: Float) -> String? {
        if actual.shape != expected.shape { return "shape \(actual.shape), expected \(expected.shape)" }
        if actual.dtype != expected.dtype { return "dtype \(actual.dtype.rawValue), expected \(expected.dtype.rawValue)" }
        if case .int64(let a) = actual.storage, case .int64(let e) = expected.storage {
            if let i = a.indices.first(where: { a[$0] != e[$0] }) {
                return "element \(i) is \(a[i]), expected \(e[i])"
            }
            return nil
        }
        let a = actual.floats, e = expected.floats
        var worst = -1
        var worstExcess: Float = 0
        var bad = 0
        for i in a.indices {
            if a[i].isNaN && e[i].isNaN { continue }
            if a[i] == e[i] { continue }
            let diff = abs(a[i] - e[i])
            let allowed = atol + rtol * abs(e[i])
            if !(diff <= allowed) {
                bad += 1
                let excess = diff.isNaN ? .infinity : diff - allowed
                if worst < 0 || excess > worstExcess { worst = i; worstExcess = excess }
            }
        }
        if worst >= 0 {
            return "\(bad) of \(a.count) elements differ; worst at \(worst): \(a[worst]), expected \(e[worst])"
        }
        return nil
    }
}
