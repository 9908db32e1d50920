// JSONTestData: the JSON tests read — committed fixtures and the tools' JSON outputs — as typed
// values. A file that is not a JSON object, a missing key or a value of another type throws an
// error naming the file or key, so a bad fixture fails its test instead of trapping the whole
// run as `as!` would.

import Foundation

/// What is wrong with a piece of test JSON.
public struct JSONTestDataError: Error, CustomStringConvertible {
    public let description: String
}

public enum JSONTestData {
    /// The JSON object in `data`; `what` (a file, a line) names it in errors.
    public static func object(_ data: Data, _ what: String) throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw JSONTestDataError(description: "\(what): not a JSON object")
        }
        return o
    }

    /// The JSON object in the file at `path`.
    public static func object(path: String) throws -> [String: Any] {
        try object(Data(contentsOf: URL(fileURLWithPath: path)), path)
    }
}

extension Dictionary where Key == String, Value == Any {
    /// The value at `key` as a `T` (JSON numbers read as Int or Double, arrays as [T]); an error
    /// naming the key when it is absent or holds another type.
    public func value<T>(_ key: String, as: T.Type = T.self) throws -> T {
        guard let v = self[key] else { throw JSONTestDataError(description: "key '\(key)' is missing") }
        guard let t = v as? T else { throw JSONTestDataError(description: "key '\(key)' holds \(Swift.type(of: v)), expected \(T.self)") }
        return t
    }
}
