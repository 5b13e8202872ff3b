import Host
import MySQL

/// The previous data imports keep: listing, restoring (under the same lock imports take) and
/// pruning snapshots of one database.
public struct SnapshotStore: Sendable {
    public var target: DatabaseURL
    public var names: ImportNames

    public init(target: DatabaseURL) throws(ImportError) {
        self.target = target
        names = try ImportNames(database: target.database)
    }

    /// The snapshots, newest first.
    public func list() async throws -> [Snapshot] {
        let target = target, names = names
        return try await Blocking.run { _ in
            try DatabaseSwap(connection: try ImportSession.connect(target), names: names).snapshots()
        }
    }

    /// Puts `name` (the newest snapshot when nil) back in place; what was in place becomes a new
    /// snapshot. Returns (restored, the snapshot the replaced data went to).
    public func restore(_ name: String?) async throws -> (restored: String, savedAs: String?) {
        let session = try await ImportSession.open(target, names: names)
        defer { session.close() }
        let names = names, target = target
        return try await session.run { control, _ in
            let swap = DatabaseSwap(connection: control, names: names)
            guard let chosen = try name ?? swap.snapshots().first?.name else {
                throw ImportError(.usage, "there are no snapshots of \(target.database) yet; sync-db makes one each time it "
                    + "replaces the data.")
            }
            return (chosen, try swap.restore(chosen))
        }
    }
}
