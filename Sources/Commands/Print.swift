// Print: `gannet print MODEL [--after PASS | --after-all] [--batch B]`; `--training` for a spec's
// compiled D and G steps.

import Core
import ArgumentParser
import GAN
import SpecFormat
import Training
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
    @Flag(help: "For a spec: compile its D and G training steps at --batch and print the IR after each training pass, the step graph with its backward and the Program.") var training = false

    public init() {}

    public func run() throws {
        if training { return try printTraining() }
        let passes = Pipelines.inference
        if let after, !passes.contains(where: { $0.name == after }) {
            throw CommandError("unknown pass '\(after)' (passes: \(passes.map(\.name).joined(separator: ", ")))")
        }
        let elide: Int? = weights ? nil : Graph.literalLimit
        for (name, graph) in try GraphSources.loadAll(model) {
            try at(model) { try printPipeline(name, graph, passes, elide) }
        }
    }

    /// The IR before and after the inference passes, then the lowered Program at --batch.
    func printPipeline(_ name: String, _ graph: Graph, _ passes: [Pass], _ elide: Int?) throws {
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

    /// The training pipeline (TrainStep.pipeline) on a spec's D and G steps, then each step's
    /// graph (forward, loss, backward) and Program.
    func printTraining() throws {
        guard model.hasSuffix(".yaml") || model.hasSuffix(".yml") else {
            throw CommandError("\(model): --training needs a spec (.yaml)")
        }
        let spec = try Spec.load(path: model)
        let steps = try GANSteps(spec: spec, threads: threads)
        let passes = steps.passes   // the spec's pipeline (sync_batchnorm: TrainStep.pipelineSynchronized)
        let all = passes + TrainStep.pipelineAfterAutodiff
        if let after, !all.contains(where: { $0.name == after }) {
            throw CommandError("unknown training pass '\(after)' (passes: \(all.map(\.name).joined(separator: ", ")))")
        }
        let elide: Int? = weights ? nil : Graph.literalLimit
        for (name, plan) in [("D step", try steps.dPlan(batch: batch)), ("G step", try steps.gPlan(batch: batch))] {
            var k = 0
            let step = try TrainStep(plan: plan, store: steps.store, inputShapes: [:], pool: steps.pool, passes: passes) { pass, result in
                k += 1
                if afterAll || pass == after { print("# \(name): after \(k). \(pass)\n" + result.text(elidingAbove: elide), terminator: "") }
            }
            print("# \(name): step graph (batch \(batch))\n" + step.graph.text(elidingAbove: elide), terminator: "")
            print("# \(name): program (batch \(batch))\n" + step.program.text, terminator: "")
        }
    }
}
