import Host

/// `adminctl db dump prod` or `adminctl db refresh dev` could not do its work. Text for people:
/// what failed, why, and the command that fixes it; what was published or changed is said too.
public typealias DatabaseError = KindedError<DatabaseErrorKind>

/// What went wrong, for callers to switch on (never on the text).
public enum DatabaseErrorKind: String, Sendable, Equatable {
    /// No InService instance of the environment is online to run the work on.
    case noInstance
    /// The shared stack lacks what the command needs (database, bucket, outputs).
    case infrastructure
    /// The instance could not read the database's credentials from Secrets Manager.
    case credentials
    /// mysqldump / mariadb-dump failed (server unreachable, refused, ...), or none is installed.
    case dumpFailed
    /// The dump or its checksum could not be uploaded; nothing was left half-published.
    case uploadFailed
    /// There is no complete dump to load, or the one named does not exist.
    case noDump
    /// Loading into the dev database failed; devbox left the database as it was.
    case loadFailed
    /// The command on the instance failed in another way, timed out or was not delivered.
    case instance
    /// The daily job could not be set up or removed.
    case schedule
}
