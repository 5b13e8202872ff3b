import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import Terminal

extension Adminctl {
    struct Offboard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a developer: their keys, machine, stack and IAM user.",
            discussion: """
                Deactivates then deletes the developer's access keys, deletes their stack (the \
                machine, its security group and role, the IAM user and its policy), and removes an \
                IAM user of that name left outside a stack. With --keep-volume the machine's \
                volumes are snapshotted first (tagged Owner=<name>). Whatever is already gone is skipped, so \
                running it twice, or after a half-failed onboarding, is safe; it lists what it \
                removed. Nobody else's resources are touched.

                Examples:
                  adminctl offboard alice --yes
                  adminctl offboard bob --keep-volume --yes

                Exit status: 0 when nothing of the developer is left, 1 when something could not be \
                removed or nobody of that name exists, 2 for a usage error.
                """
        )

        @Argument(help: "The developer's name.")
        var name: String

        @Flag(help: "Snapshot the machine's volume (the workspace) before it is deleted.")
        var keepVolume = false

        @Flag(help: "Remove without asking (needed when there is no terminal).")
        var yes = false

        @OptionGroup var output: OutputOptions

        func validate() throws {
            // An empty name is not nobody to IAM: GetUser and ListAccessKeys without a user name
            // answer for the caller, whose own keys the removal would then delete.
            if let problem = DeveloperName.problem(name) { throw ValidationError("\(problem).") }
        }

        func run() async throws {
            if !yes, isatty(STDIN_FILENO) != 1 {
                throw ValidationError("adminctl offboard asks before it removes \(name), and there is no terminal to ask on: add --yes.")
            }
            let console = output.console
            let access = try await Adminctl.openAccess()
            if !yes, try await Prompt.confirm("Remove \(name)'s keys, machine and IAM user?", output: console.err) != true {
                throw ExitCode(1)
            }
            let report = try await Offboarding(access: access, developer: name, keepVolume: keepVolume).run { console.note($0) }
            try console.present(report, text: report.render)
        }
    }
}
