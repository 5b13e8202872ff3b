import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import Terminal

extension Adminctl {
    struct Devs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the developers: their machine, its agent, key ages and devbox version.",
            discussion: """
                One line per developer stack: the machine and its state, whether its SSM agent is \
                online, the age of each access key in days, and the devbox version the machine \
                itself reports (asked through Run Command, 15 seconds at most; "-" when offline).

                Examples:
                  adminctl devs
                  adminctl devs --json

                Exit status: 0 on success, 1 when the developers could not be listed.
                """
        )

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let console = output.console
            let report = try await DeveloperList(access: try await Adminctl.openAccess()).run()
            try console.present(report, text: report.render)
        }
    }
}
