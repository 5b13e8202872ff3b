import ArgumentParser
import CommandSupport
import DevboxKit

extension Devbox {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the workspace's branch against new_features and the state of each container.",
            discussion: """
                Works offline and fetches nothing: ahead/behind are against the last fetched \
                origin/new_features (`devbox branch update` fetches). --json fields: branch, \
                integrationBranch, ahead, behind, dirty, changes, check, containers, url.
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
