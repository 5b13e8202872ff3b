import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import HTTP
import Terminal

extension Adminctl {
    struct Infra: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, change and inspect the shared infrastructure (the <project>-shared CloudFormation stack).",
            subcommands: [Up.self, Diff.self, Status.self]
        )

        static func open() async throws -> SharedInfrastructure {
            try await SharedInfrastructure.open(directory: FileManager.default.currentDirectoryPath,
                                                environment: ProcessInfo.processInfo.environment,
                                                http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"))
        }

        static let templateHelp = """
            The template is adminctl/templates/shared.yaml, found in the folder named by \
            ADMINCTL_TEMPLATES or walking up from adminctl's own directory; its parameters come \
            from adminctl.toml (`adminctl config show`).
            """

        struct Up: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create or update the shared stack through a change set, after showing it.",
                discussion: """
                    Shows what will be added, modified, replaced or removed, asks, then applies \
                    the change and prints each resource's progress on stderr, and at the end the \
                    stack's outputs (load balancer URL, database endpoints, bucket names). When \
                    nothing would change it says so and touches nothing.

                    \(Infra.templateHelp)

                    Exit status: 0 when the stack is up to date, 1 when the change failed (the \
                    first failed resource and CloudFormation's reason are shown, after the \
                    rollback) or was not confirmed, 2 for a usage error (--yes missing without a \
                    terminal).
                    """
            )

            @Flag(help: "Apply without asking (needed when there is no terminal).")
            var yes = false

            @OptionGroup var output: OutputOptions

            func run() async throws {
                if !yes, isatty(STDIN_FILENO) != 1 {
                    throw ValidationError("adminctl infra up asks before it changes the stack, and there is no terminal to ask on: "
                        + "add --yes (`adminctl infra diff` shows the change first).")
                }
                let console = output.console
                let infrastructure = try await Infra.open()
                let yes = yes
                let report = try await infrastructure.up(console: console, show: { plan in
                    if !console.isJSON { console.note(plan.render(console.errColors)) }
                }, confirm: { plan in
                    if yes { return true }
                    return try await Prompt.confirm("Apply these changes to \(plan.stack)?", output: console.err) ?? false
                })
                try console.present(report, text: report.render)
            }
        }

        struct Diff: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show what `adminctl infra up` would change, and change nothing.",
                discussion: """
                    Creates a change set, prints each resource it would add, modify, replace or \
                    remove (replacements and removals flagged), then deletes it.

                    \(Infra.templateHelp)
                    """
            )

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let console = output.console
                let plan = try await Infra.open().diff()
                try console.present(plan, text: plan.render)
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show the shared stack's state, outputs and when it last changed."
            )

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let console = output.console
                let report = try await Infra.open().status()
                try console.present(report, text: report.render)
            }
        }
    }
}
