// LRNAndHalfTests: the LRN kernel against its scalar reference over odd shapes and window
// sizes (serial and two threads bitwise equal), known values; binary16 rounding (the kernel's
// hardware conversion) against the power-of-two reference, on odd counts and special values;
// integer → float conversion (Cast of runtime integer data) against `IntegerCast.reference`.

import XCTest
import TestSupport
import Kernels

final class LRNAndHalfTests: XCTestCase {
    func lrn(_ s: LRNShape, _ x: [Float], pool: ThreadPool) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { LRN.run(s, xp.baseAddress!, $0.baseAddress!, pool: pool) } }
        return y
    }

    func testLRNMatchesReferenceOnOddShapes() {
        var g = SeededRandom(seed: 41)
        var cases = (0..<60).map { _ in (g.int(1, 3), g.int(1, 9), g.int(1, 40), g.int(1, 7)) }
        cases += [(1, 96, 55 * 55, 5), (2, 64, 17, 4), (1, 1, 1, 1), (1, 3, 33, 9)]
        for (k, (n, c, sp, size)) in cases.enumerated() {
            let s = LRNShape(batch: n, channels: c, spatial: sp, size: size, alpha: k % 2 == 0 ? 1e-4 : 0.3,
                             beta: k % 3 == 0 ? 0.75 : 0.5 + Float(k % 5) * 0.2, bias: k % 2 == 0 ? 1 : 2)
            let x = randomFloats(n * c * sp, seed: UInt64(k), range: -3...3)
            var want = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer { LRN.reference(s, xp.baseAddress!, $0.baseAddress!) } }
            let y1 = lrn(s, x, pool: .serial)
            KCheck.bitwise(lrn(s, x, pool: KCheck.pool2), y1, "LRN \(s) threads")
            KCheck.near(y1, want, rel: 2e-6, abs: 1e-7, "LRN \(s)")
        }
    }

    func testLRNKnownValues() {
        // Two channels, one position, size 2: the window of c is c…c+1 (⌊1/2⌋ = 0 before, ⌈1/2⌉ = 1 after).
        let s = LRNShape(batch: 1, channels: 2, spatial: 1, size: 2, alpha: 2, beta: 1, bias: 1)
        // c0: 1 / (1 + 2/2·(1 + 4)) = 1/6; c1: 2 / (1 + 1·4) = 0.4
        KCheck.near(lrn(s, [1, 2], pool: .serial), [1.0 / 6, 0.4], rel: 1e-6, abs: 0, "LRN size 2")
        // size 3 over three channels: c1 sees all three.
        let s3 = LRNShape(batch: 1, channels: 3, spatial: 1, size: 3, alpha: 3, beta: 0.5, bias: 0)
        KCheck.near(lrn(s3, [1, 2, 2], pool: .serial), [1 / Float(5).squareRoot(), 2 / Float(9).squareRoot(), 2 / Float(8).squareRoot()],
                    rel: 1e-6, abs: 0, "LRN size 3")
    }

    func testHalfRoundingMatchesReference() {
        var specials: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, 65504, 65519.99, 65520, -65520, 1e9,
                                 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-26, 0x1p-14, 0x1.ffcp-15, 1.0009765625, 1.00048828125,
                                 1.000732421875, 2049, 2051, 3.14159265, -1e-5, 6.1e-5, 1e-8]
        specials += randomFloats(1001, seed: 5, range: -70000...70000) + randomFloats(333, seed: 6, range: -1e-4...1e-4)
        for x in [specials, Array(specials.prefix(17)), Array(specials.prefix(3))] {
            var y = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                HalfPrecision.roundToHalf(xp.baseAddress!, $0.baseAddress!, count: x.count, pool: KCheck.pool2) } }
            KCheck.bitwise(y, x.map(HalfPrecision.referenceHalf), "roundToHalf over \(x.count)")
        }
        XCTAssertEqual(HalfPrecision.referenceHalf(1.00048828125), 1)            // a tie rounds to even
        XCTAssertEqual(HalfPrecision.referenceHalf(1.000732421875), 1.0009765625)
        XCTAssertEqual(HalfPrecision.referenceHalf(65519.99), 65504)
        XCTAssertEqual(HalfPrecision.referenceHalf(65520), .infinity)
        XCTAssertEqual(HalfPrecision.referenceHalf(0x1p-25), 0)                  // a tie to the even 0
        XCTAssertEqual(HalfPrecision.referenceHalf(0x1.8p-25), 0x1p-24)
        XCTAssertEqual(HalfPrecision.referenceHalf(-0.0).sign, .minus)
    }

    func testIntegerToFloatMatchesReferenceOnOddCounts() {
        var g = SeededRandom(seed: 43)
        var specials: [Int64] = [0, 1, -1, 2049, 16_777_217, -16_777_217, 16_777_219, 65519, 65520, -70000,
                                 1 << 53 + 1, .max, .min]
        specials += (0..<9000).map { _ in Int64(bitPattern: g.next()) >> Int64(g.int(0, 62)) }
        for n in [specials.count, 4097, 17, 3, 1] {
            let x = Array(specials.prefix(n))
            for half in [false, true] {
                var y = [Float](repeating: .nan, count: n)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                    IntegerCast.toFloat(xp.baseAddress!, $0.baseAddress!, count: n, half: half, pool: KCheck.pool2) } }
                KCheck.bitwise(y, x.map { IntegerCast.reference($0, half: half) }, "intToFloat half=\(half) over \(n)")
            }
        }
        XCTAssertEqual(IntegerCast.reference(16_777_217, half: false), 16_777_216)   // a tie to even
        XCTAssertEqual(IntegerCast.reference(16_777_219, half: false), 16_777_220)
        XCTAssertEqual(IntegerCast.reference(-3, half: false), -3)
        XCTAssertEqual(IntegerCast.reference(2049, half: true), 2048)
        XCTAssertEqual(IntegerCast.reference(65520, half: true), .infinity)
    }
}
