// GannetError: the one protocol of user-facing errors — a location and a message.
//
// Contract: every error a user can see conforms; it prints as `location: message`, or as the
// message alone when `location` is nil (the message then names the file itself). A location is
// a file path, `file:line:column`, or what the user named (`--seeds`, a tensor name). Library
// errors raised where the file is unknown (graph verification, the interpreter) carry no
// location; the caller that knows the file adds it with `located(at:)` or `at(_:_:)`, which
// never replace a location that is already there. A module that keeps its own error type (a
// message naming the model file, a spec position) turns a callee's error into it with
// `rethrowing(_:as:_:)`, the library's one catch-and-rethrow. Nothing here allocates on a
// success path.

/// An error with a place and a one-line message (`description` = "location: message").
public protocol GannetError: Error, CustomStringConvertible {
    /// Where: a file, `file:line:column`, a flag or a value name; nil when the message says it.
    var location: String? { get }
    /// What is wrong, without the location.
    var message: String { get }
}

extension GannetError {
    public var location: String? { nil }
    public var description: String { location.map { "\($0): \(message)" } ?? message }

    /// This error placed at `location`, unless it already has a location.
    public func located(at location: String) -> any GannetError {
        self.location == nil ? Failure(message, at: location) : self
    }
}

/// The plain `GannetError`: a message and an optional location.
public struct Failure: GannetError, Equatable {
    public var location: String?
    public var message: String
    public init(_ message: String, at location: String? = nil) {
        self.message = message
        self.location = location
    }
}

/// Runs `body`; a `GannetError` without a location that it throws is rethrown located at
/// `location` (the file the caller is working on). Other errors pass through unchanged.
public func at<T>(_ location: String, _ body: () throws -> T) rethrows -> T {
    do { return try body() } catch let e as any GannetError { throw e.located(at: location) }
}

/// Runs `body`; an `E` that it throws is rethrown as `wrap(e)`: the caller's own error, carrying
/// the context the caller knows (a file, a node, a spec position) before `e`'s message. Other
/// errors pass through unchanged. The one form of every catch-and-rethrow in the library.
@discardableResult
public func rethrowing<E: Error, T>(_ type: E.Type, as wrap: (E) -> any Error, _ body: () throws -> T) rethrows -> T {
    do { return try body() } catch let e as E { throw wrap(e) }
}
