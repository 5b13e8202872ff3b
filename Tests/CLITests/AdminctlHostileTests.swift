import Foundation
import Host
import Testing
import TestSupport

/// What a careless or hostile admin types into adminctl's access and fleet commands: names IAM
/// would read as someone else, ids that select everything, paths the machines' checks choke on,
/// and Ctrl-C while a new machine sets up.
@Suite(.serialized) struct AdminctlHostileTests {
    typealias Project = AdminctlAccessTests.Project

    /// IAM's GetUser and ListAccessKeys without a user name answer for the caller: `offboard ""`
    /// deleted the admin's own access keys (and locked them out) before names were checked.
    @Test func offboardAndRotateRefuseNamesNoDeveloperCanHave() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        _ = try await project.adminCalls(reset: true)
        for arguments in [["offboard", "", "--yes"], ["offboard", "../alice", "--yes"], ["offboard", "a;b", "--yes", "--json"],
                          ["rotate", "", "--yes"], ["rotate", "Alice", "--dry-run"]] {
            let refused = try await project.run(arguments)
            #expect(refused.status == 2, "\(arguments): \(refused.errorOutput)")
            #expect(refused.errorOutput.contains("a developer name has 2 to 32") || refused.errorOutput.contains("does not start with a lowercase letter")
                || refused.errorOutput.contains("holds ';'"), "\(arguments): \(refused.errorOutput)")
        }
        let calls = try await project.adminCalls()
        #expect(calls.keys.filter { $0.hasPrefix("iam/") }.isEmpty, "\(calls)")
        // The admin's key still works.
        let devs = try await project.run(["devs"])
        #expect(devs.status == 0, "\(devs.errorOutput)")
        #expect(try await project.accessKeys("fleet-admin").count == 1)
    }

    /// `run show ""` listed every invocation as if it were one run; a newline in cp's REMOTE_PATH
    /// placed the file, then failed its own SHA-256 check there (sha256sum escapes such names).
    @Test func runShowAndCpRefuseWhatCannotNameOneThing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.file("motd")
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: file))
        let show = try await CLI.run("adminctl", ["run", "show", ""], directory: directory.path)
        #expect(show.status == 2, "\(show.errorOutput)")
        #expect(show.errorOutput.contains("run show takes a command id such as"), "\(show.errorOutput)")
        #expect(show.errorOutput.contains("`adminctl run --history` lists them"), "\(show.errorOutput)")
        let copy = try await CLI.run("adminctl", ["cp", file, "/etc/motd\nx", "--all"], directory: directory.path)
        #expect(copy.status == 2, "\(copy.errorOutput)")
        #expect(copy.errorOutput.contains("REMOTE_PATH holds the control character \\n"), "\(copy.errorOutput)")
        let dev = try await CLI.run("adminctl", ["run", "--dev", "", "--", "true"], directory: directory.path)
        #expect(dev.status == 2, "\(dev.errorOutput)")
        #expect(dev.errorOutput.contains("--dev takes a developer's name"), "\(dev.errorOutput)")
    }

    /// Ctrl-C while the new machine clones: exit 130, and the admin is told that the machine and
    /// the bundle exist and how to remove them (they were left silently); `devs` shows it, with
    /// devbox's version on one line; offboarding it then works.
    @Test func onboardInterruptedWhileTheMachineSetsUpSaysWhatIsLeft() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        var environment = ["HOME": project.directory.file("home"), "ADMINCTL_POLL_SECONDS": "0.2",
                           "ADMINCTL_REPOSITORY_URL": "git://127.0.0.1:1/nowhere.git"]   // the clone never succeeds
        for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            environment[key] = project.fleet.environment[key]
        }
        let (process, stderr) = try CLI.launch("adminctl", ["onboard", "carol", "--bundle-dir", project.bundles, "--yes", "--timeout", "600"],
                                               environment: environment, directory: project.directory.file("project"))
        let bundle = "\(project.bundles)/\(project.name)-carol.aws-access"
        let deadline = ContinuousClock.now + .seconds(240)
        while !FileManager.default.fileExists(atPath: bundle), process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        try await Task.sleep(for: .seconds(2))   // into the wait for devbox init
        #expect(process.isRunning)
        kill(process.processIdentifier, SIGINT)
        let (status, errorOutput) = await CLI.finish(process, stderr)
        #expect(status == 130, "\(errorOutput)")
        let said = errorOutput.replacingOccurrences(of: "\n", with: " ")
        #expect(said.contains("carol's machine i-"), "\(errorOutput)")
        #expect(said.contains("and access bundle \(bundle) are kept; the machine was not seen ready. `adminctl devs` shows it; "
            + "`adminctl offboard carol --yes` removes it."), "\(errorOutput)")
        // The machine's setup goes on (devbox installed, then the clone retried): devs shows its devbox once it is there.
        var listed: [[String: Any]] = []
        var version: String?
        let installed = ContinuousClock.now + .seconds(120)
        repeat {
            let devs = try await project.run(["devs", "--json"])
            #expect(devs.status == 0, "\(devs.errorOutput)")
            listed = (try JSONSerialization.jsonObject(with: Data(devs.standardOutput)) as? [String: Any])?["developers"] as? [[String: Any]] ?? []
            version = listed.first?["devboxVersion"] as? String
            if version == nil { try await Task.sleep(for: .seconds(1)) }
        } while version == nil && ContinuousClock.now < installed
        #expect(listed.map { $0["name"] as? String } == ["carol"])
        #expect(version?.hasPrefix("devbox ") == true && version?.contains("\n") == false && version?.contains("libgit2") == false,
                "\(String(describing: version))")
        let offboarded = try await project.run(["offboard", "carol", "--yes"])
        #expect(offboarded.status == 0, "\(offboarded.errorOutput)")
        let left = try await project.inventory()
        #expect(left.stacks.isEmpty && left.users.isEmpty && left.owners.isEmpty, "\(left)")
    }

    /// `--json` promises one document on stdout: Ctrl-C and a run-time usage error (no --yes
    /// without a terminal) left it empty.
    @Test func jsonGetsItsDocumentWhenInterruptedOrRefused() async throws {
        let refused = try await CLI.run("adminctl", ["offboard", "alice", "--json"])
        #expect(refused.status == 2, "\(refused.errorOutput)")
        let document = try JSONSerialization.jsonObject(with: Data(refused.standardOutput)) as? [String: Any]
        let detail = document?["error"] as? [String: Any]
        #expect(detail?["type"] as? String == "ValidationError", "\(refused.output)")
        #expect((detail?["message"] as? String)?.contains("add --yes") == true, "\(refused.output)")

        // An endpoint that takes the connection and never answers: doctor waits for it until Ctrl-C.
        let listener = LoopbackListener()
        defer { listener.close() }
        #expect(listener.listening)
        let endpoint = "http://127.0.0.1:\(listener.port)"
        let process = Process()
        process.executableURL = BuildProducts.executable("adminctl")
        process.arguments = ["doctor", "--json", "--timeout", "120"]
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "eu-west-3",
                               "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE12", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret-not-a-real-secret-1234",
                               "AWS_EC2_METADATA_DISABLED": "true"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try ChildProcess.spawn(process)
        // Until doctor's connection waits in the listener's queue: it is then inside its request.
        var waiting = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now + .seconds(60)
        while poll(&waiting, 1, 0) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(waiting.revents & Int16(POLLIN) != 0, "doctor never connected")
        #expect(process.isRunning)
        kill(process.processIdentifier, SIGINT)
        let (output, errors, status) = await CLI.finish(process, output: out, errors: err)
        #expect(status == 130, "\(output)\n\(errors)")
        #expect(errors.contains("Interrupted."), "\(errors)")
        let interrupted = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        #expect((interrupted?["error"] as? [String: Any])?["type"] as? String == "Interrupted", "\(output)")
    }

    /// `db refresh dev --dump` names a dump under dumps/prod/: an empty value, a key elsewhere or
    /// one climbing with `..` reached S3 and came back as "no dump" or a puzzling 403.
    @Test(arguments: ["", "../../x.sql.gz", "dumps/other/2026-11-29T030000Z.sql.gz", "dumps/prod/../../etc/x.sql.gz",
                      "s3://shop-dumps/backups/x.sql.gz"])
    func refreshTakesOnlyADumpOfProduction(dump: String) async throws {
        let result = try await CLI.run("adminctl", ["db", "refresh", "dev", "--dump", dump, "--yes"])
        #expect(result.status == 2, "\(result.errorOutput)")
        #expect(result.errorOutput.contains("--dump takes a dump under dumps/prod/: its file name (2026-11-29T030000Z.sql.gz), key "
            + "or s3:// URL, not \"\(dump)\""), "\(result.errorOutput)")
    }

    @Test(arguments: ["2026-11-29T030000Z.sql.gz", "dumps/prod/2026-11-29T030000Z.sql.gz", "s3://shop-dumps/dumps/prod/2026-11-29T030000Z.sql.gz"])
    func refreshTakesADumpOfProductionHoweverNamed(dump: String) async throws {
        // No adminctl.toml here: past the check, it stops for want of a project, not a usage error.
        let result = try await CLI.run("adminctl", ["db", "refresh", "dev", "--dump", dump, "--yes"])
        #expect(result.status == 1, "\(result.errorOutput)")
        #expect(!result.errorOutput.contains("--dump takes"), "\(result.errorOutput)")
    }

    /// A --bundle-dir open to others (or a file) was found out only after the stack was made, so
    /// a machine was launched, keyed and deleted for nothing (minutes on AWS); /tmp was answered
    /// with `chmod 700 /tmp`.
    @Test func aBadBundleDirectoryIsRefusedBeforeAnythingIsMade() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let open = project.directory.file("open")
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let file = project.directory.file("a-file")
        try Data().write(to: URL(fileURLWithPath: file))
        let shared = project.directory.file("shared")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o1777])
        _ = try await project.adminCalls(reset: true)
        for (directory, said) in [(open, "is open to other users (mode 755), and access bundles hold keys: run `chmod 700 \(open)` or choose another --bundle-dir."),
                                  (file, "--bundle-dir \(file) is a file; name a directory."),
                                  (shared, "is open to other users (mode 1777), and access bundles hold keys: choose a directory of your own (--bundle-dir ~/handover).")] {
            let result = try await project.run(["onboard", "erin", "--bundle-dir", directory, "--yes"])
            #expect(result.status == 1, "\(result.errorOutput)")
            #expect(result.errorOutput.contains(said), "\(result.errorOutput)")
            #expect(!result.errorOutput.contains("removing what was made"), "\(result.errorOutput)")
        }
        let calls = try await project.adminCalls()
        #expect(calls.keys.filter { $0.hasPrefix("cloudformation/Create") || $0.hasPrefix("iam/Create") }.isEmpty, "\(calls)")
        #expect(try await project.inventory().stacks.isEmpty)
    }

    /// Ctrl-C while rotate proves the new key through STS: the cleanup's own request was cancelled
    /// with the task, so the new key stayed active (its secret gone) while the message said it was
    /// deleted, and the next rotate refused the two active keys.
    @Test func rotateInterruptedWhileProvingTheNewKeyLeavesOnlyTheOldOne() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let onboarded = try await project.run(["onboard", "alice", "--bundle-dir", project.bundles, "--yes", "--timeout", "120"])
        #expect(onboarded.status == 0, "\(onboarded.errorOutput)")
        let bundle = "\(project.bundles)/\(project.name)-alice.aws-access"
        let before = try String(contentsOfFile: bundle, encoding: .utf8)
        let old = try #require(try await project.accessKeys("alice").first?["AccessKeyId"] as? String)
        try await project.fleet.inject(kind: "latency", service: "sts", count: 1, seconds: 60)   // the proof hangs
        var environment = ["HOME": project.directory.file("home"), "ADMINCTL_POLL_SECONDS": "0.2"]
        for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            environment[key] = project.fleet.environment[key]
        }
        let (process, stderr) = try CLI.launch("adminctl", ["rotate", "alice", "--bundle-dir", project.bundles, "--yes"],
                                               environment: environment, directory: project.directory.file("project"))
        let deadline = ContinuousClock.now + .seconds(60)
        while try await project.accessKeys("alice").count < 2, process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        // Into the proof: the held STS call has been reached (a fixed pause is not enough on a loaded machine).
        while try await project.fleet.faults().first?["hits"] as? Int != 1, process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(process.isRunning)
        kill(process.processIdentifier, SIGINT)
        let (status, errorOutput) = await CLI.finish(process, stderr)
        #expect(status == 130, "\(errorOutput)")
        #expect(errorOutput.contains("The new key of alice was not proven: the rotation was interrupted; it was deleted, the previous "
            + "bundle put back, and the old key \(old) is unchanged."), "\(errorOutput)")
        let keys = try await project.accessKeys("alice")
        #expect(keys.map { $0["AccessKeyId"] as? String } == [old], "\(keys)")
        #expect(try String(contentsOfFile: bundle, encoding: .utf8) == before)
        let again = try await project.run(["rotate", "alice", "--bundle-dir", project.bundles, "--yes"])
        #expect(again.status == 0, "\(again.errorOutput)")
    }

    /// The developer template's patterns refuse these, but CloudFormation says so only when the
    /// change set is asked for, in its own words (and the simulator let them through).
    @Test(arguments: [(["--email", "a\nb@example.com"], #"Error: --email takes one address such as ana@example.com, not "a\nb@example.com"."#),
                      (["--email", "ana"], #"Error: --email takes one address such as ana@example.com, not "ana"."#),
                      (["--instance-type", "t3.micro; id"], "Error: --instance-type is not an EC2 instance type such as t3.small: 't3.micro; id'.")])
    func onboardRefusesWhatTheTemplateWouldRefuse(arguments: [String], said: String) async throws {
        let result = try await CLI.run("adminctl", ["onboard", "zed", "--yes"] + arguments)
        #expect(result.status == 2, "\(result.errorOutput)")
        #expect(result.errorOutput.hasPrefix(said + "\n"), "\(result.errorOutput)")
    }

    /// Values that trapped (SIGILL, a Swift crash) converting seconds to a deadline: --wait-online
    /// once a machine was offline, ADMINCTL_POLL_SECONDS in every access command.
    @Test func infiniteSecondsAreRefusedOrIgnoredNotACrash() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for value in ["inf", "nan", "1e300"] {
            let wait = try await CLI.run("adminctl", ["run", "--all", "--wait-online", value, "--", "true"], directory: directory.path)
            #expect(wait.status == 2, "\(value): \(wait.errorOutput)")
            #expect(wait.errorOutput.contains("--wait-online takes 0 to 172800 seconds (48 hours)"), "\(wait.errorOutput)")
        }
        let written = try await CLI.run("adminctl", ["init", "--yes", "--name", "shop", "--region", "eu-west-3"], directory: directory.path)
        #expect(written.status == 0, "\(written.errorOutput)")
        // Nothing listens there: the command fails as any would without AWS, it does not crash.
        let environment = ["ADMINCTL_POLL_SECONDS": "inf", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE12",
                           "AWS_SECRET_ACCESS_KEY": "not-a-real-secret-not-a-real-secret-1234", "AWS_EC2_METADATA_DISABLED": "true"]
        let devs = try await CLI.run("adminctl", ["devs"], environment: environment, directory: directory.path)
        #expect(devs.status == 1, "\(devs.errorOutput)")
        #expect(!devs.errorOutput.contains("Fatal error"), "\(devs.errorOutput)")
    }
}
