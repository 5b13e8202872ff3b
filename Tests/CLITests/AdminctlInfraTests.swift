import Foundation
import Host
import Testing
import TestSupport

/// `adminctl infra diff|up|status` as an admin runs them, against a simulated cloud of their own:
/// a project from `adminctl init --yes`, then the shared stack planned, created and changed.
@Suite struct AdminctlInfraTests {
    struct Project {
        let fleet: Fleet
        let directory: TemporaryDirectory
        let name = "t" + String((0..<8).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        var stack: String { "\(name)-shared" }
        var file: String { directory.file("project/adminctl.toml") }

        static func start() async throws -> Project {
            let project = Project(fleet: try await Fleet.start(), directory: try TemporaryDirectory())
            try FileManager.default.createDirectory(atPath: project.directory.file("project"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: project.directory.file("home"), withIntermediateDirectories: true)
            let written = try await project.run(["init", "--yes", "--name", project.name, "--region", "eu-west-3"])
            #expect(written.status == 0, "\(written.errorOutput)")
            return project
        }

        /// adminctl's environment: the project's home and the fleet's admin credentials.
        var environment: [String: String] {
            var environment = ["HOME": directory.file("home"), "ADMINCTL_POLL_SECONDS": "0.2"]
            for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
                environment[key] = fleet.environment[key]
            }
            return environment
        }

        /// adminctl in the project's directory with the fleet's admin credentials (or `environment`'s).
        func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> ProcessResult {
            try await CLI.run("adminctl", arguments, environment: environment.merging(extra) { $1 }, directory: directory.file("project"))
        }

        /// adminctl started in the background, its stderr a pipe to read.
        func start(_ arguments: [String]) throws -> SpawnedProcess {
            try SpawnedProcess.start(BuildProducts.executable("adminctl").path, arguments, environment: environment,
                                     directory: directory.file("project"), output: .null, error: .pipe, processGroup: true)
        }

        /// adminctl.toml's production instance type changed, so `infra up` has one change to make.
        func changeInstanceType() throws {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            try text.replacingOccurrences(of: "instance_type = \"t3.small\"", with: "instance_type = \"t3.large\"")
                .write(toFile: file, atomically: true, encoding: .utf8)
        }

        func json(_ arguments: [String]) async throws -> [String: Any] {
            let result = try await run(arguments + ["--json"])
            #expect(result.status == 0, "\(result.errorOutput)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any])
        }

        func stop() {
            directory.remove()
            let fleet = fleet
            Task { try? await fleet.stop() }
        }
    }

    @Test func diffOnAFreshAccountListsTheResourcesToAddAndLeavesNothing() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let text = try await project.run(["infra", "diff"])
        #expect(text.status == 0, "\(text.errorOutput)")
        let lines = text.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.first?.starts(with: ["Stack", project.stack, "(new):"]) == true, "\(text.output)")
        #expect(lines.contains(["+", "add", "Vpc", "AWS::EC2::VPC"]))
        #expect(lines.contains(["+", "add", "ProdDatabase", "AWS::RDS::DBInstance"]))

        let plan = try await project.json(["infra", "diff"])
        #expect(plan["type"] as? String == "CREATE" && plan["changed"] as? Bool == true && plan["stack"] as? String == project.stack)
        let changes = try #require(plan["changes"] as? [[String: Any]])
        #expect(changes.count > 50 && changes.allSatisfy { $0["action"] as? String == "Add" })
        #expect(changes.contains { $0["logicalId"] as? String == "LoadBalancer" })
        // The change set and the empty stack it made are gone.
        let status = try await project.json(["infra", "status"])
        #expect(status["exists"] as? Bool == false)
    }

    @Test func upCreatesTheStackAndASecondUpChangesNothing() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let up = try await project.run(["infra", "up", "--yes"])
        #expect(up.status == 0, "\(up.errorOutput)")
        #expect(up.errorOutput.contains("CREATE_COMPLETE"))
        #expect(up.errorOutput.contains("+  add     Vpc"))
        #expect(up.output.hasPrefix("Stack \(project.stack) is CREATE_COMPLETE.\noutput "), "\(up.output)")
        #expect(up.output.contains("\nLoadBalancerUrl "))

        let status = try await project.json(["infra", "status"])
        #expect(status["status"] as? String == "CREATE_COMPLETE" && status["exists"] as? Bool == true)
        #expect(status["lastUpdated"] is String)
        let outputs = try #require(status["outputs"] as? [String: String])
        #expect(outputs["LoadBalancerUrl"]?.hasPrefix("http://") == true)
        #expect(outputs["ProdDatabaseAddress"] != nil && outputs["ArtifactsBucketName"] != nil)

        let again = try await project.run(["infra", "up", "--yes"])
        #expect(again.status == 0, "\(again.errorOutput)")
        #expect(again.output == "No change: stack \(project.stack) already matches adminctl.toml and the template; nothing to do.\n")
        #expect(!again.errorOutput.contains("Applying"))
        let text = try await project.run(["infra", "status"])
        #expect(text.output.hasPrefix("Stack \(project.stack): CREATE_COMPLETE, last changed "), "\(text.output)")
    }

    @Test func aChangedInstanceTypeShowsAsAModifyOfTheLaunchTemplate() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        #expect(try await project.run(["infra", "up", "--yes"]).status == 0)
        let text = try String(contentsOfFile: project.file, encoding: .utf8)
        #expect(text.contains("instance_type = \"t3.small\""))
        try text.replacingOccurrences(of: "instance_type = \"t3.small\"", with: "instance_type = \"t3.large\"")
            .write(toFile: project.file, atomically: true, encoding: .utf8)

        let plan = try await project.json(["infra", "diff"])
        #expect(plan["type"] as? String == "UPDATE")
        let changes = try #require(plan["changes"] as? [[String: Any]])
        #expect(changes.map { "\($0["action"] ?? "") \($0["logicalId"] ?? "") \($0["resourceType"] ?? "")" }
            == ["Modify ProdLaunchTemplate AWS::EC2::LaunchTemplate"])
        let diff = try await project.run(["infra", "diff"])
        #expect(diff.output.contains("~  modify  ProdLaunchTemplate  AWS::EC2::LaunchTemplate"), "\(diff.output)")
    }

    /// Ctrl-C after "Applying" but before ExecuteChangeSet went out (the first events read held
    /// back): the stack is unchanged and the change set deleted, and that is what is said; it said
    /// "CloudFormation carries on with the change" of a change nobody had sent.
    @Test func ctrlCBeforeTheChangeSetIsExecutedSaysTheStackIsUnchanged() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        #expect(try await project.run(["infra", "up", "--yes"]).status == 0)
        try project.changeInstanceType()
        // Held up to three times 55 s (each under the client's 60 s stall limit, the retries held too): on a
        // loaded CI machine the test's own polling lagged past a single 30 s hold, and the change went through.
        try await project.fleet.inject(kind: "latency", service: "cloudformation", operation: "DescribeStackEvents", count: 3, seconds: 55)
        let up = try project.start(["infra", "up", "--yes"])
        async let said = SpawnedProcess.readAll(up.error)
        let deadline = ContinuousClock.now + .seconds(110)
        while ContinuousClock.now < deadline {
            let faults = try await project.fleet.faults()
            if faults.contains(where: { ($0["hits"] as? Int ?? 0) >= 1 }) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        up.signal(SIGINT)
        #expect(try await up.wait() == 130)
        let errors = String(decoding: await said, as: UTF8.self)
        #expect(errors.contains("is unchanged and the change set was deleted. `adminctl infra up` applies the change."), "\(errors)")
        #expect(!errors.contains("carries on"), "\(errors)")
        try await project.fleet.clearFaults()
        let diff = try await project.json(["infra", "diff"])
        #expect((diff["changes"] as? [[String: Any]])?.count == 1, "\(diff)")
        #expect(try await project.run(["infra", "up", "--yes"]).status == 0)
    }

    /// Two `infra up` at once: the one that executes second finds its change set removed (AWS
    /// removes a stack's other change sets when one is executed) and says what happened and what
    /// to run, exit 1; the stack has the first one's change.
    @Test func twoUpsAtOnceTheLaterOneSaysItsChangeSetIsGone() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        #expect(try await project.run(["infra", "up", "--yes"]).status == 0)
        try project.changeInstanceType()
        // The first holds after planning (its first events read takes 55 s, under the client's 60 s stall
        // limit) while the second plans and applies (13-34 s on a loaded two-core machine: 8 s was not enough).
        try await project.fleet.inject(kind: "latency", service: "cloudformation", operation: "DescribeStackEvents", count: 1, seconds: 55)
        let first = try project.start(["infra", "up", "--yes"])
        async let said = SpawnedProcess.readAll(first.error)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, try await project.fleet.faults().first?["hits"] as? Int != 1 {
            try await Task.sleep(for: .milliseconds(200))
        }
        let second = try await project.run(["infra", "up", "--yes"])
        #expect(second.status == 0, "\(second.errorOutput)")
        #expect(try await first.wait() == 1)
        let errors = String(decoding: await said, as: UTF8.self)
        #expect(errors.contains("was changed by another `adminctl infra up` (or by hand) since this one was planned"), "\(errors)")
        #expect(errors.contains("`adminctl infra diff` shows what is still to change, `adminctl infra up` applies it."), "\(errors)")
        let diff = try await project.json(["infra", "diff"])
        #expect((diff["changes"] as? [Any])?.isEmpty == true, "\(diff)")
    }

    @Test func withoutATerminalUpNeedsYesAndTouchesNothing() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let up = try await project.run(["infra", "up"])
        #expect(up.status == 2)
        #expect(up.errorOutput == "Error: adminctl infra up asks before it changes the stack, and there is no terminal to ask on: "
            + "add --yes (`adminctl infra diff` shows the change first).\n")
        let status = try await project.run(["infra", "status"])
        #expect(status.status == 0)
        #expect(status.output == "Stack \(project.stack) is not created yet: run `adminctl infra up`.\n")
    }

    @Test func upHelp() async throws {
        let result = try await CLI.run("adminctl", ["infra", "up", "--help"])
        #expect(result.status == 0)
        #expect(result.output == Self.upHelpText + "\n\n")
    }

    static let upHelpText = """
        OVERVIEW: Create or update the shared stack through a change set, after showing
        it.

        Shows what will be added, modified, replaced or removed, asks, then applies the
        change and prints each resource's progress on stderr, and at the end the
        stack's outputs (load balancer URL, database endpoints, bucket names). When
        nothing would change it says so and touches nothing.

        The template is adminctl/templates/shared.yaml, found in the folder named by
        ADMINCTL_TEMPLATES or walking up from adminctl's own directory; its parameters
        come from adminctl.toml (`adminctl config show`).

        Examples:
          adminctl infra up
          adminctl infra up --yes --json

        Exit status: 0 when the stack is up to date, 1 when the change failed (the
        first failed resource and CloudFormation's reason are shown, after the
        rollback) or was not confirmed, 2 for a usage error (--yes missing without a
        terminal).

        USAGE: adminctl infra up [--yes] [--json]

        OPTIONS:
          --yes                   Apply without asking (needed when there is no
                                  terminal).
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.
        """
}
