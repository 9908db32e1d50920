import Core
import XCTest
import Training

final class RandomTests: XCTestCase {
    func testPhiloxKnownAnswer() {
        // Random123 known-answer vectors for philox4x32-10.
        let zero = Philox4x32.block(counter: (0, 0, 0, 0), key: (0, 0))
        XCTAssertTrue(zero == (0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8), "\(zero)")
        let ones = Philox4x32.block(counter: (0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), key: (0xffff_ffff, 0xffff_ffff))
        XCTAssertTrue(ones == (0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd), "\(ones)")
        let pi = Philox4x32.block(counter: (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: (0xa409_3822, 0x299f_31d0))
        XCTAssertTrue(pi == (0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1), "\(pi)")
    }

    func testStreamsAreIndependentOfEachOther() {
        var a = RandomStream(seed: 42, step: 7, purpose: .latent)
        var b = RandomStream(seed: 42, step: 7, purpose: .alpha)
        var c = RandomStream(seed: 42, step: 8, purpose: .latent)
        let x = a.normals(16), y = b.normals(16), z = c.normals(16)
        XCTAssertNotEqual(x, y)
        XCTAssertNotEqual(x, z)
        var again = RandomStream(seed: 42, step: 7, purpose: .latent)
        XCTAssertEqual(again.normals(16), x)
    }

    func testNormalAndUniformMoments() {
        var s = RandomStream(seed: 1, step: 0, purpose: .latent)
        let n = 200_000
        let v = s.normals(n)
        let mean = v.reduce(0, +) / Float(n)
        let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        let u = s.uniforms(n)
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / Float(n), 0.5, accuracy: 0.01)
    }

    func testBelowAndPermutation() {
        var s = RandomStream(seed: 3, step: 1, purpose: .labels)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<50_000 { counts[s.below(10)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 5000) < 300 }, "\(counts)")
        let p = s.permutation(1000)
        XCTAssertEqual(p.sorted(), Array(0..<1000))
        XCTAssertNotEqual(p, Array(0..<1000))
    }
}
