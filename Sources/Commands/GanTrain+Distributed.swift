// GanTrain+Distributed: `mpirun -np K gan-train SPEC …` — data-parallel training over K ranks
// (GAN/DataParallel.swift holds the semantics; this file holds the command's side).
//
// Contract: `run()` starts the job's communicator (MPI only when launched by mpirun; a run
// without mpirun is the single-process run, unchanged) and trains. Rank 0 does everything a
// single-process run does (run directory, metrics, TensorBoard, frames, checkpoints, exports);
// every other rank trains the same model in lockstep (`followRank0`) and writes nothing (no
// directory at all, so a job aborted by any rank leaves no files behind). All ranks stop after the same
// iteration: on a signal to any rank (agreed with the iteration's scalars), rank 0 writes the
// checkpoint and the others wait for it (a barrier), then every rank exits 130. An error on any
// rank of a job of several prints that rank's message and aborts the whole job (MPI_Abort), so
// no rank waits forever in a collective. `--on-nonfinite rollback` needs a single rank.

import ArgumentParser
import Distributed
import Foundation
import GAN

extension GanTrain {
    public func run() throws {
        let world: Communicator
        do { world = try Communicators.world() } catch { throw CommandError("cannot start MPI: \(error)") }
        let parallel = Communicators.launchedByMPI ? DataParallel(communicator: world) : nil
        guard let parallel else { return try runTraining(nil) }
        do {
            if parallel.size > 1 && onNonfinite == .rollback {
                throw CommandError("--on-nonfinite rollback is not supported with \(parallel.size) ranks (use stop, the default)")
            }
            try runTraining(parallel)
            world.finalize()
        } catch {
            let code = Self.exitCode(for: error)
            if code == ExitCode(130) { world.finalize(); throw error }  // every rank stopped together
            if parallel.size == 1 { world.finalize(); throw error }
            let message = Self.fullMessage(for: error)
            FileHandle.standardError.write("error (rank \(parallel.rank) of \(parallel.size)): \(message)\n".data(using: .utf8)!)
            world.abort(code: code.rawValue == 0 ? 1 : code.rawValue)
        }
    }

    /// With --timing: this rank's time per phase of the loop (Trainer+Timing) since `started`;
    /// `other` is the rest (rank 0: writing frames, metrics, events; waiting).
    func reportTiming(_ trainer: Trainer, started: Date) {
        guard timing else { return }
        let total = Date().timeIntervalSince(started)
        let inPhases = trainer.phases.seconds.values.reduce(0, +)
        let who = trainer.parallel.map { "rank \($0.rank) of \($0.size)" } ?? "single process"
        var lines = "timing (\(who), \(trainer.counters.iteration) iterations, \(String(format: "%.3f", total)) s):\n" + trainer.phases.table()
        lines += "\n  " + PhaseTimes.pad("other") + String(format: " %8.3f s (outside the loop's phases: rank 0 writes logs, frames, checkpoints; waits)", total - inPhases)
        if let p = trainer.parallel, p.size > 1 {
            lines += String(format: "\n  (gradient collectives inside the steps: %.3f s)", p.collectiveSeconds)
        }
        FileHandle.standardError.write((lines + "\n").data(using: .utf8)!)
    }

    /// A rank other than 0: trains in lockstep with rank 0 and writes nothing.
    func followRank0(_ trainer: Trainer, _ parallel: DataParallel) throws {
        let started = Date()
        while let r = try trainer.iterate() {
            if checkReplicas { try parallel.checkReplicas(trainer.steps.store, iteration: r.counters.iteration) }
            if r.stopRequested {
                try parallel.communicator.barrier()  // rank 0 has written the checkpoint
                throw ExitCode(130)
            }
        }
        try finishRanks(trainer, started: started)
    }

    /// The end of a data-parallel run, on every rank: wait for rank 0's final checkpoint; rank 0
    /// reports the share of the run the gradient collectives took.
    func finishRanks(_ trainer: Trainer, started: Date) throws {
        guard let p = trainer.parallel, p.size > 1 else { return reportTiming(trainer, started: started) }
        // One rank's table at a time, rank order (barriers between), so the lines do not mix.
        for r in 0..<p.size {
            if r == p.rank { reportTiming(trainer, started: started) }
            if timing { try p.communicator.barrier() }
        }
        try p.communicator.barrier()
        if p.rank == 0 && !quiet {
            let floats = p.fusionFloats.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) floats" }.joined(separator: ", ")
            let total = Date().timeIntervalSince(started)
            let how = p.anyStepSharded ? "reduce-scatter + allgather, optimizer sharded" : "one allreduce"
            FileHandle.standardError.write(String(format: "data-parallel over %d ranks: gradient collectives %.2f s of %.2f s (%.1f%%; %@; flat gradient buffers: %@)\n",
                                                  p.size, p.collectiveSeconds, total, 100 * p.collectiveSeconds / max(total, 1e-9), how, floats).data(using: .utf8)!)
        }
    }
}
