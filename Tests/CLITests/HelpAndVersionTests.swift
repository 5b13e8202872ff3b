import Foundation
import Testing

@Suite struct HelpAndVersionTests {
    @Test(arguments: ["devbox", "adminctl"])
    func versionNamesTheToolAndItsLibraries(tool: String) async throws {
        let result = try await CLI.run(tool, ["--version"])
        #expect(result.status == 0)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "\(tool) 0.1.0")
        let libraries = String(lines.last ?? "")
        #expect(libraries.hasPrefix("libgit2 1."))
        #expect(libraries.contains(", libcurl 7."))
        #expect(libraries.contains(", libarchive 3."))
        #expect(result.errorOutput.isEmpty)
    }

    @Test func devboxHelp() async throws {
        let result = try await CLI.run("devbox", ["--help"])
        #expect(result.status == 0)
        #expect(result.output == """
            OVERVIEW: Your Nuvola development machine: the workspace, the app's containers
            and production data.

            On a new machine: `devbox doctor` checks what devbox needs, `devbox init`
            clones the repository (on new_features), `devbox up` starts the app and its
            database and prints the URL. Start work with `devbox branch start <topic>`;
            `devbox status` shows where you stand.

            Settings come from /etc/devbox/config.toml, ~/.config/devbox/config.toml and
            DEVBOX_* variables: `devbox config show` lists them with their origin.

            Exit status: 0 on success, 1 when the operation failed, 2 for a usage error.

            USAGE: devbox <subcommand>

            OPTIONS:
              --version               Show the version.
              -h, --help              Show help information.

            SUBCOMMANDS:
              init                    Clone the app's repository into the workspace, or
                                      check the existing workspace.
              up                      Start the app and its database in containers, and
                                      wait until both are healthy.
              status                  Show the workspace's branch against new_features and
                                      the state of each container.
              down                    Stop and remove the app's containers; the database's
                                      data stays unless --volumes.
              logs                    Show the containers' logs (all services, or one).
              exec                    Run a command inside a service's container.
              db                      The local database: a SQL shell on it.
              branch                  Start feature branches from new_features and keep
                                      them current.
              config                  Show devbox's settings and where each value comes
                                      from.
              doctor                  Check this machine has what devbox needs, and say how
                                      to fix what is missing.

              See 'devbox help <subcommand>' for detailed help.

            """)
    }

    @Test func devboxUpHelp() async throws {
        let result = try await CLI.run("devbox", ["up", "--help"])
        #expect(result.status == 0)
        #expect(result.output == """
            OVERVIEW: Start the app and its database in containers, and wait until both are
            healthy.

            Checks your branch against origin/new_features, builds the images when they are
            missing or the compose files changed, starts the project, waits for the health
            checks (the database answers a query, the app answers through the web server)
            and prints the app's URL and how to reach the database. The database password
            is generated once and written to the workspace's .env.local (mode 0600).

            On failure it names the service that failed, its health check output and last
            log lines, and stops the project; your data stays.

            Exit status: 0 when everything is healthy, 1 otherwise.

            USAGE: devbox up [--json]

            OPTIONS:
              --json                  Print one JSON document on stdout instead of text
                                      (stable field names, for scripts).
              --version               Show the version.
              -h, --help              Show help information.


            """)
    }

    @Test func adminctlDoctorHelp() async throws {
        let result = try await CLI.run("adminctl", ["doctor", "--help"])
        #expect(result.status == 0)
        #expect(result.output == """
            OVERVIEW: Check credentials, region, endpoint and clock, and ask STS whose
            identity they carry.

            Credentials are looked for as the AWS SDKs do: AWS_ACCESS_KEY_ID and
            AWS_SECRET_ACCESS_KEY, then the profile named by AWS_PROFILE in
            ~/.aws/credentials and ~/.aws/config (static keys, credential_process, or
            role_arn assumed through STS), then EC2 instance metadata (IMDSv2). Secrets are
            never printed.

            The last check calls STS GetCallerIdentity: --json reports the caller's arn and
            account. A bad signature, unknown key, expired token, clock skew or unreachable
            endpoint is explained with the step that fixes it.

            AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_STS) points adminctl at another endpoint,
            such as the local simulated cloud started by `Tests/Fleet/fleet up`.

            Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed.

            USAGE: adminctl doctor [--region <region>] [--json]

            OPTIONS:
              --region <region>       AWS region (overrides AWS_REGION and the profile).
              --json                  Print one JSON document on stdout instead of text
                                      (stable field names, for scripts).
              --version               Show the version.
              -h, --help              Show help information.


            """)
    }

    @Test(arguments: ["devbox", "adminctl"])
    func usageErrorsExitTwoWithUsageOnStderr(tool: String) async throws {
        let result = try await CLI.run(tool, ["no-such-command"])
        #expect(result.status == 2)
        #expect(result.output.isEmpty)
        #expect(result.errorOutput.contains("Error: Unexpected argument 'no-such-command'"))
        #expect(result.errorOutput.contains("Usage: \(tool) <subcommand>"))
    }
}
