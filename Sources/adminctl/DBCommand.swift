import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import HTTP
import Nuvola
import Terminal

extension Adminctl {
    struct DB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db",
            abstract: "Production dumps: publish one for developers, load one into the dev database.",
            discussion: """
                `adminctl db dump prod` publishes a dump of the production database where \
                `devbox sync-db` finds it; `adminctl db refresh dev` loads one into the dev \
                database with the [[sanitize]] rules of adminctl.toml. Both run on an instance of \
                the environment through Run Command, because the databases live in private \
                subnets; the database password stays on that instance.

                Examples:
                  adminctl db dump prod
                  adminctl db refresh dev --yes
                """,
            subcommands: [Dump.self, Refresh.self]
        )
    }
}

extension Adminctl.DB {
    static func operations(console: Console) async throws -> DatabaseOperations {
        let session = try await AdminSession.open(directory: FileManager.default.currentDirectoryPath,
                                                  environment: ProcessInfo.processInfo.environment,
                                                  http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"))
        var operations = try await DatabaseOperations(session: session)
        operations.onNote = { console.note($0) }
        return operations
    }

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dump the production database and publish it for `devbox sync-db`.",
            discussion: """
                On one InService prod instance (through Run Command), mariadb-dump or mysqldump \
                --single-transaction --routines --triggers --hex-blob reads the production \
                database as of one moment without locking it; the dump is gzipped and uploaded to \
                dumps/prod/<UTC time>.sql.gz in the dumps bucket, and only then its SHA-256 as \
                <key>.sha256: the convention `devbox sync-db` relies on (a dump without its \
                checksum is one still being written, and is skipped). The instance reads the \
                database's master password from the secret RDS keeps in Secrets Manager into a \
                0600 option file: it is never on a command line, in a log or in this output.

                Then the complete dumps beyond the newest --keep (default dumps.keep of \
                adminctl.toml, 7) are deleted, each checksum before its dump; the newest is never \
                deleted. A failure, or Ctrl-C, removes whatever was uploaded: nothing is left \
                half-published.

                --schedule sets up the daily dump instead (default 03:00 UTC, --at HH:MM): an \
                EventBridge Scheduler schedule, <project>-prod-dump, that calls Run Command on the \
                prod instances one at a time with the same script; the first one dumps, the others \
                find today's dump published and stop. Scheduled dumps expire after \
                dumps.retention_days (the dumps bucket's lifecycle rule). --unschedule removes it.

                Examples:
                  adminctl db dump prod
                  adminctl db dump prod --keep 14 --json
                  adminctl db dump prod --schedule --at 02:30
                  adminctl db dump prod --unschedule

                Exit status: 0 when the dump is published (or the schedule set or removed), 1 when \
                it failed (no InService prod instance, the dump tool failed, the upload failed; \
                nothing published), 2 for a usage error, 130 after Ctrl-C.
                """
        )

        @Argument(help: "prod (the only environment dumped).")
        var environment: AppEnvironment

        @Option(help: ArgumentHelp("Complete dumps to keep (default: dumps.keep in adminctl.toml).", valueName: "n"))
        var keep: Int?

        @Flag(help: "Instead of dumping now, set up the daily dump (EventBridge Scheduler → Run Command).")
        var schedule = false

        @Option(help: ArgumentHelp("With --schedule: the UTC time of day it runs (default 03:00).", valueName: "HH:MM"))
        var at: String?

        @Flag(help: "Remove the daily dump's schedule.")
        var unschedule = false

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard environment == .prod else {
                throw ValidationError("Only prod is dumped; the dev database is loaded from prod's dumps with `adminctl db refresh dev`.")
            }
            if let keep, keep < 1 { throw ValidationError("--keep must be 1 or more: the newest dump is always kept.") }
            if schedule && unschedule { throw ValidationError("Choose --schedule or --unschedule.") }
            if at != nil && !schedule { throw ValidationError("--at goes with --schedule (the time the daily dump runs).") }
            if let at, DumpSchedule.expression(at: at) == nil {
                throw ValidationError("--at takes a UTC time of day as HH:MM (03:00, 23:30), not \"\(at)\".")
            }
            if keep != nil && (schedule || unschedule) {
                throw ValidationError("--keep applies to a dump made now; scheduled dumps expire after dumps.retention_days "
                    + "(the dumps bucket's lifecycle rule).")
            }
        }

        func run() async throws {
            let console = output.console
            let operations = try await Adminctl.DB.operations(console: console)
            if schedule || unschedule {
                let planner = DumpSchedule(operations: operations)
                let report = schedule ? try await planner.set(at: at ?? "03:00") : try await planner.remove()
                try console.present(report, text: report.render)
                return
            }
            let keep = keep ?? operations.session.config.value("dumps.keep").flatMap(Int.init) ?? 7
            let report = try await ProductionDump(operations: operations, keep: keep).run()
            try console.present(report, text: report.render)
        }
    }

    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load the newest production dump into the dev database, sanitised.",
            discussion: """
                Takes the newest complete dump under dumps/prod/ (or --dump KEY) and loads it \
                into the dev database with `devbox sync-db` on one InService dev instance (through \
                Run Command): a shadow database filled over several connections, row counts and \
                the SHA-256 checked, the [[sanitize]] rules of adminctl.toml applied (the same \
                format as devbox's config.toml), then one atomic RENAME swaps it in; the previous \
                dev data stays as one snapshot. Any failure, or Ctrl-C, leaves the dev database as \
                it was. The dev instance reads the master password from Secrets Manager; it is \
                never on a command line.

                    [[sanitize]]
                    table = "customer"
                    column = "email"
                    action = "email"      # hash | email | blank | null | value

                Examples:
                  adminctl db refresh dev --yes
                  adminctl db refresh dev --dump 2026-11-29T030000Z.sql.gz --yes --json

                Exit status: 0 when the dev database holds the dump, 1 when it failed (no dump, no \
                InService dev instance, the load failed; the dev database unchanged), 2 for a usage \
                error or without --yes and no terminal to ask on, 130 after Ctrl-C.
                """
        )

        @Argument(help: "dev (the only environment refreshed).")
        var environment: AppEnvironment

        @Option(help: ArgumentHelp("A dump under dumps/prod/ (key, file name or s3:// URL) instead of the newest.", valueName: "key"))
        var dump: String?

        @Flag(name: .shortAndLong, help: "Do not ask before replacing the dev data (needed without a terminal).")
        var yes = false

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard environment == .dev else {
                throw ValidationError("Only dev is refreshed from production's dumps; production's data is never replaced by adminctl.")
            }
            if let dump {
                // A key elsewhere in the bucket is refused by the dev instance's role anyway, as a puzzling 403.
                let key = dump.hasPrefix("s3://") ? String(dump.dropFirst(5).drop { $0 != "/" }.dropFirst()) : dump
                if dump.isEmpty || key.split(separator: "/", omittingEmptySubsequences: false).contains("..")
                    || (key.contains("/") && !key.hasPrefix(BucketLayout.productionDumps)) {
                    throw ValidationError("--dump takes a dump under \(BucketLayout.productionDumps): its file name "
                        + "(2026-11-29T030000Z.sql.gz), key or s3:// URL, not \"\(Printable.escaping(dump))\" "
                        + "(`devbox sync-db --list` lists them)")
                }
            }
        }

        func run() async throws {
            let console = output.console
            if !yes, isatty(STDIN_FILENO) != 1 {
                throw ValidationError("adminctl db refresh dev replaces the dev database's data and asks first, and there is no terminal to ask on: add --yes.")
            }
            let operations = try await Adminctl.DB.operations(console: console)
            let refresh = DevRefresh(operations: operations, rules: operations.session.config.sanitizeRules)
            let chosen = try await refresh.dump(named: dump)
            if !yes, try await Prompt.confirm("Replace the dev database's data with s3://\(chosen.bucket)/\(chosen.key)?",
                                              output: console.err) != true {
                throw ExitCode(1)
            }
            let report = try await refresh.run(chosen)
            try console.present(report, text: report.render)
        }
    }
}
