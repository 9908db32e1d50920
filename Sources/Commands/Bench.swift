// Bench: `gannet bench peak|gemm|model|step|loader …`, one JSON object per line with --json.

import Core
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
        static let configuration = CommandConfiguration(commandName: "model", abstract: "Forward-pass latency of a model (median ms) and its compile time (load to end of first run, ms).")
        @Argument(help: "Model: .ir, .pb/.onnx or seed:NAME.") var model: String
        @Option(help: "Batch size bound to the symbolic batch dim.") var batch = 64
        @Option(help: "Timed runs.") var repeats = 30
        @Flag(help: "Print the median time of each instruction to stderr.") var profile = false
        @Flag(help: "Skip BatchNorm folding and conv/bias/activation fusion.") var noFuse = false
        @OptionGroup var common: Common
        func run() throws {
            // compile_ms: from reading the model to the end of the first run (import, passes,
            // lowering, memory planning, binding, one forward pass), as a user's first call sees it.
            let start = DispatchTime.now().uptimeNanoseconds
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
            try program.run()
            let compileMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            // 3 untimed runs: by then a multi-threaded program has tried both of its modes (RunChoice).
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
            var fields = [("ms_median", ms), ("images_per_s", Double(batch) * 1000 / ms), ("compile_ms", compileMs),
                          ("arena_bytes", Double(program.plan.arenaBytes + (program.chunks?.arenaBytes ?? 0))),
                          ("unshared_bytes", Double(program.plan.unsharedBytes)),
                          // The batch each run of the network computes at once (BatchChunks; the batch when whole).
                          ("chunk_batch", Double(program.chunks?.chunkBatch ?? batch))]
            if common.threads > 1 {
                // How the runs shared their loops: the run-level choice (ThreadPool+Choice.swift)
                // and the loop-level governor (ThreadPool.swift), counted from load to here.
                let st = session.pool.stats
                fields += [("serial_runs", Double(program.choice.serialRuns)), ("parallel_runs", Double(program.choice.parallelRuns)),
                           ("parallel_loops", Double(st.parallelLoops)), ("governor_serial_loops", Double(st.serialLoops)),
                           ("saved_ms", Double(st.savedNanoseconds) / 1e6), ("waited_ms", Double(st.waitedNanoseconds) / 1e6)]
            }
            Bench.emit(fields, json: common.json)
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
        @Flag(help: "Print each D-step instruction's median time, FLOPs, GFLOP/s and % of the measured FMA peak, and totals, to stderr.")
        var profile = false
        @Flag(help: "With --profile, profile the G step instead of the D step.") var profileG = false
        @Flag(help: "Compile without the training fusions (FuseConvTransposeBatchNorm, FuseTrainingBatchNorm).") var noFuse = false
        @Flag(help: "Also run the steps on 1 thread, interleaved step by step with the --threads runs, and print the speed-ups.")
        var scaling = false
        @OptionGroup var common: Common

        func validate() throws {
            guard batch > 0, repeats > 0 else { throw ValidationError("--batch and --repeats must be positive") }
        }

        /// One spec's compiled D and G steps on one pool, with inputs ready.
        struct Runner {
            let steps: GANSteps
            let d: TrainStep, g: TrainStep
            let real: Tensor, labels: Tensor?
            var it = 0
            init(spec: Spec, batch: Int, threads: Int, noFuse: Bool) throws {
                steps = try GANSteps(spec: spec, threads: threads)
                if noFuse { steps.passes = TrainStep.pipelineUnfused }
                let shape = steps.imageShape
                real = Tensor(shape: [batch] + shape, floats: (0..<(batch * shape.reduce(1, *))).map { Float($0 % 255) / 255 })
                labels = steps.classes.map { k in Tensor(shape: [batch], int64s: (0..<batch).map { Int64($0 % k) }) }
                d = try steps.dStep(batch: batch)
                g = try steps.gStep(batch: batch)
            }
            /// Milliseconds of one D step (inputs built outside the timed region).
            mutating func dStep() throws -> Double {
                it += 1
                let inputs = steps.dInputs(real: real, labels: labels, iteration: it)
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try d.run(inputs)
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            }
            mutating func gStep() throws -> Double {
                it += 1
                let inputs = steps.gInputs(batch: real.shape[0], iteration: it)
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try g.run(inputs)
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            }
        }

        static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

        func run() throws {
            let s = try Spec.load(path: spec)
            var runners = [try Runner(spec: s, batch: batch, threads: common.threads, noFuse: noFuse)]
            if scaling { runners.append(try Runner(spec: s, batch: batch, threads: 1, noFuse: noFuse)) }
            // Each round runs every runner's D step, then every runner's G step: a slow drift of the
            // machine (other processes, clock changes) affects all runners alike.
            var dms = [[Double]](repeating: [], count: runners.count), gms = dms
            // 4 untimed rounds: by then a multi-threaded program has tried both of its modes (RunChoice).
            for round in 0..<(repeats + 4) {
                for i in runners.indices { let t = try runners[i].dStep(); if round >= 4 { dms[i].append(t) } }
                for i in runners.indices { let t = try runners[i].gStep(); if round >= 4 { gms[i].append(t) } }
            }
            var fields = [("d_step_ms", Self.median(dms[0])), ("g_step_ms", Self.median(gms[0]))]
            if scaling {
                let d1 = Self.median(dms[1]), g1 = Self.median(gms[1])
                let st = runners[0].steps.pool.stats
                fields += [("d_step_ms_1_thread", d1), ("g_step_ms_1_thread", g1),
                           ("d_speedup", d1 / fields[0].1), ("g_speedup", g1 / fields[1].1),
                           ("parallel_loops", Double(st.parallelLoops)), ("serial_loops", Double(st.serialLoops)),
                           ("saved_ms", Double(st.savedNanoseconds) / 1e6), ("waited_ms", Double(st.waitedNanoseconds) / 1e6),
                           ("d_serial_runs", Double(runners[0].d.program.choice.serialRuns)),
                           ("g_serial_runs", Double(runners[0].g.program.choice.serialRuns))]
            }
            // The trainer's per-step NaN/Inf check (NonFiniteGuard), as a share of the steps.
            let steps = runners[0].steps
            let check = NonFiniteGuard(steps: steps)
            func time(_ body: () throws -> Void) rethrows -> Double {
                var ts: [Double] = []
                for i in 0..<(repeats + 2) {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try body()
                    if i >= 2 { ts.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
                }
                return Self.median(ts)
            }
            let dGuard = try time { try check.check(["d_loss": 0], order: ["d_loss"], network: steps.discriminator.name, iteration: 0) }
            let gGuard = try time { try check.check(["g_loss": 0], order: ["g_loss"], network: steps.generator.name, iteration: 0) }
            fields += [("d_guard_ms", dGuard), ("g_guard_ms", gGuard),
                       ("guard_overhead_pct", 100 * (dGuard + gGuard) / (fields[0].1 + fields[1].1))]
            if profile { fields += try printProfile(runners[0], generator: profileG) }
            Bench.emit(fields, json: common.json)
        }

        /// Prints each D-step (or G-step) instruction's median time (5 profiled runs), FLOPs, GFLOP/s
        /// and % of the measured FMA peak of the pool's threads, then totals per kernel family and
        /// for the step, to stderr. Returns the summary fields for the JSON line.
        func printProfile(_ r: Runner, generator: Bool) throws -> [(String, Double)] {
            let d = generator ? r.g : r.d
            let pool = r.steps.pool
            let peak = KernelBench.peakGflops(threads: pool.threads, pool: pool)
            try d.program.setInputsForProfile(generator ? r.steps.gInputs(batch: r.real.shape[0], iteration: 0)
                                                        : r.steps.dInputs(real: r.real, labels: r.labels, iteration: 0))
            var per = [[Double]](repeating: [], count: d.program.instructions.count)
            for _ in 0..<5 { for (i, t) in try d.program.runProfiled().enumerated() { per[i].append(t) } }
            func log(_ line: String) { FileHandle.standardError.write((line + "\n").data(using: .utf8)!) }
            func pct(_ flops: Double, _ ms: Double) -> String {
                flops > 0 && ms > 0 ? String(format: "%6.1f%%", flops / (ms * 1e6) / peak * 100) : "      -"
            }
            func rate(_ flops: Double, _ ms: Double) -> String {
                flops > 0 && ms > 0 ? String(format: "%8.1f", flops / (ms * 1e6)) : "       -"
            }
            log(String(format: "%@ step profile, %d thread(s), measured FMA peak %.1f GFLOP/s", generator ? "G" : "D", pool.threads, peak))
            log("      ms    GFLOP  GFLOP/s   %peak  instruction  # node")
            var families: [String: (ms: Double, flops: Double, count: Int)] = [:]
            var totalMs = 0.0, totalFlops = 0.0
            for (ins, ts) in zip(d.program.instructions, per) {
                let ms = ts.sorted()[2], flops = ins.call.flops
                totalMs += ms; totalFlops += flops
                families[ins.call.family, default: (0, 0, 0)].ms += ms
                families[ins.call.family, default: (0, 0, 0)].flops += flops
                families[ins.call.family, default: (0, 0, 0)].count += 1
                log(String(format: "%8.3f %8.3f %@ %@  %@  # %@", ms, flops / 1e9, rate(flops, ms), pct(flops, ms), "\(ins.call)", ins.label))
            }
            log("\nper kernel family, by time:")
            log("      ms  share    GFLOP  GFLOP/s   %peak  calls  family")
            for (name, f) in families.sorted(by: { $0.value.ms > $1.value.ms }) {
                log(String(format: "%8.2f %5.1f%% %8.3f %@ %@  %5d  %@", f.ms, f.ms / totalMs * 100, f.flops / 1e9,
                           rate(f.flops, f.ms), pct(f.flops, f.ms), f.count, name))
            }
            let dense = families.filter { $0.value.flops > 0 }.values
            let denseMs = dense.map(\.ms).reduce(0, +), denseFlops = dense.map(\.flops).reduce(0, +)
            log(String(format: "\nGEMM/conv kernels: %.2f ms (%.1f%% of the step), %.1f GFLOP/s, %.1f%% of peak",
                       denseMs, denseMs / totalMs * 100, denseFlops / (denseMs * 1e6), denseFlops / (denseMs * 1e6) / peak * 100))
            log(String(format: "whole step: %.2f ms (sum of instructions), %.3f GFLOP, %.1f GFLOP/s, %.1f%% of peak",
                       totalMs, totalFlops / 1e9, totalFlops / (totalMs * 1e6), totalFlops / (totalMs * 1e6) / peak * 100))
            return [("peak_gflops", peak), ("profile_step_ms", totalMs), ("step_gflop", totalFlops / 1e9),
                    ("step_pct_of_peak", totalFlops / (totalMs * 1e6) / peak * 100),
                    ("dense_pct_of_peak", denseFlops / (denseMs * 1e6) / peak * 100), ("dense_share_of_step", denseMs / totalMs)]
        }
    }
}
