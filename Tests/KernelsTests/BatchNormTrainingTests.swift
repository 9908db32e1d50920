import XCTest
import TestSupport
import Kernels

/// The training BatchNorm kernels (BatchNorm+Training.swift) against their scalar references in
/// double, over odd sizes (spatial 1 to 300, channel counts that span one block and several, one
/// image), every activation with a backward, at 1 and 2 threads (same bits); the backward
/// reference against central differences of the forward reference.
final class BatchNormTrainingTests: XCTestCase {
    static let pool2 = ThreadPool(threads: 2)
    static let acts: [Activation?] = [nil, .relu, .leakyRelu(0.2), .sigmoid, .tanh]
    static let shapes: [(n: Int, c: Int, s: Int)] = [(1, 1, 1), (5, 3, 1), (64, 37, 1), (2, 3, 17), (3, 5, 49), (1, 2, 300),
                                                     (7, 19, 16), (4, 1031, 4), (3, 40, 256), (2, 9, 33)]

    /// NaN-filled scratch for the kernels (they must write before they read).
    static func scratch(_ n: Int, _ c: Int) -> [Float] { [Float](repeating: .nan, count: BatchNormTraining.scratchCount(batch: n, channels: c)) }

    /// Relative error of `got` against `want`, scaled by max(1, |want|) and `scale`.
    func worst(_ got: [Float], _ want: [Float], scale: Float = 1) -> Float {
        zip(got, want).map { abs($0 - $1) / max(scale, abs($1)) }.max() ?? 0
    }

    func testForwardMatchesReference() {
        var rng = SeededRandom(seed: 515)
        for (k, (n, c, s)) in Self.shapes.enumerated() {
            let act = Self.acts[k % Self.acts.count]
            // An offset mean: E[x²] − mean² must not cancel away the variance.
            let x = rng.floats(n * c * s).map { $0 * 3 + 20 }
            let scale = (0..<c).map { _ in rng.float(in: 0.5...1.5) }, bias = rng.floats(c)
            var results: [[[Float]]] = []
            for which in 0..<3 {
                var scratch = Self.scratch(n, c)
                var y = [Float](repeating: .nan, count: n * c * s), mean = [Float](repeating: .nan, count: c), variance = mean
                if which == 2 {
                    BatchNormTraining.forwardReference(x, &y, scale: scale, bias: bias, epsilon: 1e-3, mean: &mean, variance: &variance,
                                                       batch: n, channels: c, spatial: s, activation: act)
                } else {
                    BatchNormTraining.forward(x, &y, scale: scale, bias: bias, epsilon: 1e-3, mean: &mean, variance: &variance,
                                              batch: n, channels: c, spatial: s, activation: act, scratch: &scratch,
                                              pool: which == 1 ? Self.pool2 : .serial)
                }
                results.append([y, mean, variance])
            }
            XCTAssertEqual(results[0], results[1], "\(n)×\(c)×\(s) threads")
            XCTAssertLessThan(worst(results[0][0], results[2][0]), 2e-5, "y \(n)×\(c)×\(s) \(act.map { "\($0)" } ?? "none")")
            XCTAssertLessThan(worst(results[0][1], results[2][1]), 1e-6, "mean \(n)×\(c)×\(s)")
            XCTAssertLessThan(worst(results[0][2], results[2][2]), 1e-5, "var \(n)×\(c)×\(s)")
        }
    }

    /// Runs the backward kernel (`which` 0: serial, 1: two threads, 2: reference).
    func backward(_ which: Int, dy: [Float], x: [Float], mean: [Float], variance: [Float], scale: [Float], bias: [Float],
                  act: Activation?, _ n: Int, _ c: Int, _ s: Int) -> [[Float]] {
        var dx = [Float](repeating: .nan, count: n * c * s), ds = [Float](repeating: .nan, count: c), db = ds
        var scratch = Self.scratch(n, c)
        if which == 2 {
            BatchNormTraining.backwardReference(dy: dy, x: x, mean: mean, variance: variance, scale: scale, bias: bias, epsilon: 1e-3,
                                                activation: act, dx: &dx, dscale: &ds, dbias: &db, batch: n, channels: c, spatial: s)
        } else {
            BatchNormTraining.backward(dy: dy, x: x, mean: mean, variance: variance, scale: scale, bias: bias, epsilon: 1e-3,
                                       activation: act, dx: &dx, dscale: &ds, dbias: &db, batch: n, channels: c, spatial: s,
                                       scratch: &scratch, pool: which == 1 ? Self.pool2 : .serial)
        }
        return [dx, ds, db]
    }

    func testBackwardMatchesReference() {
        var rng = SeededRandom(seed: 616)
        for (k, (n, c, s)) in Self.shapes.enumerated() {
            let act = Self.acts[(k + 2) % Self.acts.count]
            let x = rng.floats(n * c * s).map { $0 * 2 - 5 }
            let scale = (0..<c).map { _ in rng.float(in: 0.5...1.5) }, bias = rng.floats(c)
            var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: c), variance = mean
            var scratch = Self.scratch(n, c)
            BatchNormTraining.forward(x, &y, scale: scale, bias: bias, epsilon: 1e-3, mean: &mean, variance: &variance,
                                      batch: n, channels: c, spatial: s, activation: act, scratch: &scratch)
            let dy = rng.floats(x.count)
            let r = (0..<3).map { backward($0, dy: dy, x: x, mean: mean, variance: variance, scale: scale, bias: bias, act: act, n, c, s) }
            XCTAssertEqual(r[0], r[1], "\(n)×\(c)×\(s) threads")
            // dx is a difference of terms of size |g|; its error is relative to the largest of them.
            let gmax = dy.map(abs).max() ?? 1
            XCTAssertLessThan(worst(r[0][0], r[2][0], scale: gmax), 2e-5, "dx \(n)×\(c)×\(s) \(act.map { "\($0)" } ?? "none")")
            XCTAssertLessThan(worst(r[0][1], r[2][1], scale: Float(n * s).squareRoot()), 2e-5, "dscale \(n)×\(c)×\(s)")
            XCTAssertLessThan(worst(r[0][2], r[2][2], scale: Float(n * s).squareRoot()), 2e-5, "dbias \(n)×\(c)×\(s)")
        }
    }

    /// The backward reference is the derivative of the forward reference: L = Σ R·Y, central
    /// differences in double-checked float (h = 1e-2; inputs kept off the activation kinks by
    /// the tolerance on a few elements).
    func testBackwardReferenceMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 717)
        for (k, (n, c, s)) in [(3, 2, 5), (4, 3, 1), (2, 2, 9)].enumerated() {
            for act in [nil, .tanh, .sigmoid] as [Activation?] {
                let x = rng.floats(n * c * s).map { $0 * 2 }, scale = (0..<c).map { _ in rng.float(in: 0.5...1.5) }, bias = rng.floats(c)
                let r = rng.floats(x.count)
                func loss(_ x: [Float], _ scale: [Float], _ bias: [Float]) -> Double {
                    var y = [Float](repeating: 0, count: x.count), m = [Float](repeating: 0, count: c), v = m
                    BatchNormTraining.forwardReference(x, &y, scale: scale, bias: bias, epsilon: 1e-3, mean: &m, variance: &v,
                                                       batch: n, channels: c, spatial: s, activation: act)
                    return zip(y, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
                }
                var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: c), variance = mean
                BatchNormTraining.forwardReference(x, &y, scale: scale, bias: bias, epsilon: 1e-3, mean: &mean, variance: &variance,
                                                   batch: n, channels: c, spatial: s, activation: act)
                let g = backward(2, dy: r, x: x, mean: mean, variance: variance, scale: scale, bias: bias, act: act, n, c, s)
                let h: Float = 1e-2
                func fd(_ f: (Float) -> Double) -> Float { Float((f(h) - f(-h)) / Double(2 * h)) }
                for i in 0..<x.count {
                    let d = fd { e in var xx = x; xx[i] += e; return loss(xx, scale, bias) }
                    XCTAssertEqual(g[0][i], d, accuracy: 2e-2 * max(1, abs(d)), "dx[\(i)] case \(k) \(act.map { "\($0)" } ?? "none")")
                }
                for j in 0..<c {
                    let ds = fd { e in var ss = scale; ss[j] += e; return loss(x, ss, bias) }
                    let db = fd { e in var bb = bias; bb[j] += e; return loss(x, scale, bb) }
                    XCTAssertEqual(g[1][j], ds, accuracy: 2e-2 * max(1, abs(ds)), "dscale[\(j)] case \(k)")
                    XCTAssertEqual(g[2][j], db, accuracy: 2e-2 * max(1, abs(db)), "dbias[\(j)] case \(k)")
                }
            }
        }
    }
}
