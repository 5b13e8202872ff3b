import Host

/// A fleet command (`adminctl run`, `cp`, `install`) could not start or follow its work. Per-host
/// failures are results, not errors: this is for what stops the whole run. Text for people: what
/// failed, why, and the command that fixes it.
public typealias FleetError = KindedError<FleetErrorKind>

/// What went wrong, for callers to switch on (never on the text).
public enum FleetErrorKind: Sendable, Equatable {
    /// No instance matches the selection (the text names the filter).
    case noTargets
    /// The selection or an option is wrong (a usage error: nothing was sent).
    case usage
    /// Something needs an S3 bucket (cp, a script too large to send inline) and none is known.
    case noBucket
    /// A local file to copy or a script cannot be read or packed.
    case localFile
    /// A command id `run show` does not know.
    case unknownCommand
}
