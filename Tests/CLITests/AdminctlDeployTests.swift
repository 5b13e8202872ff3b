import AWS
import Foundation
import Host
import Testing
import TestSupport

/// `adminctl deploy` and `adminctl rollback` as an admin runs them, on a simulated cloud of
/// their own (load-balancer time compressed 20 times) with the shared stack up: a prod group of
/// six instances served by PHP behind haproxy, an app whose every page names its release, and
/// a bounded load generator sending requests through the balancer while releases change.
@Suite(.serialized) struct AdminctlDeployTests {
    struct Project {
        let fleet: Fleet
        let origin: GitOrigin
        let directory: TemporaryDirectory
        let name = "d" + String((0..<8).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        var file: String { directory.file("project/adminctl.toml") }

        static func start(lease: Int? = nil, extra: [String: [String: String]] = [:]) async throws -> Project {
            let project = Project(fleet: try await Fleet.start(timeScale: 0.05), origin: try await appOrigin(),
                                  directory: try TemporaryDirectory())
            for folder in ["project", "home"] {
                try FileManager.default.createDirectory(atPath: project.directory.file(folder), withIntermediateDirectories: true)
            }
            let written = try await project.run(["init", "--yes", "--name", project.name, "--region", "eu-west-3", "--repo", project.origin.bare])
            #expect(written.status == 0, "\(written.errorOutput)")
            var settings: [String: [String: String]] = ["prod": ["min_size": "6", "max_size": "8"], "release": ["build": "\"\""]]
            if let lease { settings["deploy"] = ["lock_lease_seconds": String(lease)] }
            for (section, values) in extra { settings[section, default: [:]].merge(values) { $1 } }
            try project.set(settings)
            let up = try await project.run(["infra", "up", "--yes"])
            #expect(up.status == 0, "\(up.errorOutput)")
            try await project.waitServing()
            return project
        }

        /// The app: `/` answers "release vN" from its VERSION file and "page vN" from src/page.php
        /// (a response mixing two releases would show two numbers), `/health` answers ok.
        static func appOrigin() async throws -> GitOrigin {
            let origin = try await GitOrigin()
            try await origin.git(["-C", origin.seed, "checkout", "--quiet", "main"])
            try await write(origin, [
                "public/index.php": """
                    <?php
                    $release = trim(file_get_contents(__DIR__ . '/../VERSION'));
                    if (parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) === '/health') {
                        if (file_exists(__DIR__ . '/../BROKEN')) { http_response_code(500); echo "broken\\n"; return; }
                        // Slow only for the deploy's own check (the simulator's web server sets FLEET_APP).
                        if (file_exists(__DIR__ . '/../SLOW') && getenv('FLEET_APP') === false) {
                            usleep((int) trim(file_get_contents(__DIR__ . '/../SLOW')));
                        }
                        echo "ok\\n";
                        return;
                    }
                    require __DIR__ . '/../src/page.php';
                    echo "release $release\\n" . page();

                    """,
                "src/page.php": "<?php\nfunction page() { return 'page ' . trim(file_get_contents(__DIR__ . '/../VERSION')) . \"\\n\"; }\n",
                "VERSION": "v1\n",
            ], "v1")
            return origin
        }

        /// Writes files in the seed clone, commits them on main and pushes.
        static func write(_ origin: GitOrigin, _ files: [String: String], _ message: String, remove: [String] = []) async throws {
            for (path, content) in files {
                let full = origin.seed + "/" + path
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try content.write(toFile: full, atomically: true, encoding: .utf8)
            }
            for path in remove { try? FileManager.default.removeItem(atPath: origin.seed + "/" + path) }
            try await origin.git(["-C", origin.seed, "add", "-A"])
            try await origin.git(["-C", origin.seed, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "--quiet", "-m", message])
            try await origin.git(["-C", origin.seed, "push", "--quiet", "origin", "main"])
        }

        func commit(_ files: [String: String], _ message: String, remove: [String] = []) async throws {
            try await Self.write(origin, files, message, remove: remove)
        }

        /// Sets `key = value` in each `[section]` of adminctl.toml (values as TOML).
        func set(_ settings: [String: [String: String]]) throws {
            var lines = try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n")
            for (section, values) in settings {
                guard let start = lines.firstIndex(of: "[\(section)]") else { Issue.record("no [\(section)]"); continue }
                for (key, value) in values {
                    let index = lines[(start + 1)...].firstIndex { $0.hasPrefix("\(key) = ") || $0.hasPrefix("# \(key) = ") }
                    guard let index else { Issue.record("no \(section).\(key)"); continue }
                    lines[index] = "\(key) = \(value)"
                }
            }
            try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        }

        var environment: [String: String] {
            var environment = ["HOME": directory.file("home"), "PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TERM": "dumb",
                               "AWS_EC2_METADATA_DISABLED": "true", "ADMINCTL_POLL_SECONDS": "0.2"]
            for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] { environment[key] = fleet.environment[key] }
            return environment
        }

        func run(_ arguments: [String]) async throws -> ProcessResult {
            try await CLI.run("adminctl", arguments, environment: environment, directory: directory.file("project"))
        }

        func json(_ result: ProcessResult) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any], "\(result.output)\(result.errorOutput)")
        }

        func start(_ arguments: [String]) throws -> SpawnedProcess {
            try SpawnedProcess.start(BuildProducts.executable("adminctl").path, arguments, environment: environment,
                                     directory: directory.file("project"), output: .null, error: .pipe, processGroup: true)
        }

        func status() async throws -> [String: Any] {
            let result = try await run(["status", "prod", "--json"])
            return try json(result)
        }

        /// The prod group's instance ids in service.
        func instances() async throws -> [String] {
            let listed = try #require(try await status()["instances"] as? [[String: Any]])
            return listed.filter { $0["lifecycle"] as? String == "InService" }.compactMap { $0["id"] as? String }.sorted()
        }

        /// Waits until every prod instance is healthy behind the balancer.
        func waitServing(count: Int = 6, timeout: Duration = .seconds(120)) async throws {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let report = try await status()
                let listed = report["instances"] as? [[String: Any]] ?? []
                if listed.count >= count && listed.allSatisfy({ $0["target"] as? String == "healthy" }) { return }
                try await Task.sleep(for: .milliseconds(500))
            }
            Issue.record("prod did not get \(count) healthy instances within \(timeout): \(try await status())")
        }

        /// The release `current` names inside an instance.
        func current(_ instance: String) -> String? {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: fleet.root(of: instance) + "/srv/app/current"))
                .map { String($0.dropFirst("releases/".count)) }
        }

        /// The local haproxy URL of the stack's balancer (prod's listener, the lowest port).
        func balancerURL() async throws -> String {
            let balancers = try #require(try await fleet.status()["loadBalancers"] as? [[String: Any]])
            return try #require(balancers.first?["url"] as? String)
        }

        func stop() {
            origin.directory.remove()
            directory.remove()
            let fleet = fleet
            Task { try? await fleet.stop() }
        }
    }

    /// The load generator (Tests/TestSupport/Fixtures/load.py) against the balancer until stopped.
    struct Load {
        let process: SpawnedProcess
        let output: Task<[UInt8], Never>

        static func start(_ url: String, ready: String) throws -> Load {
            let script = TestEngine.repositoryRoot + "/Tests/TestSupport/Fixtures/load.py"
            let process = try SpawnedProcess.start(TestEngine.repositoryRoot + "/.venv/bin/python",
                                                   [script, url, "--threads", "4", "--rate", "60", "--seconds", "300", "--ready", ready],
                                                   output: .pipe, error: .null, processGroup: true)
            let fd = process.output
            return Load(process: process, output: Task { await SpawnedProcess.readAll(fd) })
        }

        func waitReady(_ file: String) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while !FileManager.default.fileExists(atPath: file), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        }

        func stop() async throws -> [String: Any] {
            process.signal(SIGTERM)
            _ = try await process.wait()
            let data = await output.value
            return try #require(try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any], "\(String(decoding: data, as: UTF8.self))")
        }
    }

    static func body(_ version: String) -> String { "release \(version)\npage \(version)\n" }

    @Test func deploysUnderLoadWithoutAFailedRequestRefusesABrokenReleaseAndRollsBack() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let instances = try await project.instances()
        #expect(instances.count == 6)

        // v1: the first deploy (the pointer said none).
        let plan = try await project.run(["deploy", "prod", "--dry-run", "--json"])
        #expect(plan.status == 0, "\(plan.errorOutput)")
        let planned = try project.json(plan)
        #expect(planned["outcome"] as? String == "planned" && planned["built"] as? Bool == true)
        #expect((planned["waves"] as? [[String: Any]])?.map { ($0["instances"] as? [String])?.count } == [3, 3])
        #expect((try project.json(try await project.run(["releases", "prod", "--json"]))["releases"] as? [Any])?.isEmpty == true)

        let first = try await project.run(["deploy", "prod", "--yes", "--json"])
        #expect(first.status == 0, "\(first.errorOutput)")
        let v1 = try #require(try project.json(first)["release"] as? String)
        #expect(instances.allSatisfy { project.current($0) == v1 })

        // v2 under load: not one request fails, no response mixes releases, every instance ends on v2.
        try await project.commit(["VERSION": "v2\n"], "v2")
        let ready = project.directory.file("load-ready")
        let load = try Load.start(try await project.balancerURL(), ready: ready)
        try await load.waitReady(ready)
        let second = try await project.run(["deploy", "prod", "--yes", "--json"])
        try await Task.sleep(for: .seconds(1))
        let traffic = try await load.stop()
        #expect(second.status == 0, "\(second.errorOutput)")
        let report = try project.json(second)
        let v2 = try #require(report["release"] as? String)
        #expect(report["previous"] as? String == v1 && report["outcome"] as? String == "deployed" && report["pointerMoved"] as? Bool == true)
        #expect(report["migrations"] as? String == "none")
        let waves = try #require(report["waves"] as? [[String: Any]])
        #expect(waves.count == 2 && waves.allSatisfy { $0["outcome"] as? String == "ok" && $0["seconds"] is Double })
        let items = try #require(report["instances"] as? [[String: Any]])
        #expect(items.count == 6 && items.allSatisfy { $0["from"] as? String == v1 && $0["now"] as? String == v2 && $0["outcome"] as? String == "switched" })
        #expect(instances.allSatisfy { project.current($0) == v2 })
        #expect(traffic["failed"] as? Int == 0, "\(traffic)")
        let bodies = try #require(traffic["bodies"] as? [String: Int])
        #expect(Set(bodies.keys).isSubset(of: [Self.body("v1"), Self.body("v2")]), "\(bodies.keys)")
        #expect((bodies[Self.body("v2")] ?? 0) > 0 && (traffic["requests"] as? Int ?? 0) > 50, "\(traffic)")
        // PHP-FPM was reloaded gracefully on each (the image's systemctl records it).
        let recorded = try String(contentsOfFile: project.fleet.root(of: instances[0]) + "/var/log/fleet-image.log", encoding: .utf8)
        #expect(recorded.contains("systemctl reload php-fpm\n"), "\(recorded)")

        // v3 fails its health check: the first wave is not switched (or put back), all serve v2, exit 1.
        try await project.commit(["VERSION": "v3\n", "BROKEN": "yes\n"], "v3, broken")
        let third = try await project.run(["deploy", "prod", "--yes"])
        #expect(third.status == 1)
        #expect(third.output.contains("wave 1 failed on "), "\(third.output)")
        #expect(third.errorOutput.contains("production still serves \(v2) on every instance."), "\(third.errorOutput)")
        #expect(third.output.contains("health check: GET /health of releases/"))
        #expect(instances.allSatisfy { project.current($0) == v2 })
        #expect(try await project.status()["release"] as? String == v2)

        // Rollback in one command: to v1, the release before v2, without a download.
        let back = try await project.run(["rollback", "prod", "--yes", "--json"])
        #expect(back.status == 0, "\(back.errorOutput)")
        let rolled = try project.json(back)
        #expect(rolled["release"] as? String == v1 && rolled["previous"] as? String == v2)
        #expect((rolled["instances"] as? [[String: Any]])?.allSatisfy { $0["staged"] as? String == "reused" } == true, "\(rolled)")
        #expect(instances.allSatisfy { project.current($0) == v1 })
        #expect(try await project.status()["release"] as? String == v1)

        let gone = try await project.run(["rollback", "prod", "--to", "20200101T000000Z-0000000", "--yes"])
        #expect(gone.status == 1 && gone.errorOutput.contains("prod has no release 20200101T000000Z-0000000"), "\(gone.errorOutput)")
        // A release whose artifact is gone from S3 is refused by name.
        let listed = try project.json(try await project.run(["releases", "prod", "--json"]))
        let bucket = try #require(listed["bucket"] as? String)
        let v2Key = try #require((listed["releases"] as? [[String: Any]])?.first { $0["id"] as? String == v2 }?["key"] as? String)
        try await S3(project.fleet.client()).deleteObject(bucket: bucket, key: v2Key)
        let noArtifact = try await project.run(["rollback", "prod", "--to", v2, "--yes"])
        #expect(noArtifact.status == 1 && noArtifact.errorOutput.contains("(or its .sha256) is missing or not the size recorded, so it cannot be installed"),
                "\(noArtifact.errorOutput)")
        #expect(instances.allSatisfy { project.current($0) == v1 })
        let usage = try await project.run(["deploy", "prod", "--batch", "0", "--yes"])
        #expect(usage.status == 2)
        let noYes = try await project.run(["deploy", "prod"])
        #expect(noYes.status == 2 && noYes.errorOutput.contains("add --yes"))
    }

    @Test func theLockRefusesASecondDeployAKilledOnesLockIsTakenOverAndCtrlCPutsTheWaveBack() async throws {
        let project = try await Project.start(lease: 6)
        defer { project.stop() }
        let instances = try await project.instances()
        let first = try await project.run(["deploy", "prod", "--yes", "--json"])
        #expect(first.status == 0, "\(first.errorOutput)")
        let v1 = try #require(try project.json(first)["release"] as? String)

        // A slow health check keeps waves busy: 4 s each.
        try await project.commit(["VERSION": "v2\n", "SLOW": "4000000\n"], "v2, slow")
        let slow = try project.start(["deploy", "prod", "--yes", "--batch", "2"])
        async let slowErrors = SpawnedProcess.readAll(slow.error)
        try await waitLocked(project, true)
        let refused = try await project.run(["deploy", "prod", "--yes"])
        #expect(refused.status == 3, "\(refused.errorOutput)")
        #expect(refused.errorOutput.contains("error: prod is locked by "), "\(refused.errorOutput)")
        // Ctrl-C in the second wave, the first one switched: exit 130, the first wave put back, the lock free.
        try await waitForSwitch(project, instances: instances, v1: v1)
        slow.signal(SIGINT)
        #expect(try await slow.wait() == 130)
        let errors = String(decoding: await slowErrors, as: UTF8.self)
        #expect(errors.contains("Interrupted: every instance switched was put back (prod serves \(v1))"), "\(errors)")
        #expect(errors.contains("Wave 2/3: switching ") && errors.contains(" back to \(v1)…"), "\(errors)")
        #expect(instances.allSatisfy { project.current($0) == v1 }, "\(instances.map { project.current($0) ?? "-" })")
        #expect(try await project.status()["release"] as? String == v1)
        try await waitLocked(project, false, timeout: .seconds(5))

        // SIGKILL: the lock holds until its lease ends, then the next deploy takes it over.
        let killed = try project.start(["deploy", "prod", "--yes"])
        try await waitLocked(project, true)
        killed.signal(SIGKILL)
        _ = try await killed.wait()
        let early = try await project.run(["deploy", "prod", "--yes"])
        #expect(early.status == 3, "\(early.errorOutput)")
        try await waitLocked(project, false, timeout: .seconds(20))
        try await project.commit(["VERSION": "v3\n"], "v3", remove: ["SLOW"])
        let next = try await project.run(["deploy", "prod", "--yes"])
        #expect(next.status == 0, "\(next.errorOutput)")
        #expect(next.errorOutput.contains("Taking over the prod deploy lock: "), "\(next.errorOutput)")
        #expect(next.output.hasPrefix("prod runs "), "\(next.output)")
    }

    @Test func aFailingMigrationSwitchesNothingAndAnInstanceLaunchedDuringADeployServesTheNewRelease() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let instances = try await project.instances()
        let first = try await project.run(["deploy", "prod", "--yes", "--json"])
        #expect(first.status == 0, "\(first.errorOutput)")
        let v1 = try #require(try project.json(first)["release"] as? String)

        try await project.commit([
            "VERSION": "v2\n",
            "migrations/Version20260101000000.php": "<?php return ['ALTER TABLE product ADD price INT'];\n",
            "bin/console": "<?php\nif (($argv[1] ?? '') === 'list') { echo \"doctrine:migrations:migrate\\n\"; exit(0); }\n"
                + "fwrite(STDERR, \"SQLSTATE[42S21]: Column already exists: 1060 Duplicate column name 'price'\\n\");\nexit(1);\n",
        ], "v2 with a failing migration")
        let planned = try project.json(try await project.run(["deploy", "prod", "--dry-run", "--json"]))
        #expect(planned["migrations"] as? String == "decided when the release is built")
        let failed = try await project.run(["deploy", "prod", "--yes", "--json"])
        #expect(failed.status == 1)
        let report = try project.json(failed)
        #expect(report["migrations"] as? String == "failed" && report["outcome"] as? String == "rolled-back")
        #expect((report["failure"] as? String)?.contains("Duplicate column name 'price'") == true, "\(report)")
        #expect((report["waves"] as? [[String: Any]])?.allSatisfy { $0["outcome"] as? String == "pending" } == true)
        #expect(instances.allSatisfy { project.current($0) == v1 })
        #expect(try await project.status()["release"] as? String == v1)
        // Now built, the plan reads the migrations from the artifact.
        let again = try project.json(try await project.run(["deploy", "prod", "--dry-run", "--json"]))
        #expect(again["migrations"] as? String == "planned", "\(again)")

        // Scale out while a (slow) deploy runs: the new instance ends on the new release.
        try await project.commit(["VERSION": "v3\n", "SLOW": "3000000\n"], "v3", remove: ["bin/console", "migrations/Version20260101000000.php"])
        let deploy = try project.start(["deploy", "prod", "--yes", "--batch", "2"])
        async let deployErrors = SpawnedProcess.readAll(deploy.error)
        try await waitLocked(project, true)
        let scaled = try await project.run(["scale", "prod", "--desired", "7"])
        #expect(scaled.status == 0, "\(scaled.errorOutput)")
        let deployStatus = try await deploy.wait()
        let deployText = String(decoding: await deployErrors, as: UTF8.self)
        #expect(deployStatus == 0, "\(deployText)")
        #expect(deployText.contains("joined") || deployText.contains("Release pointer"), "\(deployText)")
        let v3 = try #require(try await project.status()["release"] as? String)
        #expect(v3 != v1)
        let now = try await project.instances()
        let newcomer = try #require(Set(now).subtracting(instances).first, "\(now)")
        let deadline = ContinuousClock.now + .seconds(60)
        while project.current(newcomer) != v3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(300)) }
        #expect(project.current(newcomer) == v3)
        #expect(instances.allSatisfy { project.current($0) == v3 })

        // An instance the group terminates while a deploy runs (after the first wave, before its
        // own) is left out, not a failure: the deploy goes on and the others end on the release.
        try await project.commit(["VERSION": "v4\n"], "v4")
        let serving = try await project.instances()
        let slow = try project.start(["deploy", "prod", "--yes", "--batch", "1"])
        async let slowErrors = SpawnedProcess.readAll(slow.error)
        let firstSwitch = ContinuousClock.now + .seconds(120)
        var switched: [String] = []
        while switched.isEmpty, ContinuousClock.now < firstSwitch {
            switched = serving.filter { project.current($0).map { $0 != v3 } ?? false }
            try await Task.sleep(for: .milliseconds(100))
        }
        let victim = try #require(serving.first { !switched.contains($0) }, "\(serving) \(switched)")
        try await AutoScaling(project.fleet.client()).terminateInstance(victim, decrementDesiredCapacity: true)
        let slowStatus = try await slow.wait()
        let slowText = String(decoding: await slowErrors, as: UTF8.self)
        #expect(slowStatus == 0, "\(slowText)")
        #expect(slowText.contains("\(victim) went away during the deploy ("), "\(slowText)")
        let v4 = try #require(try await project.status()["release"] as? String)
        #expect(v4 != v3)
        let left = try await project.instances()
        // The group's target tracking policy may also scale in while the deploy runs (the simulator's
        // cooldown is scaled down with its clock): what is asked is that the victim is gone and every
        // instance left serves v4, not how many the policy kept.
        #expect(!left.contains(victim) && Set(left).isSubset(of: Set(serving).subtracting([victim])) && !left.isEmpty, "\(left)")
        #expect(left.allSatisfy { project.current($0) == v4 }, "\(left.map { project.current($0) ?? "-" })")
    }

    /// SendCommand has no idempotency token. When its answer is lost after AWS ran it (a wave's
    /// switch really happens), the deploy finds the command by its comment's tag and follows it:
    /// it used to give up and put the wave back while the lost switch still ran, so prod ended on
    /// a mix of releases it did not report.
    @Test func aWaveWhoseSendCommandAnswerIsLostIsFollowedNotSentTwiceNorLeftRunningUnseen() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let instances = try await project.instances()
        let first = try await project.run(["deploy", "prod", "--yes", "--json"])
        #expect(first.status == 0, "\(first.errorOutput)")
        let v1 = try #require(try project.json(first)["release"] as? String)

        // A slow health check: the lost switch is still running when a deploy that gave up put the wave back.
        try await project.commit(["VERSION": "v2\n", "SLOW": "2000000\n"], "v2, slow")
        _ = try await sendCommands(project, reset: true)
        // Staging and migrations go through; wave 1's switch runs but its answer is lost.
        try await project.fleet.inject(kind: "drop-after", service: "ssm", operation: "SendCommand", count: 1, skip: 2)
        let second = try await project.run(["deploy", "prod", "--yes", "--json"])
        #expect(second.status == 0, "\(second.errorOutput)")
        let report = try project.json(second)
        let v2 = try #require(report["release"] as? String)
        #expect(v2 != v1 && report["outcome"] as? String == "deployed", "\(report)")
        #expect((report["waves"] as? [[String: Any]])?.allSatisfy { $0["outcome"] as? String == "ok" } == true, "\(report)")
        // Every instance serves v2 (none was put back under a switch still running), each step sent once.
        try await Task.sleep(for: .seconds(3))
        #expect(instances.allSatisfy { project.current($0) == v2 }, "\(instances.map { project.current($0) ?? "-" })")
        #expect(try await sendCommands(project) == 4)   // stage, migrations, two waves

        // Every wave done but the pointer cannot be moved (PutParameter failing past its retries:
        // the lock's take and description go through, then three attempts fail): said as such,
        // exit 1, with the command that moves it, and that command switches nothing again.
        try await project.fleet.inject(kind: "error500", service: "ssm", operation: "PutParameter", count: 3, skip: 2)
        let stuck = try await project.run(["deploy", "prod", "--release", v1, "--yes", "--json"])
        #expect(stuck.status == 1, "\(stuck.errorOutput)")
        let stuckReport = try project.json(stuck)
        #expect(stuckReport["outcome"] as? String == "pointer-not-moved" && stuckReport["pointerMoved"] as? Bool == false, "\(stuckReport)")
        let failure = try #require(stuckReport["failure"] as? String)
        #expect(failure.contains("it still names \(v2), which instances launched from now on install"), "\(failure)")
        #expect(failure.contains("`adminctl deploy prod --release \(v1) --yes` moves it"), "\(failure)")
        #expect(instances.allSatisfy { project.current($0) == v1 })
        #expect(try await project.status()["release"] as? String == v2)
        let text = try await project.run(["deploy", "prod", "--release", v1, "--yes"])
        #expect(text.status == 0, "\(text.errorOutput)")
        let moved = try project.json(try await project.run(["releases", "prod", "--json"]))
        #expect(moved["current"] as? String == v1, "\(moved)")
        #expect(text.output.contains("unchanged"), "\(text.output)")

        // Ctrl-C while staging (the agents slow to pick commands up): nothing was switched, and said so.
        for instance in instances { try await project.fleet.setAgent(instance, delay: 15) }
        let staging = try project.start(["deploy", "prod", "--release", v2, "--yes"])
        async let stagingErrors = SpawnedProcess.readAll(staging.error)
        try await waitLocked(project, true)
        try await Task.sleep(for: .seconds(2))
        staging.signal(SIGINT)
        #expect(try await staging.wait() == 130)
        let said = String(decoding: await stagingErrors, as: UTF8.self)
        #expect(said.contains("Interrupted before any instance was switched: prod serves what it served before (\(v1)); "
            + "the release pointer was not moved."), "\(said)")
        #expect(!said.contains("serves )"), "\(said)")
        for instance in instances { try await project.fleet.setAgent(instance, delay: 0) }
        #expect(instances.allSatisfy { project.current($0) == v1 })
        try await waitLocked(project, false, timeout: .seconds(10))

        // An instance refresh under way (started outside adminctl): a rolling deploy is refused, nothing switched.
        let client = project.fleet.client()
        let group = try #require(try await CloudFormation(client).stack("\(project.name)-shared")?.outputs["ProdAutoScalingGroupName"])
        let scaling = AutoScaling(client)
        let launching = try #require(try await scaling.group(group))
        _ = try await scaling.startInstanceRefresh(group: group, preferences: .init(minHealthyPercentage: 90, instanceWarmup: 600, autoRollback: false),
                                                   launchTemplateID: launching.launchTemplateID,
                                                   launchTemplateVersion: launching.launchTemplateVersion)
        let refused = try await project.run(["deploy", "prod", "--release", v2, "--yes"])
        try await scaling.cancelInstanceRefresh(group: group)
        #expect(refused.status == 1, "\(refused.errorOutput)")
        #expect(refused.errorOutput.contains("the instances it launches install what its launch template version says, not \(v2), "
            + "so nothing was switched."), "\(refused.errorOutput)")
        #expect(instances.allSatisfy { project.current($0) == v1 })
        let stopping = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < stopping,
              try await scaling.describeInstanceRefreshes(group: group).contains(where: { !["Cancelled", "Successful", "Failed"].contains($0.status) }) {
            try await Task.sleep(for: .milliseconds(300))
        }
        try await project.waitServing()

        // A record written before adminctl noted serving (no servedAt): the pointer named it, so the next
        // deploy marks it served.
        let ssm = SSM(client)
        let v1Record = "/\(project.name)/prod/releases/\(v1)"
        let recorded = try #require(try await ssm.getParameter(v1Record)?.Value)
        #expect(recorded.contains("\"servedAt\""), "\(recorded)")
        var unmarked = try #require(try JSONSerialization.jsonObject(with: Data(recorded.utf8)) as? [String: Any])
        unmarked["servedAt"] = nil
        _ = try await ssm.putParameter(name: v1Record, value: String(decoding: try JSONSerialization.data(withJSONObject: unmarked), as: UTF8.self))

        // A release whose deploy failed never served: rollback (no health check) skips it, and --to refuses it.
        try await project.commit(["VERSION": "v3\n", "BROKEN": "yes\n"], "v3, broken")
        let broken = try await project.run(["deploy", "prod", "--yes", "--json"])
        #expect(broken.status == 1, "\(broken.errorOutput)")
        let v3 = try #require(try project.json(broken)["release"] as? String)
        try await project.commit(["VERSION": "v4\n"], "v4", remove: ["BROKEN", "SLOW"])
        let fourth = try await project.run(["deploy", "prod", "--yes", "--json"])
        #expect(fourth.status == 0, "\(fourth.errorOutput)")
        #expect(try await ssm.getParameter(v1Record)?.Value?.contains("\"servedAt\"") == true)
        let back = try await project.run(["rollback", "prod", "--yes", "--json"])
        #expect(back.status == 0, "\(back.errorOutput)")
        #expect(try project.json(back)["release"] as? String == v2, "\(back.output)")
        let toBroken = try await project.run(["rollback", "prod", "--to", v3, "--yes"])
        #expect(toBroken.status == 1 && toBroken.errorOutput.contains("Release \(v3) never served prod"), "\(toBroken.errorOutput)")
        #expect(toBroken.errorOutput.contains("`adminctl deploy prod --release \(v3) --yes` checks its health"), "\(toBroken.errorOutput)")
        let serving = try await project.instances()
        #expect(serving.allSatisfy { project.current($0) == v2 }, "\(serving.map { project.current($0) ?? "-" })")
    }

    @Test func deployHelpTeaches() async throws {
        let result = try await CLI.run("adminctl", ["deploy", "--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("USAGE: adminctl deploy <environment> [--ref <ref>] [--release <id>] [--batch <N|P%>] [--dry-run] [--yes]"))
        #expect(result.output.contains("Exit status: 0 when every instance runs the release, 1 when the deploy stopped"))
        #expect(result.output.contains("--refresh replaces the instances instead") && result.output.contains("--image-id <ami-id>"))
        let rollback = try await CLI.run("adminctl", ["rollback", "--help"])
        #expect(rollback.status == 0 && rollback.output.contains("USAGE: adminctl rollback <environment> [--to <id>]"))
    }

    /// `--refresh`'s options are checked before anything is read or sent (exit 2 with the reason).
    @Test(arguments: [
        (["--image-id", "ami-0123456789abcdef0"], "--image-id goes with --refresh"),
        (["--refresh", "--image-id", "ubuntu"], "--image-id takes an AMI id such as ami-0123456789abcdef0, not \"ubuntu\""),
        (["--refresh", "--batch", "2"], "--batch sizes in-place waves"),
        (["--refresh", "--dry-run"], "--refresh --dry-run takes --release ID"),
    ])
    func refreshOptionsAreCheckedFirst(extra: [String], expected: String) async throws {
        let result = try await CLI.run("adminctl", ["deploy", "prod"] + extra, environment: ["HOME": "/nonexistent"])
        #expect(result.status == 2, "\(result.errorOutput)")
        #expect(result.errorOutput.contains(expected), "\(result.errorOutput)")
    }

    /// SendCommands the simulator received (`reset`: from now on).
    func sendCommands(_ project: Project, reset: Bool = false) async throws -> Int {
        let url = project.fleet.endpoint + "/_fleet/calls"
        if reset { _ = try await ChildProcess.run("/usr/bin/curl", ["-sf", "-X", "DELETE", url], timeout: .seconds(30)) }
        let result = try await ChildProcess.run("/usr/bin/curl", ["-sf", url], timeout: .seconds(30))
        let calls = (try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])?["calls"] as? [String: Int]
        return calls?["ssm.SendCommand"] ?? 0
    }

    // MARK: Waiting

    func waitLocked(_ project: Project, _ locked: Bool, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let listed = try project.json(try await project.run(["releases", "prod", "--json"]))
            if listed["locked"] as? Bool == locked { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("the prod lock did not become \(locked ? "locked" : "free") within \(timeout)")
    }

    /// Waits until the first wave has switched (some instance serves another release than v1).
    func waitForSwitch(_ project: Project, instances: [String], v1: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if instances.contains(where: { project.current($0).map { $0 != v1 } ?? false }) {
                try await Task.sleep(for: .seconds(1))   // inside the second wave's 4 s health check
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no instance was ever switched")
    }
}
