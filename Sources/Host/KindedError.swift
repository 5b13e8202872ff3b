/// A feature's failure: its kind (what callers and tests switch on, never the text) and a message
/// for people — what failed, why, and the command that fixes it. Each feature names its own:
/// `typealias DeployError = KindedError<DeployErrorKind>`.
public struct KindedError<K: Sendable & Equatable>: Error, CustomStringConvertible, Sendable {
    public typealias Kind = K

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The feature's name for it (`DeployError` for `KindedError<DeployErrorKind>`), which `--json`
    /// failure reports give as their `type`.
    public var typeName: String {
        let kind = String(describing: Kind.self)
        return kind.hasSuffix("Kind") ? String(kind.dropLast(4)) : kind
    }
}

/// An error that names its own type for reports (KindedError's specialisations).
public protocol NamedErrorType: Error {
    var typeName: String { get }
}

extension KindedError: NamedErrorType {}
