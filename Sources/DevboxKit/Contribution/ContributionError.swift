import Git
import Host

/// Something stops `devbox push`, `devbox pr` or `devbox branch list`: the kind (what callers and
/// tests switch on) and a message saying what, why, and the command to type next. The local
/// branch and its commits are never touched when one is thrown.
public typealias ContributionError = KindedError<ContributionErrorKind>

/// What went wrong, for callers to switch on (never on the text).
public enum ContributionErrorKind: Sendable, Equatable {
    /// HEAD is not on a branch.
    case detached
    /// On the integration or production branch, which work never goes out from.
    case sharedBranch
    /// The branch has no commits the integration branch lacks.
    case nothingAhead
    /// Uncommitted changes would be left out of the pull request (`--allow-dirty` goes on).
    case dirty
    /// The push failed; the git failure's kind says why (`.notFastForward`, `.staleLease`,
    /// `.rejected`, `.authentication`, `.network`).
    case push(GitError.Kind)
    /// No GitHub repository could be named (no github.repository, origin not on GitHub).
    case noGitHubRepository
    /// The workspace has no remote named origin.
    case noOrigin
}
