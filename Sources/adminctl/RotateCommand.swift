import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import Terminal

extension Adminctl {
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a developer's access key, AWS's two-key way, and write their new bundle.",
            discussion: """
                For each developer: a stale inactive second key is deleted first (a user holds at \
                most two); a new key is created and written to their access bundle; the new key \
                is proven through STS; the old key's last use is shown; then the old key is \
                deactivated and deleted. If the new key does not work it is deleted and the \
                previous bundle put back. Hand the new bundle over again.

                With --all, only developers whose key is older than --max-age days are rotated \
                (CIS: 90).

                Examples:
                  adminctl rotate alice --bundle-dir ~/handover
                  adminctl rotate --all --max-age 90 --dry-run

                Exit status: 0 when every chosen key was rotated (or, with --dry-run, could be), \
                1 when one could not be, 2 for a usage error.
                """
        )

        @Argument(help: "The developer whose key is replaced.")
        var name: String?

        @Flag(help: "Every developer whose key is older than --max-age days.")
        var all = false

        @Option(help: "With --all: rotate keys older than this many days.")
        var maxAge: Int = 90

        @Flag(help: "Say what would be rotated, and change nothing.")
        var dryRun = false

        @Option(help: ArgumentHelp("Where the access bundles are written.", valueName: "dir"), completion: .directory)
        var bundleDir: String?

        @Flag(help: "Rotate without asking (needed when there is no terminal).")
        var yes = false

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if (name == nil) == !all { throw ValidationError("Name one developer, or give --all (not both).") }
            if let name, let problem = DeveloperName.problem(name) { throw ValidationError("\(problem).") }
            if maxAge < 1 { throw ValidationError("--max-age takes a number of days, at least 1.") }
        }

        func run() async throws {
            if !yes, !dryRun, isatty(STDIN_FILENO) != 1 {
                throw ValidationError("adminctl rotate asks before it replaces keys, and there is no terminal to ask on: add --yes.")
            }
            let console = output.console
            if !yes, !dryRun, try await Prompt.confirm("Replace the access key\(all ? "s" : " of \(name ?? "")")?", output: console.err) != true {
                throw ExitCode(1)
            }
            let rotation = KeyRotation(access: try await Adminctl.openAccess(), bundleDirectory: bundleDir ?? Adminctl.defaultBundleDirectory,
                                       maxAgeDays: maxAge, dryRun: dryRun)
            let report = try await rotation.run(names: name.map { [$0] } ?? []) { console.note($0) }
            try console.present(report, text: report.render)
        }
    }
}
