/// A dump import (or a snapshot restore) could not do what was asked. Callers decide by `kind`
/// and `databaseUnchanged`, never by the text, which is for people: what failed, why, and what to
/// do next.
public struct ImportError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The request itself is wrong: a malformed URL or location, a refused target, no such snapshot.
        case usage
        /// The database server cannot be reached.
        case connection
        /// The server refused the user and password.
        case accessDenied
        /// Another import or restore holds the target database.
        case busy
        /// The dump cannot be found or read (S3, a file, standard input).
        case source
        /// The dump's content is not a dump we load: SQL errors, truncation, refused statements.
        case dump
        /// The result does not match the dump: row counts, tables.
        case verification
        /// The bytes do not match the published SHA-256.
        case checksum
        /// Stopped by Ctrl-C (or SIGTERM/SIGHUP) before anything changed.
        case interrupted
        /// The server failed at something outside the dump's statements (e.g. creating the shadow).
        case server
        /// The swap itself failed (and was undone, unless `databaseTouched`).
        case swap
    }

    public var kind: Kind
    public var message: String
    /// The target (as shown to people, never with a password) when it is known to be exactly as
    /// it was; the description then says so.
    public var databaseUnchanged: String?

    /// The target was changed and could not be put back entirely: it is never said to be unchanged.
    public var databaseTouched = false
    /// What to do next, said last (after whether the database changed).
    public var next: String?

    public init(_ kind: Kind, _ message: String, databaseUnchanged: String? = nil) {
        self.kind = kind
        self.message = message
        self.databaseUnchanged = databaseUnchanged
    }

    /// The one way an import says it was stopped by a signal before the swap.
    public static func interrupted(_ database: String) -> ImportError {
        ImportError(.interrupted, "interrupted; the partial import was dropped", databaseUnchanged: database)
    }

    /// This error, stating that `database` is unchanged (once, however often it is wrapped).
    public func leaving(_ database: String) -> ImportError {
        guard !databaseTouched else { return self }
        var error = self
        error.databaseUnchanged = database
        return error
    }

    public var description: String {
        var text = message
        for sentence in [databaseUnchanged.map { "\($0) is unchanged." }, next].compactMap({ $0 }) {
            text += (text.hasSuffix(".") ? " " : ". ") + sentence
        }
        return text
    }
}
