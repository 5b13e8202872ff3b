import CGit2
import Foundation

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

/// A commit's message split the way git shows it: the subject line and the rest.
public struct GitCommitMessage: Sendable, Equatable {
    public var id: String
    public var subject: String
    /// The message after the subject and its blank line, trimmed; empty when there is none.
    public var body: String
}

extension Repository {
    /// The commits reachable from `tip` but not from `base` (`git log base..tip`), oldest first.
    public func commits(from tip: String, notIn base: String) throws(GitError) -> [GitCommitMessage] {
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, handle), "git_revwalk_new")
        defer { git_revwalk_free(walk) }
        try check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_REVERSE.rawValue), "git_revwalk_sorting")
        var start = try oid(tip)
        try check(git_revwalk_push(walk, &start), "git_revwalk_push(\(tip))")
        if resolves(base) {
            var hidden = try oid(base)
            try check(git_revwalk_hide(walk, &hidden), "git_revwalk_hide(\(base))")
        }
        var result: [GitCommitMessage] = []
        var id = git_oid()
        while git_revwalk_next(&id, walk) == 0 {
            var commit: OpaquePointer?
            try check(git_commit_lookup(&commit, handle, &id), "git_commit_lookup")
            defer { git_commit_free(commit) }
            let subject = git_commit_summary(commit).map { String(cString: $0) } ?? ""
            let body = git_commit_body(commit).map { String(cString: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            result.append(GitCommitMessage(id: withUnsafePointer(to: &id) { Self.hex($0) }, subject: subject, body: body))
        }
        return result
    }

    /// The local branches' short names, sorted.
    public func localBranches() throws(GitError) -> [String] {
        var iterator: OpaquePointer?
        try check(git_branch_iterator_new(&iterator, handle, GIT_BRANCH_LOCAL), "git_branch_iterator_new")
        defer { git_branch_iterator_free(iterator) }
        var names: [String] = []
        var reference: OpaquePointer?
        var type = GIT_BRANCH_LOCAL
        while git_branch_next(&reference, &type, iterator) == 0 {
            if let name = git_reference_shorthand(reference) { names.append(String(cString: name)) }
            git_reference_free(reference)
        }
        return names.sorted()
    }
}
