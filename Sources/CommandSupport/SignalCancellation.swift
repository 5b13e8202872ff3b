import Dispatch
import Foundation
import Host
import Synchronization
import Terminal

/// SIGINT, SIGTERM and SIGHUP become cancellation of the running command: the first one cancels
/// it (it stops at its next check, undoes what it started and says what was left as it was); a
/// second one, for someone who will not wait, ends the process at once.
public final class SignalCancellation: Sendable {
    public static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private struct State {
        var received: Int32?
        var actions: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    private init() {}

    /// Takes over the three signals for the rest of the process.
    public static func install() -> SignalCancellation {
        let cancellation = SignalCancellation()
        var sources: [any DispatchSourceSignal] = []
        for number in handled {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { cancellation.deliver(number) }
            source.resume()
            sources.append(source)
        }
        installedSources = sources
        return cancellation
    }

    /// The first signal that arrived, if any.
    public var received: Int32? { state.withLock { $0.received } }

    /// Runs `action` on the first signal (at once if one already arrived).
    public func whenSignalled(_ action: @escaping @Sendable () -> Void) {
        let already = state.withLock { state -> Bool in
            if state.received != nil { return true }
            state.actions.append(action)
            return false
        }
        if already { action() }
    }

    func deliver(_ number: Int32) {
        let actions: [@Sendable () -> Void]? = state.withLock { state in
            guard state.received == nil else { return nil }
            state.received = number
            defer { state.actions = [] }
            return state.actions
        }
        guard let actions else {
            if CriticalSection.isActive {
                // Leaving now would leave a swap half-done: finish it first, then go.
                FileDescriptorOutput.standardError.write("\nfinishing the swap already under way, then leaving…\n")
                CriticalSection.waitUntilDone()
            } else {
                FileDescriptorOutput.standardError.write("\nleaving at once (second signal).\n")
            }
            exit(128 + number)
        }
        let name = number == SIGINT ? "Ctrl-C" : (number == SIGTERM ? "SIGTERM" : "SIGHUP")
        FileDescriptorOutput.standardError.write("\n\(name): stopping and undoing what is unfinished (again to leave at once)…\n")
        // Off the signal queue: stopping may take network round trips (KILL QUERY), and a second
        // signal must still be heard meanwhile.
        DispatchQueue.global().async { for action in actions { action() } }
    }
}

/// The signal sources stay alive for the rest of the process; written once, by `install`, on the
/// main task before any signal can be delivered.
nonisolated(unsafe) private var installedSources: [any DispatchSourceSignal] = []
