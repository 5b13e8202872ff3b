import ArgumentParser
import CommandSupport
import DevboxKit
import Foundation
import Terminal

extension Devbox {
    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the app and its database in containers, and wait until both are healthy.",
            discussion: """
                Checks your branch against origin/new_features, builds the images when they are \
                missing or the compose files changed, starts the project, waits for the health \
                checks (the database answers a query, the app answers through the web server) and \
                prints the app's URL and how to reach the database. The database password is \
                generated once and written to the workspace's .env.local (mode 0600).

                On failure it names the service that failed, its health check output and last log \
                lines, and stops the project; your data stays.

                Exit status: 0 when everything is healthy, 1 otherwise.
                """
        )

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try DevboxContext(json: output.json)
            let console = context.console
            let workspace = context.workspace
            let repository = try workspace.open()
            let check = try BranchCheck.inspect(repository, integration: workspace.integrationBranch,
                                                production: workspace.productionBranch)
            if check.isFlagged { console.warning(check.summary) } else { console.note("Branch: " + check.summary) }

            let app = try await context.localApp()
            let spinner = Spinner("starting \(app.config.composeProject)", output: console.err)
            let ticker = Task {
                while !Task.isCancelled {
                    spinner.tick()
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            defer { ticker.cancel() }
            let report: UpReport
            do {
                report = try await app.up { spinner.update($0) }
            } catch {
                spinner.finish("failed", succeeded: false)
                throw error
            }
            spinner.finish("healthy", label: report.services.map(\.service).joined(separator: " and "))
            struct Document: Encodable { var up: UpReport; var check: BranchCheck }
            try console.present(Document(up: report, check: check)) { policy in
                let database = report.database
                return """
                    \(Style.green.apply("✔", policy)) The app is up in \(Format.duration(report.seconds))\(report.built ? " (images built)" : "").
                      app       \(report.url)
                      database  mysql://\(database.user)@\(database.host):\(database.port)/\(database.database) (password in \(database.passwordIn))
                      shell     devbox db
                    """
            }
        }
    }
}
