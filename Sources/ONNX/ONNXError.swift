// ONNXError: the one error type of the ONNX module; the message names the file and what is wrong.

/// A malformed, unsupported or unreadable ONNX file (model or TensorProto).
public struct ONNXError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
