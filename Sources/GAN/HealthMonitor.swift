// HealthMonitor: gan-train's live training-health monitor, a pure state machine fed by the loop.
//
// Contract: the loop calls `observe` once per D iteration with that iteration's scalars (D loss,
// mean D(real)/D(fake) scores, gradient norms, the G loss when G stepped) and, when a
// fixed-latent frame was sampled, its `FrameStatistics`. Every `every` iterations (the
// iteration number after the step, counted from 1, a multiple of `every`) it checks the window
// since the previous check and returns the warnings whose condition has just become true: one
// warning per episode (a condition must be false at a check before it can warn again). It does
// no I/O; the caller prints and logs. Conditions (thresholds: HealthSpec, Specs/README.md):
// - mode collapse: the latest frame's diversity per pixel < collapseDiversity (after warmup);
// - dominating D: window mean D(real) − D(fake) > the gap, while the window median of G's
//   gradient norm < vanishingRatio × the running median of all G gradient norms before it;
// - oscillation: the frames' mean change per pixel over the window ≥ oscillationChange and ≥
//   oscillationRatio × the mean change of the window oscillationLookback iterations earlier;
// - divergence: a non-finite loss or score in the window, or a window maximum of |loss|,
//   |score| or a gradient norm > divergenceFactor × its running median (and > 1).
// Running medians are over the last `historyLimit` (5,000) values before the window.
// Diversity and change are the numbers of Tools/reference/trajectory.py (mean pairwise L2
// distance of the samples, and a sample's mean L2 distance from itself in the previous frame,
// pixels in [0, 1]); the thresholds use them divided by √(pixels per sample), so they do not
// depend on the image size.

import Foundation
import SpecFormat

/// Diversity and change of one fixed-latent frame.
public struct FrameStatistics: Equatable, Sendable {
    /// Mean pairwise L2 distance between the frame's samples (pixels in [0, 1]).
    public var diversity: Double
    /// Mean L2 distance of each sample from itself in the previous frame; nil for the first frame.
    public var change: Double?
    /// Pixels per sample (C·H·W).
    public var pixels: Int

    public init(diversity: Double, change: Double?, pixels: Int) {
        self.diversity = diversity
        self.change = change
        self.pixels = pixels
    }

    /// Statistics of `count` samples of `pixels` values each (already mapped to [0, 1]),
    /// against the previous frame's samples when given (same layout).
    public static func of(_ samples: [Float], count: Int, previous: [Float]?) -> FrameStatistics {
        precondition(count > 0 && samples.count % count == 0)
        let d = samples.count / count
        var total = 0.0
        samples.withUnsafeBufferPointer { s in
            for i in 0..<count {
                for j in (i + 1)..<max(i + 1, count) {
                    var acc: Float = 0
                    for p in 0..<d { let t = s[i * d + p] - s[j * d + p]; acc += t * t }
                    total += Double(acc).squareRoot()
                }
            }
        }
        let diversity = count > 1 ? 2 * total / Double(count * (count - 1)) : 0
        var change: Double? = nil
        if let previous, previous.count == samples.count {
            var sum = 0.0
            for i in 0..<count {
                var acc: Float = 0
                for p in 0..<d { let t = samples[i * d + p] - previous[i * d + p]; acc += t * t }
                sum += Double(acc).squareRoot()
            }
            change = sum / Double(count)
        }
        return FrameStatistics(diversity: diversity, change: change, pixels: d)
    }
}

/// What the loop saw in one D iteration.
public struct HealthObservation: Sendable {
    /// The iteration count after this step (1 for the first).
    public var iteration: Int
    public var dLoss: Float?
    /// Mean D (critic) score on the real and on the fake batch.
    public var dReal: Float?
    public var dFake: Float?
    public var dGradNorm: Float?
    /// Present when G stepped in this iteration.
    public var gLoss: Float?
    public var gGradNorm: Float?
    public var frame: FrameStatistics?

    public init(iteration: Int, dLoss: Float? = nil, dReal: Float? = nil, dFake: Float? = nil, dGradNorm: Float? = nil,
                gLoss: Float? = nil, gGradNorm: Float? = nil, frame: FrameStatistics? = nil) {
        (self.iteration, self.dLoss, self.dReal, self.dFake, self.dGradNorm) = (iteration, dLoss, dReal, dFake, dGradNorm)
        (self.gLoss, self.gGradNorm, self.frame) = (gLoss, gGradNorm, frame)
    }
}

/// A warning: its kind, the check's iteration, and the evidence in words.
public struct HealthWarning: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case modeCollapse = "mode_collapse"
        case dominatingDiscriminator = "dominating_discriminator"
        case oscillation
        case divergence
    }
    public var kind: Kind
    public var iteration: Int
    public var evidence: String
    public var description: String { "iteration \(iteration): \(kind.rawValue.replacingOccurrences(of: "_", with: " ")): \(evidence)" }
}

/// The quantities of the latest check (for logging), nil where the window had none.
public struct HealthReport: Equatable, Sendable {
    public var iteration: Int
    /// Raw (trajectory.py) diversity and change, and per pixel.
    public var diversity: Double?
    public var change: Double?
    public var diversityPerPixel: Double?
    public var changePerPixel: Double?
    public var scoreGap: Double?
    /// Window median of G's gradient norm / running median before the window.
    public var gradientRatio: Double?

    /// The report as named scalars (TensorBoard tags `health/<name>`).
    public var scalars: [String: Float] {
        var r: [String: Float] = [:]
        for (k, v) in [("diversity", diversity), ("frame_change", change), ("score_gap", scoreGap), ("g_grad_ratio", gradientRatio)] {
            if let v { r[k] = Float(v) }
        }
        return r
    }
}

public struct HealthMonitor {
    public let settings: HealthSpec
    /// The score gap in force (the spec's, else the loss's default; nil: no dominating-D check).
    public let dominatingGap: Double?
    public private(set) var lastReport: HealthReport?
    private var window: [HealthObservation] = []
    private var active: Set<HealthWarning.Kind> = []
    private var latestFrame: FrameStatistics?
    /// Values kept for each running median.
    public static let historyLimit = 5000
    /// The G gradient norms seen before the current window (for the running median).
    private var gradientHistory: [Double] = []
    /// Running histories of |loss|, |score| and gradient norms by name.
    private var magnitudeHistory: [String: [Double]] = [:]
    /// (check iteration, mean change per pixel) of every check that saw changes.
    private var changeHistory: [(iteration: Int, change: Double)] = []

    public init(settings: HealthSpec, loss: LossKind) {
        self.settings = settings
        dominatingGap = settings.dominatingGap ?? HealthSpec.defaultDominatingGap(loss: loss)
    }

    /// Feeds one iteration; returns the warnings that start at this check.
    public mutating func observe(_ o: HealthObservation) -> [HealthWarning] {
        window.append(o)
        if let f = o.frame { latestFrame = f }
        guard o.iteration % settings.every == 0 else { return [] }
        defer { endWindow() }
        return check(at: o.iteration)
    }

    static func median(_ v: [Double]) -> Double? {
        guard !v.isEmpty else { return nil }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func fmt(_ v: Double) -> String { String(format: "%.3g", v) }

    mutating func check(at it: Int) -> [HealthWarning] {
        var report = HealthReport(iteration: it)
        var firing: [HealthWarning.Kind: String] = [:]
        let pastWarmup = it >= settings.warmup

        // Mode collapse: the latest frame.
        if let f = latestFrame {
            let perPixel = f.diversity / Double(f.pixels).squareRoot()
            report.diversity = f.diversity
            report.diversityPerPixel = perPixel
            if pastWarmup && perPixel < settings.collapseDiversity {
                firing[.modeCollapse] = "frame diversity \(Self.fmt(f.diversity)) (\(Self.fmt(perPixel)) per pixel) < \(Self.fmt(settings.collapseDiversity)) per pixel: the fixed latents give nearly the same image"
            }
        }

        // Oscillation: mean change over the window's frames vs the window `lookback` earlier.
        let changes = window.compactMap { o in o.frame.flatMap { f in f.change.map { $0 / Double(f.pixels).squareRoot() } } }
        let rawChanges = window.compactMap { $0.frame?.change }
        if !changes.isEmpty {
            let c = changes.reduce(0, +) / Double(changes.count)
            report.change = rawChanges.reduce(0, +) / Double(rawChanges.count)
            report.changePerPixel = c
            if pastWarmup, c >= settings.oscillationChange,
               let earlier = changeHistory.last(where: { $0.iteration <= it - settings.oscillationLookback }),
               c >= settings.oscillationRatio * earlier.change {
                firing[.oscillation] = "frame-to-frame change \(Self.fmt(c)) per pixel ≥ \(Self.fmt(settings.oscillationChange)) and not below \(Self.fmt(settings.oscillationRatio))× its \(Self.fmt(earlier.change)) at iteration \(earlier.iteration): the samples keep moving instead of settling"
            }
            changeHistory.append((it, c))
        }

        // Dominating D with vanishing G gradients.
        let reals = window.compactMap(\.dReal).map(Double.init), fakes = window.compactMap(\.dFake).map(Double.init)
        let gNorms = window.compactMap(\.gGradNorm).map(Double.init).filter(\.isFinite)
        if !reals.isEmpty && reals.count == fakes.count {
            let gap = (reals.reduce(0, +) - fakes.reduce(0, +)) / Double(reals.count)
            report.scoreGap = gap
            let ratio = Self.median(gNorms).flatMap { w in Self.median(gradientHistory).map { $0 > 0 ? w / $0 : .infinity } }
            report.gradientRatio = ratio
            if pastWarmup, let limit = dominatingGap, gap.isFinite, gap > limit, let ratio, ratio < settings.vanishingRatio {
                firing[.dominatingDiscriminator] = "D(real) − D(fake) = \(Self.fmt(gap)) > \(Self.fmt(limit)) while G's gradient norm is \(Self.fmt(ratio))× its running median (< \(Self.fmt(settings.vanishingRatio))): D wins and G learns little"
            }
        }

        // Divergence: non-finite values, or explosions against running medians.
        let series: [(String, [Float?])] = [("D loss", window.map(\.dLoss)), ("G loss", window.map(\.gLoss)),
                                            ("mean D(real)", window.map(\.dReal)), ("mean D(fake)", window.map(\.dFake)),
                                            ("D gradient norm", window.map(\.dGradNorm)), ("G gradient norm", window.map(\.gGradNorm))]
        var divergence: [String] = []
        for (name, values) in series {
            let v = values.compactMap { $0 }.map(Double.init)
            guard !v.isEmpty else { continue }
            if let bad = v.first(where: { !$0.isFinite }) {
                divergence.append("\(name) is \(bad)")
                continue
            }
            let peak = v.map(abs).max()!
            if let m = Self.median(magnitudeHistory[name] ?? []), peak > 1, peak > settings.divergenceFactor * m {
                divergence.append("|\(name)| reached \(Self.fmt(peak)), \(Self.fmt(peak / max(m, 1e-30)))× its running median \(Self.fmt(m))")
            }
            Self.append(v.map(abs), to: &magnitudeHistory[name, default: []])
        }
        if !divergence.isEmpty { firing[.divergence] = divergence.joined(separator: "; ") }

        Self.append(gNorms, to: &gradientHistory)
        lastReport = report
        var warnings: [HealthWarning] = []
        for kind in HealthWarning.Kind.allCases {
            if let evidence = firing[kind] {
                if !active.contains(kind) { warnings.append(HealthWarning(kind: kind, iteration: it, evidence: evidence)) }
                active.insert(kind)
            } else {
                active.remove(kind)
            }
        }
        return warnings
    }

    /// Appends, keeping the last `historyLimit` values.
    static func append(_ values: [Double], to history: inout [Double]) {
        history.append(contentsOf: values)
        if history.count > historyLimit { history.removeFirst(history.count - historyLimit) }
    }

    mutating func endWindow() {
        window.removeAll(keepingCapacity: true)
    }
}
