// GannetError+GAN: GAN's errors as Core's `GannetError`. Checkpoint messages name the file;
// a non-finite step is reported as its whole description (iteration, network, values).

import Core

extension CheckpointError: GannetError {}

extension NonFiniteError: GannetError {
    public var message: String { description }
}
