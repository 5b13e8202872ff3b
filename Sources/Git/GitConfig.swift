import CGit2

/// A snapshot of git configuration (system, global, XDG and optionally a repository's), as
/// libgit2 reads it: the same files `git config` uses.
public final class GitConfig {
    private let handle: OpaquePointer

    /// The user's and system's configuration.
    public static func global() throws(GitError) -> GitConfig {
        _ = LibGit2.initialised
        var live: OpaquePointer?
        try check(git_config_open_default(&live), "git_config_open_default")
        defer { git_config_free(live) }
        // A snapshot gives consistent reads and is what libgit2 requires for string values.
        var snapshot: OpaquePointer?
        try check(git_config_snapshot(&snapshot, live), "git_config_snapshot")
        return GitConfig(handle: snapshot!)
    }

    private init(handle: OpaquePointer) { self.handle = handle }

    deinit { git_config_free(handle) }

    /// The value of `key` ("user.name"), or nil when unset.
    public func string(_ key: String) throws(GitError) -> String? {
        var value: UnsafePointer<CChar>?
        do {
            try check(git_config_get_string(&value, handle, key), "git_config_get_string(\(key))")
        } catch where error.kind == .notFound {
            return nil
        }
        return value.map { String(cString: $0) }
    }
}

@available(*, unavailable)
extension GitConfig: Sendable {}
