import Foundation
import Git
import Synchronization
import Testing
import TestSupport

/// `Repository.push` against real remotes: a bare repository on disk and `git http-backend`
/// behind basic auth.
@Suite struct PushTests {
    static let token = "ghp_push-s3cret-token"

    /// A clone of a fresh origin on a new branch `topic` (from new_features) with one commit.
    func topicClone(url: String? = nil, origin existing: GitOrigin? = nil,
                    credentials: GitCredentials = .none) async throws -> (GitOrigin, Repository, String) {
        let origin = if let existing { existing } else { try await GitOrigin() }
        let path = origin.directory.file("work-\(UUID().uuidString.prefix(6))")
        try await Repository.clone(url: url ?? origin.bare, to: path, branch: "new_features", credentials: credentials)
        let repository = try Repository.open(path)
        try repository.createBranch("topic", at: "HEAD")
        try repository.checkout(branch: "topic")
        try await origin.commit("topic.txt", "topic\n", "add the topic", in: path)
        return (origin, repository, path)
    }

    @Test func pushOverSmartHTTPWithATokenNeverStoresIt() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let server = try await origin.serveOverHTTP(user: "x-access-token", token: Self.token)
        defer { server.stop() }
        let url = server.url("/origin.git")
        let credentials = GitCredentials.userPassword(username: "x-access-token", password: Self.token)
        let (_, repository, path) = try await topicClone(url: url, origin: origin, credentials: credentials)
        let reports = Mutex<[GitPushProgress]>([])

        let result = try await repository.push(branch: "topic", credentials: credentials) { progress in reports.withLock { $0.append(progress) } }
        let tip = try repository.commitID(of: "topic")
        #expect(result.updated && result.previousTip == nil && result.tip == tip)
        #expect(try await origin.git(["-C", origin.bare, "rev-parse", "topic"]) == tip)
        #expect(try repository.commitID(of: "refs/remotes/origin/topic") == tip)
        let last = try #require(reports.withLock { $0.last })
        #expect(last.totalObjects == 3 && last.sentObjects == 3 && last.sentBytes > 0)
        #expect(result.objects == 3)

        // The token lives in memory only: not in the configuration, not in the remote's URL.
        let config = try String(contentsOfFile: path + "/.git/config", encoding: .utf8)
        #expect(!config.contains(Self.token) && config.contains("url = \(url)\n"))
        #expect(try repository.remoteURL() == url)

        // Nothing new: nothing sent.
        let again = try await repository.push(branch: "topic", credentials: credentials)
        #expect(!again.updated && again.tip == tip)

        let refused = await #expect(throws: GitError.self) {
            try await repository.push(branch: "topic", credentials: .userPassword(username: "x-access-token", password: "ghp_wrong"))
        }
        #expect(refused?.kind == .authentication(.refused))
        #expect(refused?.description.contains("ghp_wrong") == false)
        let missing = await #expect(throws: GitError.self) { try await repository.push(branch: "topic") }
        #expect(missing?.kind == .authentication(.missing))
    }

    @Test func aNonFastForwardIsRefusedAndTheLeaseGuardsAForce() async throws {
        let (origin, repository, path) = try await topicClone()
        defer { origin.directory.remove() }
        _ = try await repository.push(branch: "topic")
        let first = try repository.commitID(of: "topic")

        // The branch is rewritten locally (amended): a plain push would discard origin's commit.
        try await origin.git(["-C", path, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "--quiet",
                              "--amend", "-m", "add the topic, reworded"])
        let rewritten = try repository.commitID(of: "topic")
        let plain = await #expect(throws: GitError.self) { try await repository.push(branch: "topic") }
        #expect(plain?.kind == .notFastForward)
        #expect(try await origin.git(["-C", origin.bare, "rev-parse", "topic"]) == first)

        // With the lease: origin is still where we last fetched it, so the force goes through.
        let forced = try await repository.push(branch: "topic", lease: .forceIfAt(expected: try repository.commitID(of: "origin/topic")))
        #expect(forced.updated && forced.previousTip == first && forced.tip == rewritten)
        #expect(try await origin.git(["-C", origin.bare, "rev-parse", "topic"]) == rewritten)

        // Someone else pushes to topic; our lease (what we last fetched) no longer holds.
        let other = origin.directory.file("other")
        try await origin.git(["clone", "--quiet", "--branch", "topic", origin.bare, other])
        try await origin.commit("theirs.txt", "theirs\n", "their work", in: other)
        try await origin.git(["-C", other, "push", "--quiet", "origin", "topic"])
        let theirs = try await origin.git(["-C", other, "rev-parse", "HEAD"])
        try await origin.git(["-C", path, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "--quiet",
                              "--amend", "-m", "reworded again"])
        let stale = await #expect(throws: GitError.self) {
            try await repository.push(branch: "topic", lease: .forceIfAt(expected: try repository.commitID(of: "origin/topic")))
        }
        #expect(stale?.kind == .staleLease)
        #expect(stale?.message == "the remote branch is now at \(theirs.prefix(7)), not the \(rewritten.prefix(7)) we last fetched")
        #expect(try await origin.git(["-C", origin.bare, "rev-parse", "topic"]) == theirs)
    }

    @Test func aRemoteHookRefusalCarriesItsReason() async throws {
        // Hooks run in receive-pack, so over smart HTTP (libgit2's local transport writes refs itself).
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let server = try await origin.serveOverHTTP(user: "x-access-token", token: Self.token)
        defer { server.stop() }
        let credentials = GitCredentials.userPassword(username: "x-access-token", password: Self.token)
        let (_, repository, _) = try await topicClone(url: server.url("/origin.git"), origin: origin, credentials: credentials)
        let hook = origin.bare + "/hooks/pre-receive"
        try "#!/bin/sh\necho 'protected: pushes need review' >&2\nexit 1\n".write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        let error = await #expect(throws: GitError.self) { try await repository.push(branch: "topic", credentials: credentials) }
        #expect(error?.kind == .rejected)
        #expect(error?.message == "the remote refused refs/heads/topic: pre-receive hook declined (it said: protected: pushes need review)")
        #expect(try await origin.git(["-C", origin.bare, "branch", "--list", "topic"]) == "")
    }
}
