// GraphSources: resolves a MODEL argument to a graph (IR text, ONNX, or a built-in seed graph).

import Core
import Foundation
import GraphIR
import SpecFormat
import SeedModels

public enum GraphSources {
    /// Built-in graphs with random weights, for benchmarks and demos: `seed:NAME`.
    public static let builtIn: [String: () -> Graph] = [
        "mnist-generator": { SeedGraphs.mnistGenerator() },
        "mnist-discriminator": { SeedGraphs.mnistDiscriminator() },
    ]

    /// Loads every graph `path` names: each network of a spec (`.yaml`), else the one model.
    public static func loadAll(_ path: String, seed: UInt64? = nil) throws -> [(name: String, graph: Graph)] {
        if SpecConversion.isSpec(path) {
            return try Spec.load(path: path).buildGraphs(seed: seed)
        }
        return [(path, try load(path))]
    }

    /// Loads `path`: `seed:NAME`, `.ir` text, or an ONNX model (`.pb`, `.onnx`); for a spec,
    /// its generator (or first network).
    public static func load(_ path: String) throws -> Graph {
        if SpecConversion.isSpec(path) {
            let all = try loadAll(path)
            return (all.first { $0.name == "generator" } ?? all[0]).graph
        }
        if path.hasPrefix("seed:") {
            let name = String(path.dropFirst(5))
            guard let make = builtIn[name] else {
                throw CommandError("\(path): unknown built-in graph (known: \(builtIn.keys.sorted().map { "seed:\($0)" }.joined(separator: ", ")))")
            }
            return make()
        }
        return try loadModelFile(path)
    }

    /// Reads IR text from `path`, with errors prefixed by the path.
    public static func readIRText(_ path: String) throws -> Graph {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandError("\(path): cannot read file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandError("\(path): not UTF-8 text")
        }
        let g = try rethrowing(IRParseError.self, as: { Failure($0.message, at: "\(path):\($0.line):\($0.column)") }) {
            try Graph.parse(text)
        }
        try at(path) { try g.verify() }
        return g
    }
}

extension GraphSources {
    static func loadModelFile(_ path: String) throws -> Graph { try loadGraph(path: path) }
}
