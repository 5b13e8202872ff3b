import AdminKit
import ArgumentParser
import CommandSupport
import Foundation

extension Adminctl {
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show adminctl's settings and where each value comes from.",
            subcommands: [Show.self],
            defaultSubcommand: Show.self
        )

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print every setting with its value and origin.",
                discussion: """
                    Later sources win: built-in default, adminctl.toml (the nearest one from the \
                    current directory upwards, else ~/.config/adminctl/adminctl.toml), \
                    ADMINCTL_* variables, then a command's flags. Keys are `section.name` in the \
                    file; the variable is ADMINCTL_SECTION_NAME. `adminctl init` writes the file.

                    Examples:
                      adminctl config show
                      ADMINCTL_PROD_MAX_SIZE=12 adminctl config show --json

                    Exit status: 0, or 1 when a value breaks its rule (the file and line, or the \
                    variable, are named).
                    """
            )

            @OptionGroup var output: OutputOptions

            func run() async throws {
                let console = output.console
                let config = try AdminConfig.load(directory: FileManager.default.currentDirectoryPath,
                                                  environment: ProcessInfo.processInfo.environment)
                for warning in config.warnings { console.warning(warning) }
                let report = config.report
                try console.present(report) { _ in report.render() }
            }
        }
    }
}
