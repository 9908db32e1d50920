// GannetError+Metrics: `MetricsError` as Core's `GannetError` (no location: the caller names
// the classifier file with `at(path) { … }`).

import Core

extension MetricsError: GannetError {
    public var message: String { description }
}
