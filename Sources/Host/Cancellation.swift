import Foundation
import Synchronization

/// Set once (Ctrl-C, a failure elsewhere), read from any thread. Blocking work checks it
/// between steps and registers what stops a step already running (close a socket, `KILL QUERY`,
/// abandon a pipe) with `onCancel`, so cancelling never waits for a long step to end.
public final class CancelFlag: Sendable {
    private struct State {
        var cancelled = false
        var next = 0
        var actions: [Int: @Sendable () -> Void] = [:]
        /// The actions taken by `cancel` are running.
        var running = false
    }

    private let state = Mutex(State())

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Sets the flag and runs every registered action once, outside the lock.
    public func cancel() {
        let actions: [@Sendable () -> Void] = state.withLock { state in
            guard !state.cancelled else { return [] }
            state.cancelled = true
            state.running = true
            defer { state.actions = [:] }
            return state.actions.sorted { $0.key < $1.key }.map(\.value)
        }
        for action in actions { action() }
        state.withLock { $0.running = false }
    }

    /// Runs `action` when the flag is set (at once if it already is) until the returned
    /// registration is ended.
    @discardableResult
    public func onCancel(_ action: @escaping @Sendable () -> Void) -> Registration {
        let id: Int? = state.withLock { state in
            guard !state.cancelled else { return nil }
            state.next += 1
            state.actions[state.next] = action
            return state.next
        }
        guard let id else {
            action()
            return Registration(flag: nil, id: 0)
        }
        return Registration(flag: self, id: id)
    }

    /// Throws `CancellationError` when the flag is set.
    public func check() throws(CancellationError) {
        if isCancelled { throw CancellationError() }
    }

    /// An action registered with `onCancel`; `end()` removes it (idempotent), and when `cancel`
    /// has already taken it, waits until it has run: what comes after `end()` (a clean-up on the
    /// same connection) is then never hit by a stop meant for the step before.
    public struct Registration: Sendable {
        fileprivate let flag: CancelFlag?
        fileprivate let id: Int

        public func end() {
            guard let flag else { return }
            while flag.state.withLock({ state in
                state.actions.removeValue(forKey: id)
                return state.running
            }) {
                usleep(1_000)
            }
        }
    }
}
