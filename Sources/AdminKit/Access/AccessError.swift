import Host

/// `adminctl onboard|offboard|devs|rotate|audit` could not do what was asked. The text says what
/// failed, why, and the command that fixes it; it never holds a secret.
public typealias AccessError = KindedError<AccessErrorKind>

/// What went wrong, for callers to switch on (never on the text).
public enum AccessErrorKind: Sendable, Equatable {
    /// The name cannot be an IAM user name and Owner tag value under our rules.
    case invalidName
    /// A developer (stack or IAM user) of that name exists.
    case duplicate
    /// Nobody of that name is onboarded.
    case unknownDeveloper
    /// adminctl.toml lacks what onboarding needs (repository.url), or the shared stack is not up.
    case notReady
    /// The devbox build or the compose folder to publish is missing.
    case devboxMissing
    /// The developer's stack failed and was rolled back.
    case stackFailed
    /// The access bundle could not be written.
    case bundle
    /// The machine did not become ready in time.
    case machineNotReady
    /// A key could not be rotated safely.
    case rotation
}
