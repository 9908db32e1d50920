// Gannet: the developer tool's root command (`gannet print|run|bench|convert|test-onnx|demo`).

import ArgumentParser

public struct Gannet: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gannet",
        abstract: "Gannet developer tool: print, run, convert and benchmark graphs.",
        discussion: """
        Examples:
          gannet print model.ir --after-all
          gannet run model.ir --input z=z.pb --out outputs/
          gannet bench gemm --m 512 --n 512 --k 512 --threads 1 --json
          gannet bench model seed:mnist-generator --batch 64 --threads 2 --json
        """,
        version: GannetVersion.string,
        subcommands: [Print.self, Run.self, Convert.self, TestONNX.self, Bench.self, TrainClassifier.self, Demo.self])

    public init() {}
}

public enum GannetVersion {
    public static let string = "0.1.0"
}
