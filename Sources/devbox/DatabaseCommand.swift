import ArgumentParser
import CommandSupport
import DevboxKit
import Foundation
import Terminal

extension Devbox {
    struct Database: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db",
            abstract: "The local database: a SQL shell, and the snapshots sync-db keeps.",
            subcommands: [Shell.self, Snapshots.self, Restore.self],
            defaultSubcommand: Shell.self
        )

        struct Shell: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Open a mariadb shell on the local database (or run SQL given after --).",
                discussion: "Examples:\n  devbox db\n  devbox db shell -- -e 'SHOW TABLES'"
            )

            @Argument(parsing: .postTerminator, help: "Arguments for the mariadb client, after --.")
            var arguments: [String] = []

            func run() async throws {
                let app = try await DevboxContext().localApp()
                let tty = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
                // The password is read inside the container from its environment, never passed on a command line.
                let script = #"MYSQL_PWD="$MARIADB_PASSWORD" exec mariadb -u"$MARIADB_USER" "$MARIADB_DATABASE" "$@""#
                try app.project.replaceProcess(["exec"] + (tty ? [] : ["-T"]) + ["db", "sh", "-c", script, "mariadb"] + arguments)
            }
        }

        struct Snapshots: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List the snapshots of previous data that sync-db kept, newest first.",
                discussion: """
                    The database is --database-url, else DEVBOX_DATABASE_URL, else the one `devbox up` runs; \
                    leave the password out of the URL and set MYSQL_PWD.
                    """)

            @Option(help: ArgumentHelp("The database (default: DEVBOX_DATABASE_URL, else the one `devbox up` runs).", valueName: "mysql://..."))
            var databaseURL: String?

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let context = try DevboxContext(json: output.json)
                let sync = DatabaseSync(config: context.config, environment: context.environment, http: context.http,
                                        console: context.console)
                let snapshots = try await sync.snapshots(databaseURL: databaseURL)
                try context.console.present(snapshots) { _ in
                    snapshots.isEmpty ? "No snapshots yet: sync-db keeps one each time it replaces the data."
                        : Table(headers: ["snapshot", "taken", "tables", "size"], rows: snapshots.map {
                            [$0.name, Format.age(Date().timeIntervalSince($0.created)), String($0.tables), Format.bytes($0.bytes)]
                        }).render()
                }
            }
        }

        struct Restore: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Put a snapshot back in place (the newest when none is named); the current data becomes a snapshot.",
                discussion: """
                    The database is --database-url, else DEVBOX_DATABASE_URL, else the one `devbox up` runs; \
                    leave the password out of the URL and set MYSQL_PWD. A restore waits for no one: while a \
                    sync-db or another restore of the same database runs, it is refused.
                    """)

            @Argument(help: "The snapshot's name, from `devbox db snapshots`.")
            var name: String?

            @Option(help: ArgumentHelp("The database (default: DEVBOX_DATABASE_URL, else the one `devbox up` runs).", valueName: "mysql://..."))
            var databaseURL: String?

            @Flag(help: "Allow a database that is not on this machine.")
            var allowRemote = false

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let context = try DevboxContext(json: output.json)
                let sync = DatabaseSync(config: context.config, environment: context.environment, http: context.http,
                                        console: context.console)
                let (restored, saved) = try await sync.restore(name, databaseURL: databaseURL, allowRemote: allowRemote)
                struct Document: Encodable { var restored: String; var previousDataSavedAs: String? }
                try context.console.present(Document(restored: restored, previousDataSavedAs: saved)) { _ in
                    "Restored \(restored)" + (saved.map { "; the data it replaced is kept as \($0)." } ?? ".")
                }
            }
        }
    }
}
