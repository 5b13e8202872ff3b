import Foundation
import Git
import GitHub
import HTTP
import Synchronization
import Terminal

/// Getting work out of the workspace: pushing the feature branch (libgit2) and its pull request
/// against the integration branch (GitHub's REST API). Everything here refuses, with the next
/// command to type, rather than guess: a detached HEAD, a shared branch, nothing to propose.
public struct Contribution: Sendable {
    public var workspace: Workspace
    public var config: DevboxConfig
    public var environment: [String: String]
    let http: HTTPClient
    let console: Console

    public init(workspace: Workspace, config: DevboxConfig, environment: [String: String], http: HTTPClient, console: Console) {
        self.workspace = workspace
        self.config = config
        self.environment = environment
        self.http = http
        self.console = console
    }

    var integration: String { workspace.integrationBranch }

    /// The checked-out feature branch, or the refusal that says what to do instead.
    func featureBranch(_ repository: Repository, doing what: String) throws -> String {
        guard let branch = try repository.currentBranch() else {
            throw ContributionError(.detached, "HEAD is detached (not on a branch), so there is no branch to \(what). Start a branch for "
                + "this work: `devbox branch start <topic>` (commits and uncommitted changes come along).")
        }
        if branch == integration || branch == workspace.productionBranch {
            let role = branch == integration ? "the integration branch: pull requests go into it, not from it"
                : "the production branch: work never goes out from it"
            throw ContributionError(.sharedBranch, "you are on \(branch), \(role). Start a feature branch: `devbox branch start <topic>` "
                + "(uncommitted changes come along), commit there, then run `devbox \(what == "push" ? "push" : "pr")` again.")
        }
        return branch
    }

    /// Refuses uncommitted changes unless `allowDirty`, which only warns.
    func checkClean(_ repository: Repository, allowDirty: Bool, what: String) throws {
        let dirty = try repository.status().map(\.path)
        guard !dirty.isEmpty else { return }
        let list = Workspace.list(Array(dirty.prefix(5))) + (dirty.count > 5 ? " and \(dirty.count - 5) more" : "")
        if allowDirty {
            console.warning("\(dirty.count) uncommitted change(s) (\(list)) are not part of \(what).")
            return
        }
        throw ContributionError(.dirty, "\(dirty.count) uncommitted change(s) (\(list)) would not be part of \(what). Commit them "
            + "(`git add -A && git commit`), or add --allow-dirty to go on without them.")
    }

    /// origin's URL and the credentials that go with it (HTTPS token, ssh-agent, none for a path).
    func origin(_ repository: Repository) throws -> (url: String, credentials: GitCredentials, source: String?) {
        guard let url = try repository.remoteURL("origin") else {
            throw ContributionError(.noOrigin, "the workspace \(workspace.path) has no remote named origin, so there is nowhere to push. "
                + "Add it: `git -C \(workspace.path) remote add origin <repository URL>`.")
        }
        let (credentials, source) = workspace.credentials(forRemote: url)
        return (url, credentials, source)
    }

    /// Pushes `branch` to origin (a lease when `forceWithLease`: the remote tip must still be the
    /// one we last fetched), showing progress on stderr, and makes origin/<branch> its upstream.
    func push(_ repository: Repository, branch: String, forceWithLease: Bool) async throws -> PushOutcome {
        let remote = try origin(repository)
        let tracking = "refs/remotes/origin/\(branch)"
        let lease: GitPushLease = forceWithLease
            ? .forceIfAt(expected: repository.resolves(tracking) ? try repository.commitID(of: tracking) : nil) : .fastForward
        let display = PushProgressDisplay(console: console, local: { if case .local = RemoteLocation(remote.url) { true } else { false } }())
        let started = ContinuousClock.now
        let result: GitPushResult
        do {
            result = try await repository.push(branch: branch, lease: lease, credentials: remote.credentials) { display.update($0) }
        } catch let error as GitError {
            display.finish(failed: true)
            throw explain(error, branch: branch, url: remote.url, source: remote.source)
        }
        display.finish()
        var upstreamSet = false
        // As `git push -u`: the branch now follows what it was pushed to (not, say, origin/new_features).
        if try repository.upstream(of: branch) != "origin/\(branch)", repository.resolves(tracking) {
            try repository.setUpstream(of: branch, to: "origin/\(branch)")
            upstreamSet = true
        }
        let commits = result.updated
            ? try repository.countCommits(reachableFrom: [result.tip], excluding: result.previousTip.map { [$0] } ?? ["refs/remotes/origin/\(integration)"])
            : 0
        return PushOutcome(branch: branch, remote: RedactedURL.redact(remote.url), previousTip: result.previousTip, tip: result.tip,
                           updated: result.updated, forced: forceWithLease && result.updated, commits: commits,
                           objects: result.objects, bytes: result.bytes, upstreamSet: upstreamSet,
                           seconds: (ContinuousClock.now - started).seconds)
    }

    /// A failed push as what the developer can do; nothing local changed.
    func explain(_ error: GitError, branch: String, url: String, source: String?) -> any Error {
        let shown = RedactedURL.redact(url)
        let unchanged = "devbox pushed nothing and your branch is unchanged"
        switch error.kind {
        case .notFastForward:
            return ContributionError(.push(.notFastForward), "origin's \(branch) has commits your \(branch) lacks (pushed from elsewhere, "
                + "or your branch was rewritten); \(unchanged). Take them in with `git pull --rebase origin \(branch)` and run the command "
                + "again; if you rewrote your branch on purpose and nobody else pushed to it: `devbox push --force-with-lease`.")
        case .staleLease:
            return ContributionError(.push(.staleLease), "--force-with-lease refused: \(error.message), so someone pushed to origin's \(branch) "
                + "since you last fetched it and forcing would throw their commits away; \(unchanged). See them with `git fetch origin && "
                + "git log \(branch)..origin/\(branch)`, take them in (`git rebase origin/\(branch)`), then push again.")
        case .rejected:
            let reason = error.message.replacingOccurrences(of: "the remote refused refs/heads/\(branch): ", with: "")
            return ContributionError(.push(.rejected), "\(shown) refused the push of \(branch): \(reason). A protected branch or a "
                + "server-side hook said no; \(unchanged). Ask the repository's admin, or push under another branch name.")
        case .authentication(.refused):
            let tried = source.map { "the token from \($0)" } ?? "the credentials devbox sent"
            return ContributionError(.push(error.kind), "\(shown) refused \(tried) (user \(workspace.username)); it is wrong, expired or "
                + "lacks push access, and \(unchanged). Ask your admin for a new one (`adminctl access rotate`), put it in "
                + "\(source ?? "~/.config/devbox/git-token (mode 0600)"), then run the command again.")
        case .authentication(.missing):
            return ContributionError(.push(error.kind), "\(shown) asks for credentials and devbox has none (DEVBOX_GIT_TOKEN, GH_TOKEN, "
                + "GITHUB_TOKEN or ~/.config/devbox/git-token); \(unchanged). Put your token in ~/.config/devbox/git-token (mode 0600) or "
                + "export GH_TOKEN, then run the command again.")
        case .locked:
            return workspace.locked(error)
        case _ where error.message.hasSuffix("status code: 404"):
            return ContributionError(.push(.notFound), "\(shown) has no repository there (HTTP 404), or \(source.map { "the token from \($0)" } ?? "devbox") "
                + "may not see it; \(unchanged). Check origin's URL (`git -C \(workspace.path) remote -v`) and that the token has access.")
        case _ where error.message.hasSuffix("status code: 403"):
            return ContributionError(.push(.authentication(.refused)), "\(shown) does not let \(source.map { "the token from \($0)" } ?? "devbox") "
                + "push (HTTP 403); \(unchanged). The token needs write access to the repository: ask your admin.")
        default:
            return ContributionError(.push(error.kind), "cannot push \(branch) to \(shown): \(Workspace.scrub(error.message, url: url)); "
                + "\(unchanged). Check origin (`git -C \(workspace.path) remote -v`) and this machine's network, then run the command again.")
        }
    }

    /// `devbox push`: the current feature branch to origin.
    public func push(forceWithLease: Bool) async throws -> PushOutcome {
        let repository = try workspace.open()
        let branch = try featureBranch(repository, doing: "push")
        return try await push(repository, branch: branch, forceWithLease: forceWithLease)
    }

    /// The GitHub client for this workspace: github.repository, else origin's URL; the same token as git.
    func github(_ repository: Repository) throws -> GitHubClient {
        let configured = config.githubRepository?.trimmingCharacters(in: .whitespaces)
        let origin = try? repository.remoteURL("origin")
        let name: GitHubRepository
        if let configured, !configured.isEmpty {
            guard let parsed = GitHubRepository(configured) else {
                throw ContributionError(.noGitHubRepository, "github.repository is \(Printable.escaping(configured)), not owner/name. "
                    + "Set it like `github.repository = \"acme/nuvola\"` in ~/.config/devbox/config.toml (or DEVBOX_GITHUB_REPOSITORY).")
            }
            name = parsed
        } else if let origin, let derived = GitHubRepository(remoteURL: origin) {
            name = derived
        } else {
            throw ContributionError(.noGitHubRepository, "devbox cannot tell which GitHub repository pull requests go to: github.repository "
                + "is not set and origin (\(origin.map { RedactedURL.redact($0) } ?? "missing")) names none. Set "
                + "`github.repository = \"owner/name\"` in ~/.config/devbox/config.toml (or DEVBOX_GITHUB_REPOSITORY).")
        }
        let console = self.console
        return GitHubClient(http: http, baseURL: GitHubClient.apiURL(environment: environment), repository: name, token: workspace.token,
                            notify: { console.note($0) })
    }
}

/// What `devbox push` did.
public struct PushOutcome: Sendable, Encodable {
    public var branch: String
    /// origin's URL, without credentials.
    public var remote: String
    /// The remote branch's tip before (nil: it did not exist).
    public var previousTip: String?
    public var tip: String
    /// False when origin already had every commit: nothing was sent.
    public var updated: Bool
    public var forced: Bool
    /// Commits the remote branch gained.
    public var commits: Int
    public var objects: Int
    public var bytes: Int64
    /// True when this push made origin/<branch> the branch's upstream.
    public var upstreamSet: Bool
    public var seconds: Double

    public var summary: String {
        guard updated else { return "origin already has \(branch) at \(tip.prefix(7)); nothing to push." }
        let what = previousTip == nil ? "Pushed the new branch \(branch)" : forced ? "Force-pushed \(branch) (lease held)" : "Pushed \(branch)"
        let range = previousTip.map { "\($0.prefix(7))..\(tip.prefix(7))" } ?? tip.prefix(7).description
        return "\(what) to origin (\(commits) commit(s), \(range))" + (upstreamSet ? "; it now tracks origin/\(branch)." : ".")
    }
}

/// The progress bar on stderr while pushing: objects sent, then the count, size and rate.
final class PushProgressDisplay: Sendable {
    private let console: Console
    private let started = ContinuousClock.now
    private let state = Mutex<(bar: ProgressBar?, last: GitPushProgress?)>((nil, nil))
    /// A path remote: libgit2 writes the objects straight into it, so there are no bytes on a wire to count.
    private let local: Bool

    init(console: Console, local: Bool) {
        self.console = console
        self.local = local
    }

    func update(_ progress: GitPushProgress) {
        state.withLock { state in
            if state.bar == nil, progress.totalObjects > 0 {
                state.bar = console.progress("pushing", total: Int64(progress.totalObjects), unit: .items("objects"))
            }
            state.bar?.update(completed: Int64(progress.sentObjects))
            state.last = progress
        }
    }

    func finish(failed: Bool = false) {
        state.withLock { state in
            guard let last = state.last else { return }
            if failed { return state.bar?.finish("stopped") ?? () }
            let seconds = (ContinuousClock.now - started).seconds
            if local { return state.bar?.finish("\(last.totalObjects) objects in \(Format.duration(seconds))") ?? () }
            state.bar?.finish("\(last.totalObjects) objects, \(Format.bytes(last.sentBytes)) in \(Format.duration(seconds))"
                + " (\(Format.bytes(Int64(Double(last.sentBytes) / max(seconds, 0.001))))/s)")
        }
    }
}
