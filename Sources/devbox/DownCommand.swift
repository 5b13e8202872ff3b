import ArgumentParser
import CommandSupport
import DevboxKit
import Terminal

extension Devbox {
    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop and remove the app's containers; the database's data stays unless --volumes.",
            discussion: """
                --volumes also deletes the local database's volume. It asks first on a terminal; \
                scripts must add --yes.
                """
        )

        @Flag(help: "Also delete the database's data volume (asks first).")
        var volumes = false

        @Flag(name: .shortAndLong, help: "Do not ask before deleting data (for scripts).")
        var yes = false

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try DevboxContext(json: output.json)
            let app = try await context.localApp()
            if volumes && !yes {
                let question = "This deletes the local database of project \(app.config.composeProject) (its volume); sync-db snapshots go with it."
                switch try await Prompt.confirm(question, expected: app.config.composeProject, output: context.console.err) {
                case true?: break
                case false?:
                    context.console.note("Nothing deleted.")
                    throw ExitCode(1)
                case nil:
                    throw ValidationError("--volumes deletes the database; without a terminal to ask, add --yes.")
                }
            }
            try await app.down(removeData: volumes)
            struct Document: Encodable { var project: String; var removedData: Bool }
            try context.console.present(Document(project: app.config.composeProject, removedData: volumes)) { _ in
                "Stopped \(app.config.composeProject)" + (volumes ? " and deleted its database volume." : "; the database's data is kept.")
            }
        }
    }
}
