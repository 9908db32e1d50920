// MetricsTests: every metric against shared/reference/gan-metrics.md §6 and against scipy's
// sqrtm FID on the fixture features written by Tools/interop/check_fid.py.

import Foundation
import Kernels
import Metrics
import XCTest

final class MetricsTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/metrics")

    /// The fixture arrays by name (float64 row-major) and expected.json.
    static func load() throws -> (arrays: [String: (rows: Int, cols: Int, values: [Double])], expected: [String: Any]) {
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json"))) as? [String: Any])
        let bytes = try Data(contentsOf: fixtures.appendingPathComponent("features.bin"))
        let all: [Double] = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        }
        var arrays: [String: (rows: Int, cols: Int, values: [Double])] = [:]
        var offset = 0
        for entry in try XCTUnwrap(json["layout"] as? [[String: Any]]) {
            let r = try XCTUnwrap(entry["rows"] as? Int), c = try XCTUnwrap(entry["cols"] as? Int)
            arrays[try XCTUnwrap(entry["name"] as? String)] = (r, c, Array(all[offset..<(offset + r * c)]))
            offset += r * c
        }
        XCTAssertEqual(offset, all.count)
        return (arrays, json)
    }

    // MARK: eigensolver

    func testJacobiReconstructs() {
        let n = 7
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = sin(Double(i * 7 + j)) + sin(Double(j * 7 + i)) + (i == j ? 3 : 0) } }
        let (lam, v) = SymmetricEigen.decompose(a, n: n)
        XCTAssertEqual(lam, lam.sorted())
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0, id = 0.0
                for k in 0..<n { s += v[i * n + k] * lam[k] * v[j * n + k]; id += v[k * n + i] * v[k * n + j] }
                XCTAssertEqual(s, a[i * n + j], accuracy: 1e-12)
                XCTAssertEqual(id, i == j ? 1 : 0, accuracy: 1e-12)
            }
        }
    }

    // MARK: FID

    func testFIDHandCheckable() {
        let a = FeatureStatistics(mean: [0, 0], covariance: [1, 0, 0, 1], count: 2)
        let b = FeatureStatistics(mean: [1, 1], covariance: [4, 0, 0, 9], count: 2)
        XCTAssertEqual(FID.distance(a, b), 7, accuracy: 1e-12)
        XCTAssertEqual(FID.distance(a, a), 0, accuracy: 1e-12)
    }

    func testUnbiasedCovariance() {
        // Rows (1,2), (3,6), (5,7): np.cov → [[4, 5], [5, 7]], mean (3, 5).
        let s = FeatureStatistics(features: [1, 2, 3, 6, 5, 7] as [Double], count: 3, dimension: 2)
        XCTAssertEqual(s.mean, [3, 5])
        XCTAssertEqual(s.covariance, [4, 5, 5, 7])
    }

    func testFIDRandomFeaturesMatchReference() throws {
        let (arr, exp) = try Self.load()
        let fid = try XCTUnwrap(exp["fid"] as? [String: [String: Double]])
        func stats(_ name: String) -> FeatureStatistics {
            let a = arr[name]!
            return FeatureStatistics(features: a.values, count: a.rows, dimension: a.cols)
        }
        // gan-metrics.md §6: d = 16 → 2.5483909545977497 (all routes).
        let d16 = FID.distance(stats("fid16_a"), stats("fid16_b"))
        XCTAssertEqual(d16, 2.5483909545977497, accuracy: 1e-12)
        XCTAssertEqual(d16, fid["fid16"]!["scipy"]!, accuracy: 1e-12)
        // Rank-deficient N = 10 < d = 32: symmetric-eigen 45.32678661216889, pytorch-fid 45.326786338094486.
        let rank = FID.distance(stats("rank_a"), stats("rank_b"))
        XCTAssertEqual(rank, 45.32678661216889, accuracy: 1e-7)
        XCTAssertEqual(rank, 45.326786338094486, accuracy: 1e-6)
        // Correlated d = 48 case: scipy's sqrtm within 1e-4 relative (the symmetric route far closer).
        let corr = FID.distance(stats("corr_a"), stats("corr_b"))
        XCTAssertEqual(corr, fid["corr"]!["scipy"]!, accuracy: 1e-4 * fid["corr"]!["scipy"]!)
        XCTAssertEqual(corr, fid["corr"]!["symmetric"]!, accuracy: 1e-10)
    }

    func testFIDFromFloatFeatures() throws {
        // The gan-eval path (Float features) stays within 1e-4 relative of scipy on float64 data.
        let (arr, exp) = try Self.load()
        let scipy = (try XCTUnwrap(exp["fid"] as? [String: [String: Double]]))["corr"]!["scipy"]!
        let a = arr["corr_a"]!, b = arr["corr_b"]!
        let pool = ThreadPool(threads: 2)
        let v = FID.distance(real: a.values.map(Float.init), fake: b.values.map(Float.init), dimension: a.cols, pool: pool)
        XCTAssertEqual(v, scipy, accuracy: 1e-4 * scipy)
    }

    // MARK: Inception Score

    func testInceptionScoreVectors() {
        let n = 1000, k = 10
        let uniform = [Double](repeating: 0.1, count: n * k)
        let u = InceptionScore.compute(probabilities: uniform, classes: k)
        XCTAssertEqual(u.mean, 1.0000000000000022, accuracy: 1e-12)
        XCTAssertEqual(u.std, 0, accuracy: 1e-12)
        XCTAssertEqual(u.splitScores.count, 10)

        var confident = [Double](repeating: 1e-7, count: n * k)
        for i in 0..<n { confident[i * k + i % 10] = 0.999999 + 1e-7 }
        let c = InceptionScore.compute(probabilities: confident, classes: k)
        XCTAssertEqual(c.mean, 9.999845938329955, accuracy: 1e-9)
        XCTAssertEqual(c.std, 0, accuracy: 1e-9)

        var collapsed = [Double](repeating: 1e-7, count: n * k)
        for i in 0..<n { collapsed[i * k + 3] = 0.999999 + 1e-7 }
        let z = InceptionScore.compute(probabilities: collapsed, classes: k)
        XCTAssertEqual(z.mean, 1.0000000000000022, accuracy: 1e-9)
        XCTAssertEqual(z.std, 0, accuracy: 1e-12)
    }

    func testInceptionScoreContiguousSplitsAndPopulationStd() {
        // 20 rows, 2 splits: the first half confident-balanced (IS 2), the second uniform (IS 1).
        var p: [Double] = []
        for i in 0..<10 { p += i % 2 == 0 ? [1, 0] : [0, 1] }
        for _ in 0..<10 { p += [0.5, 0.5] }
        let s = InceptionScore.compute(probabilities: p, classes: 2, splits: 2)
        XCTAssertEqual(s.splitScores[0], 2, accuracy: 1e-9)
        XCTAssertEqual(s.splitScores[1], 1, accuracy: 1e-12)
        XCTAssertEqual(s.mean, 1.5, accuracy: 1e-9)
        XCTAssertEqual(s.std, 0.5, accuracy: 1e-9)   // population std (numpy default)
    }

    func testSoftmaxAndAccuracy() {
        let logits: [Float] = [0, 0, 5, 1, 0, 0, 0, 7, 0]
        let p = Classification.softmax(logits, classes: 3)
        XCTAssertEqual(p[0] + p[1] + p[2], 1, accuracy: 1e-12)
        XCTAssertEqual(Classification.argmax(logits, classes: 3), [2, 0, 1])
        XCTAssertEqual(Classification.accuracy(logits: logits, classes: 3, target: 2), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(Classification.accuracy(logits: logits, classes: 3, labels: [2, 0, 0]), 2.0 / 3, accuracy: 1e-12)
    }

    // MARK: PRDC

    func testPRDCVectors() throws {
        let (arr, _) = try Self.load()
        let real = arr["prdc_real"]!.values.map(Float.init)
        let good = arr["prdc_good"]!.values.map(Float.init)
        let collapsed = arr["prdc_collapsed"]!.values.map(Float.init)
        let opts = PRDCOptions(prK: 3, dcK: 3, strictPR: true, blockRows: 64)   // §6: k = 3, strict < everywhere
        for pool in [ThreadPool.serial, ThreadPool(threads: 2)] {
            let g = PRDC.compute(real: real, fake: good, dimension: 8, options: opts, pool: pool)
            XCTAssertEqual(g.precision, 0.8433333333333334, accuracy: 1e-12)
            XCTAssertEqual(g.recall, 0.8833333333333333, accuracy: 1e-12)
            XCTAssertEqual(g.density, 1.0266666666666666, accuracy: 1e-12)
            XCTAssertEqual(g.coverage, 0.8766666666666667, accuracy: 1e-12)
            let c = PRDC.compute(real: real, fake: collapsed, dimension: 8, options: opts, pool: pool)
            XCTAssertEqual(c.precision, 1.0)
            XCTAssertEqual(c.recall, 0.0)
            XCTAssertEqual(c.density, 2.57, accuracy: 1e-12)
            XCTAssertEqual(c.coverage, 0.09, accuracy: 1e-12)
            XCTAssertEqual(c.f1, 0)
        }
    }

    func testPRDCBlockingDoesNotMatter() {
        // Deterministic pseudo-random features.
        var state: UInt64 = 42
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 500
        }
        let d = 5
        let real = (0..<(137 * d)).map { _ in next() }, fake = (0..<(91 * d)).map { _ in next() * 0.8 }
        let a = PRDC.compute(real: real, fake: fake, dimension: d, options: PRDCOptions(blockRows: 1000))
        let b = PRDC.compute(real: real, fake: fake, dimension: d, options: PRDCOptions(blockRows: 7), pool: ThreadPool(threads: 2))
        XCTAssertEqual(a, b)
        // Brute force, Kynkäänniemi (<=) P/R with k = 3, D/C with k = 5.
        func dist(_ x: [Float], _ i: Int, _ y: [Float], _ j: Int) -> Double {
            (0..<d).reduce(0.0) { s, t in let v = Double(x[i * d + t] - y[j * d + t]); return s + v * v }
        }
        func radii(_ x: [Float], _ k: Int) -> [Double] {
            let n = x.count / d
            return (0..<n).map { i in (0..<n).map { dist(x, i, x, $0) }.sorted()[k] }
        }
        let n = real.count / d, m = fake.count / d
        let r3 = radii(real, 3), r5 = radii(real, 5), f3 = radii(fake, 3)
        let p = Double((0..<m).filter { j in (0..<n).contains { dist(real, $0, fake, j) <= r3[$0] } }.count) / Double(m)
        let r = Double((0..<n).filter { i in (0..<m).contains { dist(real, i, fake, $0) <= f3[$0] } }.count) / Double(n)
        let den = Double((0..<m).map { j in (0..<n).filter { dist(real, $0, fake, j) < r5[$0] }.count }.reduce(0, +)) / Double(5 * m)
        let cov = Double((0..<n).filter { i in (0..<m).map { dist(real, i, fake, $0) }.min()! < r5[i] }.count) / Double(n)
        XCTAssertEqual(a.precision, p, accuracy: 1e-12)
        XCTAssertEqual(a.recall, r, accuracy: 1e-12)
        XCTAssertEqual(a.density, den, accuracy: 1e-12)
        XCTAssertEqual(a.coverage, cov, accuracy: 1e-12)
    }
}
