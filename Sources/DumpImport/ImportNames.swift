import Crypto
import Foundation
import Host

/// The names an import uses beside its target database — the shadow it loads into, the
/// snapshots it keeps, the lock it holds — checked before anything starts, so a long target
/// name never fails after the whole load (MySQL names are at most 64 characters).
public struct ImportNames: Sendable, Equatable {
    public let database: String
    /// `<base>__devbox_shadow`.
    public let shadow: String
    /// Every snapshot's name starts with it: `<base>__snap_`.
    public let snapshotPrefix: String
    /// The `GET_LOCK` name every import and restore of this database takes.
    public let lock: String

    static let maximumLength = 64
    /// `yyyyMMdd_HHmmss` and a `_N` suffix for a second snapshot in one second.
    static let stampLength = 15 + 3
    /// Databases an import never replaces.
    static let system: Set<String> = ["mysql", "sys", "information_schema", "performance_schema"]
    /// Where snapshots' views, triggers and routines are recorded: outside every snapshot, so no
    /// table of the dump can clash with it.
    public static let bookkeeping = "_dumpimport"

    public init(database: String) throws(ImportError) {
        guard !database.isEmpty, database.count <= Self.maximumLength else {
            throw ImportError(.usage, "a database name has 1 to 64 characters; \"\(database.prefix(80))\" has \(database.count).")
        }
        guard !Self.system.contains(database.lowercased()) else {
            throw ImportError(.usage, "\(database) is the server's own database; an import replaces only an application's database.")
        }
        guard database != Self.bookkeeping else {
            throw ImportError(.usage, "\(database) is where imports record their snapshots' views, triggers and routines; "
                + "an import replaces only an application's database.")
        }
        guard !database.contains(ImportNames.snapshotInfix), !database.hasSuffix("__devbox_shadow") else {
            throw ImportError(.usage, "\(database) is a snapshot or shadow of another database; `devbox db restore` puts a "
                + "snapshot back.")
        }
        self.database = database
        // Long names are shortened, kept unique by a hash of the whole name.
        let room = Self.maximumLength - Self.stampLength - Self.snapshotInfix.count
        let base = database.count <= room ? database
            : String(database.prefix(room - 9)) + "_" + Hex.encode(Array(SHA256.hash(data: Data(database.utf8)))).prefix(8)
        shadow = base + "__devbox_shadow"
        snapshotPrefix = base + Self.snapshotInfix
        lock = "dumpimport:" + base
    }

    static let snapshotInfix = "__snap_"
}
