import Git

/// What `devbox branch start` or `devbox branch update` did.
public struct BranchOutcome: Sendable, Encodable {
    public var branch: String
    public var from: String
    /// Commits the branch moved (update) or 0 (start).
    public var commits: Int
    /// Uncommitted changes that came along.
    public var carried: [String]
    public var fetched: Bool
}

extension Workspace {
    /// Fetches origin; a failure is reported, not thrown, so offline work goes on.
    func fetchQuietly(_ repository: Repository) async -> String? {
        guard let url = try? repository.remoteURL("origin") else { return "no remote named origin" }
        do {
            try await repository.fetch(credentials: credentials)
            return nil
        } catch let error as GitError {
            return explain(error, url: url, branch: nil).message
        } catch {
            return "\(error)"
        }
    }

    /// Creates `topic` from origin/<integration> (fetched first) and switches to it, carrying
    /// uncommitted changes. When those changes conflict with the integration branch nothing
    /// changes: the new branch is removed and the files are as they were.
    public func startBranch(_ topic: String, warn: (String) -> Void) async throws -> BranchOutcome {
        let repository = try open()
        let fetchProblem = await fetchQuietly(repository)
        if let fetchProblem { warn("could not fetch origin, starting from the last known origin/\(integrationBranch): \(fetchProblem)") }
        let base = "origin/\(integrationBranch)"
        guard repository.resolves(base) else {
            throw WorkspaceError("\(base) is unknown in \(path), so there is nothing to start from. Check the remote has "
                + "\(integrationBranch) (repository.integration_branch) and that `devbox init` cloned it.")
        }
        guard topic != integrationBranch, topic != productionBranch else {
            throw WorkspaceError("\(topic) is a shared branch; name your topic, e.g. `devbox branch start fix-invoice-rounding`.")
        }
        if try repository.hasBranch(topic) {
            throw WorkspaceError("a branch named \(topic) already exists. Switch to it with `git switch \(topic)`, or pick another name.")
        }
        let carried = try repository.status().map(\.path)
        try repository.createBranch(topic, at: base)
        do {
            try repository.checkout(branch: topic)
        } catch {
            try? repository.deleteBranch(topic)
            if error.isConflict {
                throw WorkspaceError("your uncommitted changes to \(error.paths.joined(separator: ", ")) conflict with \(base), so "
                    + "devbox changed nothing. Commit them (or `git stash`), run `devbox branch start \(topic)` again, then "
                    + "`git stash pop` if you stashed.")
            }
            throw error
        }
        return BranchOutcome(branch: topic, from: base, commits: 0, carried: carried, fetched: fetchProblem == nil)
    }

    /// Fast-forwards the current branch to its upstream (origin/<integration> on the integration
    /// branch), keeping uncommitted changes; refuses when the branch has commits of its own.
    public func updateBranch(warn: (String) -> Void) async throws -> BranchOutcome {
        let repository = try open()
        guard let branch = try repository.currentBranch() else {
            throw WorkspaceError("HEAD is detached; `devbox branch start <topic>` first.")
        }
        let fetchProblem = await fetchQuietly(repository)
        if let fetchProblem { warn("could not fetch origin: \(fetchProblem)") }
        guard let upstream = try repository.upstream(of: branch)
            ?? (branch == integrationBranch ? "origin/\(integrationBranch)" : nil) else {
            throw WorkspaceError("\(branch) follows no remote branch, so there is nothing to update it to. To take in "
                + "new \(integrationBranch) work: `git rebase origin/\(integrationBranch)`.")
        }
        let carried = try repository.status().map(\.path)
        do {
            let moved = try repository.fastForward(to: upstream)
            return BranchOutcome(branch: branch, from: upstream, commits: moved, carried: carried, fetched: fetchProblem == nil)
        } catch where error.isNotFastForward {
            throw WorkspaceError("\(branch) has commits \(upstream) lacks, so it cannot simply move forward; devbox changed nothing. "
                + "Rebase it yourself: `git rebase \(upstream)`.")
        } catch where error.isConflict {
            throw WorkspaceError("your uncommitted changes to \(error.paths.joined(separator: ", ")) conflict with \(upstream); devbox "
                + "changed nothing. Commit or `git stash` them, then run `devbox branch update` again.")
        } catch {
            throw error
        }
    }
}
