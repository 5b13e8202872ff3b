import ArgumentParser
import CommandSupport
import DevboxKit
import Foundation

extension Devbox {
    struct Database: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db",
            abstract: "The local database: a SQL shell on it.",
            subcommands: [Shell.self],
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
    }
}
