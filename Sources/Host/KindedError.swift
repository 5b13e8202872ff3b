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
}
