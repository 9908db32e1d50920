import XCTest
import Foundation
import Kernels

final class SIMDMathTests: XCTestCase {
    /// Values spread over [lo, hi] plus a few special points.
    private func samples(_ lo: Float, _ hi: Float, count: Int = 20000) -> [Float] {
        var xs: [Float] = []
        for i in 0..<count { xs.append(lo + (hi - lo) * Float(i) / Float(count - 1)) }
        return xs
    }

    private func check(_ xs: [Float], simd: (SIMD16<Float>) -> SIMD16<Float>, ref: (Float) -> Float,
                       absTol: Float, relTol: Float, file: StaticString = #filePath, line: UInt = #line) {
        var worstAbs: Float = 0, worstRel: Float = 0
        var i = 0
        while i < xs.count {
            var v = SIMD16<Float>(repeating: 0)
            for j in 0..<16 { v[j] = xs[min(i + j, xs.count - 1)] }
            let y = simd(v)
            for j in 0..<16 where i + j < xs.count {
                let r = ref(v[j]), g = y[j]
                if r.isNaN { XCTAssertTrue(g.isNaN, "x=\(v[j])", file: file, line: line); continue }
                if r.isInfinite { XCTAssertEqual(g, r, "x=\(v[j])", file: file, line: line); continue }
                let err = abs(g - r)
                worstAbs = max(worstAbs, err)
                if abs(r) > 1e-30 { worstRel = max(worstRel, err / abs(r)) }
                if err > absTol && err > relTol * abs(r) {
                    XCTFail("x=\(v[j]) got \(g) want \(r)", file: file, line: line)
                    return
                }
            }
            i += 16
        }
    }

    func testExp() {
        let xs = samples(-87, 88.7) + samples(-2, 2) + [0, -0.0, 1, -1, 88.72, -103, -200, 100, .infinity, -.infinity, .nan]
        check(xs, simd: SIMDMath.exp, ref: { Foundation.exp($0) }, absTol: Float.leastNormalMagnitude / 8, relTol: 3e-7)
        // Subnormal results: absolute tolerance of a couple of subnormal steps.
        check(samples(-103.9, -87.4, count: 2000), simd: SIMDMath.exp, ref: { Foundation.exp($0) },
              absTol: 3 * Float.leastNonzeroMagnitude, relTol: 3e-7)
    }

    /// expNonPositive (softmax's e^{x − max}) drops exp's upper clamp and fix-ups: the same bits
    /// as exp for every x ≤ 0, -inf and the subnormal range included, and NaN for NaN.
    func testExpNonPositiveIsExpBelowZero() {
        var xs = samples(-120, 0, count: 20000) + samples(-1, 0, count: 2000) + [0, -0.0, -104, -103.97, -87.3, -.infinity]
        while xs.count % 16 != 0 { xs.append(-1) }
        var i = 0
        while i < xs.count {
            let v = SIMD16<Float>(xs[i..<(i + 16)])
            let a = SIMDMath.expNonPositive(v), b = SIMDMath.exp(v)
            for l in 0..<16 { XCTAssertEqual(a[l].bitPattern, b[l].bitPattern, "x = \(v[l])") }
            i += 16
        }
        XCTAssertTrue(SIMDMath.expNonPositive(SIMD16<Float>(repeating: .nan))[3].isNaN)
    }

    func testLog() {
        let xs = samples(1e-6, 10) + samples(0.5, 2) + samples(10, 1e30, count: 5000)
            + [Float.leastNonzeroMagnitude, Float(bitPattern: 0x0001_16C2), Float.leastNormalMagnitude, 1, 0, -1, .infinity, .nan, Float.greatestFiniteMagnitude]
        check(xs, simd: SIMDMath.log, ref: { Foundation.log($0) }, absTol: 1e-7, relTol: 3e-7)
    }

    /// SIMDMath.sqrt is one vector instruction but must give `Float.squareRoot()`'s bits in
    /// every lane: random bit patterns over the whole float range, then the special values.
    func testSqrtIsBitIdenticalToScalar() {
        var rng = UInt32(12345)
        var xs: [Float] = []
        for _ in 0..<40000 { rng = rng &* 1664525 &+ 1013904223; xs.append(Float(bitPattern: rng & 0x7FFF_FFFF)) }
        xs += [0, -0.0, -1, 1, 4, 2, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
               .infinity, -.infinity, .nan, -.leastNonzeroMagnitude]
        var i = 0
        while i < xs.count {
            var v = SIMD16<Float>(repeating: 0)
            for j in 0..<16 { v[j] = xs[min(i + j, xs.count - 1)] }
            let y = SIMDMath.sqrt(v)
            for j in 0..<16 {
                let r = v[j].squareRoot()
                if r.isNaN { XCTAssertTrue(y[j].isNaN, "x=\(v[j])"); continue }
                XCTAssertEqual(y[j].bitPattern, r.bitPattern, "x=\(v[j])")
            }
            i += 16
        }
    }

    func testTanhSigmoid() {
        let xs = samples(-20, 20) + samples(-1, 1) + [0, 1e-20, -1e-20, 0.625, -0.625, 100, -100, .infinity, -.infinity, .nan]
        check(xs, simd: SIMDMath.tanh, ref: { Foundation.tanh($0) }, absTol: 1e-6, relTol: 3e-7)
        check(xs, simd: SIMDMath.sigmoid, ref: { 1 / (1 + Foundation.exp(-$0)) }, absTol: 1e-6, relTol: 3e-7)
        // The tail stays accurate relatively (a reciprocal estimate refined by one Newton step,
        // against a double-precision reference), down to where -x is capped at 87.
        check(samples(-87, 0), simd: SIMDMath.sigmoid, ref: { Float(1 / (1 + Foundation.exp(-Double($0)))) },
              absTol: 0, relTol: 4e-7)
        // Special values: exactly 0 and 1 at the ends (Sigmoid then Mul gives swish(-inf) = NaN).
        let special = SIMD16<Float>(-.infinity, -1e30, -200, -88, -87.5, 17, 30, 1e30, .infinity, .nan, 0, -0.0,
                                    .leastNonzeroMagnitude, 88, 89, -89)
        let sg = SIMDMath.sigmoid(special)
        XCTAssertEqual(sg[0], 0); XCTAssertEqual(sg[1], 0); XCTAssertEqual(sg[2], 0)
        XCTAssertLessThan(sg[3], 1e-37); XCTAssertLessThan(sg[4], 1e-37)
        XCTAssertEqual(sg[5], 1 / (1 + Foundation.exp(-17)), accuracy: 1e-7)
        for j in [6, 7, 8, 14] { XCTAssertEqual(sg[j], 1, "x=\(special[j])") }
        XCTAssertTrue(sg[9].isNaN)
        XCTAssertEqual(sg[10], 0.5); XCTAssertEqual(sg[11], 0.5); XCTAssertEqual(sg[12], 0.5)
        XCTAssertEqual(sg[15], 0)
        var buf = (0..<16).map { special[$0] }
        buf.withUnsafeMutableBufferPointer { Activation.swish.apply($0.baseAddress!, count: 16) }
        let sw = special * sg
        for j in 0..<16 { XCTAssertTrue(buf[j] == sw[j] || (buf[j].isNaN && sw[j].isNaN), "x=\(special[j])") }
        XCTAssertTrue(buf[0].isNaN)
        XCTAssertEqual(buf[8], .infinity)
        // Small |x|: tanh must stay accurate relatively.
        check(samples(-0.6, 0.6), simd: SIMDMath.tanh, ref: { Foundation.tanh($0) }, absTol: 0, relTol: 4e-7)
    }

    func testActivations() {
        let acts: [Activation] = [.relu, .leakyRelu(0.2), .sigmoid, .tanh, .clip(0, 6), .clip(-1.5, 0.25), .swish,
                                  .hardSigmoid(0.2, 0.5), .hardSigmoid(1 / 6, 0.5), .hardSwish]
        let xs = samples(-10, 10, count: 1003)
        for act in acts {
            check(xs, simd: { act.apply($0) }, ref: { act.apply($0) }, absTol: 1e-6, relTol: 1e-6)
            var buf = xs
            buf.withUnsafeMutableBufferPointer { act.apply($0.baseAddress!, count: $0.count) }
            for (x, y) in zip(xs, buf) { XCTAssertEqual(y, act.apply(x), accuracy: 1e-6) }
        }
        // Clip is exact (NaN stays NaN); swish is x·sigmoid(x) with the same sigmoid, bit for bit.
        let v = SIMD16<Float>((0..<16).map { Float($0) - 7.5 })
        XCTAssertEqual(Activation.clip(0, 6).apply(v), v.replacing(with: 0, where: v .< 0).replacing(with: 6, where: v .> 6))
        XCTAssertTrue(Activation.clip(0, 6).apply(Float.nan).isNaN)
        XCTAssertEqual(Activation.swish.apply(v), v * SIMDMath.sigmoid(v))
    }
}
