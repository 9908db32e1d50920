// GanTrain+Health: the glue between gan-train's loop and the pure HealthMonitor.
//
// Contract: `observe(report)` turns an iteration's report into a HealthObservation (frames are
// mapped from the spec's range to [0, 1] and compared with the previous frame), feeds the
// monitor, and returns the warnings that start now, each with the check's report for logging.
// No I/O here: GanTrain prints the warnings to stderr and logs them as TensorBoard text
// (`health/<kind>`) and the report's scalars (`health/…`).

import GAN
import GraphIR
import SpecFormat

final class HealthHook {
    var monitor: HealthMonitor
    let range: (low: Double, high: Double)
    private var previousFrame: [Float]? = nil

    init?(spec: Spec) {
        guard spec.health.enabled else { return nil }
        monitor = HealthMonitor(settings: spec.health, loss: spec.loss.kind)
        range = spec.dataset.range
    }

    /// Feeds one iteration; returns the new warnings and, at a check, its report.
    func observe(_ r: IterationReport) -> (warnings: [HealthWarning], report: HealthReport?) {
        var stats: FrameStatistics? = nil
        if let frame = r.frame {
            let scale = Float(range.high - range.low), low = Float(range.low)
            let unit = frame.floats.map { min(max(($0 - low) / scale, 0), 1) }
            stats = FrameStatistics.of(unit, count: frame.shape[0], previous: previousFrame)
            previousFrame = unit
        }
        let d = r.dOutputs, g = r.gOutputs
        let o = HealthObservation(iteration: r.counters.iteration, dLoss: d["d_loss"], dReal: d["d_real"], dFake: d["d_fake"],
                                  dGradNorm: d["d_grad_norm"], gLoss: g?["g_loss"], gGradNorm: g?["g_grad_norm"], frame: stats)
        let warnings = monitor.observe(o)
        let atCheck = r.counters.iteration % monitor.settings.every == 0
        return (warnings, atCheck ? monitor.lastReport : nil)
    }
}
