import AdminKit
import AWS
import Foundation
import Host
import Nuvola
import Testing
import TestSupport

/// Building releases from real repositories (libgit2 on a bare clone) into the simulated cloud's
/// S3 and Parameter Store.
@Suite struct ReleaseBuilderTests {
    struct Setup {
        let fleet: Fleet
        let origin: GitOrigin
        let scratch: TemporaryDirectory
        let bucket = "rb-" + UUID().uuidString.prefix(8).lowercased()
        let names = ParameterNames(project: "r" + UUID().uuidString.prefix(8).lowercased())
        var s3: S3 { S3(fleet.client()) }
        var ssm: SSM { SSM(fleet.client()) }

        static func make(origin: GitOrigin? = nil, fleet: Fleet? = nil) async throws -> Setup {
            let fleet = if let fleet { fleet } else { try await Fleet.shared() }
            let repository: GitOrigin = if let origin { origin } else { try await GitOrigin.nuvolaApp() }
            let setup = Setup(fleet: fleet, origin: repository, scratch: try TemporaryDirectory())
            try await setup.s3.createBucket(setup.bucket)
            return setup
        }

        func catalog(_ environment: AppEnvironment) -> ReleaseCatalog {
            ReleaseCatalog(ssm: ssm, s3: s3, bucket: bucket, names: names, environment: environment)
        }

        func builder(_ environment: AppEnvironment, build: String? = "") -> ReleaseBuilder {
            let env = ["HOME": scratch.file("home"), "PATH": "/usr/bin:/bin"]
            return ReleaseBuilder(repository: AdminRepository(url: origin.bare, project: names.project, environment: env),
                                  catalog: catalog(environment), buildStep: BuildStep(command: build), environment: env,
                                  workDirectory: scratch.file("builds"))
        }

        func download(_ release: Release) async throws -> String {
            let path = scratch.file(release.id + "-" + UUID().uuidString.prefix(4) + ".tar.gz")
            try await s3.download(bucket: bucket, key: release.key, to: path)
            return path
        }

        func remove() { origin.directory.remove(); scratch.remove() }
    }

    func run(_ command: String) async throws -> String {
        let result = try await ChildProcess.run("/bin/sh", ["-c", command], environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"])
        #expect(result.succeeded, "\(command): \(result.errorOutput)")
        return result.output
    }

    @Test func aReleaseIsTheCommitsTreeAsGitArchiveHasItPublishedWithItsChecksum() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        // A symlink and an executable, besides the app's files.
        try FileManager.default.createSymbolicLink(atPath: setup.origin.seed + "/public/latest", withDestinationPath: "index.php")
        try await setup.origin.git(["-C", setup.origin.seed, "add", "public/latest"])
        try await setup.origin.git(["-C", setup.origin.seed, "-c", "user.name=Seed", "-c", "user.email=s@example.com", "commit", "-qm", "link"])
        try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "new_features"])

        let report = try await setup.builder(.dev).build(ref: "new_features", builtBy: "tests")
        let release = report.release
        let commit = try await setup.origin.git(["-C", setup.origin.bare, "rev-parse", "new_features"])
        #expect(report.built && release.commit == commit && release.ref == "new_features" && release.build == nil)
        #expect(release.id.hasSuffix("-" + commit.prefix(7)) && Release.isValidID(release.id) && release.id.count == 24)
        #expect(release.key == "artifacts/dev/\(release.id).tar.gz")
        #expect(release.tree == (try await setup.origin.git(["-C", setup.origin.bare, "rev-parse", "new_features^{tree}"])))

        // S3 holds the bytes whose SHA-256 is recorded, and the .sha256 in sha256sum format.
        let tarball = try await setup.download(release)
        #expect(try FileDigest.sha256Hex(path: tarball) == release.sha256)
        let line = String(decoding: try await setup.s3.getObject(bucket: setup.bucket, key: release.key + ".sha256"), as: UTF8.self)
        #expect(line == "\(release.sha256)  \(release.id).tar.gz\n")
        #expect(try await setup.s3.headObject(bucket: setup.bucket, key: release.key)?.metadata["sha256"] == release.sha256)
        #expect(try await setup.catalog(.dev).releases() == [release])

        // The same names, types and contents as `git archive` of that commit.
        let ours = try await run("tar -tzf '\(tarball)' | sort")
        let theirs = try await run("git -C '\(setup.origin.bare)' archive --format=tar \(commit) | tar -tf - | sort")
        #expect(ours == theirs && ours.contains("public/latest\n") && ours.contains("bin/\n"), "\(ours)\n---\n\(theirs)")
        let dirs = setup.scratch.file("compare")
        _ = try await run("mkdir -p '\(dirs)/ours' '\(dirs)/git' && tar -xzf '\(tarball)' -C '\(dirs)/ours' "
            + "&& git -C '\(setup.origin.bare)' archive --format=tar \(commit) | tar -xf - -C '\(dirs)/git' && diff -r '\(dirs)/ours' '\(dirs)/git'")
        #expect(try await run("tar -tvzf '\(tarball)' | grep 'bin/console'").hasPrefix("-rwxr-xr-x root/root"))
        #expect(try await run("tar -tvzf '\(tarball)' | grep 'public/latest'").contains("public/latest -> index.php"))
    }

    @Test func theSameCommitIsNotRebuiltAndAnotherEnvironmentGetsTheSameBytes() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let first = try await setup.builder(.dev).build(ref: "new_features", builtBy: "tests")
        let again = try await setup.builder(.dev).build(ref: "new_features", builtBy: "tests")
        #expect(first.built && !again.built && again.release == first.release)
        #expect(again.phases["export"] == nil && again.phases["upload"] == nil)
        // Another build, another second, another environment: the same tree gives the same bytes.
        try await Task.sleep(for: .milliseconds(1100))
        let prod = try await setup.builder(.prod).build(ref: "new_features", builtBy: "tests")
        #expect(prod.built && prod.release.id != first.release.id && prod.release.key.hasPrefix("artifacts/prod/"))
        #expect(prod.release.sha256 == first.release.sha256 && prod.release.size == first.release.size)
        // Another build step is another release.
        let built = try await setup.builder(.dev, build: "echo built > public/build.txt").build(ref: "new_features", builtBy: "tests")
        #expect(built.built && built.release.build == "echo built > public/build.txt" && built.release.sha256 != first.release.sha256)
        #expect(try await run("tar -xzOf '\(try await setup.download(built.release))' public/build.txt") == "built\n")
    }

    @Test func newCommitsAreFetchedAndARefIsABranchTagOrCommit() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let first = try await setup.builder(.dev).build(ref: "new_features", builtBy: "tests")
        try await setup.origin.git(["-C", setup.origin.seed, "tag", "v1.0"])
        try await setup.origin.commit("CHANGELOG.md", "- more\n", "more work")
        try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "new_features", "v1.0"])
        let second = try await setup.builder(.dev).build(ref: "new_features", builtBy: "tests")
        #expect(second.built && second.release.commit != first.release.commit && second.release.subject == "more work")
        let tagged = try await setup.builder(.dev).build(ref: "v1.0", builtBy: "tests")
        #expect(!tagged.built && tagged.release.commit == first.release.commit)
        let bySha = try await setup.builder(.dev).build(ref: String(second.release.commit.prefix(10)), builtBy: "tests")
        #expect(!bySha.built && bySha.release.id == second.release.id)
        let error = await #expect(throws: DeployError.self) { _ = try await setup.builder(.dev).build(ref: "no-such-branch", builtBy: "tests") }
        #expect(error?.kind == .unknownRef)
        #expect(error?.message.hasPrefix("no-such-branch is not a branch, tag or commit of \(setup.origin.bare) (after fetching it).") == true)
    }

    @Test func releasesBuiltInTheSameSecondStillSortInBuildOrder() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        // One second for every build: the ids (UTC second + short sha) would sort by sha.
        let frozen = Date(timeIntervalSince1970: 1_796_000_000)
        var builder = setup.builder(.prod)
        builder.clock = { frozen }
        var built: [String] = []
        for round in 1...3 {
            try await setup.origin.commit("CHANGELOG.md", String(repeating: "- more\n", count: round), "round \(round)")
            try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "new_features"])
            built.append(try await builder.build(ref: "new_features", builtBy: "tests").release.id)
        }
        #expect(Set(built).count == 3 && built == built.sorted(), "\(built)")
        #expect(try await setup.catalog(.prod).releases().map(\.id) == built)
    }

    @Test func aFailingBuildShowsItsOutputsTailAndPublishesNothing() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let step = "for i in $(seq 1 50); do echo line $i; done; echo oops >&2; exit 3"
        let error = await #expect(throws: DeployError.self) {
            _ = try await setup.builder(.prod, build: step).build(ref: "main", builtBy: "tests")
        }
        #expect(error?.kind == .buildFailed)
        let message = error?.message ?? ""
        #expect(message.hasPrefix("The build step `\(step)` failed (exit 3) in the exported tree; nothing was uploaded.\n"))
        #expect(message.hasSuffix("line 50\noops") && message.contains("\nline 22\n") && !message.contains("line 21\n"), "\(message)")
        #expect(try await setup.catalog(.prod).releases().isEmpty)
        #expect(try await setup.catalog(.prod).artifacts().isEmpty)
        // Nothing is left in the work directory either.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: setup.scratch.file("builds")))?.isEmpty ?? true)
    }

    @Test func theDefaultComposerStepRunsOnlyWhereThereIsAComposerJSON() async throws {
        let setup = try await Setup.make(origin: try await GitOrigin())
        defer { setup.remove() }
        let report = try await setup.builder(.dev, build: nil).build(ref: "new_features", builtBy: "tests")
        #expect(report.built && report.release.build == nil)
        #expect(BuildStep(command: nil).effective(hasComposerJSON: true) == "composer install --no-dev --optimize-autoloader")
        #expect(BuildStep(command: "  ").effective(hasComposerJSON: true) == nil)
        #expect(BuildStep(command: "make assets").effective(hasComposerJSON: false) == "make assets")
    }

    @Test func theBuildStepSeesNoCloudCredentialsOrGitTokens() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        var builder = setup.builder(.dev, build: "env | sort > public/env.txt")
        builder.environment["AWS_SECRET_ACCESS_KEY"] = "hunter2-secret"
        builder.environment["GH_TOKEN"] = "ghp_secret"
        builder.environment["APP_ENV"] = "prod"
        let report = try await builder.build(ref: "main", builtBy: "tests")
        let env = try await run("tar -xzOf '\(try await setup.download(report.release))' public/env.txt")
        #expect(env.contains("APP_ENV=prod\n") && !env.contains("secret") && !env.contains("AWS_"))
    }

    @Test func devAndProdBuildAtOnceFromOneClone() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        async let dev = setup.builder(.dev).build(ref: "new_features", builtBy: "tests")
        async let prod = setup.builder(.prod).build(ref: "main", builtBy: "tests")
        let (devReport, prodReport) = try await (dev, prod)
        #expect(devReport.built && prodReport.built && devReport.release.commit != prodReport.release.commit)
    }

    @Test func aFailedUploadRecordsNothingAndTheNextBuildStartsAfresh() async throws {
        let fleet = try await Fleet.start()
        defer { Task { try? await fleet.stop() } }
        let setup = try await Setup.make(fleet: fleet)
        defer { setup.remove() }
        // More 500s than the client's three attempts.
        try await fleet.inject(kind: "error500", service: "s3", operation: "PutObject", count: 3)
        let error = await #expect(throws: DeployError.self) { _ = try await setup.builder(.prod).build(ref: "main", builtBy: "tests") }
        #expect(error?.kind == .publish)
        #expect(error?.message.contains("Nothing was recorded, so `adminctl release build prod` builds and uploads it again.") == true)
        #expect(try await setup.catalog(.prod).releases().isEmpty)
        try await fleet.clearFaults()
        let report = try await setup.builder(.prod).build(ref: "main", builtBy: "tests")
        let recorded = try await setup.catalog(.prod).releases()
        #expect(report.built && recorded == [report.release])
    }

    @Test func exportsAbandonedByKilledBuildsAreRemovedAfterSixHours() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let builds = setup.scratch.file("builds")
        for name in ["killed-yesterday", "running-now"] {
            try FileManager.default.createDirectory(atPath: builds + "/" + name + "/tree", withIntermediateDirectories: true)
        }
        let old = Date().addingTimeInterval(-7 * 3600)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: builds + "/killed-yesterday")
        _ = try await setup.builder(.dev).build(ref: "main", builtBy: "tests")
        #expect(try FileManager.default.contentsOfDirectory(atPath: builds) == ["running-now"])
    }
}
