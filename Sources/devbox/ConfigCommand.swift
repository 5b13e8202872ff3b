import ArgumentParser
import CommandSupport
import DevboxKit
import Terminal

extension Devbox {
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show devbox's settings and where each value comes from.",
            subcommands: [Show.self],
            defaultSubcommand: Show.self
        )

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print every setting with its value and origin.",
                discussion: """
                    Later sources win: built-in default, /etc/devbox/config.toml (provisioning), \
                    ~/.config/devbox/config.toml (yours), DEVBOX_* variables, then a command's flags. \
                    Keys are `section.name` in the TOML files; the variable is DEVBOX_SECTION_NAME.
                    """
            )

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let context = try DevboxContext(json: output.json)
                let rows = context.config.rows
                struct Document: Encodable { var settings: [DevboxConfig.Row]; var files: [String] }
                try context.console.present(Document(settings: rows, files: [context.paths.systemConfig, context.paths.userConfig])) { _ in
                    Table(headers: ["setting", "value", "from"], rows: rows.map { [$0.key, $0.value ?? "(unset)", $0.origin] }).render()
                }
            }
        }
    }
}
