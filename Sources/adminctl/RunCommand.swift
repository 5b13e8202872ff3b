import AdminKit
import ArgumentParser
import CommandSupport
import Foundation
import Terminal

extension Adminctl {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command on developer machines (or app instances) through SSM Run Command, with each machine's result as it completes.",
            discussion: """
                One SendCommand reaches the machines (by their tags where it can, else by instance \
                ids, 50 per call); adminctl follows the invocations and prints, as each machine \
                finishes, its output (lines prefixed with the developer's name, or the instance \
                id and environment) and how it ended: ok, failed, timed out, undeliverable, with \
                its exit code and duration, or lost: a machine stopped or terminated while the \
                command ran is reported at once (Run Command would keep it in progress until \
                --timeout). A machine whose output is the same as an earlier \
                one's says so instead of repeating it; --group prints one block per distinct \
                result at the end. Output AWS cut short (2,500 characters in the listing) is read \
                in full from the output bucket (the shared stack's artifacts bucket, or --bucket). \
                A command too large to send inline goes through S3 as a script, automatically.

                \(FleetCLI.targetHelp)

                Ctrl-C cancels what has not finished (CancelCommand) and prints what ran; a \
                second Ctrl-C leaves at once.

                Examples:
                  adminctl run --all -- df -h /
                  adminctl run --dev ana bob --as ubuntu --cwd /srv/app -- git status --short
                  adminctl run --env prod --concurrency 1 --max-errors 0 -- systemctl reload nginx
                  adminctl run --all --script checks.sh --json
                  adminctl run --history
                  adminctl run show 2f6b3c1e-0d4a-4c1e-9a53-5d1b4f0a7e21

                \(FleetCLI.exitStatusHelp)
                """
        )

        @OptionGroup var targets: TargetOptions
        @OptionGroup var limits: LimitOptions

        @Option(help: ArgumentHelp("Run a local script file instead of a command line.", valueName: "file"), completion: .file())
        var script: String?

        @Option(help: ArgumentHelp("Working directory on each machine.", valueName: "dir"))
        var cwd: String?

        @Option(name: .customLong("as"), help: ArgumentHelp("Run as this user on each machine (default root).", valueName: "user"))
        var user: String?

        @Flag(help: "Print one block per distinct result, with the machines that had it, at the end.")
        var group = false

        @Flag(help: "List past runs (Run Command keeps 30 days) instead of running anything.")
        var history = false

        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("The command, after -- (or `show COMMAND_ID`: a past run again).", valueName: "command"))
        var command: [String] = []

        /// `adminctl run show ID`: no machines named, just the two words.
        var shownID: String? {
            guard command.count == 2, command[0] == "show", script == nil, !targets.named else { return nil }
            return command[1]
        }

        func validate() throws {
            if history {
                if !command.isEmpty || script != nil { throw ValidationError("--history runs nothing: leave out the command and --script") }
                return
            }
            if let shownID {
                // An empty id lists every invocation: `run show ""` would show other runs' output as this one's.
                guard UUID(uuidString: shownID) != nil else {
                    throw ValidationError("run show takes a command id such as 6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b, not \"\(shownID)\" "
                        + "(`adminctl run --history` lists them)")
                }
                return
            }
            if command.isEmpty && script == nil { throw ValidationError("give a command after -- (adminctl run --all -- uptime) or --script FILE") }
            if !command.isEmpty && script != nil { throw ValidationError("give a command after -- or --script FILE, not both") }
            _ = try targets.selection()
        }

        func run() async throws {
            let console = output.console
            let fleet = try await FleetCLI.open(bucket: limits.bucket)
            if history {
                let report = try await FleetHistory.list(fleet.ssm)
                try console.present(report, text: report.render)
                return
            }
            if let shownID {
                let report = try await FleetHistory.show(shownID, run: fleet)
                try console.present(report, text: group ? report.renderGrouped : report.renderLines)
                try FleetCLI.finish(report)
                return
            }
            let fleetCommand: FleetCommand
            if let script {
                guard let text = FileManager.default.contents(atPath: script).map({ String(decoding: $0, as: UTF8.self) }) else {
                    throw ValidationError("\(script) cannot be read: give a readable script file")
                }
                fleetCommand = FleetCommand(script: text, display: "script \((script as NSString).lastPathComponent)", workingDirectory: cwd, runAs: user)
            } else {
                let line = FleetCommand.shellLine(command)
                fleetCommand = FleetCommand(script: line, display: line, workingDirectory: cwd, runAs: user)
            }
            let hosts = try await FleetCLI.hosts(fleet, targets, console: console)
            let report = try await FleetCLI.run(fleet, fleetCommand, hosts: hosts, targets: targets, limits: limits, console: console, live: !group)
            if console.isJSON {
                try console.emit(report)
            } else {
                console.print(group ? report.renderGrouped(console.outColors) : report.renderSummary(console.outColors))
            }
            try FleetCLI.finish(report)
        }
    }

    struct Cp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cp",
            abstract: "Copy a file or directory to developer machines (or app instances), checked by SHA-256 on each.",
            discussion: """
                The file is uploaded once to S3 (the shared stack's artifacts bucket, or --bucket; \
                S3 checks the upload's SHA-256); each machine downloads it by a presigned URL (it \
                needs no AWS credentials), checks the SHA-256 and only then puts it in place, \
                atomically (a rename next to REMOTE_PATH), and checks it again there. A download \
                that does not match fails that machine with exit 65 and changes nothing. A \
                directory goes as one tar.gz made with libarchive and is unpacked into \
                REMOTE_PATH. REMOTE_PATH ending in / (or an existing directory) receives the \
                file under its own name.

                \(FleetCLI.targetHelp)

                Examples:
                  adminctl cp ./motd /etc/motd --all --mode 644
                  adminctl cp ./tools/ /opt/tools --dev ana --owner ana
                  adminctl cp ./php.ini /etc/php/8.2/fpm/conf.d/99-nuvola.ini --env dev

                \(FleetCLI.exitStatusHelp)
                """
        )

        @Argument(help: "The local file or directory.", completion: .file())
        var local: String

        @Argument(help: ArgumentHelp("Where it goes on each machine (absolute).", valueName: "remote-path"))
        var remote: String

        @OptionGroup var targets: TargetOptions
        @OptionGroup var limits: LimitOptions

        @Option(help: ArgumentHelp("Owner on each machine (user or user:group).", valueName: "user"))
        var owner: String?

        @Option(help: ArgumentHelp("Mode on each machine, as chmod takes it (644, u+x).", valueName: "mode"))
        var mode: String?

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard remote.hasPrefix("/") else { throw ValidationError("REMOTE_PATH must be absolute (/etc/motd), not \"\(remote)\"") }
            // sha256sum escapes such a name in its output, so the check on the machine would fail after the file was placed.
            if let bad = remote.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
                throw ValidationError("REMOTE_PATH holds the control character \(bad.escaped(asASCII: true)): "
                    + "give a path without newlines or tabs")
            }
            guard FileManager.default.fileExists(atPath: local) else { throw ValidationError("\(local) does not exist: give the file or directory to copy") }
            _ = try targets.selection()
        }

        func run() async throws {
            let console = output.console
            let fleet = try await FleetCLI.open(bucket: limits.bucket)
            guard let bucket = fleet.stagingBucket else {
                throw FleetError(.noBucket, "adminctl cp stages the file in S3, and no bucket is known: create the shared stack "
                    + "(`adminctl infra up`, its artifacts bucket is used) or pass --bucket NAME.")
            }
            let hosts = try await FleetCLI.hosts(fleet, targets, console: console)
            let staged = try await FleetTransfer(s3: fleet.s3, bucket: bucket).stage(path: local)
            console.note("Staged \(local) (\(Format.bytes(staged.size)), SHA-256 \(staged.sha256)) as s3://\(bucket)/\(staged.key).")
            let command = FleetCommand(script: FleetTransfer.copyScript(staged, remote: remote, owner: owner, mode: mode),
                                       display: "cp \((local as NSString).lastPathComponent) \(remote)")
            let report = try await FleetCLI.run(fleet, command, hosts: hosts, targets: targets, limits: limits, console: console, live: true)
            if console.isJSON {
                struct Copy: Encodable { var staged: FleetTransfer.Staged; var remotePath: String; var run: FleetRunReport }
                try console.emit(Copy(staged: staged, remotePath: remote, run: report))
            } else {
                console.print(report.renderSummary(console.outColors))
            }
            try FleetCLI.finish(report)
        }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install packages on developer machines (or app instances) with their own package manager.",
            discussion: """
                Each machine uses apt-get (Debian, Ubuntu), else dnf or yum (Amazon Linux, \
                Fedora); for each package it reports installed, already present (with its \
                version), or failed with the package manager's own message.

                \(FleetCLI.targetHelp)

                Examples:
                  adminctl install jq htop --all
                  adminctl install mariadb-client --dev ana --timeout 900

                \(FleetCLI.exitStatusHelp)
                """
        )

        @Argument(help: "The packages.")
        var packages: [String]

        @OptionGroup var targets: TargetOptions
        @OptionGroup var limits: LimitOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard !packages.isEmpty else { throw ValidationError("name the packages: adminctl install jq --all") }
            for package in packages {
                if let problem = FleetInstall.problem(package) { throw ValidationError(problem) }
            }
            _ = try targets.selection()
        }

        func run() async throws {
            let console = output.console
            let fleet = try await FleetCLI.open(bucket: limits.bucket)
            let hosts = try await FleetCLI.hosts(fleet, targets, console: console)
            let command = FleetCommand(script: FleetInstall.script(packages), display: "install \(packages.joined(separator: " "))")
            let report = FleetInstall.Report(run: try await FleetCLI.run(fleet, command, hosts: hosts, targets: targets, limits: limits,
                                                                         console: console, live: false))
            try console.present(report, text: report.render)
            try FleetCLI.finish(report.run)
        }
    }
}
