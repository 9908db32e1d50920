import XCTest
import TestSupport
import Kernels

final class OptimizerTests: XCTestCase {
    func data(_ n: Int, _ seed: UInt64) -> [Float] { randomFloats(n, seed: seed) }

    func testAdamFirstStepMovesByLearningRate() {
        // Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g|+eps) ≈ lr·sign(g).
        var p: [Float] = [1, -2], g: [Float] = [0.5, -3], m: [Float] = [0, 0], v: [Float] = [0, 0]
        Optimizers.adam(AdamConfig(lr: 0.1), step: 1, param: &p, grad: g, m: &m, v: &v, count: 2, pool: .serial)
        XCTAssertEqual(p[0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(p[1], -1.9, accuracy: 1e-6)
        XCTAssertEqual(m[0], 0.05, accuracy: 1e-7)
        XCTAssertEqual(m[1], -0.3, accuracy: 1e-7)
    }

    func testAdamSIMDMatchesReferenceOverSteps() {
        for n in [1, 15, 16, 17, 4099, 9000] {
            for threads in [1, 2] {
                let pool = ThreadPool(threads: threads)
                let c = AdamConfig(lr: 3e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8, weightDecay: n % 2 == 0 ? 0.01 : 0)
                var p1 = data(n, 1), m1 = [Float](repeating: 0, count: n), v1 = m1
                var p2 = p1, m2 = m1, v2 = v1
                for step in 1...5 {
                    let g = data(n, UInt64(10 + step))
                    Optimizers.adam(c, step: step, param: &p1, grad: g, m: &m1, v: &v1, count: n, pool: pool)
                    Optimizers.adamReference(c, step: step, param: &p2, grad: g, m: &m2, v: &v2, count: n)
                }
                for i in 0..<n {
                    XCTAssertEqual(p1[i], p2[i], accuracy: 1e-6 * max(1, abs(p2[i])), "n=\(n) i=\(i)")
                }
            }
        }
    }

    func testSGDMomentumMatchesPyTorchRecurrence() {
        // torch.optim.SGD(momentum=0.9): buf₁ = g₁; bufₜ = 0.9·bufₜ₋₁ + gₜ; p -= lr·buf.
        var p: [Float] = [1], b: [Float] = [0]
        let c = SGDConfig(lr: 0.1, momentum: 0.9)
        Optimizers.sgd(c, step: 1, param: &p, grad: [1], buffer: &b, count: 1, pool: .serial)
        XCTAssertEqual(p[0], 0.9, accuracy: 1e-7)
        Optimizers.sgd(c, step: 2, param: &p, grad: [1], buffer: &b, count: 1, pool: .serial)
        XCTAssertEqual(b[0], 1.9, accuracy: 1e-6)
        XCTAssertEqual(p[0], 0.71, accuracy: 1e-6)
    }

    func testRMSpropFirstStep() {
        // s = (1−α)·g², p -= lr·g/(√s + eps).
        var p: [Float] = [0], s: [Float] = [0]
        Optimizers.rmsprop(RMSpropConfig(lr: 0.01, alpha: 0.99, eps: 1e-8), param: &p, grad: [2], square: &s, count: 1, pool: .serial)
        XCTAssertEqual(s[0], 0.04, accuracy: 1e-7)
        XCTAssertEqual(p[0], -0.01 * 2 / 0.2, accuracy: 1e-6)
    }

    /// The fused update's premise (Runtime's Program+FusedUpdate): one kernel call over buffers
    /// laid back to back at 16-float slots, zero padding between them, equals one call per
    /// buffer and the scalar reference bit for bit, for odd sizes and any thread count, and
    /// leaves the padding zero — for every rule (Adam with and without weight decay, SGD with
    /// momentum and Nesterov, RMSprop).
    func testFlatUpdateOverSlotsEqualsPerBufferUpdates() {
        let sizes = [1, 15, 17, 33, 4099, 5]
        let slots = sizes.map { ($0 + 15) / 16 * 16 }
        let offsets = slots.indices.map { slots[..<$0].reduce(0, +) }
        let span = offsets.last! + sizes.last!
        /// Random values in the segments, zeros in the padding.
        func flat(_ seed: UInt64, zero: Bool = false) -> [Float] {
            var a = [Float](repeating: 0, count: span)
            if zero { return a }
            for (o, n) in zip(offsets, sizes) { a.replaceSubrange(o..<(o + n), with: data(n, seed &+ UInt64(o))) }
            return a
        }
        /// Runs `body` on each segment's slices of `arrays` (copied out and back).
        func segments(_ arrays: inout [[Float]], _ body: (Int, Int, inout [[Float]]) -> Void) {
            for (o, n) in zip(offsets, sizes) {
                var parts = arrays.map { Array($0[o..<(o + n)]) }
                body(o, n, &parts)
                for k in arrays.indices { arrays[k].replaceSubrange(o..<(o + n), with: parts[k]) }
            }
        }
        let padding = Set(0..<span).subtracting(zip(offsets, sizes).flatMap { $0..<($0 + $1) })
        func assertSame(_ a: [Float], _ b: [Float], _ what: String) {
            XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), what)
            XCTAssertTrue(padding.allSatisfy { a[$0] == 0 }, "\(what): padding written")
        }
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threads: threads)
            for wd: Float in [0, 0.01] {
                let c = AdamConfig(lr: 3e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8, weightDecay: wd)
                var pf = flat(1), mf = flat(2, zero: true), vf = mf
                var s = [pf, mf, vf, pf, mf, vf]  // per buffer (p, m, v), reference (p, m, v)
                for step in 1...4 {
                    let g = flat(UInt64(10 + step))
                    Optimizers.adam(c, step: step, param: &pf, grad: g, m: &mf, v: &vf, count: span, pool: pool)
                    segments(&s) { o, n, q in
                        let gs = Array(g[o..<(o + n)])
                        var (p1, m1, v1, p2, m2, v2) = (q[0], q[1], q[2], q[3], q[4], q[5])
                        Optimizers.adam(c, step: step, param: &p1, grad: gs, m: &m1, v: &v1, count: n, pool: pool)
                        Optimizers.adamReference(c, step: step, param: &p2, grad: gs, m: &m2, v: &v2, count: n)
                        q = [p1, m1, v1, p2, m2, v2]
                    }
                }
                for (a, b, what) in [(pf, s[0], "adam p"), (mf, s[1], "adam m"), (vf, s[2], "adam v"), (pf, s[3], "adam p vs reference"), (vf, s[5], "adam v vs reference")] {
                    assertSame(a, b, "\(what), \(threads) threads, wd \(wd)")
                }
            }
            for nesterov in [false, true] {
                let c = SGDConfig(lr: 0.05, momentum: 0.9, weightDecay: 0.001, nesterov: nesterov)
                var pf = flat(3), bf = flat(4, zero: true)
                var s = [pf, bf, pf, bf]
                for step in 1...3 {
                    let g = flat(UInt64(20 + step))
                    Optimizers.sgd(c, step: step, param: &pf, grad: g, buffer: &bf, count: span, pool: pool)
                    segments(&s) { o, n, q in
                        let gs = Array(g[o..<(o + n)])
                        var (p1, b1, p2, b2) = (q[0], q[1], q[2], q[3])
                        Optimizers.sgd(c, step: step, param: &p1, grad: gs, buffer: &b1, count: n, pool: pool)
                        Optimizers.sgdReference(c, step: step, param: &p2, grad: gs, buffer: &b2, count: n)
                        q = [p1, b1, p2, b2]
                    }
                }
                assertSame(pf, s[0], "sgd p, nesterov \(nesterov)"); assertSame(bf, s[1], "sgd buffer"); assertSame(pf, s[2], "sgd p vs reference")
            }
            let c = RMSpropConfig(lr: 0.01, alpha: 0.9, eps: 1e-8, weightDecay: 0.01)
            var pf = flat(5), sf = flat(6, zero: true)
            var s = [pf, sf, pf, sf]
            for step in 1...3 {
                let g = flat(UInt64(30 + step))
                Optimizers.rmsprop(c, param: &pf, grad: g, square: &sf, count: span, pool: pool)
                segments(&s) { o, n, q in
                    let gs = Array(g[o..<(o + n)])
                    var (p1, s1, p2, s2) = (q[0], q[1], q[2], q[3])
                    Optimizers.rmsprop(c, param: &p1, grad: gs, square: &s1, count: n, pool: pool)
                    Optimizers.rmspropReference(c, param: &p2, grad: gs, square: &s2, count: n)
                    q = [p1, s1, p2, s2]
                }
            }
            assertSame(pf, s[0], "rmsprop p"); assertSame(sf, s[1], "rmsprop square"); assertSame(pf, s[2], "rmsprop p vs reference")
        }
    }
}
