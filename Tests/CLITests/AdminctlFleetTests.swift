import AWS
import Foundation
import HTTP
import Host
import Testing
import TestSupport

/// `adminctl run`, `cp` and `install` as an admin runs them, against a simulated cloud of their
/// own whose instances really run the commands: developer machines and app instances made with
/// RunInstances and the tags onboarding and the shared stack give them.
@Suite(.serialized) struct AdminctlFleetTests {
    struct Cloud {
        let fleet: Fleet
        let home: TemporaryDirectory

        static func start() async throws -> Cloud {
            let cloud = Cloud(fleet: try await Fleet.start(), home: try TemporaryDirectory())
            return cloud
        }

        var client: AWSClient {
            let env = fleet.environment
            let credentials = Credentials(accessKeyID: env["AWS_ACCESS_KEY_ID"]!, secretAccessKey: env["AWS_SECRET_ACCESS_KEY"]!,
                                          source: .environment("AWS_ACCESS_KEY_ID"))
            return AWSClient(AWSConfiguration(region: Region(env["AWS_REGION"]!), credentials: StaticCredentialsProvider(credentials),
                                              environment: ["AWS_ENDPOINT_URL": fleet.endpoint]))
        }

        /// Launches `count` instances with `tags`; returns their ids.
        func launch(_ count: Int = 1, _ tags: [String: String]) async throws -> [String] {
            var input = EC2.RunInstancesInput(imageID: "ami-12c6146b")
            input.count = count
            input.tags = tags
            return try await EC2(client).runInstances(input).map(\.id)
        }

        func developer(_ name: String) async throws -> String {
            try await launch(1, ["Role": "devbox", "Owner": name])[0]
        }

        func bucket() async throws -> String {
            let name = "fleet-artifacts-\(UUID().uuidString.prefix(8).lowercased())"
            try await S3(client).createBucket(name)
            return name
        }

        var environment: [String: String] {
            var environment = ["HOME": home.path, "ADMINCTL_POLL_SECONDS": "0.2"]
            for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
                environment[key] = fleet.environment[key]
            }
            return environment
        }

        func adminctl(_ arguments: [String], timeout: Duration = .seconds(300)) async throws -> ProcessResult {
            try await CLI.run("adminctl", arguments, environment: environment, directory: home.path, timeout: timeout)
        }

        func json(_ arguments: [String]) async throws -> (status: Int32, document: [String: Any]) {
            var arguments = arguments
            arguments.insert("--json", at: arguments.firstIndex(of: "--") ?? arguments.endIndex)
            let result = try await adminctl(arguments)
            let document = try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any]
            return (result.status, try #require(document, "stdout: \(result.output)\nstderr: \(result.errorOutput)"))
        }

        /// The simulator's own record of a command (when each invocation was sent, started, finished).
        func record(_ commandID: String) async throws -> [String: Any] {
            let response = try await HTTPClient().send(HTTPRequest(url: "\(fleet.endpoint)/_fleet/commands/\(commandID)"))
            let list = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]
            return try #require(list?.first)
        }

        func inject(_ kind: String, service: String, operation: String, count: Int) async throws {
            try await fleet.inject(kind: kind, service: service, operation: operation, count: count)
        }

        func write(_ text: String, to path: String, in instance: String, executable: Bool = false) throws {
            let full = fleet.root(of: instance) + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
            if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full) }
        }

        func read(_ path: String, in instance: String) -> String? {
            try? String(contentsOfFile: fleet.root(of: instance) + path, encoding: .utf8)
        }

        func stop() {
            home.remove()
            let fleet = fleet
            Task { try? await fleet.stop() }
        }
    }

    static func hosts(_ document: [String: Any]) -> [String: [String: Any]] {
        // Labels are unique within a run (an owner with two machines gets "owner (instance id)").
        let list = document["hosts"] as? [[String: Any]] ?? []
        return Dictionary(list.map { (($0["label"] as? String) ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func allReachesEveryDeveloperMachineNeverAppInstancesAndExitsWithTheFailedCount() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let ana = try await cloud.developer("ana")
        let bob = try await cloud.developer("bob")
        let carla = try await cloud.developer("carla")
        let prod = try await cloud.launch(2, ["Role": "app", "Env": "prod"])
        let dev = try await cloud.launch(1, ["Role": "app", "Env": "dev"])
        try cloud.write("", to: "/broken", in: bob)
        let script = "touch /ran; if [ -e /broken ]; then echo disk full >&2; exit 3; fi; echo hello from $FLEET_INSTANCE_ID"

        let text = try await cloud.adminctl(["run", "--all", "--", script])
        #expect(text.status == 1, "\(text.output)\n\(text.errorOutput)")
        #expect(text.output.contains("ana | hello from \(ana)\n"), "\(text.output)")
        #expect(text.output.contains("carla | hello from \(carla)\n"))
        #expect(text.output.contains("bob ! disk full\n"))
        #expect(text.output.contains("bob: failed, exit 3, "))
        #expect(text.output.contains("ana: ok, exit 0, "))
        #expect(text.output.contains("3 machines: 2 ok, 1 failed in "))
        #expect(text.output.contains("Not ok: bob (exit 3)"))
        #expect(text.errorOutput.contains("by tags (Role=devbox)"), "\(text.errorOutput)")
        for instance in [ana, bob, carla] { #expect(cloud.read("/ran", in: instance) != nil) }
        for instance in prod + dev { #expect(cloud.read("/ran", in: instance) == nil, "--all reached app instance \(instance)") }

        // --env prod reaches the prod app instances only, labelled by id and environment; --json is one document.
        let (status, document) = try await cloud.json(["run", "--env", "prod", "--", "echo $FLEET_INSTANCE_ID; touch /prod-ran"])
        #expect(status == 0)
        let hosts = Self.hosts(document)
        #expect(Set(hosts.keys) == Set(prod.map { "\($0) (prod)" }))
        for (_, host) in hosts {
            #expect(host["outcome"] as? String == "ok" && host["exitCode"] as? Int == 0 && host["status"] as? String == "Success")
            #expect(host["stdout"] as? String == "\(host["instanceId"] as! String)\n" && host["environment"] as? String == "prod")
            #expect(host["durationSeconds"] is Double && host["truncated"] as? Bool == false && host["commandId"] is String)
        }
        #expect((document["commandIds"] as? [String])?.count == 1 && document["exitStatus"] as? Int == 0)
        let summary = try #require(document["summary"] as? [String: Int])
        #expect(summary["total"] == 2 && summary["ok"] == 2 && summary["failed"] == 0)
        #expect(document["failedHosts"] as? [String] == [] && document["interrupted"] as? Bool == false)
        #expect(cloud.read("/prod-ran", in: dev[0]) == nil && cloud.read("/prod-ran", in: ana) == nil)

        // Identical outputs are printed once; --dev picks developers by their Owner tag.
        let same = try await cloud.adminctl(["run", "--dev", "ana", "carla", "--", "echo", "same text"])
        #expect(same.status == 0)
        #expect(same.output.components(separatedBy: "| same text").count == 2, "\(same.output)")
        #expect(same.output.contains(", same output as "))
        #expect(!same.output.contains("bob"))
        let grouped = try await cloud.adminctl(["run", "--all", "--group", "--", "echo", "same text"])
        #expect(grouped.status == 0)
        #expect(grouped.output.hasPrefix("== ana, bob, carla (3): ok, exit 0\n   same text\n"), "\(grouped.output)")

        // Past runs are listed and shown again, with every host's result.
        let (_, history) = try await cloud.json(["run", "--history"])
        let runs = try #require(history["runs"] as? [[String: Any]])
        #expect(runs.count == 4 && runs.first?["command"] as? String == "echo 'same text'")
        let firstID = try #require(runs.last?["commandId"] as? String)
        let shown = try await cloud.json(["run", "show", firstID])
        #expect(shown.status == 1)
        #expect(Self.hosts(shown.document)["bob"]?["exitCode"] as? Int == 3)
        #expect(Self.hosts(shown.document)["ana"]?["stdout"] as? String == "hello from \(ana)\n")
    }

    @Test func usageErrorsExit2BeforeSendingAndNoMatchNamesTheFilter() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let none = try await cloud.adminctl(["run", "--", "true"])
        #expect(none.status == 2 && none.errorOutput.contains("say which machines: --all"), "\(none.errorOutput)")
        let both = try await cloud.adminctl(["run", "--all", "--env", "prod", "--", "true"])
        #expect(both.status == 2 && both.errorOutput.contains("never app instances"), "\(both.errorOutput)")
        let limit = try await cloud.adminctl(["run", "--all", "--concurrency", "abc", "--", "true"])
        #expect(limit.status == 2 && limit.errorOutput.contains("--concurrency takes a count"), "\(limit.errorOutput)")
        _ = try await cloud.launch(1, ["Role": "app", "Env": "prod"])
        let nothing = try await cloud.adminctl(["run", "--all", "--", "true"])
        #expect(nothing.status == 1)
        #expect(nothing.errorOutput.contains("No instance matches Role=devbox."), "\(nothing.errorOutput)")
        let owner = try await cloud.adminctl(["run", "--dev", "zoe", "--", "true"])
        #expect(owner.errorOutput.contains("No instance matches Role=devbox, Owner=zoe."), "\(owner.errorOutput)")
    }

    @Test func aCommandPastTimeoutIsStoppedAndReportedTimedOut() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        _ = try await cloud.developer("ana")
        let bob = try await cloud.developer("bob")
        try cloud.write("", to: "/slow", in: bob)
        let text = try await cloud.adminctl(["run", "--all", "--timeout", "2", "--", "if [ -e /slow ]; then sleep 60; fi; echo done"])
        #expect(text.status == 1, "\(text.output)\n\(text.errorOutput)")
        #expect(text.output.contains("ana | done\nana: ok, exit 0"), "\(text.output)")
        #expect(text.output.contains("bob: timed out, exit 137, "), "\(text.output)")
        #expect(text.output.contains("2 machines: 1 ok, 1 timed out in "))
    }

    @Test func helpTeachesTheTargetsTheExitStatusAndItsOverlapWithUsageErrors() async throws {
        for command in ["run", "cp", "install"] {
            let help = try await CLI.run("adminctl", [command, "--help"])
            #expect(help.status == 0)
            #expect(help.output.contains("Exit status: 0 when every machine succeeded"))
            let flat = help.output.replacingOccurrences(of: "\n", with: " ")
            #expect(flat.contains("but a run where exactly 2 machines failed also exits 2"), "\(help.output)")
            #expect(flat.contains("--all is every developer machine (tag Role=devbox, set by onboarding); app instances are reached only with --env dev|prod, never by --all."))
            #expect(help.output.contains("Examples:\n  adminctl \(command == "run" ? "run --all -- df -h /" : command)"), "\(help.output)")
        }
        let top = try await CLI.run("adminctl", ["--help"])
        #expect(top.output.contains("  run ") && top.output.contains("  cp ") && top.output.contains("  install "), "\(top.output)")
    }

    @Test func concurrencyAndMaxErrorsAreHonouredAsTheSimulatorRecordsThem() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        for name in ["ana", "bob", "carla", "dan"] { _ = try await cloud.developer(name) }
        let (status, document) = try await cloud.json(["run", "--all", "--concurrency", "2", "--", "sleep 0.6"])
        #expect(status == 0)
        let id = try #require((document["commandIds"] as? [String])?.first)
        let record = try await cloud.record(id)
        #expect(record["MaxConcurrency"] as? Int == 2)
        let spans = (record["Invocations"] as? [[String: Any]] ?? []).compactMap { item -> (Double, Double)? in
            guard let start = item["Started"] as? Double, let end = item["Finished"] as? Double else { return nil }
            return (start, end)
        }
        #expect(spans.count == 4)
        for (moment, _) in spans { #expect(spans.filter { $0.0 <= moment && moment < $0.1 }.count <= 2) }
        #expect(spans.contains { moment in spans.filter { $0.0 <= moment.0 && moment.0 < $0.1 }.count == 2 })

        // One at a time, at most one error: the third and fourth machines never run.
        let failing = try await cloud.json(["run", "--all", "--concurrency", "1", "--max-errors", "1", "--", "touch /tried; exit 1"])
        #expect(failing.status == 4)
        let outcomes = Self.hosts(failing.document).values.map { $0["outcome"] as? String ?? "" }.sorted()
        #expect(outcomes == ["cancelled", "cancelled", "failed", "failed"])
        let failedID = try #require((failing.document["commandIds"] as? [String])?.first)
        let started = (try await cloud.record(failedID)["Invocations"] as? [[String: Any]] ?? []).filter { $0["Started"] is Double }
        #expect(started.count == 2)
    }

    @Test func throttlingOnTheWayIsRetriedAndTheRunCompletes() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        for name in ["ana", "bob"] { _ = try await cloud.developer(name) }
        try await cloud.inject("throttle", service: "ssm", operation: "SendCommand", count: 1)
        try await cloud.inject("throttle", service: "ssm", operation: "ListCommandInvocations", count: 4)
        try await cloud.inject("throttle", service: "ec2", operation: "DescribeInstances", count: 1)
        let (status, document) = try await cloud.json(["run", "--all", "--", "echo once >> /runs"])
        #expect(status == 0, "\(document)")
        #expect(Self.hosts(document).values.allSatisfy { $0["outcome"] as? String == "ok" })
        for id in Self.hosts(document).values.compactMap({ $0["instanceId"] as? String }) {
            #expect(cloud.read("/runs", in: id) == "once\n")   // a throttled SendCommand is not run twice
        }
    }

    @Test func instanceIdsGoInBatchesOf50AndWithLimitsOneBatchAfterTheOther() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let ids = try await cloud.launch(55, ["Role": "devbox", "Owner": "pool"])
        let (status, document) = try await cloud.json(["run", "--instance"] + ids + ["--", "echo $FLEET_INSTANCE_ID"])
        #expect(status == 0)
        let commands = try #require(document["commandIds"] as? [String])
        #expect(commands.count == 2)
        let hosts = document["hosts"] as? [[String: Any]] ?? []
        #expect(hosts.count == 55 && hosts.allSatisfy { ($0["stdout"] as? String) == "\($0["instanceId"] as? String ?? "")\n" })
        #expect(Set(hosts.compactMap { $0["label"] as? String }).count == 55)   // "pool (i-...)": one owner, many machines
        let sizes = try await commands.asyncMap { try await cloud.record($0)["Invocations"] as? [[String: Any]] ?? [] }.map(\.count)
        #expect(sizes.sorted() == [5, 50])

        // With --concurrency the second batch is sent only after the first has finished.
        let limited = try await cloud.json(["run", "--concurrency", "25", "--instance"] + ids + ["--", "sleep 0.2"])
        #expect(limited.status == 0)
        let waves = try #require(limited.document["commandIds"] as? [String])
        #expect(waves.count == 2)
        let first = try await cloud.record(waves[0])
        let second = try await cloud.record(waves[1])
        let firstDone = (first["Invocations"] as? [[String: Any]] ?? []).compactMap { $0["Finished"] as? Double }.max() ?? .infinity
        #expect((second["Requested"] as? Double ?? 0) >= firstDone)
    }

    @Test func maxErrorsAsAPercentageHoldsOverTheWholeRunAcrossBatches() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        // 120 machines go in three batches, 50, 50 and 20, in the order of their labels ("pool (i-...)": by id).
        let ids = try await cloud.launch(120, ["Role": "devbox", "Owner": "pool"]).sorted()
        let failing = Array(ids[0..<4]) + Array(ids[50..<54])
        for id in failing { try cloud.write("", to: "/fail", in: id) }
        // 5% of 120 is 6 errors for the run; per batch it would be 3 of 50 and the third batch would run.
        let (status, document) = try await cloud.json(["run", "--instance"] + ids + ["--max-errors", "5%", "--",
                                                       "if [ -e /fail ]; then exit 1; fi; touch /ran"])
        let commands = try #require(document["commandIds"] as? [String])
        #expect(commands.count == 2, "\(commands)")
        let hosts = document["hosts"] as? [[String: Any]] ?? []
        let byID = Dictionary(hosts.map { ($0["instanceId"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(hosts.count == 120)
        #expect(failing.allSatisfy { byID[$0]?["outcome"] as? String == "failed" })
        #expect(ids[4..<50].allSatisfy { byID[$0]?["outcome"] as? String == "ok" } && ids[54..<100].allSatisfy { byID[$0]?["outcome"] as? String == "ok" })
        let rest = ids[100...]
        #expect(rest.allSatisfy { byID[$0]?["outcome"] as? String == "cancelled" && byID[$0]?["commandId"] == nil })
        let reason = byID[ids[100]]?["reason"] as? String ?? ""
        #expect(reason.hasPrefix("not run: 8 machines failed, more than --max-errors 5% allows (6 of the run's 120)"), "\(reason)")
        #expect(rest.allSatisfy { cloud.read("/ran", in: $0) == nil })
        #expect(status == 28)   // 8 failed + 20 not run
        // The second batch was sent with what the run had left: 6 - 4 = 2 errors.
        #expect(try await cloud.record(commands[1])["MaxErrors"] as? Int == 2)
        #expect(try await cloud.record(commands[0])["MaxErrors"] as? Int == 6)
    }

    @Test func aMachineTerminatedMidRunIsReportedLostAtOnceNotAfterTheTimeout() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        _ = try await cloud.developer("ana")
        let bob = try await cloud.developer("bob")
        try cloud.write("", to: "/slow", in: bob)
        let started = ContinuousClock.now
        async let running = cloud.json(["run", "--all", "--timeout", "300", "--",
                                        "if [ -e /slow ]; then touch /began; sleep 250; fi; echo done"])
        var began = false
        for _ in 0..<200 where !began {
            try await Task.sleep(for: .milliseconds(100))
            began = cloud.read("/began", in: bob) != nil
        }
        #expect(began, "the command never started on bob")
        try await EC2(cloud.client).terminateInstances([bob])
        let terminated = ContinuousClock.now
        let (status, document) = try await running
        let waited = ContinuousClock.now - terminated
        #expect(status == 1, "\(document)")
        let hosts = Self.hosts(document)
        #expect(hosts["ana"]?["outcome"] as? String == "ok" && hosts["ana"]?["stdout"] as? String == "done\n")
        let lost = try #require(hosts["bob"])
        #expect(lost["outcome"] as? String == "lost" && lost["exitCode"] is NSNull, "\(lost)")
        #expect((lost["reason"] as? String ?? "").hasPrefix("the machine was terminated"), "\(lost)")
        #expect((document["summary"] as? [String: Int])?["lost"] == 1)
        // Run Command alone would have kept bob InProgress until the 300 s timeout.
        print("a machine terminated mid-run was reported lost \(waited) after its termination")
        #expect(waited < .seconds(60), "reported \(waited) after the termination (started \(started))")
        let text = try await cloud.adminctl(["run", "--all", "--", "true"])   // bob is no target any more
        #expect(text.status == 0 && !text.output.contains("bob"), "\(text.output)")
    }

    @Test func offlineAndStoppedMachinesAreReportedBeforeSendingAndNotSentTo() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let ana = try await cloud.developer("ana")
        let bob = try await cloud.developer("bob")
        let carla = try await cloud.developer("carla")
        let dan = try await cloud.developer("dan")
        try await cloud.fleet.setAgent(bob, online: false)
        try await EC2(cloud.client).stopInstances([carla])
        try await EC2(cloud.client).terminateInstances([dan])   // its tags linger: it is no target
        let (status, document) = try await cloud.json(["run", "--all", "--", "touch /ran"])
        #expect(status == 2)
        let hosts = Self.hosts(document)
        #expect(Set(hosts.keys) == ["ana", "bob", "carla"])
        #expect(hosts["ana"]?["outcome"] as? String == "ok")
        #expect(hosts["bob"]?["outcome"] as? String == "offline" && hosts["bob"]?["reason"] as? String == "agent is ConnectionLost")
        #expect(hosts["carla"]?["outcome"] as? String == "offline" && (hosts["carla"]?["reason"] as? String ?? "").contains("stop"))
        #expect(cloud.read("/ran", in: ana) != nil && cloud.read("/ran", in: bob) == nil)
        let id = try #require((document["commandIds"] as? [String])?.first)
        let sent = (try await cloud.record(id)["Invocations"] as? [[String: Any]] ?? []).map { $0["InstanceId"] as? String }
        #expect(sent == [ana])

        // --wait-online waits for a machine that comes back.
        try await EC2(cloud.client).startInstances([carla])
        async let waited = cloud.adminctl(["run", "--all", "--wait-online", "30", "--json", "--", "touch /waited"])
        try await Task.sleep(for: .seconds(3))
        try await cloud.fleet.setAgent(bob, online: true)
        let afterWait = try await waited
        #expect(afterWait.status == 0, "\(afterWait.output)\n\(afterWait.errorOutput)")
        #expect(afterWait.errorOutput.contains("machine(s) to come online: bob"), "\(afterWait.errorOutput)")
        #expect(cloud.read("/waited", in: bob) != nil && cloud.read("/waited", in: carla) != nil)
        try await cloud.fleet.setAgent(bob, online: false)
        try await EC2(cloud.client).stopInstances([carla])

        let text = try await cloud.adminctl(["run", "--all", "--", "true"])
        #expect(text.errorOutput.contains("2 of 3 machine(s) cannot be reached and will not be sent the command: bob (agent is ConnectionLost), carla (instance is stopp"), "\(text.errorOutput)")
        #expect(text.output.contains("3 machines: 1 ok, 2 offline in "), "\(text.output)")
    }

    @Test func anAgentThatNeverPicksTheCommandUpIsUndeliverableAfterTheDeliveryTimeout() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        _ = try await cloud.developer("ana")
        let bob = try await cloud.developer("bob")
        try await cloud.fleet.setAgent(bob, delay: 120)
        let (status, document) = try await cloud.json(["run", "--all", "--delivery-timeout", "30", "--", "touch /ran"])
        #expect(status == 1)
        let hosts = Self.hosts(document)
        #expect(hosts["ana"]?["outcome"] as? String == "ok")
        #expect(hosts["bob"]?["outcome"] as? String == "undeliverable" && hosts["bob"]?["statusDetails"] as? String == "DeliveryTimedOut")
        #expect(hosts["bob"]?["reason"] as? String == "the agent did not pick the command up in time")
        #expect(cloud.read("/ran", in: bob) == nil)
    }

    @Test func outputCutByAWSIsReadInFullFromTheBucketElseFlagged() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        _ = try await cloud.developer("ana")
        let bucket = try await cloud.bucket()
        let long = "head -c 30000 /dev/zero | tr '\\0' x; echo; head -c 9000 /dev/zero | tr '\\0' y >&2"
        let full = try await cloud.json(["run", "--all", "--bucket", bucket, "--", long])
        let ana = try #require(Self.hosts(full.document)["ana"])
        #expect(ana["outputSource"] as? String == "s3" && ana["truncated"] as? Bool == false)
        #expect((ana["stdout"] as? String)?.count == 30001 && (ana["stderr"] as? String)?.count == 9000)

        let cut = try await cloud.json(["run", "--all", "--", long])
        let flagged = try #require(Self.hosts(cut.document)["ana"])
        #expect(flagged["outputSource"] as? String == "get-command-invocation" && flagged["truncated"] as? Bool == true)
        #expect((flagged["stdout"] as? String)?.count == 24000)
        let text = try await cloud.adminctl(["run", "--all", "--", long])
        #expect(text.output.contains("ana: ok, exit 0, ") && text.output.contains("[output truncated by AWS]"))

        // Between AWS's two cuts: GetCommandInvocation has all of it, nothing is flagged.
        let medium = try await cloud.json(["run", "--all", "--", "head -c 5000 /dev/zero | tr '\\0' z"])
        let whole = try #require(Self.hosts(medium.document)["ana"])
        #expect((whole["stdout"] as? String)?.count == 5000 && whole["truncated"] as? Bool == false)

        // A command too large for SendCommand goes through S3 as a script.
        let script = cloud.home.file("big.sh")
        try ("echo start\n" + String(repeating: "# padding line to make the script large\n", count: 1200) + "echo end $((6*7))\n")
            .write(toFile: script, atomically: true, encoding: .utf8)
        let big = try await cloud.json(["run", "--all", "--bucket", bucket, "--script", script])
        #expect(big.status == 0)
        #expect(Self.hosts(big.document)["ana"]?["stdout"] as? String == "start\nend 42\n")
        let refused = try await cloud.adminctl(["run", "--all", "--script", script])
        #expect(refused.status == 1 && refused.errorOutput.contains("no bucket is known"), "\(refused.errorOutput)")
    }

    /// Ctrl-C, and SIGTERM as a supervisor sends it (which exited 130 too, as if it were Ctrl-C).
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalCancelsWhatHasNotFinishedAndPrintsWhatRan(signal: Int32) async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let ana = try await cloud.developer("ana")
        let bob = try await cloud.developer("bob")
        try cloud.write("", to: "/quick", in: ana)
        var environment = ProcessInfo.processInfo.environment
        environment.merge(cloud.environment) { _, new in new }
        environment["NO_COLOR"] = "1"
        let process = Process()
        process.executableURL = BuildProducts.executable("adminctl")
        process.arguments = ["run", "--all", "--", "if [ -e /quick ]; then echo quick; else sleep 60; fi"]
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: cloud.home.path)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try ChildProcess.spawn(process)   // never Process.run beside other spawns (see ChildProcess.spawn)
        var running = false
        var commandID: String?
        for _ in 0..<100 where !running {
            try await Task.sleep(for: .milliseconds(200))
            let response = try await HTTPClient().send(HTTPRequest(url: "\(cloud.fleet.endpoint)/_fleet/commands"))
            let commands = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] ?? []
            if let command = commands.first, let invocations = command["Invocations"] as? [[String: Any]],
               invocations.contains(where: { $0["InstanceId"] as? String == bob && $0["Status"] as? String == "InProgress" }),
               invocations.contains(where: { $0["InstanceId"] as? String == ana && $0["Status"] as? String == "Success" }) {
                running = true
                commandID = command["CommandId"] as? String
            }
        }
        #expect(running, "the command never ran on bob")
        try await Task.sleep(for: .milliseconds(800))   // ana's result printed first
        kill(process.processIdentifier, signal)
        let (output, errors, status) = await CLI.finish(process, output: out, errors: err)
        #expect(status == 128 + signal, "\(output)\n\(errors)")
        #expect(output.contains("ana | quick\nana: ok, exit 0"), "\(output)")
        #expect(output.contains("bob: cancelled"), "\(output)")
        #expect(output.contains("Interrupted: CancelCommand was sent"))
        let record = try await cloud.record(try #require(commandID))
        let bobs = (record["Invocations"] as? [[String: Any]] ?? []).first { $0["InstanceId"] as? String == bob }
        #expect(bobs?["Status"] as? String == "Cancelled")
    }

    @Test func cpCopiesAFileAndADirectoryCheckedBySHA256AndACorruptedDownloadChangesNothing() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let ana = try await cloud.developer("ana")
        let bob = try await cloud.developer("bob")
        let app = try await cloud.launch(1, ["Role": "app", "Env": "prod"])[0]
        let bucket = try await cloud.bucket()
        let file = cloud.home.file("motd")
        try "Welcome to Nuvola\n".write(toFile: file, atomically: true, encoding: .utf8)
        let (status, document) = try await cloud.json(["cp", file, "/etc/motd", "--all", "--mode", "600", "--bucket", bucket])
        #expect(status == 0, "\(document)")
        for instance in [ana, bob] {
            #expect(cloud.read("/etc/motd", in: instance) == "Welcome to Nuvola\n")
            let mode = try FileManager.default.attributesOfItem(atPath: cloud.fleet.root(of: instance) + "/etc/motd")[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        #expect(cloud.read("/etc/motd", in: app) == nil)
        let staged = try #require(document["staged"] as? [String: Any])
        let digest = try #require(staged["sha256"] as? String)
        #expect(digest.count == 64 && staged["key"] as? String == "fleet/files/\(digest)/motd")
        #expect((Self.hosts(document["run"] as! [String: Any])["ana"]?["stdout"] as? String) == "adminctl-cp /etc/motd sha256 \(digest)\n")

        // A directory goes as one tar.gz and is unpacked in place.
        let tree = cloud.home.file("tools")
        try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\necho tool\n".write(toFile: tree + "/bin/tool", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tree + "/bin/tool")
        try "notes\n".write(toFile: tree + "/README", atomically: true, encoding: .utf8)
        let directory = try await cloud.adminctl(["cp", tree, "/opt/tools", "--dev", "ana", "--bucket", bucket])
        #expect(directory.status == 0, "\(directory.output)\n\(directory.errorOutput)")
        #expect(cloud.read("/opt/tools/README", in: ana) == "notes\n" && cloud.read("/opt/tools/bin/tool", in: ana) == "#!/bin/sh\necho tool\n")
        let ran = try await cloud.json(["run", "--dev", "ana", "--", "/opt/tools/bin/tool"])
        #expect(Self.hosts(ran.document)["ana"]?["stdout"] as? String == "tool\n")
        #expect(cloud.read("/opt/tools/README", in: bob) == nil)

        // An owner the machine does not know fails it with chown's message and leaves nothing behind.
        let stranger = try await cloud.json(["cp", file, "/etc/motd.d/", "--dev", "ana", "--owner", "nosuchuser", "--bucket", bucket])
        #expect(stranger.status == 1)
        let refused = try #require(Self.hosts(stranger.document["run"] as! [String: Any])["ana"])
        #expect((refused["stderr"] as? String ?? "").contains("nosuchuser"), "\(refused)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: cloud.fleet.root(of: ana) + "/etc/motd.d")) ?? []
        #expect(left.isEmpty, "\(left)")

        // One download corrupted on the way: that machine fails with exit 65 and keeps its file.
        let update = cloud.home.file("update.conf")
        try "version 2\n".write(toFile: update, atomically: true, encoding: .utf8)
        try await cloud.inject("corrupt", service: "s3", operation: "GetObject", count: 1)
        let corrupted = try await cloud.json(["cp", update, "/etc/nuvola/update.conf", "--all", "--bucket", bucket])
        #expect(corrupted.status == 1)
        let hosts = Self.hosts(corrupted.document["run"] as! [String: Any])
        let failed = hosts.values.filter { $0["outcome"] as? String == "failed" }
        #expect(failed.count == 1 && failed.first?["exitCode"] as? Int == 65)
        #expect((failed.first?["stderr"] as? String ?? "").contains("checksum mismatch for update.conf"))
        let failedID = try #require(failed.first?["instanceId"] as? String)
        let goodID = failedID == ana ? bob : ana
        #expect(cloud.read("/etc/nuvola/update.conf", in: failedID) == nil)
        #expect(cloud.read("/etc/nuvola/update.conf", in: goodID) == "version 2\n")
    }

    @Test func installReportsInstalledPresentAndFailedPerHostWithThePackageManagersMessage() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let ana = try await cloud.developer("ana")
        let bob = try await cloud.developer("bob")
        // Stand-ins for Debian's tools in each instance's own /usr/local/bin (first on root's PATH).
        for instance in [ana, bob] {
            try cloud.write("""
                #!/bin/sh
                # dpkg-query -W -f=FORMAT PACKAGE, from /var/lib/standin/installed (one "name version" a line)
                for last; do :; done
                line=$(grep "^$last " /var/lib/standin/installed 2>/dev/null) || exit 1
                case "$2" in *Status*) printf 'install ok installed' ;; *) printf '%s' "${line#* }" ;; esac
                """, to: "/usr/local/bin/dpkg-query", in: instance, executable: true)
            try cloud.write("""
                #!/bin/sh
                # apt-get install -y -q PACKAGE
                for last; do :; done
                case "$last" in
                  nosuch*) echo "Reading package lists..."; echo "E: Unable to locate package $last"; exit 100 ;;
                esac
                mkdir -p /var/lib/standin && echo "$last 1.0" >> /var/lib/standin/installed
                echo "Setting up $last (1.0) ..."
                """, to: "/usr/local/bin/apt-get", in: instance, executable: true)
        }
        try cloud.write("jq 1.6-2.1\n", to: "/var/lib/standin/installed", in: ana)
        let (status, document) = try await cloud.json(["install", "jq", "htop", "--all"])
        #expect(status == 0, "\(document)")
        let packages = try #require(document["packages"] as? [String: [[String: String]]])
        #expect(packages["ana"]?.map { [$0["package"]!, $0["state"]!] } == [["jq", "present"], ["htop", "installed"]])
        #expect(packages["ana"]?.first?["message"] == "1.6-2.1")
        #expect(packages["bob"]?.map { [$0["package"]!, $0["state"]!] } == [["jq", "installed"], ["htop", "installed"]])
        #expect(cloud.read("/var/lib/standin/installed", in: bob) == "jq 1.0\nhtop 1.0\n")

        let text = try await cloud.adminctl(["install", "htop", "nosuch-pkg", "--all"])
        #expect(text.status == 2, "\(text.output)\n\(text.errorOutput)")
        #expect(text.output.contains("ana: htop already present: 1.0"), "\(text.output)")
        #expect(text.output.contains("bob: nosuch-pkg failed: E: Unable to locate package nosuch-pkg (exit 100)"), "\(text.output)")
        let bad = try await cloud.adminctl(["install", "--all", "--", "-rf"])
        #expect(bad.status == 2 && bad.errorOutput.contains("is not a package name"), "\(bad.errorOutput)")
    }

    @Test func withTheSharedStackItsArtifactsBucketHoldsFullOutputAndCopiesAndItsAppInstancesNeedEnv() async throws {
        let cloud = try await Cloud.start()
        defer { cloud.stop() }
        let name = "f" + String(UUID().uuidString.lowercased().filter(\.isLetter).prefix(8))
        let initialised = try await cloud.adminctl(["init", "--yes", "--name", name, "--region", "eu-west-3"])
        #expect(initialised.status == 0, "\(initialised.errorOutput)")
        let up = try await cloud.adminctl(["infra", "up", "--yes"], timeout: .seconds(300))
        try #require(up.status == 0, "\(up.errorOutput)")
        let ana = try await cloud.developer("ana")

        // Output AWS cut is read from the stack's artifacts bucket, with no --bucket given.
        let long = "head -c 3000 /dev/zero | tr '\\0' x; touch /ran"
        let (status, document) = try await cloud.json(["run", "--all", "--", long])
        #expect(status == 0)
        let hosts = Self.hosts(document)
        #expect(Array(hosts.keys) == ["ana"])
        #expect(hosts["ana"]?["outputSource"] as? String == "s3" && (hosts["ana"]?["stdout"] as? String)?.count == 3000)

        // The stack's own app instances (its Auto Scaling groups, Role=app) are reached only with --env.
        let prod = try await cloud.json(["run", "--env", "prod", "--", "touch /ran; hostname"])
        #expect(prod.status == 0)
        let prodHosts = Self.hosts(prod.document).values
        #expect(prodHosts.count >= 2 && prodHosts.allSatisfy { ($0["label"] as? String ?? "").hasSuffix(" (prod)") })
        let dev = try await cloud.json(["run", "--env", "dev", "--", "true"])
        #expect(dev.status == 0 && !Self.hosts(dev.document).isEmpty)

        // cp stages in the same bucket; --as runs as another user.
        let file = cloud.home.file("hello.txt")
        try "hi\n".write(toFile: file, atomically: true, encoding: .utf8)
        let copied = try await cloud.json(["cp", file, "/srv/shared/", "--all", "--owner", "nobody"])
        #expect(copied.status == 0, "\(copied.document)")
        #expect(((copied.document["staged"] as? [String: Any])?["bucket"] as? String ?? "").hasPrefix("\(name)-artifacts-"))
        #expect(cloud.read("/srv/shared/hello.txt", in: ana) == "hi\n")
        let owner = try await cloud.json(["run", "--all", "--as", "nobody", "--", "id -un; stat -c %U /srv/shared/hello.txt"])
        #expect(Self.hosts(owner.document)["ana"]?["stdout"] as? String == "nobody\nnobody\n", "\(owner.document)")
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
