import Foundation
import Host
import Testing
import TestSupport

/// `adminctl release build` and `adminctl releases` as an admin runs them, on the shared
/// simulated cloud: a project from `adminctl init`, the fixture app as its repository, and the
/// artifacts bucket init named.
@Suite struct AdminctlReleaseTests {
    struct Project {
        let fleet: Fleet
        let origin: GitOrigin
        let directory: TemporaryDirectory
        let name = "r" + String((0..<8).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        var file: String { directory.file("project/adminctl.toml") }

        /// `fleet`: a simulator of the test's own (for faults), else the shared one.
        static func start(build: String = "", lease: Int? = nil, fleet: Fleet? = nil) async throws -> Project {
            let cloud = if let fleet { fleet } else { try await Fleet.shared() }
            let project = Project(fleet: cloud, origin: try await GitOrigin.nuvolaApp(), directory: try TemporaryDirectory())
            for folder in ["project", "home"] {
                try FileManager.default.createDirectory(atPath: project.directory.file(folder), withIntermediateDirectories: true)
            }
            let written = try await project.run(["init", "--yes", "--name", project.name, "--region", "eu-west-3", "--repo", project.origin.bare])
            #expect(written.status == 0, "\(written.errorOutput)")
            try project.set(build: build)
            if let lease {
                var text = try String(contentsOfFile: project.file, encoding: .utf8)
                text = text.replacingOccurrences(of: "lock_lease_seconds = 120", with: "lock_lease_seconds = \(lease)")
                try text.write(toFile: project.file, atomically: true, encoding: .utf8)
            }
            try await project.createBucket()
            return project
        }

        /// release.build in adminctl.toml (init wrote the default: `build = "composer install ..."`).
        func set(build: String) throws {
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.filter { $0.hasPrefix("build = ") }.count == 1)
            let escaped = build.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            try lines.map { $0.hasPrefix("build = ") ? "build = \"\(escaped)\"" : String($0) }.joined(separator: "\n")
                .write(toFile: file, atomically: true, encoding: .utf8)
        }

        var bucket: String {
            get throws {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("artifacts = ") })
                return String(line.dropFirst("artifacts = \"".count).dropLast())
            }
        }

        /// The bucket `adminctl infra up` would make (its stack is not needed here).
        func createBucket() async throws {
            let python = TestEngine.repositoryRoot + "/.venv/bin/python"
            let result = try await ChildProcess.run(python, ["-c", "import boto3, sys; boto3.client('s3').create_bucket(Bucket=sys.argv[1], "
                + "CreateBucketConfiguration={'LocationConstraint': 'eu-west-3'})", try bucket], environment: awsEnvironment)
            #expect(result.succeeded, "\(result.errorOutput)")
        }

        var awsEnvironment: [String: String] {
            var environment: [String: String] = [:]
            for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] { environment[key] = fleet.environment[key] }
            return environment
        }

        var environment: [String: String] {
            awsEnvironment.merging(["HOME": directory.file("home"), "PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TERM": "dumb",
                                    "AWS_EC2_METADATA_DISABLED": "true"]) { $1 }
        }

        func run(_ arguments: [String], umask: String? = nil) async throws -> ProcessResult {
            if let umask {
                let path = BuildProducts.executable("adminctl").path
                return try await ChildProcess.run("/bin/sh", ["-c", "umask \(umask) && exec \"$0\" \"$@\"", path] + arguments,
                                                  environment: environment, directory: directory.file("project"), timeout: .seconds(300))
            }
            return try await CLI.run("adminctl", arguments, environment: environment, directory: directory.file("project"))
        }

        func json(_ arguments: [String]) async throws -> [String: Any] {
            let result = try await run(arguments + ["--json"])
            #expect(result.status == 0, "\(result.errorOutput)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any])
        }

        /// A `release build` left running (its build step sleeps), with its output collected.
        func start(_ arguments: [String]) throws -> SpawnedProcess {
            try SpawnedProcess.start(BuildProducts.executable("adminctl").path, arguments, environment: environment,
                                     directory: directory.file("project"), output: .null, error: .null)
        }

        /// Waits until `releases dev --json` says the lock is in force (or not).
        func waitForLock(_ environment: String = "dev", locked: Bool, timeout: Duration = .seconds(30)) async throws {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if try await json(["releases", environment])["locked"] as? Bool == locked { return }
                try await Task.sleep(for: .milliseconds(200))
            }
            Issue.record("the \(environment) lock did not become \(locked ? "locked" : "free") within \(timeout)")
        }

        func stop() { origin.directory.remove(); directory.remove() }
    }

    @Test func buildPublishesAReleaseThatReleasesListsAndASecondBuildReuses() async throws {
        let project = try await Project.start()
        defer { project.stop() }
        let built = try await project.json(["release", "build", "dev"])
        let release = try #require(built["release"] as? [String: Any])
        let id = try #require(release["id"] as? String)
        let commit = try await project.origin.git(["-C", project.origin.bare, "rev-parse", "new_features"])
        #expect(built["built"] as? Bool == true && release["commit"] as? String == commit && release["ref"] as? String == "new_features")
        let bucket = try project.bucket
        #expect(release["key"] as? String == "artifacts/dev/\(id).tar.gz" && built["bucket"] as? String == bucket)
        #expect((release["sha256"] as? String)?.count == 64 && (release["size"] as? Int ?? 0) > 1000)
        #expect(Set((built["phases"] as? [String: Double] ?? [:]).keys) == ["fetch", "export", "archive", "upload"])

        let listed = try await project.json(["releases", "dev"])
        let items = try #require(listed["releases"] as? [[String: Any]])
        #expect(items.count == 1 && items[0]["id"] as? String == id && items[0]["current"] as? Bool == false)
        #expect(items[0]["artifactMissing"] as? Bool == false && items[0]["sha256"] as? String == release["sha256"] as? String)
        #expect(listed["locked"] as? Bool == false && listed["current"] == nil)
        let text = try await project.run(["releases", "dev"])
        #expect(text.status == 0 && text.output.contains(" \(id)  \(commit.prefix(7))  new_features  "), "\(text.output)")
        #expect(text.output.hasSuffix("Current: none deployed yet.\n"))

        let again = try await project.run(["release", "build", "dev"])
        #expect(again.status == 0, "\(again.errorOutput)")
        #expect(again.output.hasPrefix("Release \(id) of dev is already built from this commit; reused, nothing rebuilt.\n"), "\(again.output)")
        #expect(!again.errorOutput.contains("Exporting"))

        // prod, from the same commit, by a process with another umask: the same bytes.
        let prod = try await project.run(["release", "build", "prod", "--ref", "new_features", "--json"], umask: "077")
        #expect(prod.status == 0, "\(prod.errorOutput)")
        let prodRelease = try #require((try JSONSerialization.jsonObject(with: Data(prod.standardOutput)) as? [String: Any])?["release"]
            as? [String: Any])
        #expect(prodRelease["sha256"] as? String == release["sha256"] as? String && prodRelease["id"] as? String != id)
        #expect(try await project.json(["releases", "prod"])["releases"].map { ($0 as? [Any])?.count } == 1)
        #expect(try await project.json(["releases", "dev"])["releases"].map { ($0 as? [Any])?.count } == 1)
    }

    @Test func aFailingBuildShowsItsOutputExitsOneAndLeavesTheLockFree() async throws {
        let project = try await Project.start(build: "echo compiling assets; echo 'PHP Fatal error: boom' >&2; exit 7")
        defer { project.stop() }
        let result = try await project.run(["release", "build", "prod"])
        #expect(result.status == 1)
        #expect(result.errorOutput.contains("error: The build step `echo compiling assets; echo 'PHP Fatal error: boom' >&2; exit 7` "
            + "failed (exit 7) in the exported tree; nothing was uploaded.\n--- last lines of its output ---\ncompiling assets\n"
            + "PHP Fatal error: boom\n"), "\(result.errorOutput)")
        let listed = try await project.json(["releases", "prod"])
        #expect(listed["locked"] as? Bool == false && (listed["releases"] as? [Any])?.isEmpty == true)
        #expect(((listed["lock"] as? [String: Any])?["releasedAt"]) is String)

        let unknown = try await project.run(["release", "build", "prod", "--ref", "v9.9"])
        #expect(unknown.status == 1 && unknown.errorOutput.contains("error: v9.9 is not a branch, tag or commit of \(project.origin.bare)"))
    }

    /// The release record is created without Overwrite: when AWS made it and the answer was lost,
    /// the retry is refused ParameterAlreadyExists. A record that says exactly this release is ours:
    /// the build succeeds (it failed saying "Nothing was recorded" of a release that was).
    @Test func aReleaseRecordWhoseAnswerWasLostIsRecognisedAsOurs() async throws {
        let fleet = try await Fleet.start()
        defer { Task { try? await fleet.stop() } }
        let project = try await Project.start(fleet: fleet)
        defer { project.stop() }
        // The lock's generation goes through; the record's PutParameter is carried out, its answer lost.
        try await fleet.inject(kind: "drop-after", service: "ssm", operation: "PutParameter", count: 1, skip: 1)
        let built = try await project.run(["release", "build", "prod", "--json"])
        #expect(built.status == 0, "\(built.errorOutput)")
        #expect(try await fleet.faults().first?["hits"] as? Int == 1)
        let listed = try await project.json(["releases", "prod"])
        #expect((listed["releases"] as? [Any])?.count == 1 && listed["locked"] as? Bool == false, "\(listed)")
    }

    @Test func aConcurrentBuildIsRefusedAndAKilledBuildsLockIsTakenOverAfterItsLease() async throws {
        // Room for a loaded 2-core box: the build outlasts the checks before the kill (10 s did
        // not), and the lease outlasts the first run after it.
        let project = try await Project.start(build: "sleep 120", lease: 20)
        defer { project.stop() }
        let first = try project.start(["release", "build", "dev"])
        try await project.waitForLock(locked: true)

        let refused = try await project.run(["release", "build", "dev"])
        #expect(refused.status == 3, "\(refused.errorOutput)")
        #expect(refused.errorOutput.contains("error: dev is locked by "), "\(refused.errorOutput)")
        #expect(refused.errorOutput.contains("(release build of new_features, since "))
        // prod has a lock of its own, free.
        #expect(try await project.json(["releases", "prod"])["locked"] as? Bool == false)
        let holder = try #require((try await project.json(["releases", "dev"])["lock"] as? [String: Any])?["holder"] as? String)
        #expect(holder.hasSuffix("(pid \(first.pid))"))

        first.signal(SIGKILL)
        #expect(try await first.wait() == 128 + SIGKILL)
        // Killed, it renews no more, but until the lease runs out the lock holds.
        let early = try await project.run(["release", "build", "dev"])
        #expect(early.status == 3, "\(early.errorOutput)")
        try await project.waitForLock(locked: false, timeout: .seconds(45))
        try project.set(build: "")
        let next = try await project.run(["release", "build", "dev"])
        #expect(next.status == 0, "\(next.errorOutput)")
        #expect(next.errorOutput.contains("Taking over the dev deploy lock: "), "\(next.errorOutput)")
        #expect(next.errorOutput.contains("(release build) expired at "))
        #expect(try await project.json(["releases", "dev"])["locked"] as? Bool == false)
    }

    @Test func ctrlCStopsTheBuildAndReleasesTheLock() async throws {
        let project = try await Project.start(build: "sleep 30")
        defer { project.stop() }
        let build = try project.start(["release", "build", "prod"])
        try await project.waitForLock("prod", locked: true)
        let started = ContinuousClock.now
        build.signal(SIGINT)
        #expect(try await build.wait() == 130)
        #expect(ContinuousClock.now - started < .seconds(10))
        let listed = try await project.json(["releases", "prod"])
        #expect(listed["locked"] as? Bool == false && (listed["releases"] as? [Any])?.isEmpty == true)
    }

    @Test func forceUnlockAsksThenFreesALiveLockAndItsHolderStops() async throws {
        let project = try await Project.start(build: "sleep 30", lease: 6)
        defer { project.stop() }
        let holder = try SpawnedProcess.start(BuildProducts.executable("adminctl").path, ["release", "build", "dev"],
                                              environment: project.environment, directory: project.directory.file("project"),
                                              output: .null, error: .pipe)
        async let holderErrors = SpawnedProcess.readAll(holder.error)
        try await project.waitForLock(locked: true)
        let withoutYes = try await project.run(["release", "build", "dev", "--force-unlock"])
        #expect(withoutYes.status == 2)
        #expect(withoutYes.errorOutput == "Error: --force-unlock asks before it removes another deploy's lock, and there is no terminal "
            + "to ask on: add --yes.\n")
        try project.set(build: "")
        let forced = try await project.run(["release", "build", "dev", "--force-unlock", "--yes"])
        #expect(forced.status == 0, "\(forced.errorOutput)")
        #expect(forced.errorOutput.contains("Removed the dev deploy lock held by "), "\(forced.errorOutput)")
        // The old holder learns at its next renewal, and stops.
        #expect(try await holder.wait() == 1)
        let errors = String(decoding: await holderErrors, as: UTF8.self)
        #expect(errors.contains("error: The dev deploy lock was taken from this process by "), "\(errors)")
    }

    @Test func releaseBuildHelp() async throws {
        let result = try await CLI.run("adminctl", ["release", "build", "--help"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("OVERVIEW: Build a release of dev or prod from a ref and publish it to S3 and\nParameter Store.\n"))
        #expect(result.output.contains("USAGE: adminctl release build <environment> [--ref <ref>] [--force-unlock] [--yes] [--json]"))
        #expect(result.output.contains("Exit status: 0 when the release is published (or already was), 1 when it"))
    }
}
