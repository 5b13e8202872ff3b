import Foundation
import Git
import Host
import Testing
import TestSupport

/// Each failure a caller must tell apart has its own kind, read from libgit2's codes and error
/// classes against real repositories, never from the text of the message.
@Suite struct GitErrorKindTests {
    @Test func missingThingsAreNotFound() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let branch = await #expect(throws: GitError.self) {
            try await Repository.clone(url: origin.bare, to: origin.directory.file("work"), branch: "no-such-branch")
        }
        #expect(branch?.kind == .notFound)
        #expect(#expect(throws: GitError.self) { try Repository.open(origin.directory.file("nothing")) }?.kind == .notFound)
    }

    @Test func anUnreachableRemoteIsANetworkFailure() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let error = await #expect(throws: GitError.self) {
            try await Repository.clone(url: "http://127.0.0.1:\(freePort())/origin.git", to: origin.directory.file("work"))
        }
        #expect(error?.kind == .network, "\(String(describing: error))")
    }

    @Test func existingBranchesLocksAndBadNames() async throws {
        let (origin, repository, path) = try await BranchTests().cloned()
        defer { origin.directory.remove() }
        #expect(#expect(throws: GitError.self) { try repository.createBranch("main", at: "HEAD") }?.kind == .exists)

        // Another git process at work: its index.lock stops a checkout.
        try repository.createBranch("topic", at: "origin/new_features")
        FileManager.default.createFile(atPath: path + "/.git/index.lock", contents: Data())
        #expect(#expect(throws: GitError.self) { try repository.checkout(branch: "topic") }?.kind == .locked)
        try FileManager.default.removeItem(atPath: path + "/.git/index.lock")

        let invalid = #expect(throws: GitError.self) { try BranchName.validate("bad name") }
        #expect(invalid?.kind == .invalidName)
        #expect(invalid?.message == "\"bad name\" is not a valid branch name: it contains a space "
            + "(git allows no spaces, control characters or any of ~ ^ : ? * [ \\ in a name)")
    }

    @Test func credentialsRefusedOrMissing() async throws {
        let origin = try await GitOrigin()
        defer { origin.directory.remove() }
        let server = try await origin.serveOverHTTP(user: "ada", token: "ghp_kind-token")
        defer { server.stop() }
        let url = server.url("/origin.git")
        let refused = await #expect(throws: GitError.self) {
            try await Repository.clone(url: url, to: origin.directory.file("bad"), credentials: .userPassword(username: "ada", password: "wrong"))
        }
        #expect(refused?.kind == .authentication(.refused))
        let missing = await #expect(throws: GitError.self) { try await Repository.clone(url: url, to: origin.directory.file("none")) }
        #expect(missing?.kind == .authentication(.missing))
    }
}

/// `BranchName` refuses every name `git check-ref-format --branch` refuses, and says which rule.
@Suite struct BranchNameTests {
    static let names = ["bad name", "..", "HEAD", "-x", "a/.b", "a.lock", "a/b.lock/c", "a.", "a//b", "/a", "a/", "a@{1}", "a\\b",
                        "x..y", "a~1", "a^", "a:b", "a?", "a*", "a[b", "tab\there", "esc\u{1B}[2J", "del\u{7F}", ".hidden", "",
                        "fix-invoice-rounding", "feature/x", "é-accent", "a@b", "a.b", "v1.2"]

    /// One test, one `git` at a time: dozens of parallel spawns make Foundation's Process.run crash.
    @Test func agreesWithGit() async throws {
        for name in Self.names {
            let git = try await ChildProcess.run("git", ["check-ref-format", "--branch", name],
                                                 environment: ["PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"])
            let problem = BranchName.problem(name)
            #expect((problem == nil) == git.succeeded,
                    "\(String(reflecting: name)): git \(git.succeeded ? "accepts" : "refuses"), we say \(problem ?? "fine")")
        }
    }

    @Test func namesTheRule() {
        #expect(BranchName.problem("..") == "it contains '..', which git reads as a range of commits")
        #expect(BranchName.problem("HEAD") == "HEAD is git's name for the current commit, not a branch")
        #expect(BranchName.problem("@") == "'@' alone means HEAD to git")
        #expect(BranchName.problem("fix/.x") == "its part '.x' begins with '.'")
        #expect(BranchName.problem("x.lock") == "its part 'x.lock' ends with '.lock', which git keeps for lock files")
        #expect(BranchName.problem("a\u{1B}b") == "it contains a control character (git allows no spaces, control characters or any of ~ ^ : ? * [ \\ in a name)")
        #expect(BranchName.problem("-f") == "it begins with '-', which git commands would read as an option")
    }
}
