import CGit2

/// One commit, as a person identifies it: the short id and the first line of its message.
public struct GitCommitSummary: Sendable, Equatable, Encodable, CustomStringConvertible {
    public var id: String
    public var subject: String

    public var shortID: String { String(id.prefix(7)) }
    public var description: String { "\(shortID) \(subject)" }
}

extension Repository {
    /// Commits reachable from `tip` that no local branch, remote-tracking branch or tag reaches,
    /// newest first: what only the reflog would find once HEAD moves away (a detached HEAD's work).
    public func commitsOnNoReference(from tip: String = "HEAD") throws(GitError) -> [GitCommitSummary] {
        guard resolves(tip) else { return [] }
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, handle), "git_revwalk_new")
        defer { git_revwalk_free(walk) }
        var start = try oid(tip)
        try check(git_revwalk_push(walk, &start), "git_revwalk_push(\(tip))")
        for glob in ["refs/heads", "refs/remotes", "refs/tags"] {
            let code = git_revwalk_hide_glob(walk, glob)
            // A glob that matches nothing is fine: there is simply nothing to hide.
            if code != GIT_ENOTFOUND.rawValue { try check(code, "git_revwalk_hide_glob(\(glob))") }
        }
        var result: [GitCommitSummary] = []
        var id = git_oid()
        while git_revwalk_next(&id, walk) == 0 {
            var commit: OpaquePointer?
            try check(git_commit_lookup(&commit, handle, &id), "git_commit_lookup")
            defer { git_commit_free(commit) }
            let subject = git_commit_summary(commit).map { String(cString: $0) } ?? ""
            result.append(GitCommitSummary(id: withUnsafePointer(to: &id) { Self.hex($0) }, subject: subject))
        }
        return result
    }
}
