// TorchSeedNetTests: the seed experiments' networks exported by PyTorch (both exporters, at
// reduced width; Tools/fixtures/make_torch_seed_nets.py) import through ONNXImport, run in a
// Runtime Session at batch 1, 3 and 64, and match ONNX Runtime's outputs stored in
// Tests/Fixtures/torch_seed/reference.json (|got - want| <= 1e-5 + 1e-4 |want|).

import Foundation
import GraphIR
import ONNX
import Runtime
import XCTest

final class TorchSeedNetTests: XCTestCase {
    static var dir: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Tests/Fixtures/torch_seed")
    }

    static let rtol = 1e-4, atol = 1e-5

    /// The fixture script's `hash_input`: element i of input k, exact in Float.
    static func hashInput(k: Int, count: Int, kind: String) -> Tensor.Storage {
        func mix(_ x: UInt32) -> UInt32 {
            var h = x
            h ^= h >> 15; h = h &* 2_246_822_519
            h ^= h >> 13; h = h &* 3_266_489_917
            h ^= h >> 16
            return h
        }
        let hashes = (0..<count).map { i in mix(UInt32(truncatingIfNeeded: i) &* 2_654_435_761 &+ UInt32((k + 1) * 40503)) }
        if kind == "label" { return .int64(hashes.map { Int64($0 % 10) }) }
        let (lo, hi): (Float, Float) = kind == "latent" ? (-2, 2) : kind == "unit" ? (0, 1) : (-1, 1)
        return .float(hashes.map { lo + (hi - lo) * (Float($0 >> 8) / 16_777_216) })
    }

    func testTorchExportsOfSeedNetsMatchONNXRuntime() throws {
        let ref = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.dir.appendingPathComponent("reference.json"))) as? [String: Any])
        let specs = try XCTUnwrap(ref["inputs"] as? [String: [[String: Any]]])
        let files = try XCTUnwrap(ref["files"] as? [String: [String: Any]])
        let batches = try XCTUnwrap(ref["batches"] as? [Int])
        XCTAssertEqual(files.count, 16, "8 seed networks x 2 exporters")
        for key in files.keys.sorted() {
            let entry = files[key]!
            let path = Self.dir.appendingPathComponent("\(key).onnx").path
            let graph: Graph
            do { graph = try ONNXImport.graph(path: path) } catch {
                XCTFail("\(key): import failed: \(error)"); continue
            }
            let session: Session
            do { session = try Session(graph: graph, threads: 1) } catch {
                XCTFail("\(key): compile failed: \(error)"); continue
            }
            for b in batches {
                var feeds: [String: Tensor] = [:]
                for (k, spec) in specs[try XCTUnwrap(entry["net"] as? String)]!.enumerated() {
                    let shape = [b] + (try XCTUnwrap(spec["shape"] as? [Int]))
                    let n = shape.reduce(1, *)
                    switch Self.hashInput(k: k, count: n, kind: try XCTUnwrap(spec["kind"] as? String)) {
                    case .float(let f): feeds[try XCTUnwrap(spec["name"] as? String)] = Tensor(shape: shape, floats: f)
                    case .int64(let i): feeds[try XCTUnwrap(spec["name"] as? String)] = Tensor(shape: shape, int64s: i)
                    }
                }
                let outs: [String: Tensor]
                do { outs = try session.run(feeds) } catch {
                    XCTFail("\(key) batch \(b): run failed: \(error)"); continue
                }
                guard let out = outs["out"] else { XCTFail("\(key): no output 'out' (got \(outs.keys.sorted()))"); continue }
                let want = try XCTUnwrap(entry[String(b)] as? [String: Any])
                XCTAssertEqual(out.shape, try XCTUnwrap(want["shape"] as? [Int]), "\(key) batch \(b): shape")
                guard out.shape == (try XCTUnwrap(want["shape"] as? [Int])) else { continue }
                let got = out.floats
                var checks: [(Int, Double)] = []
                if let values = want["values"] as? [Double] {
                    checks = Array(values.enumerated())
                } else {
                    let idx = try XCTUnwrap(want["indices"] as? [Int]), samples = try XCTUnwrap(want["samples"] as? [Double])
                    checks = Array(zip(idx, samples))
                    // Sums: each element within atol + rtol|x| bounds the sum's difference.
                    let sum = got.reduce(0.0) { $0 + Double($1) }
                    let bound = Double(got.count) * Self.atol + Self.rtol * (try XCTUnwrap(want["abs_sum"] as? Double))
                    XCTAssertLessThanOrEqual(abs(sum - (try XCTUnwrap(want["sum"] as? Double))), bound, "\(key) batch \(b): sum")
                }
                var worst = 0.0, bad = 0
                for (i, w) in checks {
                    let d = abs(Double(got[i]) - w)
                    if d > Self.atol + Self.rtol * abs(w) { bad += 1 }
                    worst = max(worst, d)
                }
                XCTAssertEqual(bad, 0, "\(key) batch \(b): \(bad) of \(checks.count) values differ (worst |diff| \(worst))")
            }
        }
    }
}
