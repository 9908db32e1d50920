// Convert: `gannet convert IN OUT` — ONNX (.pb/.onnx) ↔ IR text (.ir), chosen by extension.

import ArgumentParser
import GraphIR
import Passes

public struct Convert: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a model between ONNX (.pb/.onnx) and IR text (.ir), by extension.",
        discussion: """
        Examples:
          gannet convert model.onnx model.ir
          gannet convert model.ir model.onnx --opset 17
          gannet convert seed:mnist-generator generator.onnx
        Before writing ONNX, shapes are inferred where possible so the file carries value types.
        """)

    @Argument(help: "Input model: .pb, .onnx, .ir or seed:NAME.") public var input: String
    @Argument(help: "Output model: .pb, .onnx or .ir.") public var output: String
    @Option(help: "ONNX opset to write (13...21).") public var opset = 17

    public init() {}

    public func run() throws {
        var g = input.hasPrefix("seed:") ? try GraphSources.load(input) : try loadGraph(path: input)
        let lower = output.lowercased()
        if lower.hasSuffix(".pb") || lower.hasSuffix(".onnx") {
            var typed = g
            if (try? InferShapes().run(&typed)) != nil { g = typed }
        }
        try saveGraph(g, path: output, opset: opset)
    }
}
