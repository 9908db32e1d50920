// Issue 18's spec options: the `began` loss's gamma and lambda_k, and the folder dataset's
// crop and skip_bad_images: defaults, values, and errors at the key.

import SpecFormat
import XCTest

extension SpecFormatTests {
    func testBEGANOptions() throws {
        let plain = try Spec.parse(yaml: Self.good.replacingOccurrences(of: "loss: gan_bce_logits", with: "loss: began"))
        XCTAssertEqual(plain.loss.kind, .began)
        XCTAssertEqual(plain.loss.gamma, 0.5)
        XCTAssertEqual(plain.loss.lambdaK, 0.001)
        let set = try Spec.parse(yaml: Self.good.replacingOccurrences(of: "loss: gan_bce_logits", with: "loss: {kind: began, gamma: 0.7, lambda_k: 0.01}"))
        XCTAssertEqual(set.loss.gamma, 0.7)
        XCTAssertEqual(set.loss.lambdaK, 0.01)
        XCTAssertEqual(try loadSpec("began_fashion").loss.kind, .began)

        var e = specError(Self.good.replacingOccurrences(of: "loss: gan_bce_logits", with: "loss: {kind: lsgan, gamma: 0.5}"))
        XCTAssertTrue(e.hasPrefix("bad.yaml:3:21: loss: 'gamma' applies to began only"), e)
        e = specError(Self.good.replacingOccurrences(of: "loss: gan_bce_logits", with: "loss: {kind: began, gamma: 1.5}"))
        XCTAssertTrue(e.hasPrefix("bad.yaml:3:28: loss.gamma must be in (0, 1]"), e)
        e = specError(Self.good.replacingOccurrences(of: "loss: gan_bce_logits", with: "loss: {kind: began, lambda_k: -1}"))
        XCTAssertTrue(e.contains("loss.lambda_k must not be negative"), e)
    }

    /// Issue 16's `sync_batchnorm`: false by default, a boolean, an error at the value otherwise.
    func testSyncBatchNormOption() throws {
        XCTAssertFalse(try Spec.parse(yaml: Self.good).syncBatchNorm)
        XCTAssertTrue(try Spec.parse(yaml: Self.good + "\nsync_batchnorm: true").syncBatchNorm)
        XCTAssertFalse(try Spec.parse(yaml: Self.good + "\nsync_batchnorm: false").syncBatchNorm)
        var e = specError(Self.good + "\nsync_batchnorm: sometimes")
        XCTAssertTrue(e.hasPrefix("bad.yaml:14:17: sync_batchnorm: expected true or false, got"), e)
        e = specError(Self.good + "\nsync_batch_norm: true")
        XCTAssertTrue(e.hasPrefix("bad.yaml:14:1:") && e.contains("sync_batch_norm"), e)
    }

    func testFolderCropAndSkipOptions() throws {
        let folder = Self.good.replacingOccurrences(of: "dataset: {name: mnist}",
                                                     with: "dataset: {name: folder, path: /faces, shape: [1, 7, 7], crop: 178, skip_bad_images: true}")
        let s = try Spec.parse(yaml: folder)
        XCTAssertEqual(s.dataset.crop, 178)
        XCTAssertTrue(s.dataset.skipBadImages)
        // The networks see the crop when there is no resize.
        XCTAssertEqual(s.dataset.imageShape, [1, 178, 178])
        var resized = s.dataset
        resized.resize = 64
        XCTAssertEqual(resized.imageShape, [1, 64, 64])
        let plain = try Spec.parse(yaml: Self.good)
        XCTAssertNil(plain.dataset.crop)
        XCTAssertFalse(plain.dataset.skipBadImages)
        let e = specError(Self.good.replacingOccurrences(of: "dataset: {name: mnist}", with: "dataset: {name: mnist, crop: 20}"))
        XCTAssertTrue(e.hasPrefix("bad.yaml:1:24: dataset: 'crop' applies to folder datasets only"), e)
    }
}
