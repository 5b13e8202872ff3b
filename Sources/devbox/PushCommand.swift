import ArgumentParser
import CommandSupport
import DevboxKit

extension Devbox {
    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push the current feature branch to origin and make it track origin's branch.",
            discussion: """
                Pushes with libgit2 over the workspace's origin: HTTPS with the token devbox uses \
                for clones (DEVBOX_GIT_TOKEN, GH_TOKEN, GITHUB_TOKEN or ~/.config/devbox/git-token, \
                mode 0600), or the ssh-agent for SSH remotes. The token is handed to git only when \
                the remote asks; it is never written into .git/config or the remote's URL.

                new_features and the production branch are never pushed: start a feature branch \
                with `devbox branch start <topic>`. A push that would discard commits on origin \
                (your branch was rebased, or someone else pushed) is refused; after a rebase, \
                --force-with-lease replaces origin's branch only if it is still where you last \
                fetched it, so nobody's commits are lost.

                Examples:
                  devbox push
                  git rebase origin/new_features && devbox push --force-with-lease

                --json fields: branch, remote, previousTip (absent for a new branch), tip, \
                updated (false: origin already had it), forced, commits, objects, bytes, \
                upstreamSet, seconds.

                Exit status: 0 pushed or already there, 1 refused or failed (nothing changed), \
                2 usage error.
                """
        )

        @Flag(name: .customLong("force-with-lease"),
              help: "Replace origin's branch (after a rebase), but only if it is still at the commit you last fetched.")
        var forceWithLease = false

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try DevboxContext(json: output.json)
            let outcome = try await context.contribution.push(forceWithLease: forceWithLease)
            try context.console.present(outcome) { _ in outcome.summary }
        }
    }
}
