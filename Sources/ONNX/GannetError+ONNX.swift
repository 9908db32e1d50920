// GannetError+ONNX: `ONNXError` as Core's `GannetError`; its message already names the file.

import Core

extension ONNXError: GannetError {}
