// Interpolation: latent walks for gan-interpolate — lerp and slerp.
//
// Contract: `Interpolation.slerp` follows user-expectations §2: endpoints exact for t ≤ 0 /
// t ≥ 1, dot of the normalised vectors clamped to [−1, 1], lerp when sin Ω ≈ 0 (incl. a ≈ b).
// The latents themselves come from Core's `Latents` (Latents.swift there).

import Core
import Foundation

public enum InterpolationMode: String, CaseIterable {
    case slerp, lerp
}

public enum Interpolation {
    /// (1 − t)·a + t·b.
    public static func lerp(_ t: Double, _ a: [Float], _ b: [Float]) -> [Float] {
        if t <= 0 { return a }
        if t >= 1 { return b }
        return zip(a, b).map { Float((1 - t) * Double($0) + t * Double($1)) }
    }

    /// Spherical interpolation: sin((1−t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, Ω = arccos(â·b̂).
    public static func slerp(_ t: Double, _ a: [Float], _ b: [Float]) -> [Float] {
        if t <= 0 { return a }
        if t >= 1 { return b }
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        guard na > 0, nb > 0 else { return lerp(t, a, b) }
        let c = min(1, max(-1, dot / (na.squareRoot() * nb.squareRoot())))
        let omega = acos(c)
        let s = sin(omega)
        if abs(s) < 1e-6 { return lerp(t, a, b) }
        let wa = sin((1 - t) * omega) / s, wb = sin(t * omega) / s
        return zip(a, b).map { Float(wa * Double($0) + wb * Double($1)) }
    }

    public static func interpolate(_ mode: InterpolationMode, _ t: Double, _ a: [Float], _ b: [Float]) -> [Float] {
        mode == .slerp ? slerp(t, a, b) : lerp(t, a, b)
    }
}
