// DataError: one clear message naming the dataset file and what is wrong with it.

/// A dataset read failure. `message` names the file (or directory) and the problem.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
