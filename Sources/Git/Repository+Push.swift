import CGit2
import Synchronization

/// How far a push has come: objects packed and sent, bytes on the wire.
public struct GitPushProgress: Sendable, Equatable {
    public var sentObjects: Int
    public var totalObjects: Int
    public var sentBytes: Int64
}

/// What a push may overwrite on the remote.
public enum GitPushLease: Sendable, Equatable {
    /// Only a fast-forward (git's default).
    case fastForward
    /// Anything, provided the remote branch still points at `expected` (nil: it must not exist):
    /// `git push --force-with-lease`. Checked against the tip the remote advertises in the push
    /// itself, which the remote verifies again when it applies the update, so nobody's commits
    /// pushed in between can be lost.
    case forceIfAt(expected: String?)
}

/// What one push did.
public struct GitPushResult: Sendable, Equatable {
    /// The remote branch's tip before the push (nil: the branch was new).
    public var previousTip: String?
    /// The tip pushed.
    public var tip: String
    public var objects: Int
    public var bytes: Int64
    /// False when the remote already had `tip`: nothing was sent.
    public var updated: Bool
}

/// What libgit2's push callbacks record and decide during one push.
final class PushState: Sendable {
    let lease: GitPushLease
    let progress: (@Sendable (GitPushProgress) -> Void)?
    private let state = Mutex<(previous: String??, rejection: String?, failure: GitError?, last: GitPushProgress?, remote: String)>(
        (nil, nil, nil, nil, ""))

    init(lease: GitPushLease, progress: (@Sendable (GitPushProgress) -> Void)?) {
        self.lease = lease
        self.progress = progress
    }

    /// The remote's tip as the push negotiation saw it; `.some(nil)` for a new branch, nil when
    /// there was nothing to negotiate (the remote already had our tip).
    var previous: String?? { state.withLock { $0.previous } }
    var rejection: String? { state.withLock { $0.rejection } }
    var failure: GitError? { state.withLock { $0.failure } }
    var last: GitPushProgress? { state.withLock { $0.last } }

    func negotiated(remoteTip: String?) -> Int32 {
        state.withLock { state in
            state.previous = .some(remoteTip)
            if case .forceIfAt(let expected) = lease, expected != remoteTip {
                let seen = remoteTip.map { "is now at \($0.prefix(7))" } ?? "no longer exists"
                let known = expected.map { "the \($0.prefix(7)) we last fetched" } ?? "absent, as we last saw it"
                state.failure = GitError(.staleLease, function: "git_remote_push", code: GIT_EUSER.rawValue,
                                         message: "the remote branch \(seen), not \(known)")
                return GIT_EUSER.rawValue
            }
            return 0
        }
    }

    func rejected(_ reference: String, _ reason: String) {
        state.withLock { $0.rejection = "\(reference): \(reason)" }
    }

    /// What the remote printed for us ("remote: ..." lines: a hook's or a protected branch's words).
    func remoteSaid(_ text: String) {
        state.withLock { state in
            guard state.remote.utf8.count < 4096 else { return }
            state.remote += text
        }
    }

    /// The remote's own lines, progress meters left out.
    var remoteMessage: String? {
        let text = state.withLock { $0.remote }
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("Resolving deltas") && !$0.hasPrefix("Unpacking objects") }
        return lines.isEmpty ? nil : lines.suffix(5).joined(separator: " ")
    }

    func report(_ progress: GitPushProgress) {
        state.withLock { $0.last = progress }
        self.progress?(progress)
    }
}

extension Repository {
    /// Pushes the local branch `branch` to the branch of the same name on `remote`, as `lease`
    /// allows, and moves the remote-tracking branch (`origin/<branch>`). Credentials are offered
    /// through libgit2's callback only: nothing is written to the configuration or the URL.
    /// Throws `GitError` of kind `.notFastForward`, `.staleLease`, `.rejected` (with the remote's
    /// reason), `.authentication` or `.network`; the local branch is never touched.
    public func push(branch: String, to remote: String = "origin", lease: GitPushLease = .fastForward,
                     credentials: GitCredentials = .none,
                     progress: (@Sendable (GitPushProgress) -> Void)? = nil) async throws -> GitPushResult {
        let tip = try commitID(of: "refs/heads/\(branch)")
        var handle: OpaquePointer?
        try check(git_remote_lookup(&handle, self.handle, remote), "git_remote_lookup(\(remote))")
        defer { git_remote_free(handle) }
        let push = PushState(lease: lease, progress: progress)
        let context = RemoteContext(credentials: credentials, progress: nil, push: push)
        let box = UncheckedBox(handle)
        let force = if case .forceIfAt = lease { "+" } else { "" }
        let refspec = "\(force)refs/heads/\(branch):refs/heads/\(branch)"
        try await context.run {
            var options = git_push_options()
            try check(git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
            context.install(into: &options.callbacks)
            options.pb_parallelism = 0  // delta search on every core
            // Re-hashing every object read to pack it costs a quarter of the push's CPU; the remote
            // hashes every object it receives anyway, and git's pack-objects does not re-hash either.
            _ = git_shim_set_strict_hash_verification(0)
            defer { _ = git_shim_set_strict_hash_verification(1) }
            let code = refspec.withCString { spec in
                var strings: [UnsafeMutablePointer<CChar>?] = [UnsafeMutablePointer(mutating: spec)]
                return strings.withUnsafeMutableBufferPointer { buffer in
                    var array = git_strarray(strings: buffer.baseAddress, count: 1)
                    return git_remote_push(box.value, &array, &options)
                }
            }
            try context.check(code, "git_remote_push(\(remote) \(branch))")
            if let rejection = push.rejection {
                throw GitError(.rejected, function: "git_remote_push(\(remote) \(branch))", code: GIT_ERROR.rawValue,
                               message: "the remote refused \(rejection)" + (push.remoteMessage.map { " (it said: \($0))" } ?? ""))
            }
        } cleanup: {}
        let sent = push.last
        // Without a negotiation (or with the remote already at our tip) nothing changed.
        let previous: String?? = push.previous
        let updated = previous.map { $0 != tip } ?? false
        return GitPushResult(previousTip: previous ?? tip, tip: tip, objects: updated ? sent?.totalObjects ?? 0 : 0,
                             bytes: updated ? sent?.sentBytes ?? 0 : 0, updated: updated)
    }
}

extension RemoteContext {
    func installPushCallbacks(into callbacks: inout git_remote_callbacks) {
        callbacks.push_transfer_progress = { current, total, bytes, payload in
            let context = Unmanaged<RemoteContext>.fromOpaque(payload!).takeUnretainedValue()
            if context.isCancelled { return -1 }
            context.push?.report(GitPushProgress(sentObjects: Int(current), totalObjects: Int(total), sentBytes: Int64(bytes)))
            return 0
        }
        callbacks.pack_progress = { _, _, _, payload in
            Unmanaged<RemoteContext>.fromOpaque(payload!).takeUnretainedValue().isCancelled ? -1 : 0
        }
        callbacks.push_negotiation = { updates, count, payload in
            let context = Unmanaged<RemoteContext>.fromOpaque(payload!).takeUnretainedValue()
            guard let updates, count > 0, let update = updates[0]?.pointee else { return 0 }
            var old = update.src
            let remoteTip: String? = git_oid_is_zero(&old) == 1 ? nil : withUnsafePointer(to: &old) { Repository.hex($0) }
            return context.push?.negotiated(remoteTip: remoteTip) ?? 0
        }
        callbacks.sideband_progress = { text, length, payload in
            let context = Unmanaged<RemoteContext>.fromOpaque(payload!).takeUnretainedValue()
            if let text, length > 0 {
                let bytes = UnsafeRawBufferPointer(start: text, count: Int(length))
                context.push?.remoteSaid(String(decoding: bytes, as: UTF8.self))
            }
            return context.isCancelled ? -1 : 0
        }
        callbacks.push_update_reference = { reference, status, payload in
            let context = Unmanaged<RemoteContext>.fromOpaque(payload!).takeUnretainedValue()
            if let status {
                context.push?.rejected(reference.map { String(cString: $0) } ?? "?", String(cString: status))
            }
            return 0
        }
    }
}
