import CGit2

/// A libgit2 call failed: which function, its return code, and libgit2's own message.
public struct GitError: Error, CustomStringConvertible, Sendable {
    public var function: String
    public var code: Int32
    public var message: String
    /// Files involved, when the failure is about some (checkout conflicts).
    public var paths: [String] = []

    public init(function: String, code: Int32, message: String, paths: [String] = []) {
        self.function = function
        self.code = code
        self.message = message
        self.paths = paths
    }

    public var description: String { "\(function) failed: \(message) (libgit2 error \(code))" }

    /// True when the failure is "not found" (a missing config key, reference, ...).
    public var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }
    /// True when uncommitted changes stopped a checkout.
    public var isConflict: Bool { code == GIT_ECONFLICT.rawValue }
    /// True when a branch has its own commits and cannot be fast-forwarded.
    public var isNotFastForward: Bool { code == GIT_ENONFASTFORWARD.rawValue }
}

/// Turns a libgit2 return code into a `GitError` carrying `git_error_last()`.
@discardableResult
func check(_ code: Int32, _ function: String) throws(GitError) -> Int32 {
    guard code < 0 else { return code }
    let message = git_error_last().flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown error"
    throw GitError(function: function, code: code, message: message)
}

/// libgit2's process-wide state, initialised once.
enum LibGit2 {
    static let initialised: Bool = git_libgit2_init() > 0
}

/// The linked libgit2, for `--version` and `doctor`.
public enum GitLibrary {
    /// Needs no `git_libgit2_init`, so `--version` stays cheap.
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        git_libgit2_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
