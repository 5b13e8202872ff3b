/// A config file that cannot be used, or a value of the wrong kind: the kind, and a message
/// naming the file and line (or the variable) and the fix.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The file cannot be read (permissions, a directory in its place).
        case unreadable
        /// The file is not UTF-8, or not TOML.
        case malformed
        /// A setting's value is of the wrong kind or outside its range.
        case value(key: String)
        /// Anything else in a file that the tool cannot use (a devbox sanitize rule).
        case invalid
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }

    public init(_ kind: Kind = .invalid, message: String) {
        self.kind = kind
        self.message = message
    }
}
