// Run: `gannet run MODEL [--input NAME=FILE.pb …] [--out DIR]` — runs a model on TensorProto
// inputs and writes each output as DIR/output_N.pb (TensorProto, named after the output).

import Core
import ArgumentParser
import Foundation
import GraphIR
import Passes
import Runtime

public struct Run: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on TensorProto inputs; writes output_N.pb.",
        discussion: """
        Examples:
          gannet run model.onnx --input z=z.pb --out results/
          gannet run model.ir --input x=input_0.pb
        Inputs not given are an error; an input file may also be given positionally in graph
        input order with --input FILE.pb.
        """)

    @Argument(help: "Model: .ir, .pb/.onnx or seed:NAME.") var model: String
    @Option(name: .customLong("input"), help: "NAME=FILE.pb, or FILE.pb for the next graph input.") var inputs: [String] = []
    @Option(help: "Output directory.") var out = "."
    @Option(help: "Worker threads.") var threads = 1
    @Flag(help: "Run the graph as written: no BatchNorm or upsample folding, no bias/activation fusion (exact IEEE semantics of each node, e.g. for infinite inputs).")
    var noFuse = false

    public init() {}

    public func run() throws {
        let graph = try GraphSources.load(model)
        let names = graph.inputs.map { graph.name(of: $0) }
        var given: [String: Tensor] = [:]
        var next = 0
        for spec in inputs {
            let name: String, file: String
            if let eq = spec.firstIndex(of: "="), !spec.hasSuffix(".pb") || spec[..<eq].allSatisfy({ $0 != "/" }) {
                name = String(spec[..<eq]); file = String(spec[spec.index(after: eq)...])
            } else {
                guard next < names.count else { throw CommandError("\(spec): more inputs than the graph has (\(names.count))") }
                name = names[next]; file = spec
            }
            next += 1
            guard names.contains(name) else {
                throw CommandError("--input \(spec): the model has no input '\(name)' (inputs: \(names.joined(separator: ", ")))")
            }
            given[name] = try loadTensor(path: file)
        }
        let session = try at(model) { try Session(graph: graph, threads: threads, passes: noFuse ? Pipelines.inferenceUnfused : Pipelines.inference) }
        let outputs = try at(model) { try session.run(given) }
        try IOFailure.createDirectory(out)
        for (i, v) in graph.outputs.enumerated() {
            let name = graph.name(of: v)
            let path = (out as NSString).appendingPathComponent("output_\(i).pb")
            try saveTensor(outputs[name]!, name: name, path: path)
            print("\(path)  \(name) \(outputs[name]!.dtype.rawValue)\(outputs[name]!.shape)")
        }
    }
}
