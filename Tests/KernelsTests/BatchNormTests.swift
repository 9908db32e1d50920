import XCTest
import TestSupport
import Kernels

final class BatchNormTests: XCTestCase {
    struct Params { var scale, bias, mean, variance: [Float] }

    func bn(_ x: [Float], _ p: Params, _ n: Int, _ c: Int, _ s: Int, _ act: Activation?, pool: ThreadPool?, inPlace: Bool = false) -> [Float] {
        var y = inPlace ? x : [Float](repeating: .nan, count: x.count)
        p.scale.withUnsafeBufferPointer { sc in p.bias.withUnsafeBufferPointer { bi in p.mean.withUnsafeBufferPointer { me in
            p.variance.withUnsafeBufferPointer { va in
                let (sc, bi, me, va) = (sc.baseAddress!, bi.baseAddress!, me.baseAddress!, va.baseAddress!)
                if inPlace {
                    y.withUnsafeMutableBufferPointer {
                        BatchNormInference.run(UnsafePointer($0.baseAddress!), $0.baseAddress!, scale: sc, bias: bi, mean: me, variance: va,
                                               epsilon: 1e-5, batch: n, channels: c, spatial: s, activation: act, pool: pool!) }
                    return
                }
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                    if let pool {
                        BatchNormInference.run(xp.baseAddress!, $0.baseAddress!, scale: sc, bias: bi, mean: me, variance: va,
                                               epsilon: 1e-5, batch: n, channels: c, spatial: s, activation: act, pool: pool)
                    } else {
                        BatchNormInference.reference(xp.baseAddress!, $0.baseAddress!, scale: sc, bias: bi, mean: me, variance: va,
                                                     epsilon: 1e-5, batch: n, channels: c, spatial: s, activation: act)
                    }
                } }
            } } } }
        return y
    }

    func testMatchesReference() {
        var g = SeededRandom(seed: 61)
        let acts: [Activation?] = [nil, .relu, .leakyRelu(0.2), .sigmoid, .tanh]
        for t in 0..<200 {
            let n = g.int(1, 4), c = g.int(1, 40)
            let s = t == 0 ? 4096 : (g.bool() ? 1 : g.int(1, 70))
            let x = randomFloats(n * c * s, seed: UInt64(t), range: -3...3)
            let p = Params(scale: randomFloats(c, seed: UInt64(t) + 1, range: 0.5...2), bias: randomFloats(c, seed: UInt64(t) + 2),
                           mean: randomFloats(c, seed: UInt64(t) + 3), variance: randomFloats(c, seed: UInt64(t) + 4, range: 0.1...3))
            let act = acts[t % acts.count]
            let want = bn(x, p, n, c, s, act, pool: nil)
            let y1 = bn(x, p, n, c, s, act, pool: .serial)
            KCheck.bitwise(bn(x, p, n, c, s, act, pool: KCheck.pool2), y1, "bn threads")
            KCheck.bitwise(bn(x, p, n, c, s, act, pool: KCheck.pool2, inPlace: true), y1, "bn in place")
            KCheck.near(y1, want, rel: 1e-5, abs: 4e-6, "bn \(n)×\(c)×\(s) \(String(describing: act))")
        }
    }

    func testKnownValues() {
        let p = Params(scale: [2, 1], bias: [1, 0], mean: [1, -1], variance: [4 - 1e-5, 1 - 1e-5])
        // channel 0: (x − 1)/2·2 + 1 = x; channel 1: x + 1, then relu.
        let y = bn([3, 5, -3, 0], p, 1, 2, 2, .relu, pool: .serial)
        KCheck.near(y, [3, 5, 0, 1], rel: 1e-6, abs: 1e-6, "known")
        let z = bn([3, -3, 5, 0], p, 2, 2, 1, nil, pool: .serial)
        KCheck.near(z, [3, -2, 5, 1], rel: 1e-6, abs: 1e-6, "known 2-D")
    }
}
