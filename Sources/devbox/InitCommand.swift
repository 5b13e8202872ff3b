import ArgumentParser
import CommandSupport
import DevboxKit
import Foundation
import Git

extension Devbox {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clone the app's repository into the workspace, or check the existing workspace.",
            discussion: """
                Clones repository.url into workspace.path (default ~/nuvola) on the integration \
                branch (default new_features). When the workspace exists, checks it is a clone of \
                that repository and changes nothing. A non-empty directory that is not that clone is \
                never touched.

                HTTPS remotes use a token from DEVBOX_GIT_TOKEN, GH_TOKEN or ~/.config/devbox/git-token; \
                SSH remotes use your ssh-agent. --repo and --dir given here are remembered in \
                ~/.config/devbox/config.toml, relative paths as absolute ones; a --repo URL with a \
                password in it is refused (it would be stored in clear): put the token in \
                ~/.config/devbox/git-token instead.

                Examples:
                  devbox init
                  devbox init --repo https://github.com/acme/nuvola.git --dir ~/src/nuvola
                """
        )

        @Option(help: ArgumentHelp("The repository to clone (overrides repository.url).", valueName: "url"))
        var repo: String?

        @Option(help: ArgumentHelp("Where to clone it (overrides workspace.path).", valueName: "path"),
                completion: .directory)
        var dir: String?

        @Option(help: ArgumentHelp("The branch to check out (default: the integration branch).", valueName: "branch"))
        var branch: String?

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let repo, repo.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--repo needs the repository's URL or path, e.g. `--repo https://github.com/acme/nuvola.git`.")
            }
            if let repo, let problem = Workspace.embeddedPasswordProblem(repo) { throw ValidationError(problem) }
            if let dir, dir.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--dir needs a path, e.g. `--dir ~/src/nuvola`.")
            }
            if let branch, let problem = BranchName.problem(branch) {
                throw ValidationError("--branch \(String(reflecting: branch)) is not a valid branch name: \(problem).")
            }
        }

        func run() async throws {
            let flags = Workspace.initFlags(repo: repo, dir: dir, environment: ProcessInfo.processInfo.environment)
            let context = try DevboxContext(json: output.json, flags: flags)
            let report = try await InitReport.run(context.workspace, branch: branch, console: context.console,
                                                  recording: flags, in: context.paths.userConfig)
            try context.console.present(report) { _ in report.render() }
        }
    }
}
