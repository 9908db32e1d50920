// GannetError+Runtime: `RuntimeError` as Core's `GannetError` (no location: the interpreter does
// not know the model file; callers add it with `at(path) { … }`).

import Core

extension RuntimeError: GannetError {}
