// InceptionFeatureTests: standard (Inception) FID's pieces without the 95 MB network — the
// pytorch-fid preprocessing against torch's F.interpolate (fixture by
// Tools/fixtures/make_inception_fixtures.py), the Householder + QL eigensolver against Jacobi,
// FID at d = 1024 against pytorch-fid's scipy route, and FeatureNetwork(inceptionGraph:)'s
// checks and batch pipeline on a tiny stand-in network (GlobalAveragePool → 2048 features).
// InceptionInteropTests runs the real architecture against pytorch-fid when
// Tools/interop/run.sh provides it (GANNET_INCEPTION_INTEROP).

import Foundation
import GraphIR
import Kernels
import Metrics
import ONNX
import XCTest

final class InceptionFeatureTests: XCTestCase {
    static let fixtures = MetricsTests.fixtures.deletingLastPathComponent().appendingPathComponent("inception")

    static func json(_ name: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent(name))) as? [String: Any])
    }

    // MARK: preprocessing

    func testResizeMatchesTorchInterpolate() throws {
        let cases = try XCTUnwrap(try Self.json("interpolate.json")["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let shape = try XCTUnwrap(c["shape"] as? [Int]), size = try XCTUnwrap(c["size"] as? [Int])
            let rows = try XCTUnwrap(c["rows"] as? [Int]), cols = try XCTUnwrap(c["cols"] as? [Int])
            let input = try XCTUnwrap(c["input"] as? [Double]).map(Float.init)
            let expected = try XCTUnwrap(c["output"] as? [Double])
            // Identity ranges: only the resize acts (3-channel inputs stay 3 channels; grey is
            // replicated, so its first plane is compared).
            let y = input.withUnsafeBufferPointer {
                InceptionPreprocess.batch($0, count: 1, shape: shape, range: 0...1, outH: size[0], outW: size[1], outRange: 0...1)
            }
            XCTAssertEqual(y.count, 3 * size[0] * size[1])
            var k = 0, worst = 0.0
            for ch in 0..<shape[0] {
                for r in rows {
                    for col in cols {
                        worst = max(worst, abs(Double(y[(ch * size[0] + r) * size[1] + col]) - expected[k]))
                        k += 1
                    }
                }
            }
            XCTAssertEqual(k, expected.count)
            XCTAssertLessThan(worst, 2e-6, "\(shape) → \(size)")
        }
    }

    func testRangeMappingClampAndGreyReplication() {
        // Two grey 2×2 images in [−1, 1] (tanh generators), one value outside the range.
        let x: [Float] = [-1, 0, 1, 0.5, 2, -3, 0.25, -0.25]
        let y = x.withUnsafeBufferPointer {
            InceptionPreprocess.batch($0, count: 2, shape: [1, 2, 2], range: -1...1, outH: 2, outW: 2, outRange: -1...1)
        }
        // Same size: the resize is the identity; clamped to [−1, 1] then replicated.
        let clamped: [Float] = [-1, 0, 1, 0.5, 1, -1, 0.25, -0.25]
        XCTAssertEqual(y.count, 2 * 3 * 4)
        for i in 0..<2 { for ch in 0..<3 { XCTAssertEqual(Array(y[(i * 3 + ch) * 4..<(i * 3 + ch + 1) * 4]), Array(clamped[i * 4..<(i + 1) * 4])) } }
        // [0, 1] images to pytorch-fid's [−1, 1]: 2x − 1.
        let u: [Float] = [0, 0.25, 0.5, 1]
        let z = u.withUnsafeBufferPointer { InceptionPreprocess.batch($0, count: 1, shape: [1, 2, 2], range: 0...1, outH: 2, outW: 2, outRange: -1...1) }
        XCTAssertEqual(Array(z[0..<4]), [-1, -0.5, 0, 1])
    }

    // MARK: eigensolver

    /// A seeded symmetric n×n matrix; `rank` > 0 makes it PSD of that rank (B Bᵀ).
    static func symmetric(_ n: Int, rank: Int = 0, seed: UInt64) -> [Double] {
        var s = seed
        func next() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(Int64(bitPattern: s >> 11)) / Double(1 << 52) - 1 }
        var a = [Double](repeating: 0, count: n * n)
        if rank > 0 {
            let b = (0..<(n * rank)).map { _ in next() }
            for i in 0..<n { for j in 0..<n { var t = 0.0; for k in 0..<rank { t += b[i * rank + k] * b[j * rank + k] }; a[i * n + j] = t } }
        } else {
            for i in 0..<n { for j in i..<n { let v = next(); a[i * n + j] = v; a[j * n + i] = v } }
        }
        return a
    }

    func testTridiagonalMatchesJacobi() {
        for (n, rank) in [(1, 0), (2, 0), (3, 0), (60, 0), (80, 10)] {
            let a = Self.symmetric(n, rank: rank, seed: UInt64(n * 31 + rank))
            let jacobi = SymmetricEigen.decompose(a, n: n)   // n ≤ 512: Jacobi
            let (lam, v) = SymmetricEigen.tridiagonalDecompose(a, n: n, vectors: true)
            let scale = jacobi.values.map(abs).max()!
            for k in 0..<n { XCTAssertEqual(lam[k], jacobi.values[k], accuracy: 1e-12 * scale * Double(n), "n \(n) λ\(k)") }
            let only = SymmetricEigen.tridiagonalDecompose(a, n: n, vectors: false)
            XCTAssertEqual(only.vectors, [])
            for k in 0..<n { XCTAssertEqual(only.values[k], lam[k], accuracy: 1e-12 * scale * Double(n)) }
            // A = V diag(λ) Vᵀ and VᵀV = I.
            var worst = 0.0, orth = 0.0
            for i in 0..<n {
                for j in 0..<n {
                    var s = 0.0, id = 0.0
                    for k in 0..<n { s += v[i * n + k] * lam[k] * v[j * n + k]; id += v[k * n + i] * v[k * n + j] }
                    worst = max(worst, abs(s - a[i * n + j]))
                    orth = max(orth, abs(id - (i == j ? 1 : 0)))
                }
            }
            XCTAssertLessThan(worst, 1e-12 * scale * Double(n), "n \(n)")
            XCTAssertLessThan(orth, 1e-12 * Double(n), "n \(n)")
        }
    }

    func testWideDecompositionIsThreadIndependent() {
        // n = 600 > jacobiLimit: decompose() takes the tridiagonal route; 1 and 2 threads agree bit for bit.
        let n = 600
        let a = Self.symmetric(n, seed: 3)
        let one = SymmetricEigen.decompose(a, n: n)
        let two = SymmetricEigen.decompose(a, n: n, pool: ThreadPool(threads: 2))
        XCTAssertEqual(one.values, two.values)
        XCTAssertEqual(one.vectors, two.vectors)
        XCTAssertEqual(SymmetricEigen.eigenvalues(a, n: n, pool: ThreadPool(threads: 2)), one.values)
        // Trace and Frobenius norm are preserved.
        var tr = 0.0, fro = 0.0
        for i in 0..<n { tr += a[i * n + i]; for j in 0..<n { fro += a[i * n + j] * a[i * n + j] } }
        XCTAssertEqual(one.values.reduce(0, +), tr, accuracy: 1e-9 * fro.squareRoot())
        XCTAssertEqual(one.values.reduce(0) { $0 + $1 * $1 }, fro, accuracy: 1e-10 * fro)
    }

    // MARK: FID at d = 1024

    /// The formula of Tools/fixtures/make_inception_fixtures.py: features a and b, row-major.
    static func wide(rows: Int, cols: Int) -> (a: [Double], b: [Double]) {
        func h(_ i: Double, _ j: Double) -> Double { let x = sin(12.9898 * i + 78.233 * j) * 43758.5453; return x - x.rounded(.down) }
        var a = [Double](repeating: 0, count: rows * cols), b = a
        for r in 0..<rows {
            let i = Double(r)
            for j in 0..<cols {
                a[r * cols + j] = h(i + 1, Double(j) + 1) + 0.5 * h(i + 1, Double((7 * j) % cols) + 1)
                b[r * cols + j] = 1.1 * h(i + 3001, Double(j) + 1) + 0.3 * h(i + 3001, Double((3 * j) % cols) + 1) + 0.05 * Double(j % 7)
            }
        }
        return (a, b)
    }

    func testWideFIDMatchesPytorchFID() throws {
        let e = try Self.json("fid_wide.json")
        let rows = try XCTUnwrap(e["rows"] as? Int), cols = try XCTUnwrap(e["cols"] as? Int)
        let (a, b) = Self.wide(rows: rows, cols: cols)
        XCTAssertEqual(a[0], try XCTUnwrap(e["a00"] as? Double), accuracy: 1e-9)
        XCTAssertEqual(b[b.count - 1], try XCTUnwrap(e["b_last"] as? Double), accuracy: 1e-9)
        let pool = ThreadPool(threads: 2)
        let fid = FID.distance(FeatureStatistics(features: a, count: rows, dimension: cols, pool: pool),
                               FeatureStatistics(features: b, count: rows, dimension: cols, pool: pool), pool: pool)
        let expected = try XCTUnwrap(e["fid"] as? Double)
        XCTAssertEqual(fid, expected, accuracy: 1e-8 * abs(expected), "Gannet \(fid) vs pytorch-fid \(expected)")
    }

    // MARK: the network checks and pipeline

    /// A stand-in "Inception" in IR text: x → GlobalAveragePool → [N, 3] · W (3 × width); input dims as given.
    static func standIn(input: String = "N,3,299,299", width: Int = 2048, outputShape: String? = nil, meta: String = "") -> String {
        let w = (0..<(3 * width)).map { "\(Float($0 % 13) / 13 - 0.4)" }.joined(separator: ", ")
        return """
        graph "stand_in" {
        \(meta)  input %x: f32[\(input)]
          init %flat: i64[2] = [-1, 3]
          init %w: f32[3,\(width)] = [\(w)]
          %p: f32[N,3,1,1] = GlobalAveragePool(%x)
          %f: f32[N,3] = Reshape(%p, %flat)
          %pool3: f32[N,\(width)] = MatMul(%f, %w)
          output %pool3
        }
        """
    }

    func testNetworkChecksNameTheProblem() throws {
        func message(_ text: String) -> String {
            do { _ = try FeatureNetwork(inceptionGraph: try Graph.parse(text), threads: 1); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(Self.standIn(input: "N,1,299,299")).contains("the pytorch-fid protocol feeds [N, 3, 299, 299]"))
        XCTAssertTrue(message(Self.standIn(input: "N,3,224,224")).contains("input 'x' is [N, 3, 224, 224]"))
        XCTAssertTrue(message(Self.standIn(width: 1000)).contains("feature output 'pool3' is N×1000; pool3 features are N×2048"))
        XCTAssertTrue(message(Self.standIn(meta: "  meta \"gannet.feature_output\" = \"nope\"\n")).contains("has no output 'nope'"))
        XCTAssertEqual(message(Self.standIn()), "no error")
    }

    func testStandInFeaturesFollowTheProtocol() throws {
        let net = try FeatureNetwork(inceptionGraph: try Graph.parse(Self.standIn()), threads: 1)
        XCTAssertEqual(net.kind, .inception)
        XCTAssertEqual(net.imageShape, [3, 299, 299])
        XCTAssertEqual(net.inputRange, -1...1)
        XCTAssertNil(net.logitsOutput)
        XCTAssertEqual(net.featureDimension, 2048)
        net.batch = 2   // 3 images: batches of 2 and 1
        var s: UInt64 = 9
        let images = (0..<(3 * 28 * 28)).map { _ -> Float in s = s &* 6364136223846793005 &+ 1; return Float(s >> 40) / Float(1 << 24) }
        let (features, logits) = try net.extract(images: images, shape: [1, 28, 28], range: 0...1)
        XCTAssertEqual(features.count, 3 * 2048)
        XCTAssertEqual(logits, [])
        // By hand: the mean of the 299×299 resized plane, mapped to [−1, 1], times W's rows (summed: 3 equal channels).
        for i in 0..<3 {
            let x = images[(i * 784)..<((i + 1) * 784)].map { $0 }
            let r = x.withUnsafeBufferPointer { InceptionPreprocess.batch($0, count: 1, shape: [1, 28, 28], range: 0...1, outH: 299, outW: 299, outRange: -1...1) }
            let m = Double(r[0..<(299 * 299)].reduce(0, +)) / Double(299 * 299)
            for j in [0, 1, 7, 2047] {
                let w = (0..<3).map { Double(Float(($0 * 2048 + j) % 13) / 13 - 0.4) }.reduce(0, +)
                XCTAssertEqual(Double(features[i * 2048 + j]), m * w, accuracy: 1e-4)
            }
        }
        XCTAssertThrowsError(try net.extract(images: [Float](repeating: 0, count: 2 * 4), shape: [2, 2, 2], range: 0...1)) {
            XCTAssertTrue("\($0)".contains("grey (1-channel) or RGB (3-channel) images, got 2x2x2"), "\($0)")
        }
    }
}

/// The real architecture (random weights) against pytorch-fid: Tools/interop/run.sh makes the
/// files with Tools/interop/check_inception_fid.py (torch) and sets GANNET_INCEPTION_INTEROP.
final class InceptionInteropTests: XCTestCase {
    func testMatchesPytorchFID() throws {
        guard let dir = ProcessInfo.processInfo.environment["GANNET_INCEPTION_INTEROP"] else {
            throw XCTSkip("GANNET_INCEPTION_INTEROP is not set (Tools/interop/run.sh sets it when a Python with torch and pytorch-fid is available)")
        }
        let e = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json"))) as? [String: Any])
        let net = try FeatureNetwork(inceptionGraph: try ONNXImport.graph(path: dir + "/inception.onnx"), threads: 2)
        XCTAssertEqual(net.logitsOutput, "logits")
        XCTAssertEqual(net.classes, 1008)
        net.batch = 4
        var features: [[Double]] = []
        for set in try XCTUnwrap(e["sets"] as? [[String: Any]]) {
            let file = try XCTUnwrap(set["file"] as? String), shape = try XCTUnwrap(set["shape"] as? [Int])
            let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))
            let images: [Float] = bytes.withUnsafeBytes { raw in (0..<(bytes.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
            let t0 = Date()
            let (f, l) = try net.extract(images: images, shape: shape, range: 0...1)
            let n = f.count / 2048
            print("\(file): \(n) images, \(String(format: "%.2f", Double(n) / Date().timeIntervalSince(t0))) images/s")
            for (name, got, want) in [("features", f, try XCTUnwrap(set["features"] as? [Double])), ("logits", l, try XCTUnwrap(set["logits"] as? [Double]))] {
                XCTAssertEqual(got.count, want.count, "\(file) \(name)")
                let scale = want.map(abs).max()!
                let worst = zip(got, want).map { abs(Double($0) - $1) }.max()!
                print("\(file) \(name): max |diff| \(worst), max |value| \(scale)")
                XCTAssertLessThanOrEqual(worst, 1e-3 * scale, "\(file) \(name)")
            }
            features.append(f.map(Double.init))
        }
        func fid(_ a: [Double], _ b: [Double]) -> Double {
            FID.distance(FeatureStatistics(features: a, count: a.count / 2048, dimension: 2048),
                         FeatureStatistics(features: b, count: b.count / 2048, dimension: 2048), pool: ThreadPool(threads: 2))
        }
        for (key, a, b) in [("fid_0_1", 0, 1), ("fid_0_2", 0, 2)] {
            let want = try XCTUnwrap(e[key] as? Double), got = fid(features[a], features[b])
            print("\(key): Gannet \(got), pytorch-fid \(want)")
            XCTAssertEqual(got, want, accuracy: 1e-3 * abs(want), key)
        }
    }
}
