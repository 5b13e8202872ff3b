import AWS
import DumpImport
import Foundation
import Host
import Nuvola
import Terminal

/// `adminctl db refresh dev`: the newest complete production dump (or one named) loaded into the
/// dev database by `devbox sync-db` on one InService dev instance, with adminctl.toml's
/// `[[sanitize]]` rules: the same engine, checks and atomic swap developers use, run where the
/// dev database can be reached (its private subnets), and the dev database unchanged on failure.
public struct DevRefresh: Sendable {
    public var operations: DatabaseOperations
    public var rules: [SanitizeRule]
    public var timeoutSeconds = 3 * 3600

    public init(operations: DatabaseOperations, rules: [SanitizeRule]) {
        self.operations = operations
        self.rules = rules
    }

    /// The dump a refresh would load: `name` (a key or s3:// URL), else the newest complete one.
    public func dump(named name: String?) async throws -> PublishedDump {
        let bucket = try operations.dumpsBucket()
        let catalog = DumpCatalog(s3: operations.s3, location: try DumpLocation("s3://\(bucket)/\(BucketLayout.productionDumps)"))
        do {
            if let name {
                let dump = try await catalog.named(name)
                guard dump.sha256 != nil else {
                    throw DatabaseError(.noDump, "s3://\(dump.bucket)/\(dump.key) has no published checksum: it is still being written, "
                        + "or its upload failed. `adminctl db dump prod` publishes a complete one.")
                }
                return dump
            }
            return try await catalog.latest().dump
        } catch let error as ImportError {
            throw DatabaseError(.noDump, error.message.replacingOccurrences(of: "Check dumps.location (`devbox config show`), or ask "
                + "your admin to publish one (`adminctl db dump prod`).", with: "Publish one with `adminctl db dump prod`."))
        }
    }

    public func run(_ dump: PublishedDump) async throws -> RefreshReport {
        let started = ContinuousClock.now
        let database = try await operations.endpoint(.dev)
        let host = try await operations.instance(.dev)
        operations.onNote("Loading s3://\(dump.bucket)/\(dump.key) into \(database.database) (\(database.identifier)) with devbox on \(host.instanceID) …")
        let location = "s3://\(dump.bucket)/\(BucketLayout.productionDumps)"
        let script = DatabaseScripts.refresh(database, location: location, dumpKey: "s3://\(dump.bucket)/\(dump.key)", rules: rules,
                                             region: operations.region)
        let result = try await operations.run(script, display: "adminctl db refresh dev", on: host, timeoutSeconds: timeoutSeconds)
        let loaded = Self.loaded(result.stdout)
        guard result.outcome == .ok, let loaded else {
            var error = operations.failure(result, doing: "Loading the dev database")
            if let message = Self.devboxError(result.stdout) { error.message += " devbox: \(message)" }
            error.message += " The dev database was left as it was."
            throw error
        }
        return RefreshReport(dump: "s3://\(dump.bucket)/\(dump.key)", sha256: dump.sha256, database: database.database,
                             databaseInstance: database.identifier, instance: host.instanceID, tables: loaded.tables, rows: loaded.rows,
                             sanitized: loaded.sanitized, snapshot: loaded.snapshot, seconds: (ContinuousClock.now - started).seconds)
    }

    /// The part of devbox's `sync-db --json` report adminctl passes on.
    struct Loaded: Decodable {
        var tables: Int
        var rows: Int
        var sanitized: [String]
        var snapshot: String?
    }

    static func loaded(_ output: String) -> Loaded? {
        try? JSONDecoder().decode(Loaded.self, from: Data(output.utf8))
    }

    /// devbox's `{"error": {"message": ...}}` document, when it failed.
    static func devboxError(_ output: String) -> String? {
        struct Failure: Decodable { struct Detail: Decodable { var message: String }; var error: Detail }
        return (try? JSONDecoder().decode(Failure.self, from: Data(output.utf8)))?.error.message
    }
}

/// What `adminctl db refresh dev` loaded.
public struct RefreshReport: Sendable, Encodable {
    public var dump: String
    public var sha256: String?
    public var database: String
    public var databaseInstance: String
    /// The dev instance devbox ran on.
    public var instance: String
    public var tables: Int
    public var rows: Int
    public var sanitized: [String]
    /// The previous dev data, kept by devbox as a snapshot in the dev server.
    public var snapshot: String?
    public var seconds: Double

    public func render(_ colors: ColorPolicy) -> String {
        var lines = ["✔ The dev database \(database) on \(databaseInstance) now holds \(rows) rows in \(tables) tables from \(dump) "
            + "(loaded by devbox on \(instance) in \(Format.duration(seconds)))."]
        lines.append(sanitized.isEmpty ? "  No [[sanitize]] rules in adminctl.toml: the data is production's as it is."
            : "  Sanitised: " + sanitized.joined(separator: ", "))
        if let snapshot { lines.append("  The previous dev data is kept as \(snapshot).") }
        return lines.joined(separator: "\n")
    }
}
