import Foundation
import MySQL

/// A saved copy of the database from before a sync-db or restore.
public struct Snapshot: Sendable, Encodable, Equatable {
    public var name: String
    public var created: Date
    public var tables: Int
    public var bytes: Int64
}

/// The database-level moves of sync-db, all on one control connection: the atomic swap of a
/// loaded shadow database into place (the old tables become a snapshot), restore of a
/// snapshot, listing and pruning. Tables move with one multi-table `RENAME TABLE`, which the
/// server applies atomically; views, triggers and routines cannot move between databases, so
/// they are recorded (in `_dumpimport.snapshot_objects`, beside the snapshots, never among a
/// dump's tables), dropped, and created again, and every step after the first change has its undo.
struct DatabaseSwap {
    let connection: MySQLConnection
    let names: ImportNames
    var database: String { names.database }

    static let objectsTable = "`\(ImportNames.bookkeeping)`.`snapshot_objects`"

    func q(_ name: String) -> String { MySQLConnection.identifier(name) }
    func literal(_ value: String) -> String { MySQLConnection.quote(value) }

    /// The UTC time stamp in snapshot names: `20261129_010203`.
    static func stampFormatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd_HHmmss"
        return formatter
    }

    /// `nuvola__snap_20261129_010203`.
    func snapshotName(at date: Date) -> String {
        let formatter = Self.stampFormatter()
        var name = names.snapshotPrefix + formatter.string(from: date)
        var suffix = 2
        while (try? exists(name)) == true {
            name = names.snapshotPrefix + formatter.string(from: date) + "_\(suffix)"
            suffix += 1
        }
        return name
    }

    func exists(_ schema: String) throws -> Bool {
        !(try connection.query("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = \(literal(schema))").rows.isEmpty)
    }

    func baseTables(_ schema: String) throws -> [String] {
        try connection.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(literal(schema)) "
                             + "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME").rows.compactMap { $0.first ?? nil }
    }

    /// Views, triggers and routines of `schema` as `CREATE` statements (definer removed), views
    /// last so they can use the functions.
    func objects(_ schema: String) throws -> [(kind: String, name: String, definition: String)] {
        var result: [(String, String, String)] = []
        for row in try connection.query("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = \(literal(schema))").rows {
            guard let name = row.first ?? nil else { continue }
            let create = try connection.query("SHOW CREATE TRIGGER \(q(schema)).\(q(name))").rows.first
            if let definition = create?[2] { result.append(("TRIGGER", name, DumpObjects.withoutDefiner(definition))) }
        }
        for row in try connection.query("SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = \(literal(schema))").rows {
            guard let name = row[0], let type = row[1] else { continue }
            let create = try connection.query("SHOW CREATE \(type) \(q(schema)).\(q(name))").rows.first
            if let definition = create?[2] { result.append((type, name, DumpObjects.withoutDefiner(definition))) }
        }
        for row in try connection.query("SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = \(literal(schema))").rows {
            guard let name = row.first ?? nil else { continue }
            let create = try connection.query("SHOW CREATE VIEW \(q(schema)).\(q(name))").rows.first
            if let definition = create?[1] { result.append(("VIEW", name, DumpObjects.withoutDefiner(definition))) }
        }
        return result
    }

    func dropObjects(_ objects: [(kind: String, name: String, definition: String)], in schema: String) throws {
        for object in objects.reversed() {
            try connection.query("DROP \(object.kind) IF EXISTS \(q(schema)).\(q(object.name))")
        }
    }

    /// Runs the statements in `schema`; session statements (`SET ...`) that fail are skipped,
    /// a failing CREATE stops everything.
    func createObjects(_ statements: [String], in schema: String) throws {
        try connection.query("USE \(q(schema))")
        for statement in statements {
            if DumpStatementKind.classify(Array(statement.utf8)) == .session {
                _ = try? connection.query(statement)
            } else {
                try connection.query(DumpObjects.withoutDefiner(statement))
            }
        }
    }

    /// Moves `source`'s tables into the database and the database's current tables and objects
    /// into a new snapshot, then creates `newObjects` (the dump's views, triggers, routines, with
    /// their session statements) in the database. On any failure everything moves back.
    /// Returns the snapshot's name, nil when the database had nothing to keep.
    func swapIn(from source: String, newObjects: [String], at date: Date = Date()) throws -> String? {
        try connection.query("CREATE DATABASE IF NOT EXISTS \(q(database)) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        let current = try baseTables(database)
        let currentObjects = try objects(database)
        let incoming = try baseTables(source)
        let snapshot = current.isEmpty && currentObjects.isEmpty ? nil : snapshotName(at: date)
        if let snapshot {
            try connection.query("CREATE DATABASE \(q(snapshot)) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            try record(currentObjects, for: snapshot)
        }
        // From here on, each step knows how to undo the ones before it.
        do {
            try dropObjects(currentObjects, in: database)
        } catch {
            try? createObjects(currentObjects.map(\.definition), in: database)
            if let snapshot { discard(snapshot) }
            throw error
        }
        let outward = current.map { "\(q(database)).\(q($0)) TO \(q(snapshot ?? "")).\(q($0))" }
        let inward = incoming.map { "\(q(source)).\(q($0)) TO \(q(database)).\(q($0))" }
        let moves = outward + inward
        do {
            if !moves.isEmpty { try connection.query("RENAME TABLE " + moves.joined(separator: ", ")) }
        } catch {
            try? createObjects(currentObjects.map(\.definition), in: database)
            if let snapshot { discard(snapshot) }
            throw error
        }
        do {
            try createObjects(newObjects, in: database)
        } catch {
            // Put everything back: new objects out, tables back where they were, old objects in.
            if let created = try? objects(database) { try? dropObjects(created, in: database) }
            let back = incoming.map { "\(q(database)).\(q($0)) TO \(q(source)).\(q($0))" }
                + current.map { "\(q(snapshot ?? "")).\(q($0)) TO \(q(database)).\(q($0))" }
            if !back.isEmpty { _ = try? connection.query("RENAME TABLE " + back.joined(separator: ", ")) }
            try? createObjects(currentObjects.map(\.definition), in: database)
            if let snapshot { discard(snapshot) }
            throw error
        }
        _ = try? connection.query("DROP DATABASE IF EXISTS \(q(source))")
        return snapshot
    }

    /// Keeps a snapshot's objects in the bookkeeping table.
    func record(_ objects: [(kind: String, name: String, definition: String)], for snapshot: String) throws {
        try connection.query("CREATE DATABASE IF NOT EXISTS \(q(ImportNames.bookkeeping)) CHARACTER SET utf8mb4")
        try connection.query("CREATE TABLE IF NOT EXISTS \(Self.objectsTable) (snapshot VARCHAR(64) NOT NULL, position INT NOT NULL, "
                             + "kind VARCHAR(20), name VARCHAR(64), definition LONGTEXT, PRIMARY KEY (snapshot, position)) CHARACTER SET utf8mb4")
        try connection.query("DELETE FROM \(Self.objectsTable) WHERE snapshot = \(literal(snapshot))")
        for (index, object) in objects.enumerated() {
            try connection.query("INSERT INTO \(Self.objectsTable) VALUES (\(literal(snapshot)), \(index), \(literal(object.kind)), "
                                 + "\(literal(object.name)), \(literal(object.definition)))")
        }
    }

    /// The objects recorded for `snapshot`, in their order.
    func recorded(for snapshot: String) throws -> [String] {
        let exists = try connection.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                                          + "\(literal(ImportNames.bookkeeping)) AND TABLE_NAME = 'snapshot_objects'").rows
        guard !exists.isEmpty else { return [] }
        return try connection.query("SELECT definition FROM \(Self.objectsTable) WHERE snapshot = \(literal(snapshot)) ORDER BY position")
            .rows.compactMap { $0.first ?? nil }
    }

    /// Drops a snapshot and what was recorded for it.
    func discard(_ snapshot: String) {
        _ = try? connection.query("DROP DATABASE IF EXISTS \(q(snapshot))")
        _ = try? connection.query("DELETE FROM \(Self.objectsTable) WHERE snapshot = \(literal(snapshot))")
    }

    /// The snapshots of this database, newest first.
    func snapshots() throws -> [Snapshot] {
        let prefix = names.snapshotPrefix
        let rows = try connection.query("SELECT s.SCHEMA_NAME, COUNT(t.TABLE_NAME), COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0), "
                                        + "MIN(t.CREATE_TIME) FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t "
                                        + "ON t.TABLE_SCHEMA = s.SCHEMA_NAME "
                                        + "WHERE s.SCHEMA_NAME LIKE \(literal(prefix.replacingOccurrences(of: "_", with: "\\_") + "%")) "
                                        + "GROUP BY s.SCHEMA_NAME").rows
        let formatter = Self.stampFormatter()
        return rows.compactMap { row -> Snapshot? in
            guard let name = row[0] else { return nil }
            let stamp = String(name.dropFirst(prefix.count).prefix(15))
            return Snapshot(name: name, created: formatter.date(from: stamp) ?? .distantPast, tables: Int(row[1] ?? "") ?? 0,
                            bytes: Int64(row[2] ?? "") ?? 0)
        }
        .sorted { ($0.created, $0.name) > ($1.created, $1.name) }
    }

    /// Drops all but the newest `keep` snapshots; returns the names dropped.
    func prune(keep: Int) throws -> [String] {
        let doomed = try snapshots().dropFirst(max(0, keep))
        for snapshot in doomed {
            try connection.query("DROP DATABASE \(q(snapshot.name))")
            discard(snapshot.name)
        }
        return doomed.map(\.name)
    }

    /// Puts `snapshot` back in place; what was in place becomes a new snapshot. Returns its name.
    func restore(_ snapshot: String) throws -> String? {
        guard try exists(snapshot), snapshot.hasPrefix(names.snapshotPrefix) else {
            throw ImportError(.usage, "there is no snapshot \(snapshot) of \(database); `devbox db snapshots` lists them.")
        }
        let recorded = try recorded(for: snapshot)
        let kept = try swapIn(from: snapshot, newObjects: recorded)
        discard(snapshot)
        return kept
    }
}

/// Dump objects (views, triggers, routines) adjusted for the local server.
public enum DumpObjects {
    /// Removes `DEFINER=user@host` (also inside executable comments): the local user creates
    /// the object and the production account need not exist here.
    public static func withoutDefiner(_ statement: String) -> String {
        var text = statement
        let patterns = [#"/\*!50017 DEFINER=\S+\s*\*/"#, #"DEFINER\s*=\s*(`[^`]*`|'[^']*'|\S+)@(`[^`]*`|'[^']*'|[^\s*]+)"#]
        for pattern in patterns {
            text = text.replacingOccurrences(of: pattern, with: "", options: .regularExpression)
        }
        return text
    }
}
