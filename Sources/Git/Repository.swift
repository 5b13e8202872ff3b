import CGit2
import Foundation
import Host
import Synchronization

/// How far a clone or fetch has come.
public struct GitProgress: Sendable, Equatable {
    public var receivedObjects: Int
    public var totalObjects: Int
    public var indexedObjects: Int
    public var receivedBytes: Int64
}

/// Credentials offered when a remote asks for them.
public enum GitCredentials: Sendable {
    case none
    /// HTTPS: a user name and a token (or password).
    case userPassword(username: String, password: String)
    /// SSH through the running ssh-agent.
    case sshAgent(username: String?)
}

/// A changed file in the working tree or index.
public struct GitFileStatus: Sendable, Equatable {
    public var path: String
    public var isUntracked: Bool

    public init(path: String, isUntracked: Bool) {
        self.path = path
        self.isUntracked = isUntracked
    }
}

/// A git repository on disk (libgit2). Blocking network work runs off the cooperative pool.
public final class Repository {
    let handle: OpaquePointer

    private init(handle: OpaquePointer) { self.handle = handle }

    deinit { git_repository_free(handle) }

    /// Opens the repository at `path` (its working tree or .git directory).
    public static func open(_ path: String) throws(GitError) -> Repository {
        _ = LibGit2.initialised
        var handle: OpaquePointer?
        try check(git_repository_open(&handle, path), "git_repository_open(\(path))")
        return Repository(handle: handle!)
    }

    /// Clones `url` into `path`, checking out `branch` (the remote's default when nil); `bare`
    /// makes a repository without a working tree (history only, what a build reads trees from).
    /// Cancelling the task stops the transfer; a failed clone leaves no directory behind.
    public static func clone(url: String, to path: String, branch: String? = nil, bare: Bool = false,
                             credentials: GitCredentials = .none, progress: (@Sendable (GitProgress) -> Void)? = nil) async throws {
        _ = LibGit2.initialised
        let context = RemoteContext(credentials: credentials, progress: progress)
        let existed = FileManager.default.fileExists(atPath: path)
        try await context.run {
            var options = git_clone_options()
            try check(git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION)), "git_clone_options_init")
            context.install(into: &options.fetch_opts.callbacks)
            options.bare = bare ? 1 : 0
            var repository: OpaquePointer?
            let code: Int32 = if let branch {
                branch.withCString { name in
                    options.checkout_branch = name
                    return git_clone(&repository, url, path, &options)
                }
            } else {
                git_clone(&repository, url, path, &options)
            }
            git_repository_free(repository)
            try context.check(code, "git_clone(\(url))")
        } cleanup: {
            if !existed { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    /// Fetches `remote` (refspecs as configured), updating remote-tracking branches; `prune`
    /// also removes those whose branch the remote no longer has.
    public func fetch(remote name: String = "origin", prune: Bool = false, credentials: GitCredentials = .none,
                      progress: (@Sendable (GitProgress) -> Void)? = nil) async throws {
        var remote: OpaquePointer?
        try check(git_remote_lookup(&remote, handle, name), "git_remote_lookup(\(name))")
        defer { git_remote_free(remote) }
        let context = RemoteContext(credentials: credentials, progress: progress)
        let box = UncheckedBox(remote)
        try await context.run {
            var options = git_fetch_options()
            try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
            context.install(into: &options.callbacks)
            if prune { options.prune = GIT_FETCH_PRUNE }
            try context.check(git_remote_fetch(box.value, nil, &options, nil), "git_remote_fetch(\(name))")
        } cleanup: {}
    }

    /// The working tree's path, nil for a bare repository.
    public var workingDirectory: String? {
        git_repository_workdir(handle).map { String(cString: $0) }
    }

    /// The URL of a remote, nil when there is no such remote.
    public func remoteURL(_ name: String = "origin") throws(GitError) -> String? {
        var remote: OpaquePointer?
        do {
            try check(git_remote_lookup(&remote, handle, name), "git_remote_lookup(\(name))")
        } catch where error.kind == .notFound {
            return nil
        }
        defer { git_remote_free(remote) }
        return git_remote_url(remote).map { String(cString: $0) }
    }

    /// The checked-out branch's short name; nil when HEAD is detached or unborn.
    public func currentBranch() throws(GitError) -> String? {
        var head: OpaquePointer?
        let code = git_repository_head(&head, handle)
        if code == GIT_EUNBORNBRANCH.rawValue || code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_repository_head")
        defer { git_reference_free(head) }
        guard git_reference_is_branch(head) == 1 else { return nil }
        return git_reference_shorthand(head).map { String(cString: $0) }
    }

    /// The commit id a reference ("HEAD", "origin/new_features", a branch) points to.
    public func commitID(of spec: String) throws(GitError) -> String {
        var object: OpaquePointer?
        try check(git_revparse_single(&object, handle, spec), "git_revparse_single(\(spec))")
        defer { git_object_free(object) }
        return Self.hex(git_object_id(object))
    }

    /// How many commits `local` has that `upstream` lacks, and the other way round.
    public func aheadBehind(_ local: String, _ upstream: String) throws(GitError) -> (ahead: Int, behind: Int) {
        var localID = git_oid()
        var upstreamID = git_oid()
        try check(git_oid_fromstr(&localID, try commitID(of: local)), "git_oid_fromstr")
        try check(git_oid_fromstr(&upstreamID, try commitID(of: upstream)), "git_oid_fromstr")
        var ahead = 0, behind = 0
        try check(git_graph_ahead_behind(&ahead, &behind, handle, &localID, &upstreamID), "git_graph_ahead_behind")
        return (ahead, behind)
    }

    /// Modified, staged and untracked files (ignored ones excluded).
    public func status() throws(GitError) -> [GitFileStatus] {
        var options = git_status_options()
        try check(git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
        var list: OpaquePointer?
        try check(git_status_list_new(&list, handle, &options), "git_status_list_new")
        defer { git_status_list_free(list) }
        var result: [GitFileStatus] = []
        for index in 0..<git_status_list_entrycount(list) {
            guard let entry = git_status_byindex(list, index)?.pointee else { continue }
            let delta = entry.index_to_workdir ?? entry.head_to_index
            guard let path = delta?.pointee.new_file.path ?? delta?.pointee.old_file.path else { continue }
            result.append(GitFileStatus(path: String(cString: path),
                                        isUntracked: entry.status.rawValue & GIT_STATUS_WT_NEW.rawValue != 0))
        }
        return result
    }

    static func hex(_ id: UnsafePointer<git_oid>?) -> String {
        guard let id else { return "" }
        var buffer = [CChar](repeating: 0, count: Int(GIT_OID_HEXSZ) + 1)
        git_oid_tostr(&buffer, buffer.count, id)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

@available(*, unavailable)
extension Repository: Sendable {}

/// A value handed to the worker thread that owns it while the call lasts.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// What libgit2's remote callbacks need: credentials (offered once: a second request means they
/// were refused), progress, and the cancellation flag.
final class RemoteContext: Sendable {
    let credentials: GitCredentials
    let progress: (@Sendable (GitProgress) -> Void)?
    /// Set when the awaiting task is cancelled; the progress callback then stops libgit2.
    private let cancel = CancelFlag()
    private let state = Mutex<(attempts: Int, refused: Bool)>((0, false))
    /// What a push learns on the way (see Repository+Push.swift).
    let push: PushState?

    init(credentials: GitCredentials, progress: (@Sendable (GitProgress) -> Void)?, push: PushState? = nil) {
        self.credentials = credentials
        self.progress = progress
        self.push = push
    }

    var isCancelled: Bool { cancel.isCancelled }

    func install(into callbacks: inout git_remote_callbacks) {
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
        callbacks.credentials = credentialCallback
        callbacks.transfer_progress = progressCallback
        if push != nil { installPushCallbacks(into: &callbacks) }
    }

    /// Runs `body` on a thread of its own; cancellation of the task aborts the transfer.
    func run(_ body: @escaping @Sendable () throws -> Void, cleanup: @escaping @Sendable () -> Void) async throws {
        try await Blocking.run(cancel: cancel) { cancel in
            do {
                try body()
            } catch {
                cleanup()
                throw cancel.isCancelled ? CancellationError() : error
            }
        }
    }

    /// Like `check`, but says "refused" (or "missing") when the remote turned our credentials
    /// down, and counts a failed system call as the network's.
    func check(_ code: Int32, _ function: String) throws(GitError) {
        guard code < 0 else { return }
        let refused = state.withLock { $0.refused }
        if let failure = push?.failure { throw failure }
        if refused || code == GIT_EAUTH.rawValue {
            if case .none = credentials {
                throw GitError(.authentication(.missing), function: function, code: code,
                               message: "the remote asks for credentials and none were given")
            }
            throw GitError(.authentication(.refused), function: function, code: code, message: "the remote refused the credentials")
        }
        throw GitError.last(code, function, transfer: true)
    }

    func nextCredentialAttempt() -> Int {
        state.withLock { state in
            state.attempts += 1
            if state.attempts > 1 { state.refused = true }
            return state.attempts
        }
    }
}

private func credentialCallback(_ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?, _ url: UnsafePointer<CChar>?,
                                _ usernameFromURL: UnsafePointer<CChar>?, _ allowed: UInt32,
                                _ payload: UnsafeMutableRawPointer?) -> Int32 {
    let context = Unmanaged<RemoteContext>.fromOpaque(payload!).takeUnretainedValue()
    // libgit2 asks again after a refusal; offering the same secret forever would loop.
    guard context.nextCredentialAttempt() == 1 else { return GIT_EAUTH.rawValue }
    switch context.credentials {
    case .none:
        return GIT_PASSTHROUGH.rawValue
    case .userPassword(let username, let password):
        guard allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else { return GIT_PASSTHROUGH.rawValue }
        return git_credential_userpass_plaintext_new(out, username, password)
    case .sshAgent(let username):
        guard allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 else { return GIT_PASSTHROUGH.rawValue }
        let name = username ?? usernameFromURL.map { String(cString: $0) } ?? "git"
        return git_credential_ssh_key_from_agent(out, name)
    }
}

private func progressCallback(_ stats: UnsafePointer<git_indexer_progress>?, _ payload: UnsafeMutableRawPointer?) -> Int32 {
    let context = Unmanaged<RemoteContext>.fromOpaque(payload!).takeUnretainedValue()
    if context.isCancelled { return -1 }
    if let stats = stats?.pointee, let progress = context.progress {
        progress(GitProgress(receivedObjects: Int(stats.received_objects), totalObjects: Int(stats.total_objects),
                             indexedObjects: Int(stats.indexed_objects), receivedBytes: Int64(stats.received_bytes)))
    }
    return 0
}

// MARK: branches

extension Repository {
    /// True when a local branch of that name exists.
    public func hasBranch(_ name: String) throws(GitError) -> Bool {
        var reference: OpaquePointer?
        let code = git_branch_lookup(&reference, handle, name, GIT_BRANCH_LOCAL)
        if code == GIT_ENOTFOUND.rawValue { return false }
        try check(code, "git_branch_lookup(\(name))")
        git_reference_free(reference)
        return true
    }

    /// True when `spec` (e.g. "origin/new_features") names a commit.
    public func resolves(_ spec: String) -> Bool {
        var object: OpaquePointer?
        guard git_revparse_single(&object, handle, spec) == 0 else { return false }
        git_object_free(object)
        return true
    }

    /// Creates the local branch `name` at the commit `spec` names; fails when it exists.
    public func createBranch(_ name: String, at spec: String) throws(GitError) {
        let commit = try lookupCommit(spec)
        defer { git_commit_free(commit) }
        var reference: OpaquePointer?
        try check(git_branch_create(&reference, handle, name, commit, 0), "git_branch_create(\(name))")
        git_reference_free(reference)
    }

    /// Deletes a local branch (used to undo a `createBranch` whose checkout failed).
    public func deleteBranch(_ name: String) throws(GitError) {
        var reference: OpaquePointer?
        try check(git_branch_lookup(&reference, handle, name, GIT_BRANCH_LOCAL), "git_branch_lookup(\(name))")
        defer { git_reference_free(reference) }
        try check(git_branch_delete(reference), "git_branch_delete(\(name))")
    }

    /// The remote-tracking branch `name` follows ("origin/new_features"), nil when none.
    public func upstream(of name: String) throws(GitError) -> String? {
        var reference: OpaquePointer?
        try check(git_branch_lookup(&reference, handle, name, GIT_BRANCH_LOCAL), "git_branch_lookup(\(name))")
        defer { git_reference_free(reference) }
        var upstream: OpaquePointer?
        let code = git_branch_upstream(&upstream, reference)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_branch_upstream(\(name))")
        defer { git_reference_free(upstream) }
        return git_reference_shorthand(upstream).map { String(cString: $0) }
    }

    /// Makes `name` track `upstream` ("origin/new_features").
    public func setUpstream(of name: String, to upstream: String) throws(GitError) {
        var reference: OpaquePointer?
        try check(git_branch_lookup(&reference, handle, name, GIT_BRANCH_LOCAL), "git_branch_lookup(\(name))")
        defer { git_reference_free(reference) }
        try check(git_branch_set_upstream(reference, upstream), "git_branch_set_upstream(\(name))")
    }

    /// Switches to the local branch `name` the way `git switch` does: files change only where
    /// the two commits differ, uncommitted changes are carried over, and when a change would be
    /// overwritten nothing at all is touched and the error lists the conflicting paths.
    public func checkout(branch name: String) throws(GitError) {
        let commit = try lookupCommit("refs/heads/\(name)")
        defer { git_commit_free(commit) }
        try checkoutSafely(commit, describing: name)
        try check(git_repository_set_head(handle, "refs/heads/\(name)"), "git_repository_set_head(\(name))")
    }

    /// Moves the checked-out branch forward to `spec` when that is a fast-forward, updating the
    /// working tree safely (uncommitted changes kept; refused when they would be overwritten).
    /// Returns how many commits it moved; throws `GitError` of kind `.notFastForward` when the
    /// branch has commits of its own.
    @discardableResult
    public func fastForward(to spec: String) throws(GitError) -> Int {
        guard let branch = try currentBranch() else {
            throw GitError(.noBranch, function: "fastForward", code: GIT_EUNBORNBRANCH.rawValue, message: "HEAD is not on a branch")
        }
        let (ahead, behind) = try aheadBehind("HEAD", spec)
        if behind == 0 { return 0 }
        guard ahead == 0 else {
            throw GitError(.notFastForward, function: "fastForward", code: GIT_ENONFASTFORWARD.rawValue,
                           message: "\(branch) has \(ahead) commit(s) that \(spec) lacks, so it cannot simply move forward")
        }
        let commit = try lookupCommit(spec)
        defer { git_commit_free(commit) }
        try checkoutSafely(commit, describing: spec)
        var reference: OpaquePointer?
        try check(git_reference_lookup(&reference, handle, "refs/heads/\(branch)"), "git_reference_lookup(\(branch))")
        defer { git_reference_free(reference) }
        var moved: OpaquePointer?
        try check(git_reference_set_target(&moved, reference, git_commit_id(commit), "devbox: fast-forward to \(spec)"),
                  "git_reference_set_target(\(branch))")
        git_reference_free(moved)
        return behind
    }

    /// How many commits are reachable from `tips` but from none of `excluded` (`git rev-list
    /// --count tips ^excluded`). Names that do not resolve are skipped.
    public func countCommits(reachableFrom tips: [String], excluding excluded: [String]) throws(GitError) -> Int {
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, handle), "git_revwalk_new")
        defer { git_revwalk_free(walk) }
        for tip in tips where resolves(tip) {
            var id = try oid(tip)
            try check(git_revwalk_push(walk, &id), "git_revwalk_push(\(tip))")
        }
        for hidden in excluded where resolves(hidden) {
            var id = try oid(hidden)
            try check(git_revwalk_hide(walk, &id), "git_revwalk_hide(\(hidden))")
        }
        var count = 0
        var id = git_oid()
        while git_revwalk_next(&id, walk) == 0 { count += 1 }
        return count
    }

    func oid(_ spec: String) throws(GitError) -> git_oid {
        var id = git_oid()
        try check(git_oid_fromstr(&id, try commitID(of: spec)), "git_oid_fromstr")
        return id
    }

    func lookupCommit(_ spec: String) throws(GitError) -> OpaquePointer {
        var object: OpaquePointer?
        try check(git_revparse_single(&object, handle, spec), "git_revparse_single(\(spec))")
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        try check(git_object_peel(&commit, object, GIT_OBJECT_COMMIT), "git_object_peel(\(spec))")
        return commit!
    }

    /// `GIT_CHECKOUT_SAFE` of `commit`'s tree. libgit2 checks every path before writing any, so
    /// a conflict leaves the working tree exactly as it was; we collect the paths to name them.
    func checkoutSafely(_ commit: OpaquePointer, describing target: String) throws(GitError) {
        var options = git_checkout_options()
        try check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
        options.checkout_strategy = GIT_CHECKOUT_SAFE.rawValue
        let conflicts = ConflictList()
        options.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT.rawValue
        options.notify_payload = Unmanaged.passUnretained(conflicts).toOpaque()
        options.notify_cb = { _, path, _, _, _, payload in
            let list = Unmanaged<ConflictList>.fromOpaque(payload!).takeUnretainedValue()
            if let path { list.paths.append(String(cString: path)) }
            return 0
        }
        let code = withExtendedLifetime(conflicts) {
            git_checkout_tree(handle, commit, &options)
        }
        if code == GIT_ECONFLICT.rawValue || !conflicts.paths.isEmpty && code < 0 {
            throw GitError(.conflict, function: "git_checkout_tree(\(target))", code: GIT_ECONFLICT.rawValue,
                           message: "uncommitted changes would be overwritten: \(conflicts.paths.sorted().joined(separator: ", "))",
                           paths: conflicts.paths.sorted())
        }
        try check(code, "git_checkout_tree(\(target))")
    }
}

/// Paths libgit2 reported as conflicting during a checkout.
final class ConflictList {
    var paths: [String] = []
}
