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
            On a new machine: `devbox doctor` checks what devbox needs, `devbox init` clones the \
            repository (on new_features), `devbox up` starts the app and its database and prints \
            the URL. Every morning, `devbox sync-db` loads the latest production dump into your \
            database. Start work with `devbox branch start <topic>`; `devbox status` shows where \
            you stand; `devbox pr` pushes your commits and opens the pull request into new_features.

            Settings come from /etc/devbox/config.toml, ~/.config/devbox/config.toml and DEVBOX_* \
            variables: `devbox config show` lists them with their origin.

            Exit status: 0 on success, 1 when the operation failed, 2 for a usage error.
            """,
        version: ToolVersion.text(tool: "devbox"),
        subcommands: [Init.self, Up.self, Status.self, SyncDB.self, Down.self, Logs.self, Exec.self, Database.self, Branch.self, Push.self, PR.self, Config.self, Doctor.self]
    )
}
