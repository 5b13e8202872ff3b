import DevboxKit
import Foundation
import Git
import Testing
import TestSupport

/// A workspace pointed at a fresh origin, with devbox's config built the way the CLI does.
struct WorkspaceSetup {
    let origin: GitOrigin
    let workspace: Workspace
    var path: String { workspace.path }

    init(url: String? = nil, environment extra: [String: String] = [:]) async throws {
        origin = try await GitOrigin()
        var environment = ["HOME": origin.directory.path, "DEVBOX_SYSTEM_CONFIG": origin.directory.file("none.toml"),
                           "DEVBOX_REPOSITORY_URL": url ?? origin.bare, "DEVBOX_WORKSPACE_PATH": origin.directory.file("nuvola")]
        environment.merge(extra) { _, new in new }
        let config = try DevboxConfig.load(paths: DevboxPaths(environment: environment), environment: environment)
        workspace = Workspace(config: config, environment: environment)
    }

    func check() throws -> BranchCheck {
        try BranchCheck.inspect(try workspace.open(), integration: "new_features", production: "main")
    }

    func git(_ arguments: String...) async throws {
        try await origin.git(["-C", path, "-c", "user.name=Dev", "-c", "user.email=dev@example.com"] + arguments)
    }
}

@Suite struct WorkspaceInitTests {
    @Test func clonesOnTheIntegrationBranchThenVerifies() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        let first = try await setup.workspace.initialise()
        #expect(first.action == .cloned)
        #expect(first.branch == "new_features")
        let repository = try setup.workspace.open()
        #expect(try repository.upstream(of: "new_features") == "origin/new_features")
        let again = try await setup.workspace.initialise()
        #expect(again.action == .verified)
    }

    @Test func refusesAStrayRepositoryAndANonEmptyDirectory() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        try await setup.origin.git(["init", "--quiet", setup.path])
        try await setup.origin.git(["-C", setup.path, "remote", "add", "origin", "https://other.example.com/x.git"])
        let stray = await #expect(throws: WorkspaceError.self) { try await setup.workspace.initialise() }
        #expect(stray?.message.contains("its origin is https://other.example.com/x.git, not \(setup.origin.bare)") == true)
        #expect(stray?.kind == .occupied)

        try FileManager.default.removeItem(atPath: setup.path + "/.git")
        try "notes".write(toFile: setup.path + "/notes.txt", atomically: true, encoding: .utf8)
        let occupied = await #expect(throws: WorkspaceError.self) { try await setup.workspace.initialise() }
        #expect(occupied?.message.contains("already exists and is not empty (1 entries)") == true)
        #expect(try String(contentsOfFile: setup.path + "/notes.txt", encoding: .utf8) == "notes")
    }

    @Test func unreachableRepositoryAndMissingBranchAreExplained() async throws {
        let setup = try await WorkspaceSetup(url: "/nonexistent/repo.git")
        defer { setup.origin.directory.remove() }
        let missingPath = await #expect(throws: WorkspaceError.self) { try await setup.workspace.initialise() }
        #expect(missingPath?.message == "the repository /nonexistent/repo.git does not exist (no such file or directory). Check "
            + "repository.url (or `devbox init --repo PATH`): give the path of an existing clone or bare repository.")
        #expect(missingPath?.kind == .remote(.notFound))
        #expect(!FileManager.default.fileExists(atPath: setup.path))

        let plain = try await WorkspaceSetup(url: "file:///tmp")
        defer { plain.origin.directory.remove() }
        let notRepository = await #expect(throws: WorkspaceError.self) { try await plain.workspace.initialise() }
        #expect(notRepository?.message == "/tmp is not a git repository, so there is nothing to clone. Check repository.url "
            + "(or `devbox init --repo PATH`): give the path of an existing clone or bare repository.")

        let port = freePort()
        let closed = try await WorkspaceSetup(url: "http://127.0.0.1:\(port)/origin.git")
        defer { closed.origin.directory.remove() }
        let unreachable = await #expect(throws: WorkspaceError.self) { try await closed.workspace.initialise() }
        #expect(unreachable?.message.hasPrefix("cannot reach http://127.0.0.1:\(port)/origin.git: failed to connect to 127.0.0.1") == true)
        #expect(unreachable?.kind == .remote(.network))
        #expect(!FileManager.default.fileExists(atPath: closed.path))

        let other = try await WorkspaceSetup()
        defer { other.origin.directory.remove() }
        let missing = await #expect(throws: WorkspaceError.self) { try await other.workspace.initialise(branch: "nope") }
        #expect(missing?.message == "\(other.origin.bare) has no branch nope. Check repository.integration_branch, or pass `--branch` with one that exists.")
        #expect(!FileManager.default.fileExists(atPath: other.path))
    }

    @Test func tokensComeFromTheEnvironmentOrTheTokenFileAndRefusalsSaySo() async throws {
        let token = "ghp_workspace-token"
        let probe = try await WorkspaceSetup()
        defer { probe.origin.directory.remove() }
        let server = try await probe.origin.serveOverHTTP(user: "x-access-token", token: token)
        defer { server.stop() }
        let url = server.url("/origin.git")

        let good = try await WorkspaceSetup(url: url, environment: ["DEVBOX_GIT_TOKEN": token])
        defer { good.origin.directory.remove() }
        #expect(try await good.workspace.initialise().action == .cloned)

        let wrong = try await WorkspaceSetup(url: url, environment: ["GH_TOKEN": "ghp_stale-value"])
        defer { wrong.origin.directory.remove() }
        let refused = await #expect(throws: WorkspaceError.self) { try await wrong.workspace.initialise() }
        #expect(refused?.message.hasPrefix("\(url) refused the credentials devbox sent.") == true)
        #expect(refused?.message.contains("ghp_stale-value") == false)
        #expect(refused?.kind == .remote(.authentication(.refused)))

        let none = try await WorkspaceSetup(url: url)
        defer { none.origin.directory.remove() }
        let asked = await #expect(throws: WorkspaceError.self) { try await none.workspace.initialise() }
        #expect(asked?.message.hasPrefix("\(url) asks for credentials and devbox has none.") == true)
        #expect(asked?.kind == .remote(.authentication(.missing)))

        // The onboarding token file, mode 0600.
        let file = try await WorkspaceSetup(url: url)
        defer { file.origin.directory.remove() }
        try FileManager.default.createDirectory(atPath: file.origin.directory.file(".config/devbox"), withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: file.origin.directory.file(".config/devbox/git-token"),
                                               contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]))
        let fromFile = try await WorkspaceSetup(url: url, environment: ["HOME": file.origin.directory.path])
        #expect(try await fromFile.workspace.initialise().action == .cloned)
    }
}

@Suite struct WorkspaceInputTests {
    @Test func relativeRepositoryPathsAndDirectoriesAreRecordedAbsolute() {
        let environment = ["HOME": "/home/ada"]
        let flags = Workspace.initFlags(repo: "app.git", dir: "../ws", environment: environment, currentDirectory: "/srv/work")
        #expect(flags["repository.url"]?.value == "/srv/work/app.git")
        #expect(flags["workspace.path"]?.value == "/srv/ws")
        #expect(Workspace.initFlags(repo: "~/git/app.git", dir: "~/nuvola", environment: environment, currentDirectory: "/x")
            .mapValues(\.value) == ["repository.url": "/home/ada/git/app.git", "workspace.path": "/home/ada/nuvola"])
        for url in ["https://github.com/acme/nuvola.git", "git@github.com:acme/nuvola.git", "ssh://git@host/x.git", "file:///srv/x.git"] {
            #expect(Workspace.initFlags(repo: url, dir: nil, environment: environment, currentDirectory: "/x")["repository.url"]?.value == url)
        }
    }

    @Test func aDestinationThatCannotBeCreatedIsRefusedBeforeCloning() async throws {
        let setup = try await WorkspaceSetup(environment: ["DEVBOX_WORKSPACE_PATH": "/etc/hostname/nuvola"])
        defer { setup.origin.directory.remove() }
        let error = await #expect(throws: WorkspaceError.self) { try await setup.workspace.initialise() }
        #expect(error?.message == "cannot create /etc/hostname/nuvola: /etc/hostname is a file, not a directory. Choose another "
            + "place with `devbox init --dir PATH` (or workspace.path).")
        #expect(error?.kind == .occupied)
    }
}

@Suite struct BranchCheckTests {
    @Test func theMatrix() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        _ = try await setup.workspace.initialise()
        let repository = try setup.workspace.open()

        // On new_features, up to date.
        var check = try setup.check()
        #expect(check.kind == .integration && check.ahead == 0 && check.behind == 0 && !check.isFlagged)
        #expect(check.summary == "on new_features, up to date with origin/new_features.")

        // Behind after someone pushes.
        try await setup.origin.git(["-C", setup.origin.seed, "checkout", "--quiet", "new_features"])
        try await setup.origin.commit("a.txt", "a\n", "upstream work")
        try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "new_features"])
        try await repository.fetch()
        check = try setup.check()
        #expect(check.behind == 1)
        #expect(check.summary == "on new_features, 1 behind origin/new_features (`devbox branch update` brings it forward).")

        // A feature branch from new_features with its own commit and an uncommitted change.
        try await setup.git("checkout", "--quiet", "-b", "topic", "origin/new_features")
        try await setup.git("commit", "--quiet", "--allow-empty", "-m", "mine")
        try "x".write(toFile: setup.path + "/scratch.txt", atomically: true, encoding: .utf8)
        check = try setup.check()
        #expect(check.kind == .feature && check.ahead == 1 && check.behind == 0 && check.dirty == ["scratch.txt"])
        #expect(check.summary == "on feature branch topic based on new_features, 1 ahead origin/new_features; 1 uncommitted change.")

        // On main: flagged with the command that moves the work.
        try FileManager.default.removeItem(atPath: setup.path + "/scratch.txt")
        try await setup.git("checkout", "--quiet", "main")
        check = try setup.check()
        #expect(check.kind == .production && check.isFlagged)
        #expect(check.summary.contains("`devbox branch start <topic>`"))

        // A branch cut from main that brings main's commits along.
        try await setup.origin.git(["-C", setup.origin.seed, "checkout", "--quiet", "main"])
        try await setup.origin.commit("hotfix.txt", "h\n", "hotfix on main")
        try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "main"])
        try await repository.fetch()
        try await setup.git("checkout", "--quiet", "-b", "from-main", "origin/main")
        try await setup.git("commit", "--quiet", "--allow-empty", "-m", "feature work")
        check = try setup.check()
        #expect(check.kind == .basedOnProduction && check.productionCommits == 1 && check.isFlagged)
        #expect(check.summary.contains("`git rebase --onto origin/new_features origin/main from-main`"))

        // Detached HEAD.
        try await setup.git("checkout", "--quiet", "--detach", "HEAD")
        check = try setup.check()
        #expect(check.kind == .detached && check.branch == nil && check.isFlagged)
    }

    @Test func startCarriesChangesAndRefusesConflictsWithoutTouchingAnything() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        _ = try await setup.workspace.initialise(branch: "main")
        try "edited\n".write(toFile: setup.path + "/README.md", atomically: true, encoding: .utf8)
        var warnings: [String] = []
        let outcome = try await setup.workspace.startBranch("fix-readme") { warnings.append($0) }
        #expect(outcome.branch == "fix-readme" && outcome.from == "origin/new_features" && outcome.carried == ["README.md"])
        #expect(warnings.isEmpty)
        #expect(try setup.check().kind == .feature)
        #expect(try String(contentsOfFile: setup.path + "/README.md", encoding: .utf8) == "edited\n")

        let exists = await #expect(throws: WorkspaceError.self) { try await setup.workspace.startBranch("fix-readme") { _ in } }
        #expect(exists?.message.hasPrefix("a branch named fix-readme already exists.") == true)

        // feature.txt exists on new_features; an uncommitted edit to it on main would be overwritten.
        let other = try await WorkspaceSetup()
        defer { other.origin.directory.remove() }
        _ = try await other.workspace.initialise(branch: "main")
        try "mine\n".write(toFile: other.path + "/feature.txt", atomically: true, encoding: .utf8)
        let conflict = await #expect(throws: WorkspaceError.self) { try await other.workspace.startBranch("topic") { _ in } }
        #expect(conflict?.message.hasPrefix("your uncommitted changes to feature.txt conflict with origin/new_features, so devbox changed nothing.") == true)
        #expect(conflict?.kind == .blocked)
        let repository = try other.workspace.open()
        #expect(try repository.currentBranch() == "main")
        #expect(try repository.hasBranch("topic") == false)
        #expect(try String(contentsOfFile: other.path + "/feature.txt", encoding: .utf8) == "mine\n")
    }

    @Test func startFromADetachedHeadKeepsItsCommits() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        _ = try await setup.workspace.initialise()
        try await setup.git("checkout", "--quiet", "--detach", "HEAD")
        try await setup.git("commit", "--quiet", "--allow-empty", "-m", "experiment one")
        try await setup.git("commit", "--quiet", "--allow-empty", "-m", "experiment two")
        let before = try setup.workspace.open()
        let (head, parent) = (try before.commitID(of: "HEAD"), try before.commitID(of: "HEAD~1"))

        let outcome = try await setup.workspace.startBranch("keep-experiments") { _ in }
        #expect(outcome.from == "HEAD")
        #expect(outcome.kept.map(\.subject) == ["experiment two", "experiment one"])
        #expect(outcome.startSummary == "Switched to keep-experiments, started from HEAD to keep the 2 commit(s) that were on no "
            + "branch: \(head.prefix(7)) experiment two; \(parent.prefix(7)) experiment one. `devbox status` shows how it stands "
            + "against the integration branch.")
        let repository = try setup.workspace.open()
        #expect(try repository.currentBranch() == "keep-experiments")
        #expect(try repository.commitID(of: "keep-experiments") == head)
        #expect(try repository.commitsOnNoReference().isEmpty)

        // Detached with nothing of its own: the branch starts from the integration branch as usual.
        try await setup.git("checkout", "--quiet", "--detach", "origin/main")
        let plain = try await setup.workspace.startBranch("from-integration") { _ in }
        #expect(plain.from == "origin/new_features" && plain.kept.isEmpty)
        #expect(try repository.commitID(of: "HEAD") == (try repository.commitID(of: "origin/new_features")))
    }

    @Test(arguments: [
        ("bad name", "it contains a space (git allows no spaces, control characters or any of ~ ^ : ? * [ \\ in a name)"),
        ("..", "it contains '..', which git reads as a range of commits"),
        ("HEAD", "HEAD is git's name for the current commit, not a branch"),
        ("fix.lock", "its part 'fix.lock' ends with '.lock', which git keeps for lock files"),
        ("a@{1}", "it contains '@{', which git reads as a reflog position"),
    ])
    func namesAreCheckedAgainstGitsRulesFirst(name: String, rule: String) async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        _ = try await setup.workspace.initialise()
        let error = await #expect(throws: WorkspaceError.self) { try await setup.workspace.startBranch(name) { _ in } }
        #expect(error?.message == "\"\(name)\" is not a valid branch name: \(rule). Pick another, e.g. `devbox branch start fix-invoice-rounding`.")
        #expect(error?.kind == .branchName)
        #expect(try setup.workspace.open().currentBranch() == "new_features")
    }

    @Test func namesThatWouldShadowOtherReferencesAreRefused() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        _ = try await setup.workspace.initialise()
        let shadow = await #expect(throws: WorkspaceError.self) { try await setup.workspace.startBranch("origin/new_features") { _ in } }
        #expect(shadow?.message == "origin/new_features would be confused with the remote-tracking branch of that name; name your "
            + "topic without that prefix, e.g. `devbox branch start fix-invoice-rounding`.")
        let repository = try setup.workspace.open()
        #expect(try repository.hasBranch("origin/new_features") == false)
        let remote = try await setup.origin.git(["-C", setup.origin.bare, "rev-parse", "new_features"])
        #expect(try repository.commitID(of: "origin/new_features") == remote)
    }

    @Test func aMissingLocalOriginIsNamedWhenFetching() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        _ = try await setup.workspace.initialise()
        let gone = setup.origin.directory.file("gone.git")
        try await setup.git("remote", "set-url", "origin", gone)
        var warnings: [String] = []
        let outcome = try await setup.workspace.startBranch("offline") { warnings.append($0) }
        #expect(!outcome.fetched)
        #expect(warnings == ["could not fetch origin, starting from the last known origin/new_features: the repository "
            + "\(gone) does not exist (no such file or directory). Check origin with `git -C \(setup.path) remote -v`."])
    }

    @Test func aNameOriginAlreadyHasIsRefused() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "main:colleague-work"])
        _ = try await setup.workspace.initialise()
        let error = await #expect(throws: WorkspaceError.self) { try await setup.workspace.startBranch("colleague-work") { _ in } }
        #expect(error?.message == "origin already has a branch named colleague-work. To work on it: `git switch colleague-work` "
            + "(it tracks origin/colleague-work); to start something new, pick another name.")
        #expect(try setup.workspace.open().hasBranch("colleague-work") == false)
    }

    @Test func controlCharactersInCommitSubjectsAndFileNamesAreEscaped() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        let evil = "evil\u{1B}[2J.txt"
        try await setup.origin.git(["-C", setup.origin.seed, "checkout", "--quiet", "new_features"])
        try await setup.origin.commit(evil, "theirs\n", "clear the screen")
        try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "new_features"])
        _ = try await setup.workspace.initialise(branch: "main")
        try "mine\n".write(toFile: setup.path + "/" + evil, atomically: true, encoding: .utf8)
        let conflict = await #expect(throws: WorkspaceError.self) { try await setup.workspace.startBranch("topic") { _ in } }
        #expect(conflict?.message.hasPrefix("your uncommitted changes to evil\\u{1b}[2J.txt conflict with origin/new_features") == true)
        try FileManager.default.removeItem(atPath: setup.path + "/" + evil)

        try await setup.git("checkout", "--quiet", "--detach")
        try await setup.git("commit", "--quiet", "--allow-empty", "-m", "bell\u{7}and\u{1B}[31mred")
        let outcome = try await setup.workspace.startBranch("kept") { _ in }
        #expect(!outcome.startSummary.contains("\u{1B}") && !outcome.startSummary.contains("\u{7}"))
        #expect(outcome.startSummary.contains("bell\\u{7}and\\u{1b}[31mred"))
    }

    @Test func anotherGitProcessAtWorkIsNamedAndNothingChanges() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        _ = try await setup.workspace.initialise(branch: "main")
        FileManager.default.createFile(atPath: setup.path + "/.git/index.lock", contents: Data())
        let error = await #expect(throws: WorkspaceError.self) { try await setup.workspace.startBranch("topic") { _ in } }
        #expect(error?.message.hasPrefix("another git process is working in \(setup.path) (") == true)
        #expect(error?.kind == .blocked)
        #expect(error?.message.hasSuffix("if none is running, remove \(setup.path)/.git/index.lock, then run the command again.") == true)
        let repository = try setup.workspace.open()
        #expect(try repository.currentBranch() == "main")
        #expect(try repository.hasBranch("topic") == false)
    }

    @Test func updateFastForwardsOrExplains() async throws {
        let setup = try await WorkspaceSetup()
        defer { setup.origin.directory.remove() }
        _ = try await setup.workspace.initialise()
        try await setup.origin.git(["-C", setup.origin.seed, "checkout", "--quiet", "new_features"])
        try await setup.origin.commit("b.txt", "b\n", "more")
        try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "new_features"])
        let moved = try await setup.workspace.updateBranch { _ in }
        #expect(moved.commits == 1 && moved.fetched)
        #expect(FileManager.default.fileExists(atPath: setup.path + "/b.txt"))

        try await setup.git("commit", "--quiet", "--allow-empty", "-m", "local")
        try await setup.origin.commit("c.txt", "c\n", "even more")
        try await setup.origin.git(["-C", setup.origin.seed, "push", "--quiet", "origin", "new_features"])
        let diverged = await #expect(throws: WorkspaceError.self) { try await setup.workspace.updateBranch { _ in } }
        #expect(diverged?.message.hasPrefix("new_features has commits origin/new_features lacks") == true)
        #expect(diverged?.kind == .cannotMove)
    }
}
