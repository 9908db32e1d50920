// Print: `gannet print MODEL [--after PASS | --after-all] [--batch B]`.

import ArgumentParser
import GraphIR
import Passes
import Runtime
import Kernels

public struct Print: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "print",
        abstract: "Print a model's IR after inference passes, and its lowered Program.")

    @Argument(help: "Model: .ir text, .pb/.onnx, or seed:NAME.") var model: String
    @Option(help: "Print the IR after this pass only.") var after: String?
    @Flag(help: "Print the IR after every pass.") var afterAll = false
    @Option(help: "Batch size bound to the symbolic batch dim for the Program.") var batch = 1
    @Option(help: "Threads the Program is planned for.") var threads = 1

    public init() {}

    public func run() throws {
        let graph = try GraphSources.load(model)
        let passes = Pipelines.inference
        if let after, !passes.contains(where: { $0.name == after }) {
            throw CommandError("unknown pass '\(after)' (passes: \(passes.map(\.name).joined(separator: ", ")))")
        }
        print("# input\n" + graph.text, terminator: "")
        var g = graph
        try Pipelines.run(passes, on: &g) { name, result in
            if afterAll || name == after { print("# after \(name)\n" + result.text, terminator: "") }
        }
        let shapes = try graph.inputs.map { v -> [Int] in
            let t = graph.type(of: v)!
            return t.shape.map { d in d.value ?? batch }
        }
        var bound = try Session.bind(graph, shapes)
        try Pipelines.run(passes, on: &bound)
        let program = try Lowering.lower(bound, pool: ThreadPool(threads: threads))
        print("# program (batch \(batch))\n" + program.text, terminator: "")
    }
}
