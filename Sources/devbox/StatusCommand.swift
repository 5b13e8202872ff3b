import ArgumentParser
import CommandSupport
import DevboxKit

extension Devbox {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the workspace's branch against new_features and the state of each container.",
            discussion: """
                Works offline and fetches nothing: ahead/behind are against the last fetched \
                origin/new_features (`devbox branch update` fetches).

                --json fields:
                  workspace          the workspace's path
                  branch             the checked-out branch (absent when HEAD is detached)
                  integrationBranch  where features are integrated (new_features)
                  ahead, behind      commits HEAD has that origin/new_features lacks, and
                                     the other way round
                  dirty              true when there are uncommitted changes
                  changes            the changed and untracked files
                  check              the branch check: kind (integration, feature,
                                     production, basedOnProduction, detached), branch,
                                     integrationBranch, productionBranch, ahead, behind,
                                     productionCommits, dirty, integrationKnown
                  containers         per service: service, container, state, health,
                                     exitCode, lastHealthOutput
                  containersProblem  why the containers could not be read (engine down);
                                     absent when they could
                  url                the app's address on this machine
                """
        )

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try DevboxContext(json: output.json)
            let report = try await StatusReport.gather(workspace: context.workspace, config: context.config,
                                                       environment: context.environment, http: context.http)
            try context.console.present(report) { _ in report.render() }
        }
    }
}
