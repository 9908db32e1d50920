// HyperparameterTests: the spec reader and the command-line overrides reject the same
// learning rates, betas, momenta and generator frequencies (issue 15: `--d-lr nan`, `inf`,
// `1e30`, `-1`, `0`, `--betas 1,1`, `--generator-frequency -1`, spec `lr: .inf` were accepted).

import SpecFormat
import XCTest

final class HyperparameterTests: XCTestCase {
    func yaml(optimizer: String = "{kind: adam, lr: 1.0e-3}", schedule: String = "{epochs: 1, batch_size: 4}") -> String {
        """
        name: hp
        dataset: {name: folder, path: /nonexistent, range: [0, 1], shape: [1, 4, 4], labels: false}
        latent: {size: 4}
        networks:
          generator:
            role: generator
            inputs: {z: latent}
            layers:
              - linear: 16
              - {reshape: [-1, 1, 4, 4], name: image}
          discriminator:
            role: discriminator
            inputs: {x: image}
            layers:
              - reshape: [-1, 16]
              - linear: 1
              - {reshape: [-1], name: logit}
        loss: gan_bce_logits
        schedule: \(schedule)
        optimizers: {default: \(optimizer)}
        """
    }

    func testSpecRejectsBadOptimizerSettingsAtTheirPosition() {
        let cases: [(String, String)] = [
            ("{kind: adam, lr: .inf}", "lr must be a finite number"),
            ("{kind: adam, lr: -1}", "lr must be positive"),
            ("{kind: adam, lr: 0}", "lr must be positive"),
            ("{kind: adam, lr: 1.0e30}", "lr must be at most 10.0"),
            ("{kind: adam, lr: 1.0e-3, betas: [1, 1]}", "betas: beta1 must be in [0, 1)"),
            ("{kind: adam, lr: 1.0e-3, betas: [0.5, 1.5]}", "betas: beta2 must be in [0, 1)"),
            ("{kind: sgd, lr: 1.0e-3, momentum: 1}", "momentum must be in [0, 1)"),
            ("{kind: rmsprop, lr: 1.0e-3, alpha: -0.5}", "alpha must be in [0, 1)"),
            ("{kind: adam, lr: 1.0e-3, eps: .inf}", "eps must be finite and not negative"),
            ("{kind: adam, lr: 1.0e-3, weight_decay: -1}", "weight_decay must be finite and not negative"),
        ]
        for (optimizer, expected) in cases {
            let message = specError(yaml(optimizer: optimizer), file: "hp.yaml")
            XCTAssertTrue(message.hasPrefix("hp.yaml:20:"), "\(optimizer): \(message)")
            XCTAssertTrue(message.contains("optimizers.default.\(expected)"), "\(optimizer): \(message)")
        }
        XCTAssertTrue(specError(yaml(schedule: "{epochs: 1, batch_size: 4, generator_frequency: -1}")).contains("generator_frequency"))
        XCTAssertNoThrow(try Spec.parse(yaml: yaml(optimizer: "{kind: sgd, lr: 10, momentum: 0.9}")))
    }

    func testOverridesAreCheckedLikeTheSpec() throws {
        let base = try Spec.parse(yaml: yaml(), file: "hp.yaml")
        func overrideError(_ body: (inout Spec) throws -> Void) -> String {
            var s = base
            do { try body(&s) } catch { return "\(error)" }
            return "accepted"
        }
        for bad in [Double.nan, .infinity, 1e30, -1, 0] {
            let d = overrideError { try $0.applyTrainingOverrides(dLR: bad) }
            XCTAssertTrue(d.hasPrefix("--d-lr "), "\(bad): \(d)")
            XCTAssertEqual(Hyperparameters.learningRateProblem(bad).map { "--d-lr " + $0 }, d)
            let g = overrideError { try $0.applyTrainingOverrides(gLR: bad) }
            XCTAssertTrue(g.hasPrefix("--g-lr "), "\(bad): \(g)")
            // The spec reader gives the same reason for the same value.
            if bad.isFinite {
                let m = specError(yaml(optimizer: "{kind: adam, lr: \(bad)}"))
                XCTAssertTrue(m.hasSuffix(Hyperparameters.learningRateProblem(bad)!), m)
            }
        }
        XCTAssertEqual(overrideError { try $0.applyTrainingOverrides(betas: (1, 1)) }, "--betas: beta1 must be in [0, 1), got 1.0")
        XCTAssertEqual(overrideError { try $0.applyTrainingOverrides(generatorFrequency: -1) }, "--generator-frequency must not be negative, got -1")
        XCTAssertEqual(overrideError { try $0.applyTrainingOverrides(generatorFrequency: 2, dLR: 10, gLR: 2e-4, betas: (0.5, 0.99)) }, "accepted")
        var s = base
        try s.applyTrainingOverrides(dLR: 0.5, gLR: 2e-4)
        XCTAssertEqual(s.optimizers["discriminator"]?.lr, 0.5)
        XCTAssertEqual(s.optimizers["generator"]?.lr, 2e-4)
    }
}
