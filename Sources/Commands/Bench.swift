// Bench: `gannet bench peak|gemm|model|step|loader …`, one JSON object per line with --json.

import ArgumentParser
import Foundation
import GraphIR
import Kernels
import Passes
import Runtime
import Training
import SpecFormat
import GAN

public struct Bench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernels and models.",
        subcommands: [Peak.self, GemmBench.self, ModelBench.self, StepBench.self, LoaderBench.self])
    public init() {}

    struct Common: ParsableArguments {
        @Option(help: "Worker threads.") var threads = 1
        @Flag(help: "Print one JSON object.") var json = false
    }

    static func emit(_ fields: [(String, Double)], json: Bool) {
        if json {
            print("{" + fields.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" }.joined(separator: ", ") + "}")
        } else {
            for (k, v) in fields { print("\(k): \(String(format: "%.3f", v))") }
        }
    }

    struct Peak: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "peak", abstract: "Measured FMA peak in GFLOP/s.")
        @OptionGroup var common: Common
        func run() throws {
            let pool = ThreadPool(threads: common.threads)
            let g = (0..<5).map { _ in KernelBench.peakGflops(threads: common.threads, pool: pool) }.max()!
            Bench.emit([("gflops", g)], json: common.json)
        }
    }

    struct GemmBench: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gemm", abstract: "SGEMM throughput in GFLOP/s (median).")
        @Option var m = 512
        @Option var n = 512
        @Option var k = 512
        @Option(help: "Timed repeats.") var repeats = 20
        @Flag(help: "A stored transposed (k×m).") var transA = false
        @Flag(help: "B stored transposed (n×k).") var transB = false
        @Flag(help: "Also run on 1 thread, interleaved with the --threads runs, and print the speed-up.") var scaling = false
        @OptionGroup var common: Common
        func validate() throws {
            guard m > 0, n > 0, k > 0, repeats > 0 else { throw ValidationError("--m, --n, --k and --repeats must be positive") }
        }
        func run() throws {
            let pool = ThreadPool(threads: common.threads)
            if scaling {
                let g = KernelBench.gemmGflops(m: m, n: n, k: k, transA: transA, transB: transB,
                                               pools: [ThreadPool(threads: 1), pool], repeats: repeats)
                Bench.emit([("gflops_1_thread", g[0]), ("gflops", g[1]), ("speedup", g[1] / g[0])], json: common.json)
                return
            }
            let g = KernelBench.gemmGflops(m: m, n: n, k: k, transA: transA, transB: transB, pool: pool, repeats: repeats)
            Bench.emit([("gflops", g)], json: common.json)
        }
    }

    struct ModelBench: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "model", abstract: "Forward-pass latency of a model (median ms).")
        @Argument(help: "Model: .ir, .pb/.onnx or seed:NAME.") var model: String
        @Option(help: "Batch size bound to the symbolic batch dim.") var batch = 64
        @Option(help: "Timed runs.") var repeats = 30
        @Flag(help: "Print the median time of each instruction to stderr.") var profile = false
        @Flag(help: "Skip BatchNorm folding and conv/bias/activation fusion.") var noFuse = false
        @OptionGroup var common: Common
        func run() throws {
            let graph = try GraphSources.load(model)
            let session = try Session(graph: graph, threads: common.threads,
                                      passes: noFuse ? Pipelines.inferenceUnfused : Pipelines.inference)
            let shapes = graph.inputs.map { v in graph.type(of: v)!.shape.map { $0.value ?? batch } }
            let program = try session.program(for: shapes)
            var rng = RandomStream(seed: 7, step: 0, purpose: .sampling)
            for (i, v) in program.inputs.enumerated() {
                if v.dtype == .float32 {
                    try program.setInput(i, Tensor(shape: v.shape, floats: (0..<v.count).map { _ in rng.normal() }))
                } else {
                    try program.setInput(i, Tensor(shape: v.shape, int64s: [Int64](repeating: 0, count: v.count), dtype: v.dtype))
                }
            }
            for _ in 0..<3 { try program.run() }
            var times: [Double] = []
            for _ in 0..<repeats {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try program.run()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            times.sort()
            if profile {
                var per = [[Double]](repeating: [], count: program.instructions.count)
                for _ in 0..<max(5, repeats / 3) {
                    for (i, t) in try program.runProfiled().enumerated() { per[i].append(t) }
                }
                for (ins, ts) in zip(program.instructions, per) {
                    let med = ts.sorted()[ts.count / 2]
                    FileHandle.standardError.write(String(format: "%8.3f ms  %@\n", med, "\(ins.call)").data(using: .utf8)!)
                }
            }
            let ms = times[times.count / 2]
            Bench.emit([("ms_median", ms), ("images_per_s", Double(batch) * 1000 / ms),
                        ("arena_bytes", Double(program.plan.arenaBytes)), ("unshared_bytes", Double(program.plan.unsharedBytes))],
                       json: common.json)
        }
    }
}

extension Bench {
    struct StepBench: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "step",
            abstract: "Median wall time of a spec's D (critic) step and G step, optimizer update included, and of the NaN/Inf guard's check after each.")
        @Argument(help: "Spec (.yaml).") var spec: String
        @Option(help: "Batch size.") var batch = 64
        @Option(help: "Timed steps of each kind.") var repeats = 10
        @Flag(help: "Print each D-step instruction's median time to stderr.") var profile = false
        @Flag(help: "Compile without the training fusion (FuseConvTransposeBatchNorm).") var noFuse = false
        @OptionGroup var common: Common
        func run() throws {
            let s: Spec
            do { s = try Spec.load(path: spec) } catch let e as SpecError { throw CommandError("\(e)") }
            let steps = try GANSteps(spec: s, threads: common.threads)
            if noFuse { steps.passes = TrainStep.pipelineUnfused }
            let real = Tensor(shape: [batch] + steps.imageShape, floats: (0..<(batch * steps.imageShape.reduce(1, *))).map { Float($0 % 255) / 255 })
            let labels = steps.classes.map { k in Tensor(shape: [batch], int64s: (0..<batch).map { Int64($0 % k) }) }
            let d = try steps.dStep(batch: batch), g = try steps.gStep(batch: batch)
            func time(_ body: () throws -> Void) rethrows -> Double {
                var ts: [Double] = []
                for i in 0..<(repeats + 2) {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try body()
                    if i >= 2 { ts.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
                }
                return ts.sorted()[ts.count / 2]
            }
            var it = 0
            let dms = try time { it += 1; _ = try d.run(steps.dInputs(real: real, labels: labels, iteration: it)) }
            let gms = try time { it += 1; _ = try g.run(steps.gInputs(batch: batch, iteration: it)) }
            if profile {
                try d.program.setInputsForProfile(steps.dInputs(real: real, labels: labels, iteration: 0))
                var per = [[Double]](repeating: [], count: d.program.instructions.count)
                for _ in 0..<5 { for (i, t) in try d.program.runProfiled().enumerated() { per[i].append(t) } }
                for (ins, ts) in zip(d.program.instructions, per) {
                    FileHandle.standardError.write(String(format: "%8.3f ms  %@  # %@\n", ts.sorted()[2], "\(ins.call)", ins.label).data(using: .utf8)!)
                }
            }
            // The trainer's per-step NaN/Inf check (NonFiniteGuard), as a share of the steps.
            let check = NonFiniteGuard(steps: steps)
            let dGuard = try time { try check.check(["d_loss": 0], order: ["d_loss"], network: steps.discriminator.name, iteration: 0) }
            let gGuard = try time { try check.check(["g_loss": 0], order: ["g_loss"], network: steps.generator.name, iteration: 0) }
            Bench.emit([("d_step_ms", dms), ("g_step_ms", gms), ("d_guard_ms", dGuard), ("g_guard_ms", gGuard),
                        ("guard_overhead_pct", 100 * (dGuard + gGuard) / (dms + gms))], json: common.json)
        }
    }
}
