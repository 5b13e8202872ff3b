import CGit2
import Host

/// A libgit2 call failed, or a name broke git's rules: the kind of failure (what callers switch
/// on), which function, its return code, and libgit2's own message.
public struct GitError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A reference, branch, remote, config key or object does not exist (`GIT_ENOTFOUND`).
        case notFound
        /// Something of that name already exists (`GIT_EEXISTS`).
        case exists
        /// Uncommitted changes would be overwritten; `paths` names them (`GIT_ECONFLICT`).
        case conflict
        /// The branch has commits of its own, so it cannot simply move forward (or, pushing, the
        /// remote's branch has commits ours lacks).
        case notFastForward
        /// A push with a lease found the remote branch moved since we last fetched it.
        case staleLease
        /// The remote refused a pushed reference (a protected branch, a hook); `message` has its reason.
        case rejected
        /// The remote wants credentials: it turned ours down, or we had none to offer.
        case authentication(Authentication)
        /// The remote could not be reached or the transfer failed (network, TLS, HTTP, SSH).
        case network
        /// A name breaks git's reference-name rules (`GIT_EINVALIDSPEC`, or `BranchName` first).
        case invalidName
        /// Another git process holds a lock on the repository (`index.lock`, `GIT_ELOCKED`).
        case locked
        /// HEAD is detached, or its branch has no commit yet.
        case noBranch
        /// Anything else libgit2 reported; `code` and `message` tell more.
        case other
    }

    public enum Authentication: Sendable, Equatable {
        /// The remote refused the credentials devbox sent.
        case refused
        /// The remote asked for credentials and none were configured.
        case missing
    }

    public var kind: Kind
    public var function: String
    public var code: Int32
    public var message: String
    /// Files involved, when the failure is about some (checkout conflicts).
    public var paths: [String] = []

    public init(_ kind: Kind, function: String, code: Int32 = -1, message: String, paths: [String] = []) {
        self.kind = kind
        self.function = function
        self.code = code
        self.message = message
        self.paths = paths
    }

    public var description: String { "\(function) failed: \(message) (libgit2 error \(code))" }

    /// The failure libgit2 just reported on this thread (`git_error_last()`). In a transfer an
    /// operating-system failure is the connection's (files come later), so it counts as `.network`.
    static func last(_ code: Int32, _ function: String, transfer: Bool = false) -> GitError {
        let last = git_error_last()?.pointee
        let message = last?.message.map { String(cString: $0) } ?? "unknown error"
        let errorClass = last?.klass ?? 0
        var kind = kind(code: code, errorClass: errorClass)
        if transfer, kind == .other, errorClass == Int32(GIT_ERROR_OS.rawValue) { kind = .network }
        return GitError(kind, function: function, code: code, message: message)
    }

    /// The kind a libgit2 return code and error class stand for.
    static func kind(code: Int32, errorClass: Int32) -> Kind {
        switch code {
        case GIT_ENOTFOUND.rawValue: return .notFound
        case GIT_EEXISTS.rawValue: return .exists
        case GIT_ECONFLICT.rawValue, GIT_EMERGECONFLICT.rawValue, GIT_EUNCOMMITTED.rawValue: return .conflict
        case GIT_ENONFASTFORWARD.rawValue: return .notFastForward
        case GIT_EAUTH.rawValue: return .authentication(.refused)
        case GIT_ECERTIFICATE.rawValue: return .network
        case GIT_EINVALIDSPEC.rawValue: return .invalidName
        case GIT_ELOCKED.rawValue: return .locked
        case GIT_EUNBORNBRANCH.rawValue: return .noBranch
        default:
            let transport = [GIT_ERROR_NET, GIT_ERROR_SSL, GIT_ERROR_SSH, GIT_ERROR_HTTP].map { Int32($0.rawValue) }
            return transport.contains(errorClass) ? .network : .other
        }
    }
}

/// Turns a libgit2 return code into a `GitError` carrying `git_error_last()` and its kind.
@discardableResult
func check(_ code: Int32, _ function: String) throws(GitError) -> Int32 {
    guard code < 0 else { return code }
    throw GitError.last(code, function)
}

/// libgit2's process-wide state, initialised once.
enum LibGit2 {
    static let initialised: Bool = {
        let count = git_libgit2_init()
        // libgit2 writes a push's pack object by object, and over HTTP every write went out as a
        // chunk of its own (33,000 sends for 1,000 commits): its sockets now gather them.
        _ = git_shim_register_buffered_stream()
        // Debian's libgit2 (mbedTLS) reads only Debian's CA bundle; elsewhere (Amazon Linux) the
        // portable devbox points it at the machine's own.
        if let bundle = SystemTrust.bundle(compiledDefault: SystemTrust.debian) { _ = git_shim_set_ssl_cert_file(bundle) }
        return count > 0
    }()
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
