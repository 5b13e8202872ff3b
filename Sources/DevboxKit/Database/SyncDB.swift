import Archive
import AWS
import Crypto
import Foundation
import HTTP
import Host
import MySQL
import Terminal

/// Where sync-db takes the dump from.
public enum DumpSource: Sendable, Equatable {
    /// The newest complete dump under dumps.location.
    case latest
    /// A key under dumps.location's bucket, or a full s3:// URL.
    case named(String)
    case file(String)
    case standardInput
}

/// What `devbox sync-db` was asked to do.
public struct SyncOptions: Sendable {
    public var source: DumpSource = .latest
    /// The local database; nil means the compose project's.
    public var databaseURL: String?
    /// Non-loopback servers are refused unless this is set (the command asks first).
    public var allowRemote = false
    /// Keep the downloaded dump in ~/.cache/devbox/dumps (and reuse it when it is still the newest).
    public var useCache = true
    /// Snapshots kept after a successful sync.
    public var keep = 2
    public var load = LoadOptions()

    public init() {}
}

/// The `--json` summary of a sync.
public struct SyncReport: Sendable, Encodable {
    public struct Dump: Sendable, Encodable {
        public var source: String
        public var size: Int64?
        public var lastModified: Date?
        public var sha256: String?
        public var fromCache: Bool
    }

    public var dump: Dump
    public var database: String
    public var snapshot: String?
    public var pruned: [String]
    public var tables: Int
    public var rows: Int
    public var sqlBytes: Int64
    /// Seconds per phase: download, load (decompress + split + rows), indexes, verify, swap.
    public var seconds: [String: Double]
    public var collations: [String: String]
    public var sanitized: [String]
}

/// `devbox sync-db`: the production dump into the local database, through a shadow database
/// and an atomic swap, so the current data stays exactly as it was until the new data is whole
/// and verified.
public struct SyncDB: Sendable {
    public var config: DevboxConfig
    public var environment: [String: String]
    public var http: HTTPClient
    public var console: Console
    public var cancel: CancelFlag

    public init(config: DevboxConfig, environment: [String: String], http: HTTPClient, console: Console, cancel: CancelFlag) {
        self.config = config
        self.environment = environment
        self.http = http
        self.console = console
        self.cancel = cancel
    }

    var paths: DevboxPaths { DevboxPaths(environment: environment) }

    /// --database-url, else DEVBOX_DATABASE_URL, else the compose project's database. A URL
    /// without a password takes it from MYSQL_PWD, so it need not appear on a command line.
    public func target(databaseURL: String?) throws -> DatabaseURL {
        guard let text = databaseURL ?? environment["DEVBOX_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return try LocalApp.databaseURL(config: config, paths: paths)
        }
        var url = try DatabaseURL(text)
        if url.endpoint.password.isEmpty, let password = environment["MYSQL_PWD"] { url.endpoint.password = password }
        return url
    }

    func connect(_ url: DatabaseURL) throws -> MySQLConnection {
        do {
            return try MySQLConnection(url.endpoint)
        } catch let error where error.kind == .connection {
            throw SyncError("cannot connect to the database at \(url.endpoint.host):\(url.endpoint.port): \(error.message). "
                + (url.display.contains("nuvola@127.0.0.1") ? "Start it with `devbox up`." : "Check it runs, and --database-url."))
        } catch {
            throw SyncError("the database at \(url.display) refused the connection: \(error)")
        }
    }

    public func run(_ options: SyncOptions) async throws -> SyncReport {
        let url = try target(databaseURL: options.databaseURL)
        guard url.isLocal || options.allowRemote else {
            throw SyncError("\(url.display) is not on this machine; sync-db replaces a database's contents, so it only does "
                + "that to a remote server with --allow-remote (and your confirmation).")
        }
        let started = Date()
        var seconds: [String: Double] = [:]
        let control = try connect(url)
        let shadow = url.database + "__devbox_shadow"
        let q = MySQLConnection.identifier

        // Find the dump and get its bytes flowing.
        var dumpInfo = SyncReport.Dump(source: "", size: nil, lastModified: nil, sha256: nil, fromCache: false)
        let input: DumpInput
        var cachedFile: String?
        /// A fresh download written to `partial` while it is imported; renamed to `file` once verified.
        var teeing: (partial: String, file: String)?
        switch options.source {
        case .file(let path):
            guard FileManager.default.isReadableFile(atPath: path) else { throw SyncError("cannot read \(path).") }
            dumpInfo.source = path
            dumpInfo.size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
            input = try DumpInput(file: path)
        case .standardInput:
            dumpInfo.source = "stdin"
            input = DumpInput(descriptor: STDIN_FILENO)
        case .latest, .named:
            let published = try await locate(options.source)
            dumpInfo = SyncReport.Dump(source: "s3://\(published.bucket)/\(published.key)", size: published.size,
                                       lastModified: published.lastModified, sha256: published.sha256, fromCache: false)
            announce(published)
            let downloadStarted = Date()
            if options.useCache {
                switch try await cache(published) {
                case .verified(let file), .downloaded(let file):
                    cachedFile = file
                    dumpInfo.fromCache = FileManager.default.fileExists(atPath: file + ".verified")
                    input = try DumpInput(file: file)
                    seconds["download"] = Date().timeIntervalSince(downloadStarted)
                case .fresh(let partial, let file):
                    // Download and import at once: every chunk goes to the cache file and the loader.
                    teeing = (partial, file)
                    cachedFile = file
                    input = try stream(published, copyTo: partial)
                }
            } else {
                input = try stream(published, copyTo: nil)
            }
        }
        if cancel.isCancelled { throw Self.interrupted(url) }

        // Load into the shadow database.
        try control.query("DROP DATABASE IF EXISTS \(q(shadow))")
        try control.query("CREATE DATABASE \(q(shadow)) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        let result: LoadResult
        let loadStarted = Date()
        do {
            result = try await load(input, into: url, shadow: shadow, size: dumpInfo.size, options: options.load)
            seconds["load"] = Date().timeIntervalSince(loadStarted) - result.indexSeconds
            if options.load.deferIndexes { seconds["indexes"] = result.indexSeconds }
            // The bytes were those the producer published? (libarchive may stop before the last
            // bytes, e.g. a tar's padding: read them too, so every byte is hashed.)
            let actual = try input.drain()
            if let expected = dumpInfo.sha256, expected != actual {
                if let cachedFile { try? FileManager.default.removeItem(atPath: cachedFile) }
                if let teeing { try? FileManager.default.removeItem(atPath: teeing.partial) }
                throw SyncError("the dump's SHA-256 is \(actual), but \(expected) was published: it was corrupted on the way "
                    + "or changed since. Nothing was changed; run sync-db again (the cached copy was removed).")
            }
            let published = dumpInfo.sha256 != nil
            dumpInfo.sha256 = actual
            if result.indexSeconds > 0.05 { console.note("indexes: built after the rows in \(Format.duration(result.indexSeconds))") }
            let verifyStarted = Date()
            let box = ConnectionBox(control)
            let sanitized = try await Self.offPool { [self] in
                try verify(result, shadow: shadow, control: box.connection)
                return try sanitize(shadow: shadow, control: box.connection, tables: Set(result.tables))
            }
            seconds["verify"] = Date().timeIntervalSince(verifyStarted)
            console.note("verify: \(result.tables.count) tables hold every row of the dump"
                + (published ? ", SHA-256 matches the published one" : "")
                + (sanitized.isEmpty ? "" : "; sanitised \(sanitized.count) column(s)"))
            if cancel.isCancelled { throw CancellationError() }

            // The one moment the database changes.
            let swapStarted = Date()
            let objects = result.objects.map(DumpObjects.withoutDefiner)
            let keep = options.keep
            let database = url.database
            let (snapshot, pruned) = try await Self.offPool {
                let swap = DatabaseSwap(connection: box.connection, database: database)
                let snapshot = try swap.swapIn(from: shadow, newObjects: objects)
                return (snapshot, (try? swap.prune(keep: keep)) ?? [])
            }
            seconds["swap"] = Date().timeIntervalSince(swapStarted)
            console.note("swap: in place in \(Format.duration(seconds["swap"] ?? 0))"
                + (snapshot.map { ", previous data kept as \($0)" } ?? "")
                + (pruned.isEmpty ? "" : ", pruned \(pruned.count) older snapshot(s)"))
            if let teeing { try? FileManager.default.moveItem(atPath: teeing.partial, toPath: teeing.file) }
            if let cachedFile { try? actual.write(toFile: cachedFile + ".verified", atomically: true, encoding: .utf8) }
            seconds["total"] = Date().timeIntervalSince(started)
            return SyncReport(dump: dumpInfo, database: url.display, snapshot: snapshot, pruned: pruned, tables: result.tables.count,
                              rows: result.rows.values.reduce(0, +), sqlBytes: result.bytes, seconds: seconds,
                              collations: result.collations, sanitized: sanitized)
        } catch {
            _ = try? control.query("DROP DATABASE IF EXISTS \(q(shadow))")
            if let teeing, let size = dumpInfo.size,
               (try? FileManager.default.attributesOfItem(atPath: teeing.partial)[.size] as? Int64) == size {
                // Complete but not imported: nothing to resume; the next run downloads afresh.
                try? FileManager.default.removeItem(atPath: teeing.partial)
            }
            if error is CancellationError || cancel.isCancelled { throw Self.interrupted(url) }
            let message = (error as? SyncError)?.message ?? "\(error)"
            if message.contains("unchanged") { throw SyncError(message) }
            throw SyncError(message + (message.hasSuffix(".") ? " " : ". ") + "\(url.display) is unchanged.")
        }
    }

    /// Runs blocking database work on a thread of its own, off the cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    static func interrupted(_ url: DatabaseURL) -> SyncError {
        SyncError("interrupted; \(url.display) is unchanged (the partial import was dropped).")
    }

    // MARK: finding and fetching

    func s3() async throws -> S3 {
        let configuration = try await AWSConfiguration.resolve(regionFlag: config.region, environment: environment, http: http)
        return S3(AWSClient(configuration))
    }

    func locate(_ source: DumpSource) async throws -> PublishedDump {
        guard let location = config.dumpLocation else {
            throw SyncError("dumps.location is not set, so devbox does not know where production dumps are. Set it in "
                + "/etc/devbox/config.toml or ~/.config/devbox/config.toml (s3://bucket/prefix/), or use --file.")
        }
        let catalog = DumpCatalog(s3: try await s3(), location: try DumpLocation(location))
        switch source {
        case .named(let name):
            return try await catalog.named(name)
        default:
            let (dump, skipped) = try await catalog.latest()
            for key in skipped { console.note("skipped \(key): its checksum is not published yet (still being written)") }
            return dump
        }
    }

    func announce(_ dump: PublishedDump) {
        var line = "dump s3://\(dump.bucket)/\(dump.key), \(Format.bytes(dump.size))"
        if let modified = dump.lastModified {
            let age = Date().timeIntervalSince(modified)
            line += ", taken \(Format.age(age))"
            if age > Double(config.dumpMaxAgeHours) * 3600 {
                console.warning("the newest dump is \(Format.age(age).replacingOccurrences(of: " ago", with: "")) old "
                    + "(more than dumps.max_age_hours = \(config.dumpMaxAgeHours)); production backups may have stopped.")
            }
        }
        if dump.sha256 == nil { console.warning("s3://\(dump.bucket)/\(dump.key) has no published SHA-256; it cannot be verified.") }
        console.note(line)
    }

    /// Where the dump's bytes come from when the cache is used.
    enum CachedDump {
        /// A copy verified by an earlier sync.
        case verified(String)
        /// A partial file from an earlier run, completed now (resumed with Range).
        case downloaded(String)
        /// Nothing cached: stream it, writing `partial` on the way; `file` once verified.
        case fresh(partial: String, file: String)
    }

    /// The dump in the cache: a verified copy of the same object, a partial download resumed,
    /// or nothing yet (then it is streamed and cached while it is imported).
    func cache(_ dump: PublishedDump) async throws -> CachedDump {
        let directory = "\(paths.cache)/dumps/\(dump.bucket)"
        let file = "\(directory)/\(dump.key)"
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if let sha = dump.sha256, (try? String(contentsOfFile: file + ".verified", encoding: .utf8)) == sha,
           (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int64) == dump.size {
            console.note("using the cached copy (\(file))")
            return .verified(file)
        }
        // Never leave an old copy looking verified.
        try? FileManager.default.removeItem(atPath: file + ".verified")
        try? FileManager.default.removeItem(atPath: file)
        let partial = file + ".partial"
        let existing = (try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int64) ?? 0
        if let free = DiskSpace.available(at: directory), free < dump.size - existing + (64 << 20) {
            throw SyncError("not enough free space for the dump in \(directory): \(Format.bytes(free)) free, "
                + "\(Format.bytes(dump.size - existing)) needed. Free space (`devbox db snapshots`, old files in "
                + "\(paths.cache)/dumps) or use --no-cache to stream it.")
        }
        guard existing > 0 else { return .fresh(partial: partial, file: file) }
        let bar = console.progress("download", total: dump.size)
        do {
            try await s3().download(bucket: dump.bucket, key: dump.key, to: partial, resumeExisting: true) { progress in
                bar.update(completed: progress.downloaded + (progress.downloadTotal == dump.size ? 0 : existing))
            }
        } catch {
            bar.finish("failed")
            throw SyncError("downloading s3://\(dump.bucket)/\(dump.key) failed: \(error). The partial file is kept; "
                + "run sync-db again to resume.")
        }
        bar.finish()
        try FileManager.default.moveItem(atPath: partial, toPath: file)
        return .downloaded(file)
    }

    /// Streams the dump from S3 into the import (dropped connections resume with Range), and
    /// into `copy` (the cache's partial file) when given.
    func stream(_ dump: PublishedDump, copyTo copy: String?) throws -> DumpInput {
        let pipe = BytePipe()
        let http = http
        let config = config
        let environment = environment
        let fd: Int32 = try copy.map { path in
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SyncError("cannot write \(path): \(String(cString: strerror(errno))).") }
            return fd
        } ?? -1
        Task.detached {
            defer { if fd >= 0 { close(fd) } }
            do {
                let configuration = try await AWSConfiguration.resolve(regionFlag: config.region, environment: environment, http: http)
                try await S3(AWSClient(configuration)).stream(bucket: dump.bucket, key: dump.key) { chunk in
                    if fd >= 0 { try Self.writeAll(fd, chunk, path: copy ?? "") }
                    try pipe.write(chunk)
                }
                pipe.finish()
            } catch {
                pipe.finish(SyncError("streaming s3://\(dump.bucket)/\(dump.key) failed: \(error)"))
            }
        }
        return DumpInput(pipe: pipe)
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw SyncError("writing \(path) failed: \(String(cString: strerror(errno))).") }
            offset += written
        }
    }

    // MARK: loading and checking

    func load(_ input: DumpInput, into url: DatabaseURL, shadow: String, size: Int64?, options: LoadOptions) async throws -> LoadResult {
        let bar = console.progress("import", total: size)
        let cancel = cancel
        let endpoint = url.endpoint
        do {
            let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<LoadResult, any Error>) in
                Thread.detachNewThread {
                    do {
                        let reader = try ArchiveReader { buffer in try input.read(into: buffer) }
                        let loader = DumpLoader(endpoint: endpoint, database: shadow, options: options, cancelled: cancel) { progress in
                            bar.update(completed: progress.consumed)
                        }
                        continuation.resume(returning: try loader.load(reader))
                    } catch {
                        input.abandon()
                        continuation.resume(throwing: error)
                    }
                }
            }
            bar.finish("\(result.rows.values.reduce(0, +)) rows in \(result.tables.count) tables, \(Format.bytes(result.bytes)) of SQL")
            if !result.collations.isEmpty {
                console.note("translated collations this server lacks: "
                    + result.collations.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }.joined(separator: ", "))
            }
            return result
        } catch let error as ArchiveError {
            bar.finish("failed")
            throw SyncError("the dump cannot be read: \(error).")
        } catch {
            bar.finish("failed")
            throw error
        }
    }

    /// Every table the dump filled has as many rows as the dump held.
    func verify(_ result: LoadResult, shadow: String, control: MySQLConnection) throws {
        let q = MySQLConnection.identifier
        for table in result.tables {
            let counted = try control.query("SELECT COUNT(*) FROM \(q(shadow)).\(q(table))").rows.first?.first??.description ?? "0"
            let expected = result.rows[table] ?? 0
            guard Int(counted) == expected else {
                throw SyncError("verification failed: table `\(table)` has \(counted) rows after the import, but the dump holds \(expected).")
            }
        }
        guard !result.tables.isEmpty else { throw SyncError("the dump creates no tables; refusing to replace the database with nothing.") }
    }

    func sanitize(shadow: String, control: MySQLConnection, tables: Set<String>) throws -> [String] {
        var applied: [String] = []
        for rule in config.sanitizeRules where tables.contains(rule.table) {
            do {
                try control.query(rule.statement(in: shadow))
            } catch {
                throw SyncError("the sanitize rule for \(rule.table).\(rule.column) failed: \(error). Fix it in config.toml.")
            }
            applied.append("\(rule.table).\(rule.column): \(rule.action.rawValue)")
        }
        return applied
    }
}

/// The dump's bytes as libarchive pulls them, hashed (SHA-256) on the way.
final class DumpInput: @unchecked Sendable {
    private var hasher = SHA256()
    private let readChunk: (UnsafeMutableRawBufferPointer) throws -> Int
    private let onAbandon: () -> Void
    private(set) var sha256: String?
    private var descriptor: Int32 = -1

    convenience init(file path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SyncError("cannot open \(path): \(String(cString: strerror(errno))).") }
        self.init(descriptor: fd, name: path)
        descriptor = fd
    }

    /// Reads `fd` (closed at the end only when opened by `init(file:)`).
    init(descriptor fd: Int32, name: String = "standard input") {
        readChunk = { buffer in
            while true {
                let count = Foundation.read(fd, buffer.baseAddress, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw SyncError("reading \(name) failed: \(String(cString: strerror(errno))).") }
                return count
            }
        }
        onAbandon = {}
    }

    init(pipe: BytePipe) {
        readChunk = { try pipe.read(into: $0) }
        onAbandon = { pipe.abandon() }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try readChunk(buffer)
        if count > 0 {
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        } else if sha256 == nil {
            sha256 = Hex.encode(Array(hasher.finalize()))
        }
        return count
    }

    func abandon() { onAbandon() }

    /// Reads whatever the archive reader left unread and returns the SHA-256 of every byte.
    func drain() throws -> String {
        if let sha256 { return sha256 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while try read(into: buffer) > 0 {}
        return sha256 ?? ""
    }
}

extension SyncDB {
    /// The dumps under dumps.location, newest first.
    public func published() async throws -> [(object: S3Object, complete: Bool)] {
        guard let location = config.dumpLocation else {
            throw SyncError("dumps.location is not set; set it in ~/.config/devbox/config.toml (s3://bucket/prefix/).")
        }
        return try await DumpCatalog(s3: try await s3(), location: try DumpLocation(location)).list()
    }

    /// `devbox db snapshots`.
    public func snapshots(databaseURL: String?) throws -> [Snapshot] {
        let url = try target(databaseURL: databaseURL)
        return try DatabaseSwap(connection: try connect(url), database: url.database).snapshots()
    }

    /// `devbox db restore [NAME]`: the newest snapshot when no name is given. Returns (restored,
    /// the snapshot the replaced data went to).
    public func restore(_ name: String?, databaseURL: String?, allowRemote: Bool) throws -> (String, String?) {
        let url = try target(databaseURL: databaseURL)
        guard url.isLocal || allowRemote else {
            throw SyncError("\(url.display) is not on this machine; restore replaces its tables, so it needs --allow-remote.")
        }
        let swap = DatabaseSwap(connection: try connect(url), database: url.database)
        guard let chosen = try name ?? swap.snapshots().first?.name else {
            throw SyncError("there are no snapshots of \(url.database) yet; sync-db makes one each time it replaces the data.")
        }
        return (chosen, try swap.restore(chosen))
    }
}
