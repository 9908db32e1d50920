// Spec section about what a run writes: frames, video, TensorBoard, checkpoints.
//
// Contract: a plain value filled by `SpecReader` (SpecReader.swift) with the defaults of
// Specs/README.md when the `output` section is absent.

/// What a run writes.
public struct OutputSpec: Equatable, Sendable {
    public var directory: String
    /// Number of fixed latent samples in each frame.
    public var fixedSamples: Int
    /// Rows of the frame grid (nil: ⌊√fixed_samples⌋).
    public var gridRows: Int?
    public var frames: Bool
    /// Video frame rate and x264 CRF; nil: no video.
    public var videoFPS: Int?
    public var videoCRF: Int
    /// `auto` (MP4 when ffmpeg is installed, else GIF), `mp4` or `gif`.
    public var videoFormat: String = "auto"
    public var tensorboard: Bool
    /// Checkpoints: `epoch` (once per epoch) or `never`.
    public var checkpoint: String
}
