import ArgumentParser
import CommandSupport
import DevboxKit

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
                    Keys are `section.name` in the TOML files; the variable is DEVBOX_SECTION_NAME. \
                    Passwords in URLs are not shown. Ports must be 1-65535, compose.health_timeout \
                    and dumps.max_age_hours at least 1, paths absolute (or ~/...).
                    """
            )

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let context = try DevboxContext(json: output.json)
                let report = ConfigReport(config: context.config, paths: context.paths)
                try context.console.present(report) { _ in report.render() }
            }
        }
    }
}
