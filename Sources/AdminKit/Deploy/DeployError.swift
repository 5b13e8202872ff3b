import Host

/// A release could not be built or published, or the deploy lock refused. Callers decide by
/// `kind`; the text is for people: what failed, why, and the command that fixes it.
public typealias DeployError = KindedError<DeployErrorKind>

/// What went wrong, for callers to switch on (never on the text).
public enum DeployErrorKind: Sendable, Equatable {
    /// adminctl.toml lacks something a release needs (repository.url, project.name, a bucket).
    case configuration
    /// The repository could not be cloned or fetched.
    case repository
    /// The ref names no branch, tag or commit.
    case unknownRef
    /// The build step failed; the message ends with its output's tail.
    case buildFailed
    /// Writing the tarball failed.
    case archive
    /// Uploading the artifact or recording the release failed.
    case publish
    /// Another deploy holds the environment's lock and its lease has not expired.
    case locked
    /// This process lost the lock it held (its lease expired and was taken over, or it was
    /// force-unlocked): what it was doing was stopped.
    case lockLost
    /// A release named on the command line does not exist.
    case unknownRelease
    /// The environment's group has no instance in service.
    case noInstances
    /// An instance in service cannot be reached by Run Command.
    case unreachable
    /// Another instance refresh is replacing the group's instances (InstanceRefreshInProgress).
    case refreshInProgress
    /// The instance refresh ended Failed, Cancelled or rolled back; the pointer did not move.
    case refreshFailed
}
