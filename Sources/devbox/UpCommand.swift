import ArgumentParser
import CommandSupport
import DevboxKit

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
            let check = try context.workspace.branchCheck()
            if check.isFlagged { context.console.warning(check.summary) } else { context.console.note("Branch: " + check.summary) }
            let app = try await context.localApp()
            let document = UpDocument(up: try await app.up(showingProgressOn: context.console.err), check: check)
            try context.console.present(document) { document.render($0) }
        }
    }
}
