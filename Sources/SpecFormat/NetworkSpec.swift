// Network specs: a network's role, its graph inputs and its layer list.
//
// Contract: plain values filled by `SpecReader` (SpecReader+Network.swift); every value carries
// the `SpecPosition` of its YAML key so later errors (Builder.swift) name file, line and column.

/// What a network is for.
public enum NetworkRole: String, Sendable, CaseIterable {
    case generator, discriminator, critic, classifier, encoder, other
}

/// A graph input of a network.
public struct InputSpec: Equatable, Sendable {
    /// `latent` (f32[N, latent.size]), `label` (i64[N]), `image` (f32[N, C, H, W] of the dataset)
    /// or `tensor` (explicit shape and dtype).
    public var kind: String
    public var name: String
    /// Per-sample shape (the batch dim N is prepended).
    public var shape: [Int]
    public var dtype: String
    public var position: SpecPosition
}

/// One network: its inputs and a layer list (a DAG through named values).
public struct NetworkSpec: Equatable, Sendable {
    public var name: String
    public var role: NetworkRole
    public var inputs: [InputSpec]
    public var layers: [LayerSpec]
    /// Output value names (default: the last layer's output).
    public var outputs: [String]
    public var initRule: InitRule
    public var position: SpecPosition
}
