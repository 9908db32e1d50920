// Issue 14: a tiny GAN whose networks use every image layer a spec can name for the new ops —
// elu, upsample (nearest and linear), instance_norm, pad (reflect, edge, constant) — trains 3
// steps through the Trainer with finite losses, and every new trainable parameter gets a
// gradient and moves (so each op's pullback reaches the parameters before it).

import XCTest
import Foundation
import GAN
import GraphIR
import Runtime
import SpecFormat
import TestSupport

final class ImageLayersTrainingTests: XCTestCase {
    /// G z(8) → fc 64 → (4,4,4) → upsample 2 → reflect pad 1 → conv 3×3 (4,8,8) → instance_norm
    /// → elu → instance_norm (affine: false) → conv 3×3 p1 → sigmoid "image" (1,8,8). D conv k4 s2 p1 (4,4,4) → elu 0.5 →
    /// linear upsample 2 (4,8,8) → edge pad [1,0,0,1] → constant pad [0,1,1,0] (4,10,10) →
    /// instance_norm → reshape → linear → logit (N,).
    static let yaml = TinySpec.yaml(
        name: "tiny_image_layers", datasetPath: "/nonexistent", seed: 5, schedule: "{epochs: 1, batch_size: 16}",
        layers: TinySpec.Layers(
            generator: ["linear: 64", "reshape: [-1, 4, 4, 4]", "upsample: 2", "pad: {pads: 1, mode: reflect}",
                        "conv: {out: 4, kernel: 3}", "{instance_norm: null, name: g_norm}", "elu", "instance_norm: {affine: false}",
                        "conv: {out: 1, kernel: 3, padding: 1}", "sigmoid", "{reshape: [-1, 1, 8, 8], name: image}"],
            discriminator: ["conv: {out: 4, kernel: 4, stride: 2, padding: 1}", "elu: 0.5", "upsample: {scale: 2, mode: linear}",
                            "pad: {pads: [1, 0, 0, 1], mode: edge}", "pad: [0, 1, 1, 0]", "{instance_norm: {eps: 1.0e-4}, name: d_norm}",
                            "reshape: [-1, 400]", "linear: 1", "{reshape: [-1], name: logit}"]))

    func testTinySpecWithEveryImageLayerTrainsThreeSteps() throws {
        let spec = try Spec.parse(yaml: Self.yaml, file: "tiny_image_layers.yaml")
        let steps = try GANSteps(spec: spec, seed: 2, threads: 1)
        let watched = ["generator/g_norm.weight", "generator/g_norm.bias", "discriminator/d_norm.weight", "discriminator/d_norm.bias",
                       "generator/fc1.weight", "discriminator/conv1.weight"]
        for p in watched.prefix(2) { XCTAssertTrue(steps.generatorParameters.contains(p), "\(p) in \(steps.generatorParameters)") }
        for p in watched.suffix(4).prefix(2) { XCTAssertTrue(steps.discriminatorParameters.contains(p), "\(p) in \(steps.discriminatorParameters)") }
        let before = Dictionary(uniqueKeysWithValues: watched.map { ($0, steps.store.tensor($0)!.floats) })
        let t = Trainer(steps: steps, data: SyntheticBatches(batchSize: 16), epochs: 1, generatorFrequency: 0, fixedSamples: 4)
        var dLosses: [Float] = [], gLosses: [Float] = []
        while dLosses.count < 3, let r = try t.iterate() {
            dLosses.append(try XCTUnwrap(r.dOutputs["d_loss"]))
            gLosses.append(try XCTUnwrap(r.gOutputs?["g_loss"]))
        }
        XCTAssertEqual(dLosses.count, 3)
        XCTAssertEqual(gLosses.count, 3)
        XCTAssertTrue((dLosses + gLosses).allSatisfy { $0.isFinite && $0 > 0 }, "D \(dLosses) G \(gLosses)")
        for p in watched {
            let now = try XCTUnwrap(steps.store.tensor(p)).floats
            XCTAssertTrue(now.allSatisfy(\.isFinite), p)
            XCTAssertNotEqual(now, before[p], "\(p) did not move in 3 steps")
        }
    }
}
