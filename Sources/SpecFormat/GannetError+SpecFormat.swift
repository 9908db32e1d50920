// GannetError+SpecFormat: spec errors as Core's `GannetError`. `SpecError` is located at
// `file:line:column`; `OverrideError` names its command-line flag in the message.

import Core

extension SpecError: GannetError {
    public var location: String? { "\(file):\(line):\(column)" }
}

extension OverrideError: GannetError {
    public var message: String { description }
}
