import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import HTTP
import Nuvola

extension AppEnvironment: ExpressibleByArgument {}

extension Adminctl {
    static func environments() async throws -> AppEnvironments {
        let session = try await AdminSession.open(directory: FileManager.default.currentDirectoryPath,
                                                  environment: ProcessInfo.processInfo.environment,
                                                  http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"))
        return try await AppEnvironments(session: session)
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an environment as it runs: load balancer URL, instances and their health, scaling, release.",
            discussion: """
                For prod or dev: the URL the load balancer answers on, the Auto Scaling group's \
                sizes, each instance with its zone, its health as the group sees it and as the \
                load balancer sees it (with the reason when not healthy), the target-tracking \
                policy, what the group did lately (launches, terminations and why), and the \
                release its instances install.

                Examples:
                  adminctl status prod
                  adminctl status dev --json

                Exit status: 0 when at least one instance is healthy behind the load balancer, \
                1 when none is (the environment is not serving), 2 for a usage error.
                """
        )

        @Argument(help: "prod or dev.")
        var environment: AppEnvironment

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let console = output.console
            let report = try await Adminctl.environments().status(environment)
            try console.present(report, text: report.render)
            if !report.serving { throw ExitCode(1) }
        }
    }

    struct Scale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an environment's group sizes now (min, max, desired capacity).",
            discussion: """
                Changes the Auto Scaling group at once. The target-tracking policy keeps moving \
                the desired capacity with the load, within min and max; production keeps at \
                least two instances (one per zone). A min or max other than adminctl.toml's \
                (prod.min_size, prod.max_size, ...) is drift until adminctl.toml says the same: \
                set it there to make it last.

                Examples:
                  adminctl scale prod --max 12          # room for a sales day
                  adminctl scale dev --min 0 --desired 0

                Exit status: 0 when the group is changed, 1 when the sizes are refused or AWS \
                refused them (nothing is changed), 2 for a usage error.
                """
        )

        @Argument(help: "prod or dev.")
        var environment: AppEnvironment

        @Option(help: "The fewest instances.") var min: Int?
        @Option(help: "The most instances.") var max: Int?
        @Option(help: "How many to run now (between min and max).") var desired: Int?

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if min == nil && max == nil && desired == nil {
                throw ValidationError("Give at least one of --min, --max, --desired (`adminctl status \(environment.rawValue)` shows the sizes now).")
            }
        }

        func run() async throws {
            let console = output.console
            let report = try await Adminctl.environments().scale(environment, min: min, max: max, desired: desired)
            try console.present(report, text: report.render)
        }
    }
}
