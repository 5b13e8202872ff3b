import AWS
import Foundation
import Host
import Testing
import TestSupport

/// `adminctl onboard|offboard` as an admin runs them, against a simulated cloud of its own with
/// authentication on: the shared stack up, a repository served over git://, developers onboarded
/// until their machine (whose user data really runs in its root) reports the clone ready.
@Suite(.serialized) struct AdminctlAccessTests {
    struct Project {
        let fleet: Fleet
        let directory: TemporaryDirectory
        let origin: GitOrigin
        let git: PythonServer
        let name = "a" + String((0..<8).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        var bundles: String { directory.file("bundles") }

        static func start() async throws -> Project {
            let origin = try await GitOrigin()
            let (git, url) = try await origin.serveOverGitProtocol()
            let project = Project(fleet: try await Fleet.start(), directory: try TemporaryDirectory(), origin: origin, git: git)
            try FileManager.default.createDirectory(atPath: project.directory.file("project"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: project.directory.file("home"), withIntermediateDirectories: true)
            let written = try await project.run(["init", "--yes", "--name", project.name, "--region", "eu-west-3", "--repo", url])
            #expect(written.status == 0, "\(written.errorOutput)")
            let up = try await project.run(["infra", "up", "--yes"])
            #expect(up.status == 0, "\(up.errorOutput)")
            return project
        }

        func run(_ arguments: [String]) async throws -> ProcessResult {
            var environment = ["HOME": directory.file("home"), "ADMINCTL_POLL_SECONDS": "0.2"]
            for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
                environment[key] = fleet.environment[key]
            }
            return try await CLI.run("adminctl", arguments, environment: environment, directory: directory.file("project"),
                                     timeout: .seconds(300))
        }

        /// The simulator's own AWS CLI (boto3) as fleet-admin, JSON out.
        func aws(_ arguments: [String]) async throws -> Any {
            var environment = fleet.environment
            environment["PATH"] = "/usr/bin:/bin"
            environment["HOME"] = directory.file("home")
            let cli = TestEngine.repositoryRoot + "/.venv/bin/aws"
            let result = try await ChildProcess.run(cli, arguments + ["--output", "json"], environment: environment,
                                                    timeout: .seconds(60))
            #expect(result.succeeded, "aws \(arguments.joined(separator: " ")): \(result.errorOutput)")
            return try JSONSerialization.jsonObject(with: Data(result.output.utf8).isEmpty ? Data("{}".utf8) : Data(result.output.utf8))
        }

        /// Every developer stack, IAM user and instance tagged Owner that exists now.
        func inventory() async throws -> (stacks: [String], users: [String], owners: [String]) {
            let stacks = (try await aws(["cloudformation", "describe-stacks"]) as? [String: Any])?["Stacks"] as? [[String: Any]] ?? []
            let users = (try await aws(["iam", "list-users"]) as? [String: Any])?["Users"] as? [[String: Any]] ?? []
            let reservations = (try await aws(["ec2", "describe-instances", "--filters", "Name=tag-key,Values=Owner",
                                               "Name=instance-state-name,Values=pending,running,stopping,stopped"])
                as? [String: Any])?["Reservations"] as? [[String: Any]] ?? []
            let owners = reservations.flatMap { ($0["Instances"] as? [[String: Any]]) ?? [] }.compactMap { instance in
                ((instance["Tags"] as? [[String: String]]) ?? []).first { $0["Key"] == "Owner" }?["Value"]
            }
            return (stacks.compactMap { $0["StackName"] as? String }.filter { $0.hasPrefix("\(name)-dev-") }.sorted(),
                    users.compactMap { $0["UserName"] as? String }.filter { $0 != "fleet-admin" }.sorted(), owners.sorted())
        }

        /// The simulator's count of requests signed by fleet-admin's key (what adminctl uses), by operation;
        /// `reset` starts the count again.
        func adminCalls(reset: Bool = false) async throws -> [String: Int] {
            let url = fleet.endpoint + "/_fleet/calls"
            let result = try await ChildProcess.run("/usr/bin/curl", ["-sf"] + (reset ? ["-X", "DELETE"] : []) + [url],
                                                    timeout: .seconds(30))
            let calls = (try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])?["byKey"] as? [[String: Any]] ?? []
            var counts: [String: Int] = [:]
            for call in calls where call["accessKeyId"] as? String == fleet.environment["AWS_ACCESS_KEY_ID"] {
                counts["\(call["service"] ?? "")/\(call["operation"] ?? "")", default: 0] += call["count"] as? Int ?? 0
            }
            return counts
        }

        /// Dates an access key's creation back `days` days (the simulator's control API): a key that old.
        func age(key: String, of user: String, days: Double) async throws {
            let body = #"{"userName": "\#(user)", "accessKeyId": "\#(key)", "created": \#(Date().timeIntervalSince1970 - days * 86_400)}"#
            let result = try await ChildProcess.run("/usr/bin/curl", ["-sf", "-X", "POST", "-H", "Content-Type: application/json",
                                                                      "-d", body, fleet.endpoint + "/_fleet/iam/access-keys"],
                                                    timeout: .seconds(30))
            #expect(result.succeeded, "\(result.errorOutput)")
        }

        /// Session Manager signed with these credentials (a developer's bundle), or fleet-admin's.
        func ssm(_ credentials: (key: String, secret: String)? = nil) -> SSM {
            let pair = credentials ?? (fleet.environment["AWS_ACCESS_KEY_ID"]!, fleet.environment["AWS_SECRET_ACCESS_KEY"]!)
            let provider = StaticCredentialsProvider(Credentials(accessKeyID: pair.key, secretAccessKey: pair.secret,
                                                                 source: .environment("AWS_ACCESS_KEY_ID")))
            return SSM(AWSClient(AWSConfiguration(region: Region("eu-west-3"), credentials: provider,
                                                  environment: ["AWS_ENDPOINT_URL": fleet.endpoint])))
        }

        func accessKeys(_ user: String) async throws -> [[String: Any]] {
            ((try await aws(["iam", "list-access-keys", "--user-name", user]) as? [String: Any])?["AccessKeyMetadata"]
                as? [[String: Any]]) ?? []
        }

        /// The ARN STS answers for these credentials, or nil when AWS refuses them.
        func callerIdentity(_ credentials: (key: String, secret: String)) async throws -> String? {
            let cli = TestEngine.repositoryRoot + "/.venv/bin/aws"
            let environment = ["PATH": "/usr/bin:/bin", "HOME": directory.file("home"), "AWS_ENDPOINT_URL": fleet.endpoint,
                               "AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": credentials.key,
                               "AWS_SECRET_ACCESS_KEY": credentials.secret]
            let result = try await ChildProcess.run(cli, ["sts", "get-caller-identity", "--query", "Arn", "--output", "text"],
                                                    environment: environment, timeout: .seconds(60))
            if !result.succeeded { print("sts get-caller-identity refused: \(result.errorOutput.suffix(300))") }
            return result.succeeded ? result.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
        }

        func stop() {
            git.stop()
            directory.remove()
            let fleet = fleet
            Task { try? await fleet.stop() }
        }
    }

    @Test func onboardTwoDevelopersThenOffboardOneTwice() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        var seconds: [String: Double] = [:]
        var calls: [String: Int] = [:]
        var machines: [String: String] = [:]
        for developer in ["alice", "bob"] {
            _ = try await project.adminCalls(reset: true)
            let started = ContinuousClock.now
            let result = try await project.run(["onboard", developer, "--bundle-dir", project.bundles, "--yes", "--timeout", "120", "--json"])
            let elapsed = (ContinuousClock.now - started).components
            seconds[developer] = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            calls = try await project.adminCalls()
            #expect(result.status == 0, "\(result.errorOutput)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any])
            #expect(report["ready"] as? Bool == true)
            let instance = try #require(report["instanceId"] as? String)
            machines[developer] = instance
            let bundle = try #require(report["bundle"] as? String)
            #expect(bundle == "\(project.bundles)/\(project.name)-\(developer).aws-access")
            #expect(SecretFile.mode(of: bundle) == 0o600 && SecretFile.mode(of: project.bundles) == 0o700)
            let text = try String(contentsOfFile: bundle, encoding: .utf8)
            let secret = try #require(text.split(separator: "\n").first { $0.hasPrefix("aws_secret_access_key = ") }?
                .dropFirst("aws_secret_access_key = ".count))
            #expect(secret.count == 40 || secret.count > 20)
            #expect(!result.output.contains(secret) && !result.errorOutput.contains(secret), "the secret is never printed")
            #expect(text.contains("aws ssm start-session --profile \(project.name)-\(developer) --region eu-west-3 --target \(instance)"))
            // The machine's own root: devbox installed from the bucket, its config, the clone on new_features.
            let root = project.fleet.root(of: instance)
            let config = try String(contentsOfFile: root + "/etc/devbox/config.toml", encoding: .utf8)
            #expect(config.contains("integration_branch = \"new_features\"") && config.contains("path = \"/srv/nuvola\""))
            #expect(FileManager.default.isExecutableFile(atPath: root + "/opt/devbox/current/bin/devbox"))
            let head = try String(contentsOfFile: root + "/srv/nuvola/.git/HEAD", encoding: .utf8)
            #expect(head == "ref: refs/heads/new_features\n")
            #expect(FileManager.default.fileExists(atPath: root + "/srv/nuvola/feature.txt"))
        }
        print("onboarding wall time to ready (simulator): alice \(seconds["alice"]!) s, bob \(seconds["bob"]!) s")
        // bob's onboarding (devbox already published by alice's): every call adminctl made, by operation.
        print("API calls of one onboarding: \(calls.values.reduce(0, +)) — " + calls.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", "))
        #expect(calls["iam/CreateAccessKey"] == 1 && calls["cloudformation/ExecuteChangeSet"] == 1)

        let before = try await project.inventory()
        #expect(before.stacks == ["\(project.name)-dev-alice", "\(project.name)-dev-bob"])
        #expect(before.users == ["alice", "bob"] && before.owners == ["alice", "bob"])

        let duplicate = try await project.run(["onboard", "alice", "--bundle-dir", project.bundles, "--yes"])
        #expect(duplicate.status == 1)
        #expect(duplicate.errorOutput.contains("alice is already onboarded"), "\(duplicate.errorOutput)")
        let invalid = try await project.run(["onboard", "Alice-B", "--yes"])
        #expect(invalid.status == 2 && invalid.errorOutput.contains("does not start with a lowercase letter"), "\(invalid.errorOutput)")

        // devs: both, their agents online, one key each, the devbox version the machine reports.
        let devs = try await project.run(["devs", "--json"])
        #expect(devs.status == 0, "\(devs.errorOutput)")
        let listed = try #require((try JSONSerialization.jsonObject(with: Data(devs.standardOutput)) as? [String: Any])?["developers"]
            as? [[String: Any]])
        #expect(listed.map { $0["name"] as? String } == ["alice", "bob"])
        #expect(listed.allSatisfy { $0["agent"] as? String == "online" && ($0["keyAgesDays"] as? [Int]) == [0] })
        #expect(listed.allSatisfy { ($0["devboxVersion"] as? String)?.contains("0.") == true }, "\(listed)")
        let table = try await project.run(["devs"])
        #expect(table.output.hasPrefix("developer") && table.output.contains("\nalice "), "\(table.output)")

        // rotate: the old key stops working, the new one (in the new bundle) works, signatures checked.
        let bundle = "\(project.bundles)/\(project.name)-bob.aws-access"
        let oldCredentials = try Self.credentials(in: bundle)
        let bob = "arn:aws:iam::123456789012:user/\(project.name)/developers/bob"
        let identity = try await project.callerIdentity(oldCredentials)
        #expect(identity == bob)
        let rotate = try await project.run(["rotate", "bob", "--bundle-dir", project.bundles, "--yes"])
        #expect(rotate.status == 0, "\(rotate.errorOutput)")
        let newCredentials = try Self.credentials(in: bundle)
        #expect(newCredentials.key != oldCredentials.key)
        #expect(rotate.output.contains("bob: rotated \(oldCredentials.key) -> \(newCredentials.key)"), "\(rotate.output)")
        #expect(!rotate.output.contains(newCredentials.secret) && !rotate.errorOutput.contains(newCredentials.secret))
        #expect(try await project.callerIdentity(newCredentials) == bob)
        #expect(try await project.callerIdentity(oldCredentials) == nil)
        #expect(SecretFile.mode(of: bundle) == 0o600)
        let dry = try await project.run(["rotate", "--all", "--dry-run"])
        #expect(dry.status == 0 && dry.output.contains("alice: key ") && dry.output.contains("days old (at most 90): kept"), "\(dry.output)")

        // A key past the maximum age: audit flags it; rotate --all replaces that one only, after
        // deleting the stale inactive second key alice holds (a user may hold two at most).
        let aliceKey = try #require(try await project.accessKeys("alice").first?["AccessKeyId"] as? String)
        try await project.age(key: aliceKey, of: "alice", days: 120)
        let aged = try await audit(project)
        #expect(aged.status == 1)
        let old = ((aged.report["findings"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == "old-key" }
        #expect(old.count == 1 && old.first?["developer"] as? String == "alice" && old.first?["resource"] as? String == aliceKey, "\(aged.report)")
        #expect((old.first?["detail"] as? String ?? "").contains("is 120 days old (at most 90)") && old.first?["fix"] as? String == "adminctl rotate alice")
        let stale = try #require(((try await project.aws(["iam", "create-access-key", "--user-name", "alice"]) as? [String: Any])?["AccessKey"]
            as? [String: Any])?["AccessKeyId"] as? String)
        _ = try await project.aws(["iam", "update-access-key", "--user-name", "alice", "--access-key-id", stale, "--status", "Inactive"])
        let planned = try await project.run(["rotate", "--all", "--dry-run"])
        #expect(planned.status == 0 && planned.output.contains("alice: would rotate \(aliceKey); stale inactive key \(stale) would be deleted first"),
                "\(planned.output)")
        let keysBefore = try await project.accessKeys("alice")
        #expect(planned.output.contains("bob: key ") && keysBefore.count == 2)
        let rotatedAll = try await project.run(["rotate", "--all", "--bundle-dir", project.bundles, "--yes"])
        #expect(rotatedAll.status == 0, "\(rotatedAll.errorOutput)")
        let aliceCredentials = try Self.credentials(in: "\(project.bundles)/\(project.name)-alice.aws-access")
        #expect(rotatedAll.output.contains("alice: rotated \(aliceKey) -> \(aliceCredentials.key); stale inactive key \(stale) deleted first"),
                "\(rotatedAll.output)")
        #expect(rotatedAll.output.contains("bob: key \(newCredentials.key) is 0 days old (at most 90): kept"), "\(rotatedAll.output)")
        #expect(try await project.accessKeys("alice").compactMap { $0["AccessKeyId"] as? String } == [aliceCredentials.key])
        #expect(try await project.callerIdentity(aliceCredentials) == "arn:aws:iam::123456789012:user/\(project.name)/developers/alice")
        let fresh = try await audit(project)
        #expect(fresh.status == 0 && fresh.report["clean"] as? Bool == true, "\(fresh.report["findings"] ?? "")")

        // Sessions open on alice's machine (hers and the admin's) end with her offboarding, before
        // her stack and user go; bob's stays. She cannot open one on bob's machine.
        let aliceMachine = try #require(machines["alice"])
        let bobMachine = try #require(machines["bob"])
        let hers = try await project.ssm(aliceCredentials).startSession(target: aliceMachine)
        #expect(hers.hasPrefix("alice-"))
        let admins = try await project.ssm().startSession(target: aliceMachine)
        let bobs = try await project.ssm(newCredentials).startSession(target: bobMachine)
        await #expect(throws: AWSError.self) { try await project.ssm(aliceCredentials).startSession(target: bobMachine) }
        let open = try await project.ssm().describeSessions(filters: [.target(aliceMachine)]).all { $0 }
        #expect(Set(open.map(\.SessionId)) == [hers, admins])

        let offboard = try await project.run(["offboard", "alice", "--keep-volume", "--yes"])
        #expect(offboard.status == 0, "\(offboard.errorOutput)")
        let removedLines = offboard.output.split(separator: "\n").map(String.init)
        let sessionLine = removedLines.firstIndex { $0.contains("session \(hers) on \(aliceMachine)") }
        let adminLine = removedLines.firstIndex { $0.contains("session \(admins) on \(aliceMachine) (opened by arn:aws:iam::123456789012:user/") }
        let stackLine = removedLines.firstIndex { $0.contains("stack \(project.name)-dev-alice") }
        #expect(sessionLine != nil && adminLine != nil && stackLine != nil, "\(offboard.output)")
        #expect((sessionLine ?? .max) < (stackLine ?? .min) && (adminLine ?? .max) < (stackLine ?? .min))
        #expect(try await project.ssm().describeSessions(filters: [.target(aliceMachine)]).all { $0 }.isEmpty)
        let ended = try await project.ssm().describeSessions(active: false, filters: [.target(aliceMachine)]).all { $0 }
        #expect(Set(ended.map(\.SessionId)) == [hers, admins] && ended.allSatisfy { $0.Status == "Terminated" && $0.EndDate != nil })
        #expect(try await project.ssm().describeSessions(filters: [.target(bobMachine)]).all { $0 }.map(\.SessionId) == [bobs])
        #expect(offboard.output.contains("as snapshot snap-"), "\(offboard.output)")
        let snapshots = ((try await project.aws(["ec2", "describe-snapshots", "--owner-ids", "self", "--filters", "Name=tag:Owner,Values=alice"])
            as? [String: Any])?["Snapshots"] as? [[String: Any]]) ?? []
        #expect(!snapshots.isEmpty)
        #expect(offboard.output.contains("Removed for alice:") && offboard.output.contains("stack \(project.name)-dev-alice"))
        let again = try await project.run(["offboard", "alice", "--yes"])
        #expect(again.status == 1 && again.errorOutput.contains("No developer named alice"), "\(again.errorOutput)")
        let after = try await project.inventory()
        #expect(after.stacks == ["\(project.name)-dev-bob"] && after.users == ["bob"] && after.owners == ["bob"])
    }

    @Test func aFailureDuringOnboardingRemovesEverythingMadeAndARetrySucceeds() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        // The stack fails mid-way: CloudFormation cannot create the machine and rolls back.
        try await project.fleet.inject(kind: "resource-failure", service: "cloudformation", operation: "Instance", count: 1,
                                       message: "We currently do not have sufficient t3.medium capacity in the Availability Zone you requested (eu-west-3a).")
        let failed = try await project.run(["onboard", "carol", "--bundle-dir", project.bundles, "--yes"])
        #expect(failed.status == 1)
        let said = failed.errorOutput.replacingOccurrences(of: "\n", with: " ")
        #expect(said.contains("Creating \(project.name)-dev-carol failed: Instance (AWS::EC2::Instance) CREATE_FAILED: We currently do not "
            + "have sufficient t3.medium capacity in the Availability Zone you requested (eu-west-3a). CloudFormation rolled"), "\(failed.errorOutput)")
        #expect(said.contains("CloudFormation rolled the stack back; everything made for carol was removed (stack and IAM user), so nothing "
            + "blocks a retry: fix the cause and run `adminctl onboard carol` again."), "\(failed.errorOutput)")
        #expect(!said.contains("The stack is now"))
        print("onboarding whose machine fails to create says: \(failed.errorOutput.split(separator: "\n").last ?? "")")
        let nothing = try await project.inventory()
        #expect(nothing.stacks.isEmpty && nothing.users.isEmpty && nothing.owners.isEmpty, "\(nothing)")
        #expect(!FileManager.default.fileExists(atPath: "\(project.bundles)/\(project.name)-carol.aws-access"))
        // Nothing half-done blocks the retry, which succeeds.
        let retried = try await project.run(["onboard", "carol", "--bundle-dir", project.bundles, "--yes", "--timeout", "120",
                                             "--store-bundle", "--json"])
        #expect(retried.status == 0, "\(retried.errorOutput)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(retried.standardOutput)) as? [String: Any])
        #expect(report["ready"] as? Bool == true)
        let made = try await project.inventory()
        #expect(made.stacks == ["\(project.name)-dev-carol"] && made.users == ["carol"] && made.owners == ["carol"])

        // --store-bundle: a SecureString copy of the bundle for one retrieval, which carol herself cannot read.
        let parameter = "/\(project.name)/access-bundles/carol"
        #expect(report["storedParameter"] as? String == parameter)
        let bundleText = try String(contentsOfFile: "\(project.bundles)/\(project.name)-carol.aws-access", encoding: .utf8)
        let carol = try Self.credentials(in: "\(project.bundles)/\(project.name)-carol.aws-access")
        #expect(!retried.output.contains(carol.secret) && !retried.errorOutput.contains(carol.secret))
        let stored = (try await project.aws(["ssm", "get-parameter", "--name", parameter, "--with-decryption"]) as? [String: Any])?["Parameter"]
            as? [String: Any]
        #expect(stored?["Type"] as? String == "SecureString" && stored?["Value"] as? String == bundleText)
        let cli = TestEngine.repositoryRoot + "/.venv/bin/aws"
        let asCarol = try await ChildProcess.run(cli, ["ssm", "get-parameter", "--name", parameter, "--with-decryption"], environment: [
            "PATH": "/usr/bin:/bin", "HOME": project.directory.file("home"), "AWS_ENDPOINT_URL": project.fleet.endpoint,
            "AWS_DEFAULT_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": carol.key, "AWS_SECRET_ACCESS_KEY": carol.secret], timeout: .seconds(60))
        #expect(!asCarol.succeeded && asCarol.errorOutput.contains("AccessDenied"), "\(asCarol.errorOutput)")
        // The admin's one retrieval, as the report prints it: the file, then the copy gone.
        let retrieve = try #require(report["retrieveCommand"] as? String)
        var environment = project.fleet.environment
        environment["PATH"] = TestEngine.repositoryRoot + "/.venv/bin:/usr/bin:/bin"
        environment["HOME"] = project.directory.file("home")
        let handover = try TemporaryDirectory()
        defer { handover.remove() }
        let retrieved = try await ChildProcess.run("/bin/bash", ["-c", retrieve], environment: environment, directory: handover.path,
                                                   timeout: .seconds(60))
        #expect(retrieved.succeeded, "\(retrieved.errorOutput)")
        let file = handover.file("\(project.name)-carol.aws-access")
        #expect((try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .newlines)
            == bundleText.trimmingCharacters(in: .newlines))
        #expect(SecretFile.mode(of: file) == 0o600)
        let gone = try await ChildProcess.run(cli, ["ssm", "get-parameter", "--name", parameter], environment: environment, timeout: .seconds(60))
        #expect(!gone.succeeded && gone.errorOutput.contains("ParameterNotFound"), "\(gone.errorOutput)")
        // A copy never retrieved goes with the developer.
        _ = try await project.aws(["ssm", "put-parameter", "--name", parameter, "--type", "SecureString", "--value", "left over"])
        let offboarded = try await project.run(["offboard", "carol", "--yes"])
        #expect(offboarded.status == 0, "\(offboarded.errorOutput)")
        #expect(offboarded.output.contains("stored access bundle \(parameter)"), "\(offboarded.output)")

        // A failure after the stack (the key quota) removes the stack and the user too.
        try await project.fleet.inject(kind: "aws-error", service: "iam", operation: "CreateAccessKey", count: 5,
                                       code: "LimitExceeded", status: 409, message: "Cannot exceed quota for AccessKeysPerUser: 2")
        let result = try await project.run(["onboard", "dave", "--bundle-dir", project.bundles, "--yes"])
        #expect(result.status == 1)
        #expect(result.errorOutput.contains("LimitExceeded"), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("Removed: stack \(project.name)-dev-dave"), "\(result.errorOutput)")
        let left = try await project.inventory()
        #expect(left.stacks.isEmpty && left.users.isEmpty && left.owners.isEmpty, "\(left)")
        #expect(!FileManager.default.fileExists(atPath: "\(project.bundles)/\(project.name)-dave.aws-access"))
    }

    static func credentials(in bundle: String) throws -> (key: String, secret: String) {
        let lines = try String(contentsOfFile: bundle, encoding: .utf8).split(separator: "\n")
        let value = { (name: String) in lines.first { $0.hasPrefix("\(name) = ") }.map { String($0.dropFirst(name.count + 3)) } ?? "" }
        return (value("aws_access_key_id"), value("aws_secret_access_key"))
    }

    func onboard(_ project: Project, _ names: [String]) async throws -> [String: [String: Any]] {
        var reports: [String: [String: Any]] = [:]
        for developer in names {
            let result = try await project.run(["onboard", developer, "--bundle-dir", project.bundles, "--yes", "--timeout", "120", "--json"])
            #expect(result.status == 0, "\(result.errorOutput)")
            reports[developer] = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any])
        }
        return reports
    }

    func audit(_ project: Project) async throws -> (status: Int32, report: [String: Any]) {
        let result = try await project.run(["audit", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any], "\(result.errorOutput)")
        return (result.status, report)
    }

    @Test func threeDevelopersAreIsolatedAndAuditCatchesEachBreak() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let reports = try await onboard(project, ["alice", "bob", "carol"])
        let instance = { (name: String) in reports[name]?["instanceId"] as? String ?? "" }
        // The admin's own machine, which no developer may reach.
        let admin = try #require(((try await project.aws(["ec2", "run-instances", "--image-id", "ami-12c6146b", "--count", "1",
                                                          "--tag-specifications", "ResourceType=instance,Tags=[{Key=Role,Value=admin}]"])
            as? [String: Any])?["Instances"] as? [[String: Any]])?.first?["InstanceId"] as? String)

        // Every resource as deployed: tags, the group admitting nothing, the policy on the user.
        for developer in ["alice", "bob", "carol"] {
            let described = try #require(((try await project.aws(["ec2", "describe-instances", "--instance-ids", instance(developer)])
                as? [String: Any])?["Reservations"] as? [[String: Any]])?.first?["Instances"] as? [[String: Any]])[0]
            let tags = Dictionary(uniqueKeysWithValues: ((described["Tags"] as? [[String: String]]) ?? []).map { ($0["Key"]!, $0["Value"]!) })
            #expect(tags["Owner"] == developer && tags["Role"] == "devbox" && tags["Project"] == project.name)
            let groups = (described["SecurityGroups"] as? [[String: String]] ?? []).compactMap { $0["GroupId"] }
            #expect(groups.count == 1)
            let group = try #require(((try await project.aws(["ec2", "describe-security-groups", "--group-ids", groups[0]])
                as? [String: Any])?["SecurityGroups"] as? [[String: Any]])?.first)
            #expect((group["IpPermissions"] as? [Any])?.isEmpty == true && group["GroupName"] as? String != "default")
            let attached = ((try await project.aws(["iam", "list-attached-user-policies", "--user-name", developer])
                as? [String: Any])?["AttachedPolicies"] as? [[String: String]]) ?? []
            #expect(attached.count == 1)
            let keys = ((try await project.aws(["iam", "list-access-keys", "--user-name", developer]) as? [String: Any])?["AccessKeyMetadata"]
                as? [[String: Any]]) ?? []
            #expect(keys.count == 1 && keys.first?["AccessKeyId"] as? String == reports[developer]?["accessKeyId"] as? String)
        }

        let clean = try await audit(project)
        #expect(clean.status == 0 && clean.report["clean"] as? Bool == true, "\(clean.report["findings"] ?? "")")
        // The isolation matrix: every developer x every instance (theirs, the others', the admin's, the shared stack's).
        let matrix = try #require(clean.report["matrix"] as? [[String: Any]])
        let instances = Set(matrix.compactMap { $0["instance"] as? String })
        #expect(instances.contains(admin) && instances.count >= 4)
        #expect(matrix.count == 3 * instances.count)
        for cell in matrix {
            let developer = cell["developer"] as? String ?? ""
            let mine = cell["instance"] as? String == instance(developer)
            #expect(cell["startSession"] as? Bool == mine, "\(cell)")
        }

        // Break 1: bob's group admits alice's.
        let aliceGroup = try #require(((try await project.aws(["cloudformation", "describe-stacks", "--stack-name", "\(project.name)-dev-alice"])
            as? [String: Any])?["Stacks"] as? [[String: Any]])?.first?["Outputs"] as? [[String: String]])
            .first { $0["OutputKey"] == "SecurityGroupId" }?["OutputValue"]
        let bobGroup = try #require(((try await project.aws(["cloudformation", "describe-stacks", "--stack-name", "\(project.name)-dev-bob"])
            as? [String: Any])?["Stacks"] as? [[String: Any]])?.first?["Outputs"] as? [[String: String]])
            .first { $0["OutputKey"] == "SecurityGroupId" }?["OutputValue"]
        _ = try await project.aws(["ec2", "authorize-security-group-ingress", "--group-id", bobGroup ?? "", "--protocol", "tcp",
                                   "--port", "22", "--source-group", aliceGroup ?? ""])
        var found = try await audit(project)
        #expect(found.status == 1)
        var findings = (found.report["findings"] as? [[String: Any]]) ?? []
        #expect(findings.map { $0["kind"] as? String } == ["ingress"], "\(findings)")
        #expect((findings.first?["detail"] as? String)?.contains("from alice's group") == true)
        #expect((findings.first?["fix"] as? String)?.hasPrefix("aws ec2 revoke-security-group-ingress --group-id \(bobGroup ?? "")") == true)
        let text = try await project.run(["audit"])
        #expect(text.status == 1 && text.output.contains("fix: aws ec2 revoke-security-group-ingress"), "\(text.output)")

        // Break 2: alice's policy widened to every instance, without condition.
        _ = try await project.aws(["iam", "put-user-policy", "--user-name", "alice", "--policy-name", "wide", "--policy-document",
                                   #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*"}]}"#])
        found = try await audit(project)
        findings = (found.report["findings"] as? [[String: Any]]) ?? []
        let elsewhere = findings.filter { $0["kind"] as? String == "session-elsewhere" }
        #expect(Set(elsewhere.compactMap { $0["resource"] as? String }) == instances.subtracting([instance("alice")]), "\(findings)")
        #expect(elsewhere.allSatisfy { $0["developer"] as? String == "alice" && $0["fix"] as? String == "aws iam delete-user-policy --user-name alice --policy-name wide" })

        // Break 3: carol's machine loses its Owner tag.
        _ = try await project.aws(["ec2", "delete-tags", "--resources", instance("carol"), "--tags", "Key=Owner"])
        found = try await audit(project)
        findings = (found.report["findings"] as? [[String: Any]]) ?? []
        let missing = findings.filter { $0["kind"] as? String == "missing-owner" }
        #expect(missing.count == 1 && missing.first?["resource"] as? String == instance("carol"))
        #expect(missing.first?["fix"] as? String == "aws ec2 create-tags --resources \(instance("carol")) --tags Key=Owner,Value=carol")
        print("audit of 3 developers x \(instances.count) instances: \(found.report["seconds"] ?? "") s")
    }

    /// The audit's time for 50 developers (the figure in the report). Opt-in, it onboards 50:
    /// ACCESS_AUDIT_FIFTY=1.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ACCESS_AUDIT_FIFTY"] == "1"))
    func auditOfFiftyDevelopers() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let names = (1...50).map { "dev\($0)" }
        for name in names {
            let result = try await project.run(["onboard", name, "--bundle-dir", project.bundles, "--yes", "--timeout", "300"])
            #expect(result.status == 0, "\(result.errorOutput)")
        }
        let started = ContinuousClock.now
        let (status, report) = try await audit(project)
        let elapsed = ContinuousClock.now - started
        #expect(status == 0 && (report["matrix"] as? [Any])?.count ?? 0 >= 50 * 50, "\(report["findings"] ?? "")")
        print("audit of 50 developers x \(report["instances"] ?? "") instances: \(elapsed) wall, \(report["seconds"] ?? "") s inside")
    }
}
