// Convert: `gannet convert IN OUT` — ONNX (.pb/.onnx) ↔ IR text (.ir), chosen by extension;
// `gannet convert SPEC --out DIR [--seed S]` — each network of a spec as DIR/<network>.pb.

import ArgumentParser
import GraphIR
import Passes

public struct Convert: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a model between ONNX (.pb/.onnx) and IR text (.ir), or a spec's networks to ONNX.",
        discussion: """
        Examples:
          gannet convert model.onnx model.ir
          gannet convert model.ir model.onnx --opset 17
          gannet convert seed:mnist-generator generator.onnx
          gannet convert Specs/mnist_gan.yaml --out models/ --seed 1
        Before writing ONNX, shapes are inferred where possible so the file carries value types.
        """)

    @Argument(help: "Input: a model (.pb, .onnx, .ir, seed:NAME) or a spec (.yaml).") public var input: String
    @Argument(help: "Output model: .pb, .onnx or .ir.") public var output: String?
    @Option(help: "Output directory for a spec's networks.") public var out: String?
    @Option(help: "Seed for a spec's initial weights (default: the spec's).") public var seed: UInt64?
    @Option(help: "ONNX opset to write (13...21).") public var opset = 17

    public init() {}

    public func validate() throws {
        if SpecConversion.isSpec(input) {
            guard out != nil, output == nil else { throw ValidationError("a spec converts with --out DIR (no OUT file)") }
        } else {
            guard output != nil, out == nil, seed == nil else { throw ValidationError("convert a model as: gannet convert IN OUT") }
        }
    }

    public func run() throws {
        if SpecConversion.isSpec(input) {
            for path in try SpecConversion.convert(specPath: input, outDir: out!, seed: seed) { print(path) }
            return
        }
        let output = output!
        var g = input.hasPrefix("seed:") ? try GraphSources.load(input) : try loadGraph(path: input)
        let lower = output.lowercased()
        if lower.hasSuffix(".pb") || lower.hasSuffix(".onnx") {
            var typed = g
            if (try? InferShapes().run(&typed)) != nil { g = typed }
        }
        try saveGraph(g, path: output, opset: opset)
    }
}
