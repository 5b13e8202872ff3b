import ArgumentParser
import CommandSupport
import DevboxKit
import Foundation
import Git
import HTTP
import Synchronization
import Terminal

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
                ~/.config/devbox/config.toml.

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

        func run() async throws {
            var flags: [String: (flag: String, value: String)] = [:]
            if let repo { flags["repository.url"] = ("--repo", repo) }
            if let dir { flags["workspace.path"] = ("--dir", Self.absolute(dir)) }
            let context = try DevboxContext(json: output.json, flags: flags)
            let console = context.console
            let workspace = context.workspace

            let bar = Mutex<(bar: ProgressBar?, last: GitProgress?)>((nil, nil))
            let started = ContinuousClock.now
            let outcome = try await workspace.initialise(branch: branch) { progress in
                bar.withLock { state in
                    if state.bar == nil, progress.totalObjects > 0 {
                        state.bar = console.progress("cloning", total: Int64(progress.totalObjects), unit: .items("objects"))
                    }
                    state.bar?.update(completed: Int64(progress.receivedObjects))
                    state.last = progress
                }
            }
            bar.withLock { state in
                guard let last = state.last else { return }
                let seconds = (ContinuousClock.now - started).seconds
                state.bar?.finish("\(last.totalObjects) objects, \(Format.bytes(last.receivedBytes)) in \(Format.duration(seconds))"
                    + " (\(Format.bytes(Int64(Double(last.receivedBytes) / max(seconds, 0.001))))/s)")
            }
            // Remember what the flags said, so later commands find the workspace.
            if !flags.isEmpty {
                try DevboxConfig.record(flags.map { (key: $0.key, value: $0.value.value) }.sorted { $0.key < $1.key },
                                        in: context.paths.userConfig)
            }
            let repository = try workspace.open()
            let check = try BranchCheck.inspect(repository, integration: workspace.integrationBranch,
                                                production: workspace.productionBranch)
            struct Document: Encodable { var outcome: InitOutcome; var check: BranchCheck }
            try console.present(Document(outcome: outcome, check: check)) { _ in
                let verb = outcome.action == .cloned
                    ? "Cloned \(outcome.repository) into \(outcome.path) in \(Format.duration(outcome.seconds))."
                    : "\(outcome.path) is already a clone of \(outcome.repository); nothing changed."
                return verb + "\n" + check.summary.prefix(1).uppercased() + check.summary.dropFirst() + "\nNext: devbox up"
            }
        }

        static func absolute(_ path: String) -> String {
            if path.hasPrefix("/") || path.hasPrefix("~") { return path }
            return FileManager.default.currentDirectoryPath + "/" + path
        }
    }
}
