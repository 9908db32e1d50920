// GannetError+Media: Media's errors as Core's `GannetError`; their messages name the file.

import Core

extension MediaError: GannetError {}
extension ProtobufError: GannetError {}
