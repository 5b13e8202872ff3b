import ArgumentParser
import CommandSupport
import DevboxKit
import Foundation
import HTTP
import Nuvola

extension Devbox {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check this machine has what devbox needs, and say how to fix what is missing.",
            discussion: """
                Checks the git identity, the container engine and its compose, the config file \
                (/etc/devbox/config.toml, ~/.config/devbox/config.toml), the workspace clone and free \
                disk space.

                Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed.
                """
        )

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let console = output.console
            let environment = ProcessInfo.processInfo.environment
            let doctor = DevboxDoctor(environment: environment, http: HTTPClient(userAgent: "devbox/\(ToolVersion.number)"))
            let report = await doctor.run()
            try console.present(report, text: report.render)
            if !report.ok { throw ExitCode(1) }
        }
    }
}
