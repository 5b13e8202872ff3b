import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import HTTP
import Nuvola

extension Adminctl {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check credentials, region and endpoint, and that STS answers.",
            discussion: """
                Credentials are looked for as the AWS SDKs do: AWS_ACCESS_KEY_ID and \
                AWS_SECRET_ACCESS_KEY, then the profile named by AWS_PROFILE in ~/.aws/credentials \
                and ~/.aws/config, then EC2 instance metadata. Secrets are never printed.

                AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_STS) points adminctl at another endpoint, \
                such as the local simulated cloud started by `Tests/Fleet/fleet up`.

                Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed.
                """
        )

        @Option(help: "AWS region (overrides AWS_REGION and the profile).")
        var region: String?

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let console = output.console
            let doctor = AdminDoctor(environment: ProcessInfo.processInfo.environment, regionFlag: region,
                                     http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"))
            let report = await doctor.run()
            try console.present(report, text: report.render)
            if !report.ok { throw ExitCode(1) }
        }
    }
}
