import Foundation
import Git
import Host

/// adminctl's own clone of the app's repository, from which releases are built: bare (history
/// only, nothing checked out to drift), under the user's cache directory
/// (`$XDG_CACHE_HOME/adminctl/repo/<project>.git`, else `~/.cache/adminctl/repo/<project>.git`).
/// A cache because everything in it can be fetched again, and it is never the admin's own working
/// copy: a build must not depend on (or touch) uncommitted work, a checked-out branch or local
/// commits that were never pushed. Fetched (pruned) before every build.
public struct AdminRepository: Sendable {
    public var url: String
    public var path: String
    public var credentials: GitCredentials

    public init(url: String, project: String, environment: [String: String]) {
        self.url = url
        let home = environment["HOME"] ?? NSHomeDirectory()
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cache"
        path = "\(cache)/adminctl/repo/\(project).git"
        credentials = Self.credentials(for: url, environment: environment)
    }

    /// HTTPS remotes get a token (`ADMINCTL_GIT_TOKEN`, else `GH_TOKEN`); SSH ones the ssh-agent.
    static func credentials(for url: String, environment: [String: String]) -> GitCredentials {
        if url.hasPrefix("ssh://") || (url.contains("@") && url.contains(":") && !url.contains("://")) {
            return .sshAgent(username: nil)
        }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else { return .none }
        let token = [environment["ADMINCTL_GIT_TOKEN"], environment["GH_TOKEN"]].compactMap { $0 }.first { !$0.isEmpty }
        return token.map { .userPassword(username: "x-access-token", password: $0) } ?? .none
    }

    /// Clones on first use (or when repository.url changed), else fetches. Builds of dev and prod
    /// hold different deploy locks and may run at once: they take turns here (an flock on
    /// `<clone>.lock`), as two fetches into one repository would fail on git's own ref locks.
    public func update(progress: (@Sendable (GitProgress) -> Void)? = nil) async throws {
        let parent = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let lockFile = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFile >= 0 else {
            throw DeployError(.repository, "Could not open \(path).lock: \(String(cString: strerror(errno))). Check that \(parent) is writable.")
        }
        defer { close(lockFile) }  // closing releases the flock
        while flock(lockFile, LOCK_EX | LOCK_NB) != 0 {
            try await Task.sleep(for: .milliseconds(100))
        }
        do {
            if FileManager.default.fileExists(atPath: path) {
                let repository = try Repository.open(path)
                if try repository.remoteURL() == url {
                    try await repository.fetch(prune: true, credentials: credentials, progress: progress)
                    return
                }
                // Another repository.url than the one cloned: the cache is simply made again.
                try FileManager.default.removeItem(atPath: path)
            }
            try await Repository.clone(url: url, to: path, bare: true, credentials: credentials, progress: progress)
        } catch let error as GitError {
            let why: String = switch error.kind {
            case .authentication(.missing): "it asks for credentials: put a token in ADMINCTL_GIT_TOKEN (or GH_TOKEN), or use an ssh:// URL with ssh-agent."
            case .authentication(.refused): "it refused the credentials (ADMINCTL_GIT_TOKEN or GH_TOKEN): check the token can read the repository."
            case .network: "it could not be reached (\(error.message)). Check the URL (`adminctl config show`) and the network."
            default: "\(error.message)."
            }
            throw DeployError(.repository, "Could not fetch \(url) into adminctl's clone \(path): \(why)")
        }
    }
}
