// TinySpec: the tiny no-BatchNorm GAN spec the gan-train and GAN-tricks suites train (one copy).
//
// Contract: G z(8) → linear 32 → LeakyReLU(0.2) → linear 64 → sigmoid → reshape "image"
// (N×1×8×8); D conv(4, k4 s2 p1) → LeakyReLU(0.2) "features" (N×4×4×4) → reshape N×64 →
// `hidden` layers → linear 1 → reshape "logit" (N,). The dataset is a 1×8×8 image folder at
// `datasetPath`, range [0, 1], no labels. Every other section is spliced in as YAML text.

public enum TinySpec {
    public static func yaml(name: String, datasetPath: String, latent: String = "{size: 8}", loss: String = "gan_bce_logits",
                            schedule: String = "{epochs: 1, batch_size: 6}", optimizer: String = "{kind: adam, lr: 1.0e-3}",
                            output: String? = nil, hidden: [String] = []) -> String {
        let hiddenLines = hidden.map { "      - \($0)\n" }.joined()
        return """
        name: \(name)
        seed: 3
        dataset: {name: folder, path: \(datasetPath), range: [0, 1], shape: [1, 8, 8], labels: false}
        latent: \(latent)
        networks:
          generator:
            role: generator
            inputs: {z: latent}
            layers:
              - linear: 32
              - leaky_relu: 0.2
              - linear: 64
              - sigmoid
              - {reshape: [-1, 1, 8, 8], name: image}
          discriminator:
            role: discriminator
            inputs: {x: image}
            layers:
              - conv: {out: 4, kernel: 4, stride: 2, padding: 1}
              - {leaky_relu: 0.2, name: features}
              - reshape: [-1, 64]
        \(hiddenLines)      - linear: 1
              - {reshape: [-1], name: logit}
        loss: \(loss)
        schedule: \(schedule)
        optimizers: {default: \(optimizer)}
        """ + (output.map { "\noutput: \($0)" } ?? "")
    }
}
