import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import Terminal

extension Adminctl {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove that no developer can reach another's machine, from what is deployed.",
            discussion: """
                Reads every developer's policies from IAM and evaluates them itself (it does not \
                trust the cloud's evaluation): for every developer and every instance, may they \
                open a session (ssm:StartSession) or run a command there? Only their own machine \
                may allow a session. Also checks that no developer may read the release artifacts \
                or change their own IAM rights, is in an IAM group, has a key older than \
                --max-age days; that no developer's security group admits anything; and that no \
                developer machine lacks its Owner tag. Each finding comes with the command that \
                fixes it.

                Examples:
                  adminctl audit
                  adminctl audit --json --max-age 30

                Exit status: 0 when nothing was found, 1 when there is a finding or the audit \
                could not run, 2 for a usage error.
                """
        )

        @Option(help: "The oldest an access key may be, in days (CIS: 90).")
        var maxAge: Int = 90

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if maxAge < 1 { throw ValidationError("--max-age takes a number of days, at least 1.") }
        }

        func run() async throws {
            let console = output.console
            let report = try await AccessAudit(access: try await Adminctl.openAccess(), maxKeyAgeDays: maxAge).run()
            try console.present(report, text: report.render)
            if !report.clean { throw ExitCode(1) }
        }
    }
}
