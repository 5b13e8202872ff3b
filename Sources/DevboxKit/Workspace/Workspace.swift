import Foundation
import Git
import HTTP
import Host

/// Something about the workspace stops a command: what, and the command that fixes it.
public struct WorkspaceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// The developer's checkout of the app: where it is, which repository it must be a clone of,
/// and which branch features are integrated on.
public struct Workspace: Sendable {
    public var path: String
    public var repositoryURL: String?
    public var integrationBranch: String
    public var productionBranch: String
    public var credentials: GitCredentials

    public init(config: DevboxConfig, environment: [String: String]) {
        path = config.workspacePath
        repositoryURL = config.repositoryURL
        integrationBranch = config.integrationBranch
        productionBranch = config.productionBranch
        credentials = Self.credentials(for: config.repositoryURL, username: config.gitUsername, environment: environment,
                                       paths: DevboxPaths(environment: environment))
    }

    /// HTTPS remotes get a token (`DEVBOX_GIT_TOKEN`, `GH_TOKEN`, or the 0600 file
    /// ~/.config/devbox/git-token handed over at onboarding); SSH remotes use the ssh-agent.
    static func credentials(for url: String?, username: String, environment: [String: String],
                            paths: DevboxPaths) -> GitCredentials {
        guard let url else { return .none }
        if url.hasPrefix("ssh://") || (url.contains("@") && url.contains(":") && !url.contains("://")) {
            return .sshAgent(username: nil)
        }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else { return .none }
        let token = environment["DEVBOX_GIT_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["GH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (try? String(contentsOfFile: paths.gitToken, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let token, !token.isEmpty else { return .none }
        return .userPassword(username: username, password: token)
    }

    /// Whether two remote URLs name the same repository (ignoring credentials, `.git`, case of host).
    static func sameRemote(_ a: String, _ b: String) -> Bool {
        func normal(_ url: String) -> String {
            var text = RedactedURL.redact(url.trimmingCharacters(in: .whitespaces))
            while text.hasSuffix("/") { text.removeLast() }
            if text.hasSuffix(".git") { text.removeLast(4) }
            return text.lowercased()
        }
        return normal(a) == normal(b)
    }

    /// Opens the workspace, or says how to create it.
    public func open() throws -> Repository {
        guard FileManager.default.fileExists(atPath: path + "/.git") else {
            throw WorkspaceError("there is no workspace at \(path). Run `devbox init` to clone the repository there"
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
    /// Clones the repository when the workspace does not exist yet (on `branch`, else the
    /// integration branch), or checks an existing one is a clone of the right repository. A
    /// non-empty directory that is not that clone is never touched.
    public func initialise(branch: String? = nil, progress: (@Sendable (GitProgress) -> Void)? = nil) async throws -> InitOutcome {
        guard let url = repositoryURL else {
            throw WorkspaceError("no repository to clone: pass `devbox init --repo URL` or set repository.url in ~/.config/devbox/config.toml.")
        }
        let started = Date()
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw WorkspaceError("\(path) is a file, not a directory. Move it away or choose another place with `devbox init --dir PATH`.")
            }
            if manager.fileExists(atPath: path + "/.git") {
                let repository = try Repository.open(path)
                let origin = try repository.remoteURL("origin")
                guard let origin, Self.sameRemote(origin, url) else {
                    throw WorkspaceError("\(path) is a git repository, but its origin is \(origin.map(RedactedURL.redact) ?? "missing"), not \(RedactedURL.redact(url)). "
                        + "It is not this project's workspace: move it away, or pass `devbox init --dir PATH` for another place.")
                }
                return InitOutcome(action: .verified, path: path, repository: RedactedURL.redact(url),
                                   branch: try repository.currentBranch(), seconds: Date().timeIntervalSince(started))
            }
            let contents = (try? manager.contentsOfDirectory(atPath: path)) ?? []
            guard contents.isEmpty else {
                throw WorkspaceError("\(path) already exists and is not empty (\(contents.count) entries), and it is not a clone of \(RedactedURL.redact(url)). "
                    + "devbox never clones over files: move them away, or pass `devbox init --dir PATH` for another place.")
            }
        }
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

    /// A libgit2 failure during clone or fetch, told as what the developer can do about it.
    func explain(_ error: GitError, url: String, branch: String?) -> WorkspaceError {
        let shown = RedactedURL.redact(url)
        if error.message.contains("refused the credentials") {
            return WorkspaceError("\(shown) refused the credentials devbox sent. The token (DEVBOX_GIT_TOKEN, GH_TOKEN or "
                + "~/.config/devbox/git-token) is wrong or expired: ask your admin for a new one (`adminctl access rotate`).")
        }
        if error.message.contains("asks for credentials") {
            return WorkspaceError("\(shown) asks for credentials and devbox has none. Put your token in ~/.config/devbox/git-token "
                + "(mode 0600) or export DEVBOX_GIT_TOKEN, then run the command again.")
        }
        if let branch, error.isNotFound || error.message.contains("reference") && error.message.contains("not found") {
            return WorkspaceError("\(shown) has no branch \(branch). Check repository.integration_branch, or pass `--branch` with one that exists.")
        }
        return WorkspaceError("cannot reach \(shown): \(error.message). Check the URL (repository.url or --repo) and this machine's network, then run the command again.")
    }
}
