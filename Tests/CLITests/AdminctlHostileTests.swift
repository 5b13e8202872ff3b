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
}
