// GannetError+GAN: GAN's errors as Core's `GannetError`. Checkpoint messages name the file;
// a non-finite step is reported as its whole description (iteration, network, values).
// `CommunicatorError` (Distributed does not depend on Core) conforms here, its only user.

import Core
import Distributed

extension CheckpointError: GannetError {}

extension NonFiniteError: GannetError {
    public var message: String { description }
}

extension CommunicatorError: GannetError {}
