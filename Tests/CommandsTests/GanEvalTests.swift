// GanEvalTests: gan-eval end to end through its executable, on a tiny Fashion-MNIST-shaped data
// directory, a tiny linear classifier and hand-written generators (IR text): a sane generator
// gets finite scores (exit 0, JSON on stdout), and one whose finite samples overflow the
// classifier's features (so FID is NaN) fails with exit 1 and an error naming the generator
// and the metric, never `FID nan` with exit 0 (issue 15). `--features inception:PATH`: a
// stand-in network (GlobalAveragePool → 2048 features) runs the protocol end to end (IS null: no
// logits output), and a missing file, a bad `--features` value and a wrong network are clear
// errors naming the file.

import Foundation
import XCTest

final class GanEvalTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "gannet-eval-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/fashion", withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    /// Both splits of a Fashion-MNIST-shaped directory: `count` 28×28 images of seeded bytes,
    /// labels 0, 1, 2, 0, … (uncompressed IDX: big-endian magic and dims).
    func writeData(count: Int) throws {
        func be(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func byte() -> UInt8 { state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt8(state >> 56) }
        for prefix in ["train", "t10k"] {
            let images = [0, 0, 8, 3] + be(count) + be(28) + be(28) + (0..<(count * 784)).map { _ in byte() }
            let labels = [0, 0, 8, 1] + be(count) + (0..<count).map { UInt8($0 % 3) }
            try Data(images).write(to: URL(fileURLWithPath: "\(root)/fashion/\(prefix)-images-idx3-ubyte"))
            try Data(labels).write(to: URL(fileURLWithPath: "\(root)/fashion/\(prefix)-labels-idx1-ubyte"))
        }
    }

    /// IR text of a float initializer (values as Swift prints them).
    func initializer(_ name: String, _ shape: [Int], _ values: [Float]) -> String {
        "  init %\(name): f32[\(shape.map(String.init).joined(separator: ","))] = [\(values.map { "\($0)" }.joined(separator: ", "))]\n"
    }

    /// Classifier: flatten → features = x·W1 (4 wide, weights in [0.5, 1.5]) → logits = features·W2 (3 classes).
    func writeClassifier() throws -> String {
        let w1 = (0..<(784 * 4)).map { Float(0.5) + Float($0 % 11) / 10 }
        let w2 = (0..<12).map { Float($0 % 5) / 4 - 0.5 }
        let text = """
        graph "tiny_classifier" {
          input %x: f32[N,1,28,28]
          init %flat: i64[2] = [-1, 784]
        \(initializer("w1", [784, 4], w1))\(initializer("w2", [4, 3], w2))  %f: f32[N,784] = Reshape(%x, %flat)
          %features: f32[N,4] = MatMul(%f, %w1)
          %logits: f32[N,3] = MatMul(%features, %w2)
          output %features
          output %logits
        }
        """
        let path = root + "/classifier.ir"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Generator z(4) → z·W (every weight `scale`) → image 1×28×28, no output activation (range from --range).
    func writeGenerator(_ name: String, scale: Float) throws -> String {
        let text = """
        graph "\(name)" {
          input %z: f32[N,4]
          init %shape: i64[4] = [-1, 1, 28, 28]
        \(initializer("w", [4, 784], Array(repeating: scale, count: 4 * 784)))  %h: f32[N,784] = MatMul(%z, %w)
          %image: f32[N,1,28,28] = Reshape(%h, %shape)
          output %image
        }
        """
        let path = root + "/\(name).ir"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func evaluate(_ generator: String, classifier: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try runTool("gan-eval", [generator, "--n", "10", "--classifier", classifier, "--data", root + "/fashion",
                                 "--range", "-1,1", "--threads", "1", "--json"])
    }

    func testSaneGeneratorGetsFiniteScores() throws {
        try writeData(count: 10)
        let classifier = try writeClassifier()
        let r = try evaluate(try writeGenerator("sane", scale: 0.01), classifier: classifier)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let fid = try XCTUnwrap(json["fid"] as? Double, r.stdout)
        XCTAssertTrue(fid.isFinite && fid > 0, r.stdout)
        XCTAssertNotNil((json["baseline"] as? [String: Any])?["fid"] as? Double, r.stdout)
    }

    func testNonFiniteFIDIsAClearError() throws {
        // Samples are finite (about ±1e37 · Σz, under Float's 3.4e38, so GeneratorRunner's
        // output check passes) but the classifier's 784-term sums overflow to ±∞: the
        // features' mean is infinite and their covariance NaN, so FID is NaN.
        try writeData(count: 10)
        let classifier = try writeClassifier()
        let generator = try writeGenerator("overflowing", scale: 1e37)
        let r = try evaluate(generator, classifier: classifier)
        XCTAssertEqual(r.status, 1, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("\(generator): FID is not finite ("), r.stderr)
        XCTAssertTrue(r.stderr.contains("the features of the generated images hold NaN or infinity"), r.stderr)
        XCTAssertEqual(r.stdout, "", "no scores are printed")
    }

    /// A stand-in Inception network (IR text): x [N,3,H,W] → GlobalAveragePool → [N,3] · W (3 × width).
    func writeStandIn(_ name: String, input: String = "N,3,299,299", width: Int = 2048) throws -> String {
        let w = (0..<(3 * width)).map { Float($0 % 13) / 13 - 0.4 }
        let text = """
        graph "stand_in" {
          input %x: f32[\(input)]
          init %flat: i64[2] = [-1, 3]
        \(initializer("w", [3, width], w))  %p: f32[N,3,1,1] = GlobalAveragePool(%x)
          %f: f32[N,3] = Reshape(%p, %flat)
          %pool3: f32[N,\(width)] = MatMul(%f, %w)
          output %pool3
        }
        """
        let path = root + "/\(name).ir"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func evaluateInception(_ generator: String, _ features: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try runTool("gan-eval", [generator, "--n", "10", "--features", features, "--data", root + "/fashion",
                                 "--range", "-1,1", "--threads", "1", "--json"])
    }

    func testInceptionFeaturesEndToEnd() throws {
        try writeData(count: 10)
        let net = try writeStandIn("inception")
        let r = try evaluateInception(try writeGenerator("sane", scale: 0.01), "inception:" + net)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let fid = try XCTUnwrap(json["fid"] as? Double, r.stdout)
        XCTAssertTrue(fid.isFinite && fid >= 0, r.stdout)
        XCTAssertTrue(json["is_mean"] is NSNull, "no logits output: IS is unavailable, \(r.stdout)")
        XCTAssertTrue(json["classifier_accuracy"] is NSNull, r.stdout)
        XCTAssertNotNil((json["baseline"] as? [String: Any])?["fid"] as? Double, r.stdout)
        XCTAssertTrue(r.stderr.contains("Inception network \(net): features 'pool3' (2048-d), no logits output (no IS)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("images/s)"), r.stderr)
    }

    func testInceptionErrorsNameTheFile() throws {
        try writeData(count: 10)
        let generator = try writeGenerator("sane", scale: 0.01)
        let missing = root + "/missing.onnx"
        var r = try evaluateInception(generator, "inception:" + missing)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(missing): Inception network not found; export pytorch-fid's with `python Tools/reference/export_fid_inception.py"), r.stderr)
        r = try evaluateInception(generator, "vgg:" + missing)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--features must be inception:PATH.onnx or classifier:PATH, got 'vgg:"), r.stderr)
        let narrow = try writeStandIn("narrow", width: 1000)
        r = try evaluateInception(generator, "inception:" + narrow)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(narrow): the Inception network's feature output 'pool3' is N×1000; pool3 features are N×2048"), r.stderr)
        let small = try writeStandIn("small", input: "N,3,224,224")
        r = try evaluateInception(generator, "inception:" + small)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(small): the Inception network's input 'x' is [N, 3, 224, 224]; the pytorch-fid protocol feeds [N, 3, 299, 299]"), r.stderr)
    }
}
