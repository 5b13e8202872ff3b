import Foundation
import Git
import GitHub
import HTTP
import Host
import Terminal

/// Something about the workspace stops a command: the kind (what callers switch on), and a
/// message saying what and the command that fixes it.
public typealias WorkspaceError = KindedError<WorkspaceErrorKind>

/// What went wrong, for callers to switch on (never on the text).
public enum WorkspaceErrorKind: Sendable, Equatable {
    /// No workspace yet, or nothing to clone it from: `devbox init` (with --repo) fixes it.
    case notInitialised
    /// Something else occupies the workspace's place, or the place cannot be created.
    case occupied
    /// The repository could not be cloned or fetched; the git failure's kind says why.
    case remote(GitError.Kind)
    /// The branch name breaks git's rules, or is taken (locally, on origin, or shared).
    case branchName
    /// Uncommitted changes or another git process stopped the switch; nothing changed.
    case blocked
    /// The branch cannot move as asked: detached, following nothing, diverged, base unknown.
    case cannotMove
}

/// The developer's checkout of the app: where it is, which repository it must be a clone of,
/// and which branch features are integrated on.
public struct Workspace: Sendable {
    public var path: String
    public var repositoryURL: String?
    public var integrationBranch: String
    public var productionBranch: String
    public var credentials: GitCredentials
    /// Where the HTTPS token came from ("GH_TOKEN", the token file), for errors; nil without one.
    public var credentialSource: String?
    /// The token for git over HTTPS and GitHub's API, with its source (nil when there is none).
    public var token: GitHubToken?
    public var username: String

    public init(config: DevboxConfig, environment: [String: String]) {
        path = config.workspacePath
        repositoryURL = config.repositoryURL
        integrationBranch = config.integrationBranch
        productionBranch = config.productionBranch
        username = config.gitUsername
        token = Self.token(environment: environment, paths: DevboxPaths(environment: environment))
        (credentials, credentialSource) = Self.credentials(for: config.repositoryURL, username: username, token: token)
    }

    /// The token devbox uses for HTTPS remotes and GitHub's API, first found of `DEVBOX_GIT_TOKEN`,
    /// `GH_TOKEN`, `GITHUB_TOKEN` and the 0600 file ~/.config/devbox/git-token handed over at onboarding.
    static func token(environment: [String: String], paths: DevboxPaths) -> GitHubToken? {
        for name in ["DEVBOX_GIT_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"] {
            if let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
                return GitHubToken(value: value, source: name)
            }
        }
        let file = (try? String(contentsOfFile: paths.gitToken, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let file, !file.isEmpty else { return nil }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return GitHubToken(value: file, source: paths.gitToken.hasPrefix(home + "/") ? "~" + paths.gitToken.dropFirst(home.count) : paths.gitToken)
    }

    /// HTTPS remotes get the token; SSH remotes use the ssh-agent; local paths need nothing.
    static func credentials(for url: String?, username: String, token: GitHubToken?)
        -> (GitCredentials, source: String?) {
        guard let url else { return (.none, nil) }
        switch RemoteLocation(url) {
        case .ssh: return (.sshAgent(username: nil), "the ssh-agent")
        case .local, .other: return (.none, nil)
        case .http: break
        }
        guard let token else { return (.none, nil) }
        return (.userPassword(username: username, password: token.value), token.source)
    }

    /// The credentials for the workspace's own origin (which may differ from repository.url).
    func credentials(forRemote url: String) -> (GitCredentials, source: String?) {
        Self.credentials(for: url, username: username, token: token)
    }

    /// Opens the workspace, or says how to create it.
    public func open() throws -> Repository {
        guard FileManager.default.fileExists(atPath: path + "/.git") else {
            throw WorkspaceError(.notInitialised, "there is no workspace at \(path). Run `devbox init` to clone the repository there"
                + " (or `devbox init --dir PATH`, or set workspace.path in ~/.config/devbox/config.toml).")
        }
        return try Repository.open(path)
    }
}

/// What `devbox init` did.
public struct InitOutcome: Sendable, Encodable {
    public enum Action: String, Sendable, Encodable { case cloned, verified }
    public var action: Action
    public var path: String
    public var repository: String
    public var branch: String?
    public var seconds: Double
}

extension Workspace {
    /// The settings `devbox init --repo URL --dir PATH` records in the user's config. Relative
    /// paths are made absolute here: recorded as given, they would name another place from every
    /// other directory (and the next `init` would not recognise its own workspace).
    public static func initFlags(repo: String?, dir: String?, environment: [String: String],
                                 currentDirectory: String = FileManager.default.currentDirectoryPath)
        -> [String: (flag: String, value: String)] {
        let home = environment["HOME"] ?? NSHomeDirectory()
        var flags: [String: (flag: String, value: String)] = [:]
        if let repo { flags["repository.url"] = ("--repo", RemoteLocation.absolute(repo, from: currentDirectory, home: home)) }
        if let dir { flags["workspace.path"] = ("--dir", RemoteLocation.absolutePath(dir, from: currentDirectory, home: home)) }
        return flags
    }

    /// Why `url` may not be given on the command line: a password in it would be stored in clear
    /// in ~/.config/devbox/config.toml and the workspace's .git/config. Nil when it may.
    public static func embeddedPasswordProblem(_ url: String) -> String? {
        guard RemoteLocation(url) == .http, let password = URLComponents(string: url)?.password, !password.isEmpty else { return nil }
        return "--repo carries a password (\(RedactedURL.redact(url)) with user:password@ before the host); devbox would "
            + "store it in clear in ~/.config/devbox/config.toml and .git/config. Give the URL without it and put the token "
            + "in ~/.config/devbox/git-token (mode 0600) or DEVBOX_GIT_TOKEN."
    }

    /// Clones the repository when the workspace does not exist yet (on `branch`, else the
    /// integration branch), or checks an existing one is a clone of the right repository. A
    /// non-empty directory that is not that clone is never touched.
    public func initialise(branch: String? = nil, progress: (@Sendable (GitProgress) -> Void)? = nil) async throws -> InitOutcome {
        guard let url = repositoryURL else {
            throw WorkspaceError(.notInitialised, "no repository to clone: pass `devbox init --repo URL` or set repository.url in ~/.config/devbox/config.toml.")
        }
        let started = Date()
        if let existing = try verifyExisting(url: url, started: started) { return existing }
        try checkLocalSource(url)
        try checkDestination()
        let target = branch ?? integrationBranch
        do {
            try await Repository.clone(url: url, to: path, branch: target, credentials: credentials, progress: progress)
        } catch let error as GitError {
            throw explain(error, url: url, branch: target)
        }
        let repository = try Repository.open(path)
        if try repository.upstream(of: target) == nil, repository.resolves("origin/\(target)") {
            try repository.setUpstream(of: target, to: "origin/\(target)")
        }
        return InitOutcome(action: .cloned, path: path, repository: RedactedURL.redact(url), branch: try repository.currentBranch(),
                           seconds: Date().timeIntervalSince(started))
    }

    /// The outcome for a workspace that is already a clone of `url`; nil when there is nothing at
    /// `path` yet (or an empty directory); throws when something else is there.
    func verifyExisting(url: String, started: Date) throws -> InitOutcome? {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else {
            throw WorkspaceError(.occupied, "\(path) is a file, not a directory. Move it away or choose another place with `devbox init --dir PATH`.")
        }
        if manager.fileExists(atPath: path + "/.git") {
            let repository = try Repository.open(path)
            let origin = try repository.remoteURL("origin")
            guard let origin, RemoteLocation.same(origin, url) else {
                let shown = origin.map { Printable.escaping(RedactedURL.redact($0)) } ?? "missing"
                throw WorkspaceError(.occupied, "\(path) is a git repository, but its origin is \(shown), not \(RedactedURL.redact(url)). "
                    + "It is not this project's workspace: move it away, or pass `devbox init --dir PATH` for another place.")
            }
            return InitOutcome(action: .verified, path: path, repository: RedactedURL.redact(url),
                               branch: try repository.currentBranch(), seconds: Date().timeIntervalSince(started))
        }
        let contents = (try? manager.contentsOfDirectory(atPath: path)) ?? []
        guard contents.isEmpty else {
            throw WorkspaceError(.occupied, "\(path) already exists and is not empty (\(contents.count) entries), and it is not a clone of \(RedactedURL.redact(url)). "
                + "devbox never clones over files: move them away, or pass `devbox init --dir PATH` for another place.")
        }
        return nil
    }

    /// A local repository path is checked before libgit2 sees it: for a path that does not exist
    /// libgit2 only says "unsupported URL protocol".
    func checkLocalSource(_ url: String) throws {
        guard let problem = Self.missingLocalRepository(url) else { return }
        throw WorkspaceError(.remote(.notFound), "\(problem). Check repository.url (or `devbox init --repo PATH`): give the path of an existing "
            + "clone or bare repository.")
    }

    /// What is wrong with a local repository path (it does not exist, or holds no repository);
    /// nil when it is fine or `url` is not a local path.
    static func missingLocalRepository(_ url: String) -> String? {
        guard case .local(let source) = RemoteLocation(url) else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            return "the repository \(source) does not exist (no such file or directory)"
        }
        guard isDirectory.boolValue, (try? Repository.open(source)) != nil else {
            return "\(source) is not a git repository, so there is nothing to clone"
        }
        return nil
    }

    /// The clone's directory must be creatable: checked first, so that a failure during the clone
    /// is the remote's, not this machine's.
    func checkDestination() throws {
        var ancestor = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: ancestor.path), ancestor.path != "/" {
            ancestor.deleteLastPathComponent()
        }
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory)
        guard isDirectory.boolValue else {
            throw WorkspaceError(.occupied, "cannot create \(path): \(ancestor.path) is a file, not a directory. Choose another place "
                + "with `devbox init --dir PATH` (or workspace.path).")
        }
        guard access(ancestor.path, W_OK) == 0 else {
            throw WorkspaceError(.occupied, "cannot create \(path): you may not write in \(ancestor.path). Choose another place with "
                + "`devbox init --dir PATH` (or workspace.path), or ask for write access there.")
        }
    }

    /// A libgit2 failure during clone or fetch, told as what the developer can do about it.
    func explain(_ error: GitError, url: String, branch: String?) -> WorkspaceError {
        let shown = RedactedURL.redact(url)
        switch error.kind {
        case .authentication(.refused):
            let tried = credentialSource.map { "The token from \($0)" } ?? "The token (DEVBOX_GIT_TOKEN, GH_TOKEN, GITHUB_TOKEN or ~/.config/devbox/git-token)"
            return WorkspaceError(.remote(.authentication(.refused)), "\(shown) refused the credentials devbox sent. \(tried) "
                + "is wrong or expired: ask your admin for a new one (`adminctl access rotate`).")
        case .authentication(.missing):
            return WorkspaceError(.remote(.authentication(.missing)), "\(shown) asks for credentials and devbox has none. Put your token in ~/.config/devbox/git-token "
                + "(mode 0600) or export DEVBOX_GIT_TOKEN, then run the command again.")
        case .notFound where branch != nil:
            return WorkspaceError(.remote(.notFound), "\(shown) has no branch \(branch!). Check repository.integration_branch, or pass `--branch` with one that exists.")
        case .locked:
            return locked(error)
        default:
            // Without a branch this is a fetch of the workspace's origin, not a clone of repository.url.
            let source = branch == nil ? "origin's URL (`git -C \(path) remote -v`)" : "the URL (repository.url or --repo)"
            return WorkspaceError(.remote(error.kind), "cannot reach \(shown): \(Self.scrub(error.message, url: url)). Check \(source) "
                + "and this machine's network, then run the command again.")
        }
    }

    /// Another git process (or a crashed one) holds a lock file in the repository: say which.
    func locked(_ error: GitError) -> WorkspaceError {
        let git = path + "/.git"
        let top = ["index.lock", "HEAD.lock", "config.lock", "packed-refs.lock"].map { git + "/" + $0 }
        let refs = FileManager.default.enumerator(atPath: git + "/refs")?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".lock") }.map { git + "/refs/" + $0 } ?? []
        let locks = (top + refs).filter { FileManager.default.fileExists(atPath: $0) }
        let remove = locks.isEmpty ? "the stale .lock file under \(git)" : locks.joined(separator: ", ")
        return WorkspaceError(.blocked, "another git process is working in \(path) (\(error.message)); devbox changed nothing. Wait for it "
            + "to finish; if none is running, remove \(remove), then run the command again.")
    }

    /// libgit2's message with `url` (and so any password in it) shown redacted.
    static func scrub(_ message: String, url: String) -> String {
        let shown = RedactedURL.redact(url)
        var text = message.replacingOccurrences(of: url, with: shown)
        if let password = URLComponents(string: url)?.percentEncodedPassword, !password.isEmpty {
            text = text.replacingOccurrences(of: password, with: "REDACTED")
        }
        return text
    }
}
