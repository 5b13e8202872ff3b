import Foundation
import Git
import Testing
import TestSupport

@Suite struct BranchTests {
    /// A clone of a fresh origin, on `main`.
    func cloned() async throws -> (GitOrigin, Repository, String) {
        let origin = try await GitOrigin()
        let path = origin.directory.file("work")
        try await Repository.clone(url: origin.bare, to: path)
        return (origin, try Repository.open(path), path)
    }

    @Test func createAndSwitchCarriesUncommittedChanges() async throws {
        let (origin, repository, path) = try await cloned()
        defer { origin.directory.remove() }
        try "edited\n".write(toFile: path + "/README.md", atomically: true, encoding: .utf8)
        try "new\n".write(toFile: path + "/untracked.txt", atomically: true, encoding: .utf8)

        try repository.createBranch("topic", at: "origin/new_features")
        try repository.checkout(branch: "topic")
        #expect(try repository.currentBranch() == "topic")
        #expect(try String(contentsOfFile: path + "/feature.txt", encoding: .utf8) == "feature\n")
        #expect(try String(contentsOfFile: path + "/README.md", encoding: .utf8) == "edited\n")
        #expect(Set(try repository.status().map(\.path)) == ["README.md", "untracked.txt"])
        #expect(try repository.upstream(of: "topic") == nil)
    }

    @Test func aConflictingCheckoutTouchesNothing() async throws {
        let (origin, repository, path) = try await cloned()
        defer { origin.directory.remove() }
        // new_features has feature.txt; an untracked feature.txt here would be overwritten.
        try "mine\n".write(toFile: path + "/feature.txt", atomically: true, encoding: .utf8)
        try repository.createBranch("topic", at: "origin/new_features")
        let error = #expect(throws: GitError.self) { try repository.checkout(branch: "topic") }
        #expect(error?.kind == .conflict)
        #expect(error?.paths == ["feature.txt"])
        #expect(try repository.currentBranch() == "main")
        #expect(try String(contentsOfFile: path + "/feature.txt", encoding: .utf8) == "mine\n")
        try repository.deleteBranch("topic")
        #expect(try repository.hasBranch("topic") == false)
    }

    @Test func fastForwardMovesOnlyWhenItCan() async throws {
        let (origin, repository, path) = try await cloned()
        defer { origin.directory.remove() }
        try await origin.commit("later.txt", "later\n", "later")
        try await origin.git(["-C", origin.seed, "push", "--quiet", "origin", "main"])
        try await repository.fetch()
        try "local edit\n".write(toFile: path + "/README.md", atomically: true, encoding: .utf8)

        #expect(try repository.fastForward(to: "origin/main") == 1)
        #expect(try repository.aheadBehind("HEAD", "origin/main") == (0, 0))
        #expect(FileManager.default.fileExists(atPath: path + "/later.txt"))
        #expect(try String(contentsOfFile: path + "/README.md", encoding: .utf8) == "local edit\n")
        #expect(try repository.fastForward(to: "origin/main") == 0)

        // A commit of our own: no fast-forward, nothing moves.
        try await origin.git(["-C", path, "-c", "user.name=D", "-c", "user.email=d@example.com", "commit", "-qam", "mine"])
        try await origin.commit("more.txt", "more\n", "more")
        try await origin.git(["-C", origin.seed, "push", "--quiet", "origin", "main"])
        try await repository.fetch()
        let head = try repository.commitID(of: "HEAD")
        let error = #expect(throws: GitError.self) { try repository.fastForward(to: "origin/main") }
        #expect(error?.kind == .notFastForward)
        #expect(try repository.commitID(of: "HEAD") == head)
    }

    @Test func countsCommitsLikeRevList() async throws {
        let (origin, repository, _) = try await cloned()
        defer { origin.directory.remove() }
        #expect(try repository.countCommits(reachableFrom: ["origin/new_features"], excluding: ["origin/main"]) == 1)
        #expect(try repository.countCommits(reachableFrom: ["origin/main"], excluding: ["origin/new_features"]) == 0)
        #expect(try repository.countCommits(reachableFrom: ["HEAD"], excluding: []) == 1)
        #expect(try repository.countCommits(reachableFrom: ["HEAD"], excluding: ["origin/missing"]) == 1)
    }

    @Test func upstreamIsReadAndSet() async throws {
        let (origin, repository, _) = try await cloned()
        defer { origin.directory.remove() }
        #expect(try repository.upstream(of: "main") == "origin/main")
        try repository.createBranch("new_features", at: "origin/new_features")
        try repository.setUpstream(of: "new_features", to: "origin/new_features")
        #expect(try repository.upstream(of: "new_features") == "origin/new_features")
        #expect(throws: GitError.self) { try repository.createBranch("new_features", at: "HEAD") }
    }
}
