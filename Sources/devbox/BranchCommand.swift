import ArgumentParser
import CommandSupport
import DevboxKit

extension Devbox {
    struct Branch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start feature branches from new_features, keep them current, list them.",
            subcommands: [Start.self, Update.self, List.self]
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

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List local branches with ahead/behind origin/new_features, upstream and pull request.",
                discussion: """
                    Ahead/behind are against the last fetched origin/new_features (nothing is \
                    fetched). Pull requests come from GitHub in one listing; when GitHub cannot be \
                    asked (no token, offline) the branches are still listed and the reason shown.

                    --json fields: integrationBranch, branches [name, current, ahead, behind, \
                    upstream, pullRequest (number, url, draft)], pullRequestsProblem.
                    """
            )

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let context = try DevboxContext(json: output.json)
                let report = try await context.contribution.branchList()
                try context.console.present(report) { _ in report.render() }
            }
        }
    }
}
