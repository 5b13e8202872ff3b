import ArgumentParser
import CommandSupport
import DevboxKit

extension Devbox {
    struct Branch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start feature branches from new_features and keep them current.",
            subcommands: [Start.self, Update.self]
        )

        struct Start: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create <topic> from origin/new_features and switch to it, carrying uncommitted changes.",
                discussion: """
                    Fetches origin first. When your uncommitted changes conflict with new_features, \
                    nothing changes and devbox says which files; commit or stash them and run again.

                    On a detached HEAD holding commits that no branch has, the branch starts from \
                    HEAD instead, so those commits are kept (devbox names them). The name must \
                    follow git's rules for branch names (`git check-ref-format --branch`).
                    """
            )

            @Argument(help: "The new branch's name, e.g. fix-invoice-rounding.")
            var topic: String

            @OptionGroup var output: OutputOptions

            func validate() throws {
                if let problem = Workspace.invalidName(topic) { throw ValidationError(problem) }
            }

            func run() async throws {
                let context = try DevboxContext(json: output.json)
                let outcome = try await context.workspace.startBranch(topic) { context.console.warning($0) }
                try context.console.present(outcome) { _ in outcome.startSummary }
            }
        }

        struct Update: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Fetch, then fast-forward the current branch to its upstream (never merges or discards).",
                discussion: "On new_features this is `git pull --ff-only` that keeps uncommitted changes."
            )

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let context = try DevboxContext(json: output.json)
                let outcome = try await context.workspace.updateBranch { context.console.warning($0) }
                try context.console.present(outcome) { _ in outcome.updateSummary }
            }
        }
    }
}
