import Archive
import Foundation
import Host
import MySQL
import Terminal

/// What an import is asked to do besides loading.
public struct ImportOptions: Sendable {
    public var load = LoadOptions()
    /// Snapshots of previous data kept after a successful import.
    public var keep = 2
    /// Applied in the shadow before the swap.
    public var sanitize: [SanitizeRule] = []
    /// Load a dump that lacks mysqldump's closing `-- Dump completed` line and has no checksum
    /// to prove it whole.
    public var allowIncomplete = false

    public init() {}
}

/// What an import did.
public struct ImportSummary: Sendable {
    public var tables: Int
    public var rows: Int
    public var sqlBytes: Int64
    /// Of every byte of the input.
    public var sha256: String
    /// The previous data's snapshot; nil when nothing was kept (empty before, or `keep` 0).
    public var snapshot: String?
    /// Older snapshots dropped to keep only `keep`.
    public var pruned: [String]
    /// There was previous data, and `keep` 0 kept no snapshot of it.
    public var previousDataDiscarded: Bool
    public var collations: [String: String]
    public var sanitized: [String]
    public var phases: PhaseTimes
    /// A signal arrived once the swap had begun; the swap was finished, not abandoned.
    public var interruptedDuringSwap: Bool
}

/// The dump engine's pipeline, the same for devbox sync-db and adminctl's dev refresh: take the
/// target's lock, load the dump into a shadow database over parallel connections that can touch
/// only the shadow, verify the checksum, every table and every row count, sanitise, then one
/// atomic swap (the previous data becomes a snapshot). Until the swap the target is untouched;
/// a failure or cancellation at any point before it drops the shadow and says so.
public struct DumpImporter: Sendable {
    public var target: DatabaseURL
    public var names: ImportNames
    public var options: ImportOptions
    public var console: Console

    public init(target: DatabaseURL, options: ImportOptions, console: Console) throws(ImportError) {
        self.target = target
        names = try ImportNames(database: target.database)
        self.options = options
        self.console = console
    }

    /// Imports `input`; `expectedSHA256` is the published checksum, when there is one. `phases`
    /// may already hold the download's time.
    public func run(_ input: DumpInput, expectedSHA256: String?, size: Int64?, phases: PhaseTimes = PhaseTimes()) async throws -> ImportSummary {
        let started = ProcessInfo.processInfo.systemUptime - phases.total
        var phases = phases
        let session = try await ImportSession.open(target, names: names)
        defer { session.close() }
        do {
            try await session.prepareShadow()
            let loaded = try await phases.measure(.load) { try await load(input, session: session, size: size) }
            if options.load.deferIndexes { phases[.indexes] = loaded.indexSeconds; phases[.load]! -= loaded.indexSeconds }
            let sha256 = try checksum(input, expected: expectedSHA256, loaded: loaded)
            let sanitized = try await phases.measure(.verify) { try await verify(loaded, session: session) }
            try Task.checkCancellation()
            // The one moment the database changes; from here on a signal does not stop it.
            let (snapshot, pruned, discarded) = try await phases.measure(.swap) { try await session.swap(loaded, keep: options.keep) }
            phases.total = ProcessInfo.processInfo.systemUptime - started
            return ImportSummary(tables: loaded.tables.count, rows: loaded.rows.values.reduce(0, +), sqlBytes: loaded.bytes,
                                 sha256: sha256, snapshot: snapshot, pruned: pruned, previousDataDiscarded: discarded, collations: loaded.collations,
                                 sanitized: sanitized, phases: phases, interruptedDuringSwap: Task.isCancelled)
        } catch {
            await session.dropShadow()
            throw explain(error)
        }
    }

    /// Every failure before the swap leaves the target as it was: say so, once.
    func explain(_ error: any Error) -> ImportError {
        if error is CancellationError || Task.isCancelled {
            return ImportError(.interrupted, "interrupted; the partial import was dropped", databaseUnchanged: target.display)
        }
        if let error = error as? ImportError { return error.leaving(target.display) }
        if let error = error as? ArchiveError { return ImportError(.dump, "the dump cannot be read: \(error).", databaseUnchanged: target.display) }
        if let error = error as? MySQLError { return ImportError(.server, "the database server failed: \(error).", databaseUnchanged: target.display) }
        return ImportError(.server, "\(error)", databaseUnchanged: target.display)
    }

    func load(_ input: DumpInput, session: ImportSession, size: Int64?) async throws -> LoadResult {
        let bar = console.progress("import", total: size)
        let endpoint = session.loaderEndpoint
        let shadow = names.shadow
        let options = options.load
        do {
            let result = try await Blocking.run { cancel in
                cancel.onCancel { input.abandon() }
                let reader = try ArchiveReader { buffer in try input.read(into: buffer) }
                let loader = DumpLoader(endpoint: endpoint, database: shadow, options: options, cancel: cancel) { progress in
                    bar.update(completed: progress.consumed)
                }
                return try loader.load(reader)
            }
            bar.finish("\(result.rows.values.reduce(0, +)) rows in \(result.tables.count) tables, \(Format.bytes(result.bytes)) of SQL")
            if !result.collations.isEmpty {
                console.note("translated collations this server lacks: "
                    + result.collations.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }.joined(separator: ", "))
            }
            if result.eventsSkipped > 0 {
                console.note("skipped \(result.eventsSkipped) scheduled event statement(s): events would run on this server on "
                    + "their own schedule")
            }
            if result.indexSeconds > 0.05 { console.note("indexes: built after the rows in \(Format.duration(result.indexSeconds))") }
            return result
        } catch {
            input.abandon()
            bar.finish(Task.isCancelled ? "stopped" : "failed")
            throw input.failure ?? error
        }
    }

    /// The bytes were those the producer published, and the dump is whole.
    func checksum(_ input: DumpInput, expected: String?, loaded: LoadResult) throws -> String {
        // libarchive may stop before the last bytes (a tar's padding): read them too.
        let actual = try input.drain()
        if let expected, expected != actual {
            throw ImportError(.checksum, "the dump's SHA-256 is \(actual), but \(expected) was expected")
        }
        if expected == nil, !loaded.endsWithCompletionMark, !options.allowIncomplete {
            throw ImportError(.dump, "\(input.name) does not end with the `-- Dump completed` line mysqldump and mariadb-dump "
                + "write last, and no checksum proves it whole: it looks truncated. If this dump is known to lack that line "
                + "(mysqldump --skip-comments, another tool), run again with --allow-incomplete")
        }
        return actual
    }

    /// Every table of the dump, and only those, holds as many rows as the dump did; then the
    /// sanitising rules. Returns the rules applied.
    func verify(_ loaded: LoadResult, session: ImportSession) async throws -> [String] {
        guard !loaded.tables.isEmpty else {
            throw ImportError(.verification, "the dump creates no tables; refusing to replace the database with nothing")
        }
        let rules = options.sanitize.filter { Set(loaded.tables).contains($0.table) }
        let applied = try await session.verify(loaded, sanitize: rules)
        console.note("verify: \(loaded.tables.count) tables hold every row of the dump"
            + (applied.isEmpty ? "" : "; sanitised \(applied.count) column(s)"))
        return applied
    }
}
