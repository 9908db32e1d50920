// SamplingTests: gan-sample / gan-interpolate (latent RNG, interpolation, grids, classes, errors)
// and PyTorch-exported generators (TorchScript opset 17, dynamo opset 18) against ONNX Runtime.

import GAN
import Core
import Commands
import Foundation
import GraphIR
import Media
import TestSupport
import XCTest

enum Paths {
    static var root: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }
    static func torch(_ name: String) -> String { root.appendingPathComponent("Tests/Fixtures/torch/\(name)").path }
    static func temp(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "gannet-sampling-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }
}

/// Parses and runs a command, as the executable would (validation included).
func sample(_ args: [String]) throws { try GanSample.parse(args + ["--quiet"]).run() }
func interpolate(_ args: [String]) throws { try GanInterpolate.parse(args + ["--quiet"]).run() }

/// The message of the error `body` throws (fails the test when it does not throw).
func errorMessage(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
        return ""
    } catch {
        return "\(error)"
    }
}

/// Crops tile (row, col) out of a grid image.
func tile(_ img: Image8, row: Int, col: Int, size: Int, padding: Int = 2) -> [UInt8] {
    var out: [UInt8] = []
    let x0 = padding + col * (size + padding), y0 = padding + row * (size + padding)
    for y in y0..<(y0 + size) {
        out += img.pixels[((y * img.width + x0) * img.channels)..<((y * img.width + x0 + size) * img.channels)]
    }
    return out
}

final class LatentTests: XCTestCase {
    func testLatentsAreDeterministicStandardNormals() {
        XCTAssertEqual(Latents.vector(seed: 3, index: 7, size: 100), Latents.vector(seed: 3, index: 7, size: 100))
        XCTAssertNotEqual(Latents.vector(seed: 3, index: 7, size: 100), Latents.vector(seed: 3, index: 8, size: 100))
        XCTAssertNotEqual(Latents.vector(seed: 3, index: 0, size: 100), Latents.vector(seed: 4, index: 0, size: 100))
        // A prefix of a longer latent is the shorter latent (one stream).
        XCTAssertEqual(Array(Latents.vector(seed: 9, index: 1, size: 100).prefix(10)), Latents.vector(seed: 9, index: 1, size: 10))
        var sum = 0.0, sq = 0.0, n = 0
        for i in 0..<200 {
            for v in Latents.vector(seed: 1, index: UInt64(i), size: 500) { sum += Double(v); sq += Double(v * v); n += 1 }
        }
        XCTAssertEqual(sum / Double(n), 0, accuracy: 0.01)
        XCTAssertEqual(sq / Double(n), 1, accuracy: 0.02)
    }

    func testUniformLatents() {
        let u = Latents.vector(seed: 2, index: 0, size: 50_000, distribution: "uniform")
        XCTAssertEqual(u, Latents.vector(seed: 2, index: 0, size: 50_000, distribution: "uniform"))
        XCTAssertNotEqual(Array(u.prefix(10)), Latents.vector(seed: 2, index: 0, size: 10))
        XCTAssertTrue(u.allSatisfy { $0 > -1 && $0 < 1 })
        let mean = u.reduce(0.0) { $0 + Double($1) } / Double(u.count)
        let sq = u.reduce(0.0) { $0 + Double($1 * $1) } / Double(u.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(sq, 1.0 / 3, accuracy: 0.01)
        XCTAssertTrue(Latents.vector(seed: 2, index: 0, size: 1000, truncation: 0.25, distribution: "uniform").allSatisfy { abs($0) <= 0.25 })
    }

    func testTruncationResamples() {
        let z = Latents.vector(seed: 5, index: 0, size: 10_000, truncation: 0.5)
        XCTAssertTrue(z.allSatisfy { abs($0) <= 0.5 })
        let plain = Latents.vector(seed: 5, index: 0, size: 10_000)
        XCTAssertTrue(plain.contains { abs($0) > 0.5 })
        // Coordinates already inside the bound at the start of the stream are kept.
        if abs(plain[0]) <= 0.5 { XCTAssertEqual(z[0], plain[0]) }
    }

    func testSeedLists() throws {
        XCTAssertEqual(try Latents.parseSeeds("0-3"), [0, 1, 2, 3])
        XCTAssertEqual(try Latents.parseSeeds("1,5,9"), [1, 5, 9])
        XCTAssertEqual(try Latents.parseSeeds("0-2,10"), [0, 1, 2, 10])
        XCTAssertEqual(try Latents.parseSeeds("7"), [7])
        for bad in ["", "a", "3-1", "1,,2", "-1", "1-2-3"] { XCTAssertThrowsError(try Latents.parseSeeds(bad), bad) }
    }

    func testSlerpEndpointsAndNormPreservation() {
        var midSlerp = 0.0, midLerp = 0.0, ends = 0.0
        for i in 0..<500 {
            let a = Latents.vector(seed: 1, index: UInt64(2 * i), size: 100)
            let b = Latents.vector(seed: 1, index: UInt64(2 * i + 1), size: 100)
            XCTAssertEqual(Interpolation.slerp(0, a, b), a)
            XCTAssertEqual(Interpolation.slerp(1, a, b), b)
            XCTAssertEqual(Interpolation.slerp(-0.5, a, b), a)
            XCTAssertEqual(Interpolation.slerp(1.5, a, b), b)
            func norm(_ v: [Float]) -> Double { v.reduce(0) { $0 + Double($1 * $1) }.squareRoot() }
            ends += (norm(a) + norm(b)) / 2
            midSlerp += norm(Interpolation.slerp(0.5, a, b))
            midLerp += norm(Interpolation.lerp(0.5, a, b))
        }
        let (e, s, l) = (ends / 500, midSlerp / 500, midLerp / 500)
        XCTAssertEqual(e, 9.98, accuracy: 0.1)
        XCTAssertEqual(s / e, 1, accuracy: 0.01, "slerp keeps the norm")
        XCTAssertEqual(l / e, 0.5.squareRoot(), accuracy: 0.02, "lerp's midpoint shrinks by ~√2")
    }

    func testSlerpDegenerateCasesAndLerp() {
        let a: [Float] = [1, 2, 3]
        XCTAssertEqual(Interpolation.slerp(0.3, a, a), a)
        let twice: [Float] = [2, 4, 6]   // parallel: sin Ω = 0 → lerp
        XCTAssertEqual(Interpolation.slerp(0.5, a, twice), Interpolation.lerp(0.5, a, twice))
        let opposite: [Float] = [-1, -2, -3]
        XCTAssertTrue(Interpolation.slerp(0.25, a, opposite).allSatisfy { $0.isFinite })
        XCTAssertEqual(Interpolation.lerp(0.25, [0, 4], [4, 0]), [1, 3])
        let x: [Float] = [1, 0], y: [Float] = [0, 1]
        let m = Interpolation.slerp(0.5, x, y)
        XCTAssertEqual(m[0], Float(0.5.squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(m[1], Float(0.5.squareRoot()), accuracy: 1e-6)
    }
}

final class GanSampleTests: XCTestCase {
    func testGridGeometryAndSidecar() throws {
        let out = Paths.temp("geom.png")
        try sample([Paths.torch("uncond_ts17.onnx"), "--n", "10", "--nrow", "4", "--padding", "3", "--seed", "5", "--out", out])
        let img = try PNG.read(out)
        XCTAssertEqual(img.width, 4 * (8 + 3) + 3)
        XCTAssertEqual(img.height, 3 * (8 + 3) + 3)
        XCTAssertEqual(img.channels, 1)
        let json = try JSONTestData.object(path: Paths.temp("geom.json"))
        XCTAssertEqual(json["seed"] as? Int, 5)
        let grid: [String: Any] = try json.value("grid")
        XCTAssertEqual(grid["rows"] as? Int, 3)
        XCTAssertEqual(grid["columns"] as? Int, 4)
        let tiles: [[String: Any]] = try json.value("tiles")
        XCTAssertEqual(tiles.count, 10)
        XCTAssertEqual(tiles[6]["row"] as? Int, 1)
        XCTAssertEqual(tiles[6]["col"] as? Int, 2)
        XCTAssertEqual(tiles[6]["index"] as? Int, 6)
        XCTAssertEqual(try tiles[6].value("z", as: [Double].self).map(Float.init), Latents.vector(seed: 5, index: 6, size: 8))
        XCTAssertTrue(try tiles[6].value("regenerate", as: String.self).contains("--seed 5 --first-index 6 --n 1"))
    }

    func testSameSeedSameImageWhateverTheBatch() throws {
        for (model, n) in [(Paths.torch("uncond_ts17.onnx"), "64"), ("seed:mnist-generator", "6")] {
            let a = Paths.temp("b1.png"), b = Paths.temp("b64.png")
            try sample([model, "--n", n, "--seed", "11", "--batch", "1", "--out", a])
            try sample([model, "--n", n, "--seed", "11", "--batch", "64", "--out", b])
            XCTAssertEqual(try PNG.read(a), try PNG.read(b), model)
        }
    }

    func testOneTileRegeneratesAlone() throws {
        let grid = Paths.temp("all.png"), one = Paths.temp("one.png"), bySeeds = Paths.temp("seeds.png")
        let model = Paths.torch("uncond_dyn18.onnx")
        try sample([model, "--n", "8", "--seed", "3", "--out", grid])
        try sample([model, "--n", "1", "--seed", "3", "--first-index", "5", "--out", one])
        XCTAssertEqual(tile(try PNG.read(grid), row: 0, col: 5, size: 8), tile(try PNG.read(one), row: 0, col: 0, size: 8))
        // --seeds K is tile 0 of --seed K.
        try sample([model, "--seeds", "2,3", "--out", bySeeds])
        XCTAssertEqual(tile(try PNG.read(bySeeds), row: 0, col: 1, size: 8), tile(try PNG.read(grid), row: 0, col: 0, size: 8))
    }

    func testClassRows() throws {
        let model = Paths.torch("cond_ts17.onnx")
        let all = Paths.temp("classes.png"), one = Paths.temp("class1.png")
        try sample([model, "--class", "all", "--seeds", "0-3", "--out", all])
        let img = try PNG.read(all)
        XCTAssertEqual(img.width, 4 * 10 + 2)
        XCTAssertEqual(img.height, 3 * 10 + 2)
        try sample([model, "--class", "1", "--seeds", "0-3", "--out", one])
        let row1 = try PNG.read(one)
        for c in 0..<4 { XCTAssertEqual(tile(img, row: 1, col: c, size: 8), tile(row1, row: 0, col: c, size: 8)) }
        XCTAssertNotEqual(tile(img, row: 0, col: 0, size: 8), tile(img, row: 2, col: 0, size: 8))
        let json = try JSONTestData.object(path: Paths.temp("classes.json"))
        let tiles: [[String: Any]] = try json.value("tiles")
        XCTAssertEqual(try tiles.map { try $0.value("class", as: Int.self) }, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
        XCTAssertEqual(json["num_classes"] as? Int, 3)
    }

    func testGannetExportReadsMetadata() throws {
        let spec = Paths.root.appendingPathComponent("Tests/Fixtures/train/tiny_cwgangp.yaml").path
        guard FileManager.default.fileExists(atPath: spec) else { throw XCTSkip("no tiny_cwgangp spec") }
        let dir = Paths.temp("tiny")
        let g = try SpecConversion.convert(specPath: spec, outDir: dir, seed: 3)[0]
        let model = try GeneratorModel.load(g)
        XCTAssertEqual(model.rangeSource, "metadata gannet.output_range")
        XCTAssertNotNil(model.numClasses)
        let out = Paths.temp("tiny.png")
        try sample([g, "--class", "all", "--seeds", "0-2", "--out", out])
        let json = try JSONTestData.object(path: Paths.temp("tiny.json"))
        XCTAssertEqual(try json.value("grid", as: [String: Any].self)["rows"] as? Int, model.numClasses)
        try interpolate([g, "--seeds", "0", "--class-from", "0", "--class-to", "1", "--steps", "3", "--out", Paths.temp("tiny-m.png")])
    }

    func testIndividualFiles() throws {
        let dir = Paths.temp("single")
        try sample([Paths.torch("uncond_ts17.onnx"), "--seeds", "4,9", "--individual", dir])
        XCTAssertEqual(try PNG.read(dir + "/seed9.png").width, 8)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/samples.json"))
    }

    func testErrors() throws {
        let cond = Paths.torch("cond_dyn18.onnx")
        let m1 = errorMessage { try sample([cond, "--seed", "1", "--out", Paths.temp("e.png")]) }
        XCTAssertTrue(m1.contains("conditional") && m1.contains("--class"), m1)
        let m2 = errorMessage { try sample([cond, "--class", "3", "--out", Paths.temp("e.png")]) }
        XCTAssertTrue(m2.contains("out of range") && m2.contains("3 classes"), m2)

        // A generator whose output is a plain Gemm + Reshape: the range is unknown.
        var g = Graph(name: "plain")
        let z = g.addInput("z", TensorType(.float32, [.symbol("N"), .fixed(4)]))
        let w = g.addInitializer("w", Tensor(shape: [16, 4], floats: (0..<64).map { Float($0 % 7) / 10 - 0.3 }))
        let s = g.addInitializer("s", Tensor(shape: [4], int64s: [-1, 1, 4, 4]))
        let h = g.add(.gemm, z, w, nil, output: "h", attributes: ["transB": .int(1)])
        g.outputs = [g.add(.reshape, h, s, output: "image")]
        let path = Paths.temp("plain.ir")
        try saveGraph(g, path: path)
        let m3 = errorMessage { try sample([path, "--seed", "1", "--out", Paths.temp("e.png")]) }
        XCTAssertTrue(m3.contains("--range"), m3)
        try sample([path, "--seed", "1", "--range", "-1,1", "--out", Paths.temp("plain.png")])
        XCTAssertEqual(try PNG.read(Paths.temp("plain.png")).width, 8 * 6 + 2)

        XCTAssertThrowsError(try GanSample.parse([cond, "--seed", "1", "--seeds", "1-2"]).validate())
        XCTAssertThrowsError(try GanSample.parse([cond, "--truncation", "0"]).validate())
        let m4 = errorMessage { try sample([Paths.temp("missing.onnx")]) }
        XCTAssertTrue(m4.contains("missing.onnx"), m4)
    }
}

final class GanInterpolateTests: XCTestCase {
    func testStripEndpointsAreTheSeedsImages() throws {
        let model = Paths.torch("uncond_ts17.onnx")
        let strip = Paths.temp("strip.png"), ends = Paths.temp("ends.png")
        try interpolate([model, "--seeds", "4,7,9", "--steps", "5", "--out", strip])
        let img = try PNG.read(strip)
        XCTAssertEqual(img.width, 5 * 10 + 2)
        XCTAssertEqual(img.height, 2 * 10 + 2)
        try sample([model, "--seeds", "4,7,9", "--out", ends])
        let e = try PNG.read(ends)
        XCTAssertEqual(tile(img, row: 0, col: 0, size: 8), tile(e, row: 0, col: 0, size: 8))
        XCTAssertEqual(tile(img, row: 0, col: 4, size: 8), tile(e, row: 0, col: 1, size: 8))
        XCTAssertEqual(tile(img, row: 1, col: 0, size: 8), tile(e, row: 0, col: 1, size: 8))
        XCTAssertEqual(tile(img, row: 1, col: 4, size: 8), tile(e, row: 0, col: 2, size: 8))
        try interpolate([model, "--seeds", "4,7", "--steps", "5", "--loop", "--mode", "lerp", "--out", strip])
        XCTAssertEqual(try PNG.read(strip).height, 2 * 10 + 2)
    }

    func testGIFFramesAndScale() throws {
        let gif = Paths.temp("walk.gif")
        try interpolate([Paths.torch("uncond_dyn18.onnx"), "--seeds", "1,2,3", "--steps", "4", "--out", gif])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: gif)))
        XCTAssertEqual(Array(bytes[0..<6]), Array("GIF89a".utf8))
        XCTAssertEqual(Int(bytes[6]) | Int(bytes[7]) << 8, 32)   // 8 px × 4
        let json = try JSONTestData.object(path: Paths.temp("walk.json"))
        XCTAssertEqual(try json.value("output", as: [String: Any].self)["frames"] as? Int, 2 * 4 + 1)
        try interpolate([Paths.torch("uncond_dyn18.onnx"), "--seeds", "1,2", "--steps", "4", "--loop", "--scale", "1", "--out", gif])
        let j2 = try JSONTestData.object(path: Paths.temp("walk.json"))
        XCTAssertEqual(try j2.value("output", as: [String: Any].self)["frames"] as? Int, 8)
        XCTAssertEqual(try j2.value("output", as: [String: Any].self)["width"] as? Int, 8)
    }

    func testClassEmbeddingInterpolation() throws {
        for model in [Paths.torch("cond_ts17.onnx"), Paths.torch("cond_dyn18.onnx")] {
            let strip = Paths.temp("morph.png"), rows = Paths.temp("rows.png")
            try interpolate([model, "--seeds", "6", "--class-from", "0", "--class-to", "2", "--steps", "4", "--out", strip])
            try sample([model, "--seeds", "6", "--class", "all", "--out", rows])
            let m = try PNG.read(strip), r = try PNG.read(rows)
            XCTAssertEqual(tile(m, row: 0, col: 0, size: 8), tile(r, row: 0, col: 0, size: 8), model)
            XCTAssertEqual(tile(m, row: 0, col: 3, size: 8), tile(r, row: 2, col: 0, size: 8), model)
            XCTAssertNotEqual(tile(m, row: 0, col: 1, size: 8), tile(m, row: 0, col: 0, size: 8), model)
        }
    }

    func testErrors() throws {
        let cond = Paths.torch("cond_ts17.onnx")
        let m1 = errorMessage { try interpolate([cond, "--seeds", "1,2", "--out", Paths.temp("w.gif")]) }
        XCTAssertTrue(m1.contains("--class"), m1)
        let m2 = errorMessage { try interpolate([Paths.torch("uncond_ts17.onnx"), "--seeds", "1", "--out", Paths.temp("w.gif")]) }
        XCTAssertTrue(m2.contains("at least two seeds"), m2)
        XCTAssertThrowsError(try GanInterpolate.parse([cond, "--seeds", "1,2", "--out", "w.avi"]).validate())
        XCTAssertThrowsError(try GanInterpolate.parse([cond, "--seeds", "1,2", "--mode", "cubic"]).validate())
        if FFmpeg.locate() == nil {
            let m3 = errorMessage { try interpolate([Paths.torch("uncond_ts17.onnx"), "--seeds", "1,2", "--out", Paths.temp("w.mp4")]) }
            XCTAssertTrue(m3.contains("ffmpeg"), m3)
        } else {
            let mp4 = Paths.temp("w.mp4")
            try interpolate([Paths.torch("uncond_ts17.onnx"), "--seeds", "1,2", "--steps", "3", "--out", mp4])
            let head = [UInt8](try Data(contentsOf: URL(fileURLWithPath: mp4)).prefix(12))
            XCTAssertEqual(Array(head[4..<8]), Array("ftyp".utf8))
        }
    }
}

/// PyTorch-exported generators (Tools/fixtures/make_torch_generators.py) against ONNX Runtime.
final class TorchGeneratorTests: XCTestCase {
    func testTorchExportsMatchONNXRuntime() throws {
        let ref = try JSONTestData.object(path: Paths.torch("reference.json"))
        for name in ["uncond", "cond"] {
            let r: [String: Any] = try ref.value(name)
            let zShape: [Int] = try r.value("z_shape")
            let zs = try r.value("z", as: [Double].self).map(Float.init)
            let per = zs.count / zShape[0]
            let latents = (0..<zShape[0]).map { Array(zs[($0 * per)..<(($0 + 1) * per)]) }
            for tag in ["ts17", "dyn18"] {
                let model = try GeneratorModel.load(Paths.torch("\(name)_\(tag).onnx"))
                XCTAssertEqual(model.latentShape, Array(zShape.dropFirst()))
                XCTAssertEqual(model.isConditional, name == "cond")
                if name == "cond" { XCTAssertEqual(model.numClasses, 3) }
                XCTAssertEqual(model.range, name == "cond" ? -1...1 : 0...1)
                for batch in [1, 5] {
                    let runner = try GeneratorRunner(model: model, batch: batch, threads: 1)
                    let got = try runner.generate(latents: latents, classes: (r["y"] as? [Int]))
                    let want = try r.value("out_\(tag)", as: [Double].self).map(Float.init)
                    XCTAssertEqual(got.count, want.count)
                    let err = zip(got, want).map { abs($0 - $1) }.max() ?? 1
                    XCTAssertLessThan(err, 1e-4, "\(name)_\(tag) batch \(batch)")
                }
            }
        }
    }
}
