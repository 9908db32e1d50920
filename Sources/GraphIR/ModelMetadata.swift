// ModelMetadata: the `gannet.*` keys a model file carries (ONNX metadata_props), typed — the
// one place that names them, used both by the code that writes them (the spec builder,
// gan-train's export, the classifier trainer) and by the code that reads them (the sampling
// tools' GeneratorModel, the metrics' FeatureNetwork, the GAN step compiler).
//
// Contract: a view over `Graph.metadata` ([String: String]); reading a key never fails (a value
// that does not parse reads as nil, except the range texts, which are kept as written so the
// reader can name the bad text); setting a property to nil removes its key; keys other than
// these pass through untouched. Lists are comma-separated ("a,b,c"); `imageShape` is "C,H,W";
// ranges are "low,high".

/// The `gannet.*` metadata of a model, by meaning.
public struct ModelMetadata: Equatable, Sendable {
    /// Every key Gannet writes or reads.
    public enum Key: String, CaseIterable, Sendable {
        // Provenance (every network the spec builder makes).
        case spec = "gannet.spec", network = "gannet.network", role = "gannet.role", seed = "gannet.seed"
        /// Comma-separated trainable initializer names.
        case parameters = "gannet.parameters"
        // Generators.
        case latentSize = "gannet.latent_size", latentDistribution = "gannet.latent_distribution"
        case latentInput = "gannet.latent_input", labelInput = "gannet.label_input", numClasses = "gannet.num_classes"
        /// "low,high": the pixel range of the output.
        case outputRange = "gannet.output_range"
        /// "C,H,W": the image shape of a flat [N, D] output.
        case imageShape = "gannet.image_shape"
        /// D iterations a gan-train export was trained for.
        case trainedIterations = "gannet.trained_iterations"
        // Classifiers (gannet train-classifier).
        case featureOutput = "gannet.feature_output", logitsOutput = "gannet.logits_output", classes = "gannet.classes"
        case classNames = "gannet.class_names", testAccuracy = "gannet.test_accuracy"
        /// "low,high": the pixel range the classifier was trained on.
        case inputRange = "gannet.input_range"
        case trainedEpochs = "gannet.trained_epochs", dataset = "gannet.dataset"
    }

    /// All metadata entries (gannet.* and any other).
    public var entries: [String: String]

    public init(_ entries: [String: String] = [:]) { self.entries = entries }

    public subscript(key: Key) -> String? {
        get { entries[key.rawValue] }
        set { entries[key.rawValue] = newValue }
    }

    private func int(_ k: Key) -> Int? { self[k].flatMap { Int($0) } }
    private mutating func setInt(_ k: Key, _ v: Int?) { self[k] = v.map(String.init) }
    private func list(_ k: Key) -> [String]? { self[k].map { $0.isEmpty ? [] : $0.split(separator: ",").map(String.init) } }

    public var spec: String? { get { self[.spec] } set { self[.spec] = newValue } }
    public var network: String? { get { self[.network] } set { self[.network] = newValue } }
    public var role: String? { get { self[.role] } set { self[.role] = newValue } }
    public var seed: UInt64? { get { self[.seed].flatMap { UInt64($0) } } set { self[.seed] = newValue.map(String.init) } }
    /// Trainable parameter names (nil: key absent; [] for an empty list).
    public var parameters: [String]? { get { list(.parameters) } set { self[.parameters] = newValue?.joined(separator: ",") } }

    public var latentSize: Int? { get { int(.latentSize) } set { setInt(.latentSize, newValue) } }
    /// `normal` or `uniform` as written (the sampling tools check it).
    public var latentDistribution: String? { get { self[.latentDistribution] } set { self[.latentDistribution] = newValue } }
    public var latentInput: String? { get { self[.latentInput] } set { self[.latentInput] = newValue } }
    public var labelInput: String? { get { self[.labelInput] } set { self[.labelInput] = newValue } }
    public var numClasses: Int? { get { int(.numClasses) } set { setInt(.numClasses, newValue) } }
    /// The output range text ("low,high") as written.
    public var outputRange: String? { get { self[.outputRange] } set { self[.outputRange] = newValue } }
    /// (C, H, W), or nil when absent or not three integers.
    public var imageShape: [Int]? {
        get {
            guard let t = self[.imageShape] else { return nil }
            let p = t.split(separator: ",").compactMap { Int($0) }
            return p.count == 3 ? p : nil
        }
        set { self[.imageShape] = newValue?.map(String.init).joined(separator: ",") }
    }
    public var trainedIterations: Int? { get { int(.trainedIterations) } set { setInt(.trainedIterations, newValue) } }

    public var featureOutput: String? { get { self[.featureOutput] } set { self[.featureOutput] = newValue } }
    public var logitsOutput: String? { get { self[.logitsOutput] } set { self[.logitsOutput] = newValue } }
    public var classes: Int? { get { int(.classes) } set { setInt(.classes, newValue) } }
    public var classNames: [String]? { get { list(.classNames) } set { self[.classNames] = newValue?.joined(separator: ",") } }
    /// The test accuracy text as written ("0.9123").
    public var testAccuracy: String? { get { self[.testAccuracy] } set { self[.testAccuracy] = newValue } }
    /// The input range text ("low,high") as written.
    public var inputRange: String? { get { self[.inputRange] } set { self[.inputRange] = newValue } }
    public var trainedEpochs: Int? { get { int(.trainedEpochs) } set { setInt(.trainedEpochs, newValue) } }
    public var dataset: String? { get { self[.dataset] } set { self[.dataset] = newValue } }

    /// A range text: "0,1" or "-1,1" for a pixel range that starts at `low`.
    public static func rangeText(low: Double) -> String { low < 0 ? "-1,1" : "0,1" }
}

extension Graph {
    /// `metadata` as typed `gannet.*` keys.
    public var gannet: ModelMetadata {
        get { ModelMetadata(metadata) }
        set { metadata = newValue.entries }
    }
}
