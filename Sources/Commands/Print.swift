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

    @Argument(help: "Model (.ir, .pb/.onnx, seed:NAME) or spec (.yaml: every network).") var model: String
    @Option(help: "Print the IR after this pass only.") var after: String?
    @Flag(help: "Print the IR after every pass.") var afterAll = false
    @Option(help: "Batch size bound to the symbolic batch dim for the Program.") var batch = 1
    @Option(help: "Threads the Program is planned for.") var threads = 1
    @Flag(help: "Print every weight (the text then parses back); by default large tensors are elided.") var weights = false

    public init() {}

    public func run() throws {
        let passes = Pipelines.inference
        if let after, !passes.contains(where: { $0.name == after }) {
            throw CommandError("unknown pass '\(after)' (passes: \(passes.map(\.name).joined(separator: ", ")))")
        }
        let elide: Int? = weights ? nil : Graph.literalLimit
        for (name, graph) in try GraphSources.loadAll(model) {
            print("# \(name): input\n" + graph.text(elidingAbove: elide), terminator: "")
            var g = graph
            var step = 0
            try Pipelines.run(passes, on: &g) { pass, result in
                step += 1
                if afterAll || pass == after { print("# \(name): after \(step). \(pass)\n" + result.text(elidingAbove: elide), terminator: "") }
            }
            let shapes = graph.inputs.map { v in graph.type(of: v)!.shape.map { d in d.value ?? batch } }
            var bound = try Session.bind(graph, shapes)
            try Pipelines.run(passes, on: &bound)
            let program = try Lowering.lower(bound, pool: ThreadPool(threads: threads))
            print("# \(name): program (batch \(batch))\n" + program.text, terminator: "")
        }
    }
}
