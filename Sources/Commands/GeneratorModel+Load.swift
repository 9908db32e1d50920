// GeneratorModel+Load: reads a generator file (ONNX `.pb`/`.onnx` or IR text `.ir`) for the
// sampling tools; the model analysis itself is GAN's `GeneratorModel`.

import GAN

extension GeneratorModel {
    /// The generator at `path`, analysed with `hints` (errors name the file).
    public static func load(_ path: String, hints: GeneratorHints = GeneratorHints()) throws -> GeneratorModel {
        try GeneratorModel(graph: GraphSources.load(path), path: path, hints: hints)
    }
}
