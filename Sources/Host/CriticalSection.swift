import Foundation
import Synchronization

/// Work that must not be left half-done (an atomic swap and what follows it): while any runs,
/// a second Ctrl-C does not end the process at once but waits for it, and says so.
public enum CriticalSection {
    private static let depth = Atomic<Int>(0)

    /// True while some thread is inside `run`.
    public static var isActive: Bool { depth.load(ordering: .acquiring) > 0 }

    public static func run<T>(_ body: () throws -> T) rethrows -> T {
        depth.add(1, ordering: .releasing)
        defer { depth.subtract(1, ordering: .releasing) }
        return try body()
    }

    /// Waits (polling) until no critical section runs.
    public static func waitUntilDone() {
        while isActive { usleep(10_000) }
    }
}
