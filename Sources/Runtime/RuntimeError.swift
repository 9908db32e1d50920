// RuntimeError: errors raised while running a program on user data (wrong input shape or
// type, a missing input); the message names the input.

/// Errors raised while running a program on user data.
public struct RuntimeError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
