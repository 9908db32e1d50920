// GannetError+GraphIR: GraphIR's errors as Core's `GannetError` (location + message).
//
// Contract: conformance only — every description stays what the type already prints.
// `GraphError` carries no location (verification does not know the file); callers add it with
// `at(path) { … }`. `IRParseError` is located at `line:column` of the text being parsed.
// `KernelError` (Kernels does not depend on Core) conforms here, the lowest module that sees both.

import Core
import Kernels

extension GraphError: GannetError {}

extension IRParseError: GannetError {
    public var location: String? { "\(line):\(column)" }
}

extension AtomicFile.WriteError: GannetError {
    /// The whole text (it names the file).
    public var message: String { description }
}

extension KernelError: GannetError {
    /// The whole text (no location: a kernel does not know the model).
    public var message: String { description }
}
