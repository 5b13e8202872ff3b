import AWS
import DumpImport
import Foundation
import Host
import Nuvola
import Terminal

/// `adminctl db dump prod`: a consistent dump of the production database, made on one InService
/// prod instance (the database is in private subnets), published as `devbox sync-db` expects it
/// (README: the dump convention), then the older dumps beyond `keep` deleted.
public struct ProductionDump: Sendable {
    public var operations: DatabaseOperations
    /// Complete dumps kept (the newest one always).
    public var keep: Int
    /// Run Command's execution timeout for the dump.
    public var timeoutSeconds = 3 * 3600
    /// When the dump is named (the key's time), for tests.
    public var now: @Sendable () -> Date = { Date() }

    public init(operations: DatabaseOperations, keep: Int) {
        self.operations = operations
        self.keep = keep
    }

    public func run() async throws -> DumpReport {
        let started = ContinuousClock.now
        let bucket = try operations.dumpsBucket()
        let database = try await operations.endpoint(.prod)
        let host = try await operations.instance(.prod)
        let key = try await freeKey(bucket: bucket)
        operations.onNote("Dumping \(database.database) (\(database.identifier)) on \(host.instanceID) to s3://\(bucket)/\(key) …")
        let script = DatabaseScripts.dump(database, bucket: bucket, key: key, region: operations.region)
        let result: HostResult
        do {
            result = try await operations.run(script, display: "adminctl db dump prod", on: host, timeoutSeconds: timeoutSeconds)
        } catch {
            // Ctrl-C, or Run Command itself failing: whatever the instance uploaded goes.
            await withoutCancellation { await removeUnfinished(bucket: bucket, key: key) }
            throw error
        }
        guard result.outcome == .ok, let published = Published(result.stdout), published.key == key else {
            await removeUnfinished(bucket: bucket, key: key)
            throw operations.failure(result, doing: "The dump")
        }
        // Trust, but check what discovery will see: the dump and then its checksum, whole.
        let s3 = operations.s3
        guard let object = try await s3.headObject(bucket: bucket, key: key), object.size == published.size,
              try await s3.headObject(bucket: bucket, key: BucketLayout.dumpChecksum(key)) != nil else {
            await removeUnfinished(bucket: bucket, key: key)
            throw DatabaseError(.uploadFailed, "The instance reported s3://\(bucket)/\(key) published, but S3 does not hold it "
                + "and its checksum as reported; it was removed. Run `adminctl db dump prod` again.")
        }
        let pruned = try await prune(bucket: bucket)
        return DumpReport(bucket: bucket, key: key, url: "s3://\(bucket)/\(key)", sha256: published.sha256, size: published.size,
                          instance: host.instanceID, database: database.database, databaseInstance: database.identifier,
                          kept: keep, pruned: pruned, seconds: (ContinuousClock.now - started).seconds)
    }

    /// The key for now; a second later when a dump of this very second exists.
    func freeKey(bucket: String) async throws -> String {
        var date = now()
        for _ in 0..<5 {
            let key = DumpName.key(at: date)
            if try await operations.s3.headObject(bucket: bucket, key: key) == nil { return key }
            date += 1
        }
        return DumpName.key(at: date)
    }

    /// A dump without its checksum is one being written: remove ours (checksum first, so a
    /// checksum is never left without its dump).
    func removeUnfinished(bucket: String, key: String) async {
        let s3 = operations.s3
        let dump = try? await s3.headObject(bucket: bucket, key: key)
        let checksum = try? await s3.headObject(bucket: bucket, key: BucketLayout.dumpChecksum(key))
        guard dump != nil || checksum != nil else { return }
        try? await s3.deleteObject(bucket: bucket, key: BucketLayout.dumpChecksum(key))
        try? await s3.deleteObject(bucket: bucket, key: key)
        operations.onNote("Removed the unfinished s3://\(bucket)/\(key).")
    }

    /// Deletes the complete dumps beyond the newest `keep` (each checksum first); returns their keys.
    func prune(bucket: String) async throws -> [String] {
        let catalog = DumpCatalog(s3: operations.s3, location: try DumpLocation("s3://\(bucket)/\(BucketLayout.productionDumps)"))
        let entries = try await catalog.list().map { DumpRetention.Entry(key: $0.object.key, lastModified: $0.object.lastModified, complete: $0.complete) }
        let expired = DumpRetention.expired(entries, keep: keep)
        for key in expired {
            try await operations.s3.deleteObject(bucket: bucket, key: BucketLayout.dumpChecksum(key))
            try await operations.s3.deleteObject(bucket: bucket, key: key)
        }
        return expired
    }

    /// The script's last line: `adminctl-db-dump published key=... sha256=... size=...`.
    struct Published {
        var key: String
        var sha256: String
        var size: Int64

        init?(_ output: String) {
            guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(DatabaseScripts.publishedMarker + " ") }) else { return nil }
            var fields: [String: String] = [:]
            for word in line.dropFirst(DatabaseScripts.publishedMarker.count + 1).split(separator: " ") {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            guard let key = fields["key"], let sha256 = fields["sha256"], sha256.count == 64,
                  let size = fields["size"].flatMap({ Int64($0) }) else { return nil }
            self.key = key
            self.sha256 = sha256
            self.size = size
        }
    }
}

/// Runs `work` even when the task is cancelled (clean-up after Ctrl-C): a detached task, awaited.
func withoutCancellation(_ work: @escaping @Sendable () async -> Void) async {
    await Task.detached { await work() }.value
}

/// What `adminctl db dump prod` published and deleted.
public struct DumpReport: Sendable, Encodable {
    public var bucket: String
    public var key: String
    public var url: String
    public var sha256: String
    public var size: Int64
    /// The prod instance the dump was made on.
    public var instance: String
    public var database: String
    public var databaseInstance: String
    public var kept: Int
    /// Older dumps deleted (each with its checksum).
    public var pruned: [String]
    public var seconds: Double

    public func render(_ colors: ColorPolicy) -> String {
        var lines = ["✔ Published \(url) (\(Format.bytes(size)), SHA-256 \(sha256.prefix(12))…) from \(database) on \(databaseInstance), "
            + "made on \(instance) in \(Format.duration(seconds))."]
        lines.append(pruned.isEmpty ? "  Kept every dump (at most \(kept))."
            : "  Deleted \(pruned.count) older dump(s), keeping the newest \(kept): " + pruned.joined(separator: ", "))
        lines.append("  Developers load it with `devbox sync-db`; the dev database with `adminctl db refresh dev`.")
        return lines.joined(separator: "\n")
    }
}
