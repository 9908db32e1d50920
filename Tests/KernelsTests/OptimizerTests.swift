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
}
