import ArgumentParser
import CommandSupport
import DevboxKit
import Foundation

extension Devbox {
    struct PR: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pr",
            abstract: "Push the current branch and open its pull request into new_features (or find the open one).",
            discussion: """
                One command from commits to a pull request: devbox checks the branch, fetches \
                origin, pushes what origin lacks, then opens the pull request with base \
                new_features (repository.integration_branch) and head the current branch. Title \
                and body come from the commits like `gh pr create --fill`: one commit gives its \
                subject and body, several give the branch name and the list of subjects.

                Running it again never makes a mess: when a pull request for this branch is \
                already open, devbox says so, pushes any new commits, and prints its URL (exit \
                0); --title and --body then update it, --reviewer asks more people.

                Refused, with the command to type: a detached HEAD, being on new_features or the \
                production branch, no commits ahead of origin/new_features, uncommitted changes \
                (they would not be part of the pull request; --allow-dirty goes on anyway).

                The repository is github.repository, else derived from origin's URL; the API is \
                GITHUB_API_URL (GitHub Enterprise) else https://api.github.com; the token is the \
                one git uses (DEVBOX_GIT_TOKEN, GH_TOKEN, GITHUB_TOKEN, ~/.config/devbox/git-token).

                Examples:
                  devbox pr
                  devbox pr --draft --reviewer octocat
                  devbox pr --title "Fix invoice rounding" --body-file notes.md

                Prints the pull request's URL on stdout. --json fields: action (created, \
                existing, updated), number, url, state, title, head, base, draft, createdAt, \
                updatedAt, reviewersRequested, push (as `devbox push --json`).

                Exit status: 0 opened or already open, 1 refused or failed, 2 usage error.
                """,
            subcommands: [Status.self]
        )

        @Option(help: "The pull request's title (default: from the commits).")
        var title: String?

        @Option(help: "The pull request's description (default: from the commits).")
        var body: String?

        @Option(name: .customLong("body-file"), help: ArgumentHelp("Read the description from a file ('-' for stdin).", valueName: "file"),
                completion: .file())
        var bodyFile: String?

        @Flag(help: "Open it as a draft.")
        var draft = false

        @Option(name: .customLong("reviewer"), help: ArgumentHelp("Ask this GitHub user to review (repeatable).", valueName: "login"))
        var reviewers: [String] = []

        @Flag(name: .customLong("allow-dirty"), help: "Go on although uncommitted changes will not be part of it.")
        var allowDirty = false

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if body != nil && bodyFile != nil { throw ValidationError("give --body or --body-file, not both.") }
            if let title, title.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--title needs some text.") }
            if let bad = reviewers.first(where: { $0.isEmpty || $0.contains(" ") || $0.hasPrefix("@") && $0.count == 1 }) {
                throw ValidationError("--reviewer takes a GitHub login, not '\(bad)'.")
            }
        }

        func run() async throws {
            let context = try DevboxContext(json: output.json)
            var text = body
            if let bodyFile {
                do {
                    text = bodyFile == "-"
                        ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                        : try String(contentsOfFile: bodyFile, encoding: .utf8)
                } catch {
                    throw ValidationError("cannot read --body-file \(bodyFile): \(error.localizedDescription)")
                }
            }
            let request = PullRequestRequest(title: title, body: text, draft: draft,
                                             reviewers: reviewers.map { $0.hasPrefix("@") ? String($0.dropFirst()) : $0 },
                                             allowDirty: allowDirty)
            let outcome = try await context.contribution.pullRequest(request)
            if !output.json { context.console.note(outcome.note) }
            try context.console.present(outcome) { _ in outcome.url }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show the current branch's pull request: state, reviews, mergeable, checks.",
                discussion: """
                    Reads GitHub only (nothing is pushed or fetched). Checks are the commit \
                    statuses (combined) and the check runs of the pull request's head commit, \
                    one line each. Without a pull request yet it says so (exit 0).

                    --json fields: branch, pullRequest (absent when there is none: number, url, \
                    state, title, draft, head, base, mergeable, mergeableState, reviewDecision \
                    [approved, changes_requested, review_required, none], reviews [login, state], \
                    requestedReviewers), combinedStatus, checks [kind, name, state, summary, url].

                    Exit status: 0 shown, 1 failed, 2 usage error.
                    """
            )

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let context = try DevboxContext(json: output.json)
                let report = try await context.contribution.pullRequestStatus()
                try context.console.present(report) { _ in report.render() }
            }
        }
    }
}
