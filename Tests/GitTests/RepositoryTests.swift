import Foundation
import Git
import Host
import Synchronization
import Testing
import TestSupport

typealias Origin = GitOrigin

@Suite struct RepositoryTests {
    @Test func cloneReportsProgressAndChecksOutTheDefaultBranch() async throws {
        let origin = try await Origin()
        defer { origin.directory.remove() }
        let target = origin.directory.file("work")
        let reports = Mutex<[GitProgress]>([])
        // file:// goes through the transport (a bare path is copied locally, without progress).
        try await Repository.clone(url: "file://" + origin.bare, to: target) { progress in reports.withLock { $0.append(progress) } }
        let repository = try Repository.open(target)
        #expect(try repository.currentBranch() == "main")
        #expect(try repository.remoteURL() == "file://" + origin.bare)
        #expect(try repository.remoteURL("upstream") == nil)
        #expect(try repository.commitID(of: "HEAD") == (try await origin.git(["-C", origin.bare, "rev-parse", "main"])))
        #expect(repository.workingDirectory == target + "/")
        let last = try #require(reports.withLock { $0.last })
        #expect(last.receivedObjects == last.totalObjects && last.totalObjects > 0)
    }

    @Test func cloneOfANamedBranch() async throws {
        let origin = try await Origin()
        defer { origin.directory.remove() }
        let target = origin.directory.file("work")
        try await Repository.clone(url: origin.bare, to: target, branch: "new_features")
        let repository = try Repository.open(target)
        #expect(try repository.currentBranch() == "new_features")
        #expect(FileManager.default.fileExists(atPath: target + "/feature.txt"))
    }

    @Test func failedCloneLeavesNothingBehind() async throws {
        let origin = try await Origin()
        defer { origin.directory.remove() }
        let target = origin.directory.file("work")
        let error = await #expect(throws: GitError.self) {
            try await Repository.clone(url: origin.directory.file("missing.git"), to: target)
        }
        #expect(error?.description.hasPrefix("git_clone(") == true)
        #expect(!FileManager.default.fileExists(atPath: target))
        await #expect(throws: GitError.self) {
            try await Repository.clone(url: origin.bare, to: origin.directory.file("work2"), branch: "no-such-branch")
        }
        #expect(!FileManager.default.fileExists(atPath: origin.directory.file("work2")))
    }

    @Test func fetchThenAheadBehindAndStatus() async throws {
        let origin = try await Origin()
        defer { origin.directory.remove() }
        let target = origin.directory.file("work")
        try await Repository.clone(url: origin.bare, to: target)
        try await origin.commit("upstream.txt", "new upstream work\n", "upstream moved")
        try await origin.git(["-C", origin.seed, "push", "--quiet", "origin", "main"])

        let repository = try Repository.open(target)
        #expect(try repository.aheadBehind("HEAD", "origin/main") == (0, 0))
        try await repository.fetch()
        #expect(try repository.aheadBehind("HEAD", "origin/main") == (0, 1))
        #expect(try repository.aheadBehind("origin/new_features", "origin/main") == (1, 1))

        #expect(try repository.status().isEmpty)
        try "changed\n".write(toFile: target + "/README.md", atomically: true, encoding: .utf8)
        try "new\n".write(toFile: target + "/notes.txt", atomically: true, encoding: .utf8)
        let status = try repository.status().sorted { $0.path < $1.path }
        #expect(status == [GitFileStatus(path: "README.md", isUntracked: false), GitFileStatus(path: "notes.txt", isUntracked: true)])
    }

    @Test func openingANonRepositoryIsClear() {
        let error = #expect(throws: GitError.self) { try Repository.open("/nonexistent/repo") }
        #expect(error?.kind == .notFound)
        #expect(error?.description.contains("git_repository_open(/nonexistent/repo) failed") == true)
    }
}

@Suite("Clone over smart HTTP with basic auth (git http-backend)")
struct HTTPCredentialsTests {
    static let token = "ghp_s3cret-token-value"

    @Test func tokenCredentialsAreOfferedOnceAndRefusalsAreClear() async throws {
        let origin = try await Origin()
        defer { origin.directory.remove() }
        let server = try await origin.serveOverHTTP(user: "ada", token: Self.token)
        defer { server.stop() }
        let url = server.url("/origin.git")

        try await Repository.clone(url: url, to: origin.directory.file("ok"), credentials: .userPassword(username: "ada", password: Self.token))
        #expect(try Repository.open(origin.directory.file("ok")).currentBranch() == "main")

        let refused = await #expect(throws: GitError.self) {
            try await Repository.clone(url: url, to: origin.directory.file("bad"), credentials: .userPassword(username: "ada", password: "wrong"))
        }
        #expect(refused?.message == "the remote refused the credentials")
        #expect(refused?.description.contains("wrong") == false)
        #expect(!FileManager.default.fileExists(atPath: origin.directory.file("bad")))

        let none = await #expect(throws: GitError.self) {
            try await Repository.clone(url: url, to: origin.directory.file("none"))
        }
        #expect(none?.message == "the remote asks for credentials and none were given")

        let repository = try Repository.open(origin.directory.file("ok"))
        try await origin.commit("later.txt", "later\n", "later")
        try await origin.git(["-C", origin.seed, "push", "--quiet", "origin", "main"])
        try await repository.fetch(credentials: .userPassword(username: "ada", password: Self.token))
        #expect(try repository.aheadBehind("HEAD", "origin/main") == (0, 1))
    }
}
