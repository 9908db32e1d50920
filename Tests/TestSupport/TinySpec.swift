// TinySpec: the tiny GAN spec the gan-train, GAN-tricks, image-layer and data-parallel suites
// train (one copy of the YAML).
//
// Contract: by default G z(8) → linear 32 → LeakyReLU(0.2) → linear 64 → sigmoid → reshape
// "image" (N×1×8×8); D conv(4, k4 s2 p1) → LeakyReLU(0.2) "features" (N×4×4×4) → reshape N×64 →
// `hidden` layers → linear 1 → reshape "logit" (N,). `layers` replaces both layer lists (and may
// rename the discriminator network, e.g. `critic`). The dataset is a 1×8×8 image folder at
// `datasetPath`, range [0, 1], no labels. Every other section is spliced in as YAML text;
// `extra` adds top-level lines (`sync_batchnorm: true`).

public enum TinySpec {
    /// The two networks' layer lists, one YAML flow item per element.
    public struct Layers {
        public var generator: [String]
        public var discriminator: [String]
        /// The discriminator network's name.
        public var discriminatorName: String

        public init(generator: [String], discriminator: [String], discriminatorName: String = "discriminator") {
            self.generator = generator
            self.discriminator = discriminator
            self.discriminatorName = discriminatorName
        }

        /// The default networks, with `hidden` layers in D before its last linear layer.
        public static func standard(hidden: [String] = []) -> Layers {
            Layers(generator: generator(), discriminator: discriminator(hidden: hidden))
        }

        /// The default generator with `first` as its first layer and `norm` right after it.
        public static func generator(first: String = "linear: 32", norm: [String] = []) -> [String] {
            [first] + norm + ["leaky_relu: 0.2", "linear: 64", "sigmoid", "{reshape: [-1, 1, 8, 8], name: image}"]
        }

        /// The default discriminator with `conv` as its first layer, `norm` after it and `hidden`
        /// layers before its last linear layer.
        public static func discriminator(conv: String = "conv: {out: 4, kernel: 4, stride: 2, padding: 1}", norm: [String] = [],
                                         hidden: [String] = []) -> [String] {
            [conv] + norm + ["{leaky_relu: 0.2, name: features}", "reshape: [-1, 64]"] + hidden
                + ["linear: 1", "{reshape: [-1], name: logit}"]
        }
    }

    public static func yaml(name: String, datasetPath: String, seed: Int = 3, latent: String = "{size: 8}",
                            loss: String = "gan_bce_logits", schedule: String = "{epochs: 1, batch_size: 6}",
                            optimizer: String = "{kind: adam, lr: 1.0e-3}", output: String? = nil, hidden: [String] = [],
                            layers: Layers? = nil, extra: String? = nil) -> String {
        let nets = layers ?? .standard(hidden: hidden)
        func list(_ items: [String]) -> String { items.map { "      - \($0)" }.joined(separator: "\n") }
        return """
        name: \(name)
        seed: \(seed)
        dataset: {name: folder, path: \(datasetPath), range: [0, 1], shape: [1, 8, 8], labels: false}
        latent: \(latent)
        networks:
          generator:
            role: generator
            inputs: {z: latent}
            layers:
        \(list(nets.generator))
          \(nets.discriminatorName):
            role: discriminator
            inputs: {x: image}
            layers:
        \(list(nets.discriminator))
        loss: \(loss)
        schedule: \(schedule)
        optimizers: {default: \(optimizer)}
        """ + (output.map { "\noutput: \($0)" } ?? "") + (extra.map { "\n\($0)" } ?? "")
    }
}
