import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import HTTP
import Nuvola

extension Adminctl {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check credentials, region, endpoint and clock, and ask STS whose identity they carry.",
            discussion: """
                Credentials are looked for as the AWS SDKs do: AWS_ACCESS_KEY_ID and \
                AWS_SECRET_ACCESS_KEY, then the profile named by AWS_PROFILE in ~/.aws/credentials \
                and ~/.aws/config (static keys, credential_process, or role_arn assumed through \
                STS), then EC2 instance metadata (IMDSv2). Secrets are never printed.

                The last check calls STS GetCallerIdentity: --json reports the caller's arn and \
                account. A bad signature, unknown key, expired token, clock skew or unreachable \
                endpoint is explained with the step that fixes it.

                AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_STS) points adminctl at another endpoint, \
                such as the local simulated cloud started by `Tests/Fleet/fleet up`.

                Examples:
                  adminctl doctor
                  AWS_PROFILE=admin adminctl doctor --region eu-west-3 --json

                Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed.
                """
        )

        @Option(help: "AWS region (overrides AWS_REGION and the profile).")
        var region: String?

        @Option(help: ArgumentHelp("Seconds the endpoint may take to answer before it counts as unreachable.",
                                   valueName: "seconds"))
        var timeout: Double = 10

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout takes seconds between 0 and 600, not \(timeout)") }
        }

        func run() async throws {
            let console = output.console
            var doctor = AdminDoctor(environment: ProcessInfo.processInfo.environment, regionFlag: region,
                                     http: HTTPClient(userAgent: "adminctl/\(ToolVersion.number)"))
            doctor.probeTimeout = .milliseconds(Int(timeout * 1000))
            let report = await doctor.run()
            // A check cut short by Ctrl-C failed for no reason of its own: exit 130, not a report saying "CancellationError()".
            try Task.checkCancellation()
            try console.present(report, text: report.render)
            if !report.ok { throw ExitCode(1) }
        }
    }
}
