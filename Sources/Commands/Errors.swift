// Errors: the one-line user-facing error type of the command-line tools.

/// A failure reported to the user as `Error: <message>` with a non-zero exit status.
public struct CommandError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
