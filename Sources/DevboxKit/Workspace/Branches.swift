import Git
import Terminal

/// What `devbox branch start` or `devbox branch update` did.
public struct BranchOutcome: Sendable, Encodable {
    public var branch: String
    public var from: String
    /// Commits the branch moved (update) or 0 (start).
    public var commits: Int
    /// Uncommitted changes that came along.
    public var carried: [String]
    public var fetched: Bool
    /// For a start from a detached HEAD: the commits that were on no branch, now on the new one.
    public var kept: [GitCommitSummary] = []

    /// What `devbox branch start` prints.
    public var startSummary: String {
        var text = "Switched to \(branch), started from \(from)"
        if !kept.isEmpty {
            text += " to keep the \(kept.count) commit(s) that were on no branch: "
                + kept.map { Printable.escaping($0.description) }.joined(separator: "; ")
                + ". `devbox status` shows how it stands against the integration branch"
        }
        return text + (carried.isEmpty ? "." : "; \(carried.count) uncommitted change(s) came along.")
    }

    /// What `devbox branch update` prints.
    public var updateSummary: String {
        commits == 0 ? "\(branch) is up to date with \(from)."
            : "Moved \(branch) forward by \(commits) commit(s) to \(from)."
    }
}

extension Workspace {
    /// Fetches origin; a failure is reported, not thrown, so offline work goes on.
    func fetchQuietly(_ repository: Repository) async -> String? {
        guard let url = try? repository.remoteURL("origin") else { return "no remote named origin" }
        if let problem = Self.missingLocalRepository(url) {
            return "\(problem). Check origin with `git -C \(path) remote -v`."
        }
        do {
            try await repository.fetch(credentials: credentials)
            return nil
        } catch let error as GitError {
            return explain(error, url: url, branch: nil).message
        } catch {
            return "\(error)"
        }
    }

    static let topicExample = "e.g. `devbox branch start fix-invoice-rounding`"

    /// Why `topic` breaks git's rules for branch names, as a sentence with what to do; nil when
    /// it does not. (Quoted with escapes: the name may hold control characters.)
    public static func invalidName(_ topic: String) -> String? {
        BranchName.problem(topic).map { "\(String(reflecting: topic)) is not a valid branch name: \($0). Pick another, \(topicExample)." }
    }

    /// Why `topic` cannot be a new feature branch, as a sentence with what to do; nil when it can.
    /// Checked before anything is fetched or created.
    public func topicProblem(_ topic: String) -> String? {
        let example = Self.topicExample
        if let problem = Self.invalidName(topic) { return problem }
        if topic == integrationBranch || topic == productionBranch {
            return "\(topic) is a shared branch; name your topic, \(example)."
        }
        // A local "origin/x" would shadow the remote-tracking branch wherever a name is resolved.
        if topic.hasPrefix("origin/") || topic.hasPrefix("refs/") {
            return "\(topic) would be confused with \(topic.hasPrefix("refs/") ? "a full reference name" : "the remote-tracking branch of that name"); "
                + "name your topic without that prefix, \(example)."
        }
        return nil
    }

    /// Creates `topic` from origin/<integration> (fetched first) and switches to it, carrying
    /// uncommitted changes. When those changes conflict with the integration branch nothing
    /// changes: the new branch is removed and the files are as they were. On a detached HEAD
    /// holding commits no branch has, the branch starts from HEAD instead, so they are kept.
    public func startBranch(_ topic: String, warn: (String) -> Void) async throws -> BranchOutcome {
        if let problem = topicProblem(topic) { throw WorkspaceError(.branchName, problem) }
        let repository = try open()
        if try repository.hasBranch(topic) {
            throw WorkspaceError(.branchName, "a branch named \(topic) already exists. Switch to it with `git switch \(topic)`, or pick another name.")
        }
        let kept = try repository.currentBranch() == nil ? repository.commitsOnNoReference() : []
        let fetchProblem = await fetchQuietly(repository)
        // Someone's branch of that name on origin (checked after the fetch, which may have just
        // brought it): a new one from the integration branch would hide it behind an unrelated one.
        if repository.resolves("refs/remotes/origin/\(topic)") {
            throw WorkspaceError(.branchName, "origin already has a branch named \(topic). To work on it: `git switch \(topic)` (it tracks "
                + "origin/\(topic)); to start something new, pick another name.")
        }
        let base = kept.isEmpty ? "origin/\(integrationBranch)" : "HEAD"
        if let fetchProblem {
            warn("could not fetch origin" + (kept.isEmpty ? ", starting from the last known \(base)" : "") + ": \(fetchProblem)")
        }
        guard repository.resolves(base) else {
            throw WorkspaceError(.cannotMove, "\(base) is unknown in \(path), so there is nothing to start from. Check the remote has "
                + "\(integrationBranch) (repository.integration_branch) and that `devbox init` cloned it.")
        }
        let carried = try repository.status().map(\.path)
        try repository.createBranch(topic, at: base)
        do {
            try repository.checkout(branch: topic)
        } catch {
            try? repository.deleteBranch(topic)
            throw explainSwitch(error, to: topic, from: base)
        }
        return BranchOutcome(branch: topic, from: base, commits: 0, carried: carried, fetched: fetchProblem == nil, kept: kept)
    }

    /// A failed switch to a new branch (which has already been removed again), told as what to do.
    func explainSwitch(_ error: GitError, to topic: String, from base: String) -> any Error {
        switch error.kind {
        case .conflict:
            return WorkspaceError(.blocked, "your uncommitted changes to \(Self.list(error.paths)) conflict with \(base), so "
                + "devbox changed nothing. Commit them (or `git stash`), run `devbox branch start \(topic)` again, then "
                + "`git stash pop` if you stashed.")
        case .locked:
            return locked(error)
        default:
            return error
        }
    }

    /// File names as a list safe for a terminal (a file may be named with control characters).
    static func list(_ paths: [String]) -> String {
        paths.map { Printable.escaping($0) }.joined(separator: ", ")
    }

    /// Fast-forwards the current branch to its upstream (origin/<integration> on the integration
    /// branch), keeping uncommitted changes; refuses when the branch has commits of its own.
    public func updateBranch(warn: (String) -> Void) async throws -> BranchOutcome {
        let repository = try open()
        guard let branch = try repository.currentBranch() else {
            throw WorkspaceError(.cannotMove, "HEAD is detached; `devbox branch start <topic>` first.")
        }
        let fetchProblem = await fetchQuietly(repository)
        if let fetchProblem { warn("could not fetch origin: \(fetchProblem)") }
        guard let upstream = try repository.upstream(of: branch)
            ?? (branch == integrationBranch ? "origin/\(integrationBranch)" : nil) else {
            throw WorkspaceError(.cannotMove, "\(branch) follows no remote branch, so there is nothing to update it to. To take in "
                + "new \(integrationBranch) work: `git rebase origin/\(integrationBranch)`.")
        }
        let carried = try repository.status().map(\.path)
        do {
            let moved = try repository.fastForward(to: upstream)
            return BranchOutcome(branch: branch, from: upstream, commits: moved, carried: carried, fetched: fetchProblem == nil)
        } catch {
            switch error.kind {
            case .notFastForward:
                throw WorkspaceError(.cannotMove, "\(branch) has commits \(upstream) lacks, so it cannot simply move forward; devbox changed nothing. "
                    + "Rebase it yourself: `git rebase \(upstream)`.")
            case .conflict:
                throw WorkspaceError(.blocked, "your uncommitted changes to \(Self.list(error.paths)) conflict with \(upstream); devbox "
                    + "changed nothing. Commit or `git stash` them, then run `devbox branch update` again.")
            case .locked:
                throw locked(error)
            default:
                throw error
            }
        }
    }
}
