import ArgumentParser
import CommandSupport
import DevboxKit
import DumpImport
import Foundation
import Terminal

extension Devbox {
    struct SyncDB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync-db",
            abstract: "Load the latest production dump into your local database, safely.",
            discussion: """
                Finds the newest complete dump under dumps.location (s3://bucket/prefix/; a dump \
                is complete once its SHA-256 is published beside it) and streams it from S3 \
                through libarchive (.sql, .gz, .bz2, .xz, .zst, tar and zip) into a shadow database \
                over several connections, keeping a copy in ~/.cache/devbox/dumps on the way (a \
                verified copy is reused, an interrupted download resumed). Only when every row is in, the checksum matches and the row \
                counts agree does one atomic RENAME TABLE swap it into place; the previous data \
                becomes a snapshot (`devbox db snapshots`, `devbox db restore`). A failure at \
                any point, or Ctrl-C before the swap, leaves your database exactly as it was.

                Sanitisation rules ([[sanitize]] in config.toml) are applied before the swap. A dump \
                is data: statements dump tools do not write, or that name another database, are \
                refused with their line, and the loader connections can touch only the shadow. One \
                sync-db or restore at a time per database. A dump without a checksum must end with \
                mysqldump's `-- Dump completed` line (--allow-incomplete for dumps known to lack it); \
                a local file's checksum may stand beside it as <file>.sha256.

                Ctrl-C, SIGTERM or SIGHUP stop it and drop the partial import (exit 130, 143, 129); \
                once the swap has begun it is finished instead, and the summary says so.

                Examples:
                  devbox sync-db
                  devbox sync-db --dump 2026-11-28T030000Z.sql.gz --keep 1
                  DEVBOX_DATABASE_URL=mysql://root@127.0.0.1:3306/nuvola devbox sync-db --file ~/prod.sql.zst
                  zcat dump.sql.gz | devbox sync-db --file -
                """
        )

        @Option(help: ArgumentHelp("A dump under dumps.location (key or s3:// URL) instead of the newest.", valueName: "key"))
        var dump: String?

        @Option(help: ArgumentHelp("A local dump file instead of S3; - reads standard input.", valueName: "path"),
                completion: .file())
        var file: String?

        @Option(help: ArgumentHelp("The database to replace (default: DEVBOX_DATABASE_URL, else the one `devbox up` runs). "
                                   + "Leave the password out and set MYSQL_PWD: other users can read command lines.",
                                   valueName: "mysql://user@host:port/db"))
        var databaseURL: String?

        @Flag(help: "Allow a database that is not on this machine (asks first unless --yes).")
        var allowRemote = false

        @Flag(name: .shortAndLong, help: "Do not ask (for scripts).")
        var yes = false

        @Flag(help: "Stream from S3 straight into the import; keep nothing on disk.")
        var noCache = false

        // .unconditional: "--keep -1" reaches validate() and its range error, not "Missing value".
        @Option(parsing: .unconditional, help: "How many snapshots of previous data to keep (0 keeps none).")
        var keep: Int = 2

        @Option(parsing: .unconditional, help: "Loader connections in parallel (default: CPU count, at least 2).")
        var connections: Int?

        @Flag(help: "Add secondary indexes and foreign keys after the rows (faster for big tables with random-order keys).")
        var deferIndexes = false

        @Flag(help: "Load a dump that lacks the closing `-- Dump completed` line and has no checksum.")
        var allowIncomplete = false

        @Flag(help: "List the published dumps and exit.")
        var list = false

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if dump != nil && file != nil { throw ValidationError("--dump and --file name different sources; give one.") }
            if keep < 0 { throw ValidationError("--keep must be 0 or more (it is \(keep)): how many snapshots of previous data to keep.") }
            if let connections, !(1...32).contains(connections) { throw ValidationError("--connections must be between 1 and 32.") }
        }

        func run() async throws {
            let context = try DevboxContext(json: output.json)
            if let databaseURL, (try? DatabaseURL(databaseURL))?.endpoint.password.isEmpty == false {
                context.console.warning("the password in --database-url is visible to other users of this machine (ps); "
                    + "prefer DEVBOX_DATABASE_URL or MYSQL_PWD.")
            }
            let sync = DatabaseSync(config: context.config, environment: context.environment, http: context.http,
                                    console: context.console)
            if list { return try await listDumps(context, sync) }

            var options = SyncOptions()
            options.source = file.map { $0 == "-" ? .standardInput : .file($0) } ?? dump.map { .named($0) } ?? .latest
            options.databaseURL = databaseURL
            options.allowRemote = allowRemote
            options.useCache = !noCache
            options.keep = keep
            options.allowIncomplete = allowIncomplete
            if let connections { options.load.connections = connections }
            options.load.deferIndexes = deferIndexes
            let target = try sync.target(databaseURL: databaseURL).url
            if !target.isLocal && allowRemote && !yes {
                let answer = try await Prompt.confirm("sync-db will replace every table of \(target.display), which is not on this machine.",
                                            expected: target.database, output: context.console.err)
                // Without a terminal --yes is missing (a usage error, exit 2); a refusal is an answer (exit 1).
                guard let answer else { throw ValidationError("a remote database needs confirmation; without a terminal add --yes.") }
                guard answer else { throw ImportError(.usage, "not confirmed; nothing was changed.") }
            }
            let report = try await sync.run(options)
            try context.console.present(report) { _ in report.render() }
        }

        func listDumps(_ context: DevboxContext, _ sync: DatabaseSync) async throws {
            let dumps = try await sync.published()
            struct Row: Encodable { var key: String; var size: Int64; var lastModified: Date?; var complete: Bool }
            let rows = dumps.map { Row(key: $0.object.key, size: $0.object.size, lastModified: $0.object.lastModified, complete: $0.complete) }
            try context.console.present(rows) { _ in
                Table(headers: ["dump", "size", "taken", "checksum"], rows: rows.map {
                    [$0.key, Format.bytes($0.size), $0.lastModified.map { Format.age(Date().timeIntervalSince($0)) } ?? "?",
                     $0.complete ? "published" : "missing (being written)"]
                }).render()
            }
        }
    }
}
