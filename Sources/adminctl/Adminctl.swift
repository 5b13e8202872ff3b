import ArgumentParser
import CommandSupport
import Nuvola

@main
struct AdminctlMain {
    static func main() async { await ToolMain.run(Adminctl.self) }
}

struct Adminctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adminctl",
        abstract: "Run Nuvola on AWS: shared infrastructure, developer machines, deploys and fleet commands.",
        discussion: """
            Start with `adminctl doctor`: it checks credentials, region and endpoint, and that AWS \
            (or the simulated cloud named by AWS_ENDPOINT_URL) answers. Then `adminctl init` \
            writes adminctl.toml, the project's settings.

            Exit status: 0 on success, 1 when the operation failed, 2 for a usage error.
            """,
        version: ToolVersion.text(tool: "adminctl"),
        subcommands: [Init.self, Config.self, Infra.self, Onboard.self, Offboard.self, Devs.self, Rotate.self, Audit.self,
                      Release.self, Releases.self, Deploy.self, Rollback.self, Status.self, Scale.self, DB.self, Run.self, Cp.self, Install.self, Doctor.self]
    )
}
