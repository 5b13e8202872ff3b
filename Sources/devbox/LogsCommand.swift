import ArgumentParser
import CommandSupport
import DevboxKit
import Foundation

extension Devbox {
    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the containers' logs (all services, or one).",
            discussion: "Examples:\n  devbox logs -f app\n  devbox logs --tail 50 db"
        )

        @Flag(name: .shortAndLong, help: "Keep following new lines (Ctrl-C stops).")
        var follow = false

        // Unconditional, so that "--tail -5" reaches validate() rather than "Missing value".
        @Option(parsing: .unconditional, help: "How many of the last lines to show per service.")
        var tail: Int = 100

        @Argument(help: "app or db (default: both).")
        var service: String?

        func validate() throws {
            if tail < 0 { throw ValidationError("--tail is a number of lines, 0 or more (not \(tail)).") }
        }

        func run() async throws {
            let app = try await DevboxContext().localApp()
            var arguments = ["logs", "--no-color", "--tail", String(tail)]
            if follow { arguments.append("--follow") }
            if let service { arguments.append(service) }
            try app.project.replaceProcess(arguments)
        }
    }

    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command inside a service's container.",
            discussion: "Examples:\n  devbox exec app -- php bin/console cache:clear\n  devbox exec db -- mariadb-admin status"
        )

        @Argument(help: "app or db.")
        var service: String

        @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
        var command: [String] = []

        func validate() throws {
            if command.isEmpty { throw ValidationError("name the command to run after --, e.g. `devbox exec app -- php -v`.") }
        }

        func run() async throws {
            let app = try await DevboxContext().localApp()
            let tty = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
            try app.project.replaceProcess(["exec"] + (tty ? [] : ["-T"]) + [service] + command)
        }
    }
}
