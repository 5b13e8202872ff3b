import AWS
import AdminKit
import Foundation
import Host
import Testing
import TestSupport

/// The pure parts of a rolling deploy: waves under the minimum healthy capacity, which releases
/// S3 keeps, and the scripts instances run, run here with bash on a directory playing /srv/app
/// (a stand-in `aws` copies from a directory playing the bucket; PHP and curl are the real ones).
@Suite struct RollingDeployTests {
    static func instances(_ count: Int, zones: [String] = ["a", "b"]) -> [DeployWaves.Instance] {
        (0..<count).map { DeployWaves.Instance(id: "i-\(String(format: "%02d", $0))", zone: zones[$0 % zones.count]) }
    }

    @Test func batchesParseAsCountsOrPercentages() {
        #expect(DeployBatch("3") == .count(3) && DeployBatch("34%") == .percent(34) && DeployBatch(" 100% ") == .percent(100))
        for bad in ["0", "-1", "0%", "101%", "x", "", "3.5"] { #expect(DeployBatch(bad) == nil, "\(bad)") }
        #expect(DeployBatch.percent(34).size(of: 6) == 3 && DeployBatch.percent(50).size(of: 30) == 15 && DeployBatch.count(2).size(of: 6) == 2)
    }

    @Test func wavesNeverTakeMoreThanTheMinimumHealthyCapacityLeaves() {
        let six = Self.instances(6)
        let half = DeployWaves.plan(six, batch: .percent(50), minHealthyPercent: 50)
        #expect(half.waves.map(\.count) == [3, 3] && half.cap == 3)
        // A batch larger than the cap is cut to it: 90% healthy of 6 leaves one at a time.
        let strict = DeployWaves.plan(six, batch: .count(4), minHealthyPercent: 90)
        #expect(strict.waves.map(\.count) == [1, 1, 1, 1, 1, 1] && strict.cap == 1)
        // Every instance exactly once.
        #expect(Set(strict.waves.flatMap { $0 }) == Set(six.map(\.id)) && strict.waves.flatMap { $0 }.count == 6)
        // 30 instances, default settings: two waves, so the time grows with waves, not instances.
        #expect(DeployWaves.plan(Self.instances(30), batch: .percent(50), minHealthyPercent: 50).waves.map(\.count) == [15, 15])
        // A single instance can always be deployed, even at 100% healthy.
        #expect(DeployWaves.plan(Self.instances(1), batch: .percent(50), minHealthyPercent: 100).waves == [["i-00"]])
        #expect(DeployWaves.plan([], batch: .count(1), minHealthyPercent: 50).waves.isEmpty)
        // Zones alternate inside each wave.
        let zoned = DeployWaves.plan(Self.instances(4), batch: .count(2), minHealthyPercent: 0)
        #expect(zoned.waves == [["i-00", "i-01"], ["i-02", "i-03"]])
    }

    @Test func s3KeepsTheNewestReleasesAndAlwaysTheProtectedOnes() {
        let ids = (1...8).map { "2026120\($0)T000000Z-aaaaaaa" }
        #expect(ReleaseRetention.removable(ids, keep: 5, protecting: []) == Array(ids.prefix(3)))
        // The pointer's release is older than the newest five (a rollback): kept, one fewer of the newest.
        #expect(ReleaseRetention.removable(ids, keep: 5, protecting: [ids[0]]) == [ids[1], ids[2], ids[3]])
        #expect(ReleaseRetention.removable(ids, keep: 2, protecting: [ids[7], ids[2]]) == [ids[0], ids[1], ids[3], ids[4], ids[5], ids[6]])
        #expect(ReleaseRetention.removable(ids, keep: 10, protecting: []).isEmpty)
    }

    // MARK: The scripts, run

    /// A /srv/app of its own, a bucket directory and a stand-in `aws s3 cp` reading it.
    struct Machine {
        let directory: TemporaryDirectory
        var app: String { directory.file("srv/app") }
        var bucket: String { directory.file("bucket") }

        init() throws {
            directory = try TemporaryDirectory()
            for folder in ["srv/app", "bucket", "bin"] {
                try FileManager.default.createDirectory(atPath: directory.file(folder), withIntermediateDirectories: true)
            }
            let aws = """
                #!/bin/bash
                # aws s3 cp [--region R] [--only-show-errors] s3://BUCKET/KEY DEST, from $FAKE_BUCKETS
                args=()
                for word in "$@"; do [[ $word == --only-show-errors ]] || args+=("$word"); done
                [[ ${args[2]} == --region ]] && args=("${args[@]:0:2}" "${args[@]:4}")
                source=${args[2]#s3://}
                cp "$FAKE_BUCKETS/$source" "${args[3]}"
                """
            try aws.write(toFile: directory.file("bin/aws"), atomically: true, encoding: .utf8)
            chmod(directory.file("bin/aws"), 0o755)
        }

        var script: DeployScript {
            DeployScript(appRoot: app, bucket: "b", region: "eu-west-3", sharedPaths: ["var/log/", "public/uploads/", ".env.local"],
                         healthPath: "/health", keepReleases: 3)
        }

        /// Publishes a release whose page names it (and whose /health answers `health`).
        func publish(_ id: String, health: Int = 200, corrupt: Bool = false) async throws -> AdminKit.Release {
            let tree = directory.file("tree-\(id)")
            try FileManager.default.createDirectory(atPath: tree + "/public", withIntermediateDirectories: true)
            try """
                <?php
                if (parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) === '/health') { http_response_code(\(health)); echo "health\\n"; return; }
                echo "release \(id)\\n";
                """.write(toFile: tree + "/public/index.php", atomically: true, encoding: .utf8)
            let key = "artifacts/prod/\(id).tar.gz"
            try FileManager.default.createDirectory(atPath: bucket + "/b/artifacts/prod", withIntermediateDirectories: true)
            let tar = try await ChildProcess.run("tar", ["-czf", bucket + "/b/" + key, "-C", tree, "."])
            #expect(tar.succeeded, "\(tar.errorOutput)")
            let sha = try FileDigest.sha256Hex(path: bucket + "/b/" + key)
            try "\(sha)  \(id).tar.gz\n".write(toFile: bucket + "/b/" + key + ".sha256",
                                                                                               atomically: true, encoding: .utf8)
            let record = """
                {"id": "\(id)", "environment": "prod", "commit": "1a2b3c4d", "ref": "main", "tree": "t", "subject": "s",
                 "builtAt": 0, "builtBy": "test", "key": "\(key)", "size": 1, "sha256": "\(corrupt ? String(repeating: "0", count: 64) : sha)"}
                """
            return try JSONDecoder().decode(AdminKit.Release.self, from: Data(record.utf8))
        }

        func run(_ text: String) async throws -> ProcessResult {
            try await ChildProcess.run("/bin/bash", ["-c", text], environment: [
                "PATH": directory.file("bin") + ":/usr/bin:/bin", "FAKE_BUCKETS": bucket, "HOME": directory.path,
            ], timeout: .seconds(60))
        }

        func current() -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: app + "/current") }
        func releases() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: app + "/releases")) ?? []).sorted() }
    }

    @Test func stageVerifiesUnpacksAndLinksThenSwitchChecksHealthAndSwitchesAtomically() async throws {
        let machine = try Machine()
        defer { machine.directory.remove() }
        let r1 = try await machine.publish("20261201T000001Z-aaaaaaa")
        _ = try? FileManager.default.createDirectory(atPath: machine.app + "/shared", withIntermediateDirectories: true)
        try "SECRET=1\n".write(toFile: machine.app + "/shared/.env.local", atomically: true, encoding: .utf8)

        let staged = try await machine.run(machine.script.stage(r1))
        #expect(staged.status == 0, "\(staged.errorOutput)")
        #expect(staged.output.contains("adminctl: current=\n") && staged.output.contains("adminctl: staged=downloaded\n"), "\(staged.output)")
        let release = machine.app + "/releases/" + r1.id
        let manager = FileManager.default
        #expect(try manager.destinationOfSymbolicLink(atPath: release + "/var/log") == "../../../shared/var/log")
        #expect(try manager.destinationOfSymbolicLink(atPath: release + "/public/uploads") == "../../../shared/public/uploads")
        #expect(try String(contentsOfFile: release + "/.env.local", encoding: .utf8) == "SECRET=1\n")
        #expect(machine.current() == nil)   // staging serves nothing new

        let again = try await machine.run(machine.script.stage(r1))
        #expect(again.status == 0 && again.output.contains("adminctl: staged=reused\n"), "\(again.output)\(again.errorOutput)")

        let switched = try await machine.run(machine.script.switchTo(r1.id, healthCheck: true))
        #expect(switched.status == 0, "\(switched.errorOutput)")
        #expect(switched.output.contains("adminctl: health=200\n") && switched.output.contains("adminctl: switched=\(r1.id) from=\n"))
        #expect(machine.current() == "releases/\(r1.id)")
        #expect(!manager.fileExists(atPath: machine.app + "/current.adminctl-next"))

        // A release whose checksum does not match is refused, and nothing of it is left to switch to.
        let bad = try await machine.publish("20261201T000002Z-bbbbbbb", corrupt: true)
        let refused = try await machine.run(machine.script.stage(bad))
        #expect(refused.status == DeployScript.Failure.checksum.rawValue, "\(refused.errorOutput)")
        #expect(refused.errorOutput.contains("; the release record says 0000"), "\(refused.errorOutput)")
        let unstaged = try await machine.run(machine.script.switchTo(bad.id, healthCheck: false))
        #expect(unstaged.status == DeployScript.Failure.notStaged.rawValue)
        #expect(machine.current() == "releases/\(r1.id)")

        // With a URL (the presigned GET a deploy sends) curl fetches it, and the checksum holds the same.
        let fetched = try await machine.publish("20261201T000004Z-ddddddd")
        let byURL = try await machine.run(machine.script.stage(fetched, url: "file://\(machine.bucket)/b/\(fetched.key)"))
        #expect(byURL.status == 0 && byURL.output.contains("adminctl: staged=downloaded\n"), "\(byURL.errorOutput)")
        let wrongURL = try await machine.run(machine.script.stage(bad, url: "file://\(machine.bucket)/b/\(bad.key)"))
        #expect(wrongURL.status == DeployScript.Failure.checksum.rawValue)
        let missing = try await machine.run(machine.script.stage(bad, url: "file://\(machine.bucket)/b/nothing"))
        #expect(missing.status == DeployScript.Failure.download.rawValue)

        // A release whose health check fails is not switched to.
        let broken = try await machine.publish("20261201T000003Z-ccccccc", health: 500)
        #expect(try await machine.run(machine.script.stage(broken)).status == 0)
        let unhealthy = try await machine.run(machine.script.switchTo(broken.id, healthCheck: true))
        #expect(unhealthy.status == DeployScript.Failure.health.rawValue)
        #expect(unhealthy.errorOutput.contains("health check: GET /health of releases/\(broken.id) answered 500, not 200; not switched"),
                "\(unhealthy.errorOutput)")
        #expect(machine.current() == "releases/\(r1.id)")
    }

    /// The local health check asks only the PHP server it started: a port another server already
    /// listens on (here one answering 200 to everything) is not taken for the release's answer.
    @Test func theHealthCheckNeverAsksAnotherServerOnItsPort() async throws {
        let machine = try Machine()
        defer { machine.directory.remove() }
        let broken = try await machine.publish("20261201T000003Z-ccccccc", health: 500)
        #expect(try await machine.run(machine.script.stage(broken)).status == 0)
        // The port the check picks is held by a server answering 200 to everything.
        let port = Int.random(in: 20000..<50000)
        try "<?php echo 'someone else';\n".write(toFile: machine.directory.file("bin/index.php"), atomically: true, encoding: .utf8)
        let other = try SpawnedProcess.start("/usr/bin/php", ["-S", "127.0.0.1:\(port)", "-t", machine.directory.file("bin")],
                                             output: .null, error: .null, processGroup: true)
        defer { other.signal(SIGKILL) }
        try await Task.sleep(for: .milliseconds(500))
        let script = machine.script.switchTo(broken.id, healthCheck: true)
        #expect(script.contains("$(( 20000 + RANDOM % 30000 ))"))
        let unhealthy = try await machine.run(script.replacingOccurrences(of: "$(( 20000 + RANDOM % 30000 ))", with: String(port)))
        #expect(unhealthy.status == DeployScript.Failure.health.rawValue, "\(unhealthy.output)\(unhealthy.errorOutput)")
        #expect(machine.current() == nil)
    }

    /// deploy.health_path comes from adminctl.toml or ADMINCTL_DEPLOY_HEALTH_PATH: the script holds
    /// it quoted, so a path with quotes, `$(...)` or backticks is only ever a path.
    @Test func aHealthPathIsNeverShellCode() async throws {
        let machine = try Machine()
        defer { machine.directory.remove() }
        let broken = try await machine.publish("20261201T000003Z-ccccccc", health: 500)
        let marker = machine.directory.file("pwned")
        // No spaces (${IFS} instead), so that curl sends it; the query keeps it the broken /health.
        let path = "/health?q=\";touch${IFS}\(marker);echo${IFS}\"$(touch${IFS}\(marker))`touch${IFS}\(marker)`"
        var script = machine.script
        script.healthPath = path
        #expect(try await machine.run(script.stage(broken)).status == 0)
        let unhealthy = try await machine.run(script.switchTo(broken.id, healthCheck: true))
        #expect(unhealthy.status == DeployScript.Failure.health.rawValue, "\(unhealthy.errorOutput)")
        #expect(unhealthy.errorOutput.contains("health check: GET \(path) of releases/\(broken.id) answered "), "\(unhealthy.errorOutput)")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func switchingKeepsTheNewestReleasesWithTheCurrentAndPreviousOnes() async throws {
        let machine = try Machine()
        defer { machine.directory.remove() }
        var ids: [String] = []
        for number in 1...6 {
            let release = try await machine.publish("20261201T00000\(number)Z-aaaaaaa")
            ids.append(release.id)
            let result = try await machine.run(machine.script.stageAndSwitch(release, healthCheck: false))
            #expect(result.status == 0, "\(result.errorOutput)")
        }
        // keep 3: current (6), previous (5) and the newest other (4).
        #expect(machine.releases() == Array(ids.suffix(3)))
        #expect(machine.current() == "releases/\(ids[5])")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: machine.app + "/previous") == "releases/\(ids[4])")
        // Back to the oldest kept (a rollback): it becomes current, and the one it replaced is previous.
        let back = try await machine.run(machine.script.switchTo(ids[3], healthCheck: false))
        #expect(back.status == 0 && back.output.contains("adminctl: switched=\(ids[3]) from=\(ids[5])"), "\(back.output)")
        #expect(machine.releases() == Array(ids.suffix(3)))
        // A seventh release: 7 is current, 4 previous, 6 the newest other; 5 goes.
        let seventh = try await machine.publish("20261201T000007Z-aaaaaaa")
        #expect(try await machine.run(machine.script.stageAndSwitch(seventh, healthCheck: false)).status == 0)
        #expect(machine.releases() == [ids[3], ids[5], seventh.id])
        // The boot script's placeholder goes first.
        try FileManager.default.createDirectory(atPath: machine.app + "/releases/none/public", withIntermediateDirectories: true)
        #expect(try await machine.run(machine.script.switchTo(seventh.id, healthCheck: false)).status == 0)
        #expect(!machine.releases().contains("none"))
    }

    @Test func migrateRunsTheConsoleOnlyWhenTheReleaseHasMigrations() async throws {
        let machine = try Machine()
        defer { machine.directory.remove() }
        let release = try await machine.publish("20261201T000001Z-aaaaaaa")
        #expect(try await machine.run(machine.script.stage(release)).status == 0)
        let none = try await machine.run(machine.script.migrate(release))
        #expect(none.status == 0 && none.output.contains("adminctl: migrations=none\n"), "\(none.output)\(none.errorOutput)")
        let root = machine.app + "/releases/" + release.id
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/migrations", withIntermediateDirectories: true)
        try "<?php return [];\n".write(toFile: root + "/migrations/Version1.php", atomically: true, encoding: .utf8)
        try "<?php fwrite(STDERR, \"SQLSTATE[42S01]: table exists\\n\"); exit(1);\n".write(toFile: root + "/bin/console", atomically: true, encoding: .utf8)
        let failed = try await machine.run(machine.script.migrate(release))
        #expect(failed.status == DeployScript.Failure.migration.rawValue && failed.errorOutput.contains("SQLSTATE[42S01]"), "\(failed.errorOutput)")
        #expect(failed.output.contains("adminctl: migrations=run\n"))
    }
}
