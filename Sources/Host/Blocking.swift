import Foundation

/// The one way async code runs blocking work (a C library call, a socket read, a pipe): on a
/// thread of its own, so the cooperative pool never stalls, with task cancellation reaching the
/// work through a `CancelFlag`.
public enum Blocking {
    /// Runs `body` on a new thread and returns what it returns. Cancelling the calling task
    /// sets `cancel` (a fresh flag unless one is given, e.g. one shared by several threads),
    /// which `body` checks and on which it registers how to stop a step already running.
    /// - Parameter stackSize: bytes of stack for the thread (libcurl and libgit2 need more than
    ///   the default 512 KiB of secondary threads on some systems).
    public static func run<T: Sendable>(cancel: CancelFlag = CancelFlag(), stackSize: Int? = nil,
                                        _ body: @escaping @Sendable (CancelFlag) throws -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let thread = Thread {
                    do {
                        continuation.resume(returning: try body(cancel))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                if let stackSize { thread.stackSize = stackSize }
                thread.start()
            }
        } onCancel: {
            cancel.cancel()
        }
    }

    /// `run` for work that cannot fail.
    public static func run<T: Sendable>(cancel: CancelFlag = CancelFlag(), stackSize: Int? = nil,
                                        _ body: @escaping @Sendable (CancelFlag) -> T) async -> T {
        // The throwing overload only rethrows what `body` throws, and this `body` throws nothing.
        try! await run(cancel: cancel, stackSize: stackSize) { (flag: CancelFlag) throws -> T in body(flag) }
    }
}
