import AWS
import DumpImport
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
    /// The local database; nil means DEVBOX_DATABASE_URL, else the compose project's.
    public var databaseURL: String?
    /// Non-loopback servers are refused unless this is set (the command asks first).
    public var allowRemote = false
    /// Keep the downloaded dump in ~/.cache/devbox/dumps (and reuse it when it is still the newest).
    public var useCache = true
    /// Snapshots kept after a successful sync.
    public var keep = 2
    public var load = LoadOptions()
    /// Load a dump without mysqldump's closing line and without a checksum.
    public var allowIncomplete = false

    public init() {}
}

/// The database sync-db replaces, and where its password came from (for a refused login).
public struct SyncTarget: Sendable {
    public var url: DatabaseURL
    /// "MYSQL_PWD", "DEVBOX_DATABASE_URL", "--database-url", or the compose password file.
    public var passwordOrigin: String
    /// The one `devbox up` runs.
    public var isLocalApp: Bool
    /// `<file>.sha256` when a local file's checksum came from there.
    public var checksumOrigin: String? = nil
}

/// `devbox sync-db`: finds the dump (S3 with the cache, a file, stdin) and hands it to the dump
/// engine (`DumpImporter`), which keeps the current data exactly as it was until the new data
/// is whole and verified.
public struct DatabaseSync: Sendable {
    public var config: DevboxConfig
    public var environment: [String: String]
    public var http: HTTPClient
    public var console: Console

    public init(config: DevboxConfig, environment: [String: String], http: HTTPClient, console: Console) {
        self.config = config
        self.environment = environment
        self.http = http
        self.console = console
    }

    var paths: DevboxPaths { DevboxPaths(environment: environment) }

    /// --database-url, else DEVBOX_DATABASE_URL, else the compose project's database. A URL
    /// without a password takes it from MYSQL_PWD, so it need not appear on a command line.
    public func target(databaseURL: String?) throws -> SyncTarget {
        let given = databaseURL.map { ($0, "--database-url") }
            ?? environment["DEVBOX_DATABASE_URL"].flatMap { $0.isEmpty ? nil : ($0, "DEVBOX_DATABASE_URL") }
        guard let (text, origin) = given else {
            let file = LocalApp.databasePasswordFile(paths: paths, project: config.composeProject)
            return SyncTarget(url: try LocalApp.databaseURL(config: config, paths: paths), passwordOrigin: file + " (written by `devbox up`)",
                              isLocalApp: true)
        }
        var url = try DatabaseURL(text)
        var passwordOrigin = "the URL in \(origin)"
        if url.endpoint.password.isEmpty {
            url.endpoint.password = environment["MYSQL_PWD"] ?? ""
            passwordOrigin = environment["MYSQL_PWD"] == nil ? "nowhere (no password in \(origin), MYSQL_PWD unset)" : "MYSQL_PWD"
        }
        return SyncTarget(url: url, passwordOrigin: passwordOrigin, isLocalApp: false)
    }

    public func run(_ options: SyncOptions) async throws -> SyncReport {
        let target = try target(databaseURL: options.databaseURL)
        let url = target.url
        guard url.isLocal || options.allowRemote else {
            throw ImportError(.usage, "\(url.display) is not on this machine; sync-db replaces a database's contents, so it only "
                + "does that to a remote server with --allow-remote (and your confirmation).")
        }
        var importOptions = ImportOptions()
        importOptions.load = options.load
        importOptions.keep = options.keep
        importOptions.sanitize = config.sanitizeRules
        importOptions.allowIncomplete = options.allowIncomplete
        let importer = try DumpImporter(target: url, options: importOptions, console: console)
        do {
            return try await sync(options, importer: importer)
        } catch let error as ImportError {
            var target = target
            if case .file(let path) = options.source { target.checksumOrigin = path + ".sha256" }
            // Finding or fetching the dump failed before the database was touched: say so too.
            throw explain(error.kind == .usage ? error : error.leaving(url.display), target: target)
        } catch is CancellationError {
            throw ImportError.interrupted(url.display)
        } catch {
            // AWS configuration, the cache's file operations: no kind of their own here.
            throw ImportError(.source, "\(error)", databaseUnchanged: url.display)
        }
    }

    /// What to do next, by the kind of failure.
    func explain(_ error: ImportError, target: SyncTarget) -> ImportError {
        var error = error
        switch error.kind {
        case .connection:
            error.next = target.isLocalApp ? "Start it with `devbox up`." : "Check it runs, and --database-url."
        case .accessDenied:
            error.next = "The password came from \(target.passwordOrigin); fix it there "
                + (target.isLocalApp ? "(or run `devbox up` again)." : "(MYSQL_PWD or DEVBOX_DATABASE_URL).")
        case .checksum:
            error.message += target.checksumOrigin.map { ", as \($0) says: the file differs from the one that checksum was made for." }
                ?? ", as published in S3: the dump was corrupted on the way or changed since. Run sync-db again (the cached copy "
                + "was removed)."
        default:
            break
        }
        return error
    }

    func sync(_ options: SyncOptions, importer: DumpImporter) async throws -> SyncReport {
        switch options.source {
        case .file(let path):
            let input = try DumpInput(file: path)
            let size = DumpCache.size(path)
            let summary = try await importer.run(input, expectedSHA256: try sidecarChecksum(path), size: size)
            return SyncReport(dump: .init(source: path, size: size, sha256: summary.sha256), importer: importer, summary: summary)
        case .standardInput:
            let summary = try await importer.run(DumpInput(descriptor: STDIN_FILENO), expectedSHA256: nil, size: nil)
            return SyncReport(dump: .init(source: "stdin", sha256: summary.sha256), importer: importer, summary: summary)
        case .latest, .named:
            return try await syncPublished(options, importer: importer)
        }
    }

    /// `<file>.sha256` beside a local dump (sha256sum's output), when there is one.
    func sidecarChecksum(_ path: String) throws -> String? {
        guard let text = try? String(contentsOfFile: path + ".sha256", encoding: .utf8) else { return nil }
        let hex = text.split(whereSeparator: \.isWhitespace).first.map { $0.lowercased() } ?? ""
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
            throw ImportError(.source, "\(path).sha256 does not hold a SHA-256 (sha256sum's output); fix or remove it.")
        }
        return hex
    }

    func syncPublished(_ options: SyncOptions, importer: DumpImporter) async throws -> SyncReport {
        let s3 = try await self.s3()
        let published = try await locate(options.source, s3: s3)
        announce(published)
        var phases = PhaseTimes()
        var dump = SyncReport.Dump(source: "s3://\(published.bucket)/\(published.key)", size: published.size,
                                   lastModified: published.lastModified, sha256: published.sha256)
        guard options.useCache else {
            let summary = try await streaming(published, s3: s3, copyTo: nil) { input in
                try await importer.run(input, expectedSHA256: published.sha256, size: published.size)
            }
            dump.sha256 = summary.sha256
            return SyncReport(dump: dump, importer: importer, summary: summary)
        }
        let cache = DumpCache(paths: paths, console: console)
        let held = try cache.hold(published)
        defer { close(held) }
        let entry = try await phases.measure(.download) { try await cache.prepare(published, s3: s3) }
        if case .fresh = entry { phases[.download] = nil }
        do {
            let summary: ImportSummary
            if case .fresh(let partial, _) = entry {
                summary = try await streaming(published, s3: s3, copyTo: partial) { input in
                    try await importer.run(input, expectedSHA256: published.sha256, size: published.size)
                }
            } else {
                dump.fromCache = { if case .verified = entry { true } else { false } }()
                summary = try await importer.run(try DumpInput(file: entry.file), expectedSHA256: published.sha256,
                                                 size: published.size, phases: phases)
            }
            cache.keep(entry, sha256: summary.sha256)
            dump.sha256 = summary.sha256
            return SyncReport(dump: dump, importer: importer, summary: summary)
        } catch let error as ImportError {
            cache.settle(entry, after: error, size: published.size)
            throw error
        }
    }

    /// Runs `body` on the dump as it streams from S3 (dropped connections resume with Range),
    /// also written to `copy` (the cache's partial file) when given. The download is a child
    /// task: cancelling the sync cancels it, and when the import stops reading, the download
    /// stops writing.
    func streaming(_ dump: PublishedDump, s3: S3, copyTo copy: String?,
                   _ body: @escaping @Sendable (DumpInput) async throws -> ImportSummary) async throws -> ImportSummary {
        let pipe = BytePipe()
        let fd: Int32 = try copy.map { path in
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ImportError(.source, "cannot write \(path): \(String(cString: strerror(errno))).") }
            return fd
        } ?? -1
        defer { if fd >= 0 { close(fd) } }
        let input = DumpInput(pipe: pipe, name: "s3://\(dump.bucket)/\(dump.key)")
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await s3.stream(bucket: dump.bucket, key: dump.key) { chunk in
                        if fd >= 0 {
                            do { try FileDescriptor.writeAll(fd, chunk) } catch {
                                throw ImportError(.source, "writing \(copy ?? "") failed: \(error.localizedDescription).")
                            }
                        }
                        try pipe.write(chunk)
                    }
                    pipe.finish()
                } catch {
                    pipe.finish(ImportError(.source, "streaming s3://\(dump.bucket)/\(dump.key) failed: \(error)"))
                }
            }
            defer { input.abandon() }
            let summary = try await body(input)
            try await group.waitForAll()
            return summary
        }
    }

    // MARK: finding dumps

    func s3() async throws -> S3 {
        S3(AWSClient(try await AWSConfiguration.resolve(regionFlag: config.region, environment: environment, http: http)))
    }

    func location() throws -> DumpLocation {
        guard let location = config.dumpLocation else {
            throw ImportError(.usage, "dumps.location is not set, so devbox does not know where production dumps are. Set it "
                + "in /etc/devbox/config.toml or ~/.config/devbox/config.toml (s3://bucket/prefix/), or use --file.")
        }
        return try DumpLocation(location)
    }

    func locate(_ source: DumpSource, s3: S3) async throws -> PublishedDump {
        let catalog = DumpCatalog(s3: s3, location: try location())
        if case .named(let name) = source { return try await catalog.named(name) }
        let (dump, skipped) = try await catalog.latest()
        for key in skipped { console.note("skipped \(key): its checksum is not published yet (still being written)") }
        return dump
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

    /// The dumps under dumps.location, newest first.
    public func published() async throws -> [(object: S3Object, complete: Bool)] {
        try await DumpCatalog(s3: try await s3(), location: try location()).list()
    }

    /// `devbox db snapshots`.
    public func snapshots(databaseURL: String?) async throws -> [Snapshot] {
        try await SnapshotStore(target: try target(databaseURL: databaseURL).url).list()
    }

    /// `devbox db restore [NAME]`: the newest snapshot when no name is given.
    public func restore(_ name: String?, databaseURL: String?, allowRemote: Bool) async throws -> (restored: String, savedAs: String?) {
        let target = try target(databaseURL: databaseURL)
        guard target.url.isLocal || allowRemote else {
            throw ImportError(.usage, "\(target.url.display) is not on this machine; restore replaces its tables, so it needs --allow-remote.")
        }
        do {
            return try await SnapshotStore(target: target.url).restore(name)
        } catch let error as ImportError {
            throw explain(error, target: target)
        }
    }
}
