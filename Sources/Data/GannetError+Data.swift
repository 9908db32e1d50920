// GannetError+Data: `DataError` as Core's `GannetError`; its message names the dataset file.

import Core

extension DataError: GannetError {}
