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
            subcommands: [Up.self, Diff.self, Status.self, Down.self]
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

                    Examples:
                      adminctl infra up
                      adminctl infra up --yes --json

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

                    Examples:
                      adminctl infra diff
                      adminctl infra diff --json

                    Exit status: 0 when the change set was made (whether or not it changes \
                    anything), 1 when it could not be.
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
                abstract: "Show the shared stack's state, outputs, and whether it still matches adminctl.toml.",
                discussion: """
                    Says when adminctl.toml or the template changed since the last `adminctl infra \
                    up` (`adminctl infra diff` then shows the change). With --drift it also asks \
                    CloudFormation which resources were changed by hand since (group sizes, \
                    database settings, security group rules), property by property.

                    Examples:
                      adminctl infra status
                      adminctl infra status --drift --json

                    Exit status: 0, or 1 with --drift when a resource drifted (for a daily check).
                    """
            )

            @Flag(help: "Also detect resources changed outside CloudFormation (takes a few seconds).")
            var drift = false

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let console = output.console
                let report = try await Infra.open().status(drift: drift)
                try console.present(report, text: report.render)
                if report.drifted { throw ExitCode(1) }
            }
        }

        struct Down: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete the shared stack, keeping the databases as final snapshots and the buckets.",
                discussion: """
                    Refuses while other stacks stand on the shared one (each developer's stack, \
                    or any stack importing its exports): offboard the developers first. Then it \
                    shows what goes and what stays, and asks you to type the stack's name (or \
                    takes it from --confirm, for scripts). The databases' deletion protection is \
                    turned off just before the deletion (and back on if the deletion fails); \
                    CloudFormation takes a final snapshot of each database, and leaves the \
                    artifacts, dumps and logs buckets in place. With --delete-data the snapshots \
                    and the buckets with every object version go too, for good.

                    Kept buckets keep their names, so a new `adminctl infra up` needs other \
                    bucket names in adminctl.toml (buckets.*) while they exist.

                    Examples:
                      adminctl infra down
                      adminctl infra down --confirm nuvola-shared --json

                    Exit status: 0 when the stack is deleted or did not exist, 1 when other \
                    stacks depend on it or the deletion failed (the first resource that could \
                    not be deleted and why are shown), 2 for a usage error (no terminal and no \
                    --confirm, or a --confirm that is not the stack's name).
                    """
            )

            @Option(help: ArgumentHelp("The stack's name, typed in advance (instead of the question).", valueName: "stack-name"))
            var confirm: String?

            @Flag(help: "Also delete the final database snapshots and the buckets with all their contents.")
            var deleteData = false

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let console = output.console
                let infrastructure = try await Infra.open()
                let plan = try await infrastructure.downPlan(deleteData: deleteData)
                guard plan.exists else {
                    let report = try await infrastructure.down(plan, console: console)
                    try console.present(report, text: report.render)
                    return
                }
                if !console.isJSON || confirm == nil { console.note(plan.render(console.errColors)) }
                if let confirm {
                    guard confirm == plan.stack else {
                        throw ValidationError("--confirm is '\(Printable.escaping(confirm))', not the stack's name \(plan.stack): nothing was deleted.")
                    }
                } else {
                    guard let typed = try await Prompt.confirm("Delete \(plan.stack)?", expected: plan.stack, output: console.err) else {
                        throw ValidationError("adminctl infra down asks you to type the stack's name, and there is no terminal to ask on: "
                            + "add --confirm \(plan.stack).")
                    }
                    guard typed else { throw InfraError(.changeSet, "Not confirmed: stack \(plan.stack) is unchanged.") }
                }
                let report = try await infrastructure.down(plan, console: console)
                try console.present(report, text: report.render)
            }
        }
    }
}
