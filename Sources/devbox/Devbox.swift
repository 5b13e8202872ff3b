import ArgumentParser
import CommandSupport
import Nuvola

@main
struct DevboxMain {
    static func main() async { await ToolMain.run(Devbox.self) }
}

struct Devbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devbox",
        abstract: "Your Nuvola development machine: the workspace, the app's containers and production data.",
        discussion: """
            Start with `devbox doctor`: it checks this machine has what devbox needs and says how \
            to fix what is missing.

            Exit status: 0 on success, 1 when the operation failed, 2 for a usage error.
            """,
        version: ToolVersion.text(tool: "devbox"),
        subcommands: [Init.self, Up.self, Status.self, Down.self, Logs.self, Exec.self, Database.self, Branch.self, Config.self, Doctor.self]
    )
}
