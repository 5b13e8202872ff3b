import Foundation
import Synchronization

/// Questions asked on the terminal before something that cannot be undone.
public enum Prompt {
    /// Asks `question` on stderr and reads one line from stdin; true only for `expected`
    /// (typed exactly). Nil when stdin is not a terminal: scripts must pass `--yes` instead.
    /// Ctrl-C while it waits cancels the task, and the question throws `CancellationError`.
    public static func confirm(_ question: String, expected: String = "yes", output: TextOutput,
                               isInteractive: Bool = isatty(STDIN_FILENO) == 1) async throws -> Bool? {
        guard isInteractive else { return nil }
        output.write("\(question) Type \(expected) to go on: ")
        guard let answer = try await AnswerLine.read() else { return false }
        return answer.trimmingCharacters(in: .whitespaces) == expected
    }

    /// Asks `question` on stderr, showing `suggestion` (taken on an empty answer), and reads one
    /// line from stdin. Nil when stdin is not a terminal; Ctrl-C throws `CancellationError`.
    public static func ask(_ question: String, suggestion: String?, output: TextOutput,
                           isInteractive: Bool = isatty(STDIN_FILENO) == 1) async throws -> String? {
        guard isInteractive else { return nil }
        output.write(question + (suggestion.map { " [\($0)]" } ?? "") + ": ")
        let answer = try await AnswerLine.read()?.trimmingCharacters(in: .whitespaces) ?? ""
        return answer.isEmpty ? suggestion ?? "" : answer
    }
}

/// One line from stdin, read on a thread of its own; cancellation answers for it at once (the
/// reading thread stays blocked in `readLine` until the process ends, which it then does).
private final class AnswerLine: Sendable {
    private let continuation = Mutex<CheckedContinuation<String?, any Error>?>(nil)

    static func read() async throws -> String? {
        let line = AnswerLine()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                line.continuation.withLock { $0 = continuation }
                if Task.isCancelled { line.resume(with: .failure(CancellationError())) }
                Thread.detachNewThread { line.resume(with: .success(readLine(strippingNewline: true))) }
            }
        } onCancel: {
            line.resume(with: .failure(CancellationError()))
        }
    }

    /// The first answer wins; later ones are dropped.
    func resume(with result: Result<String?, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}
