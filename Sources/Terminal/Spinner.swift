import Synchronization

/// Shows that a wait is in progress: an animated frame on a terminal, one line otherwise.
/// `Spinner.during` runs an async body with a spinner and reports how long it took.
public final class Spinner: Sendable {
    static let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

    private let output: TextOutput
    private let clock: SecondsClock
    private let started: Double
    private let state = Mutex<(frame: Int, label: String, finished: Bool)>((0, "", false))

    public init(_ label: String, output: TextOutput, clock: @escaping SecondsClock = monotonicSeconds) {
        self.output = output
        self.clock = clock
        self.started = clock()
        state.withLock { $0.label = label }
        output.write(output.isInteractive ? "\(Self.frames[0]) \(label)" : "\(label)...\n")
    }

    /// Changes the text next to the spinner (e.g. "waiting for db (healthy 1/2)").
    public func update(_ label: String) {
        let line: String? = state.withLock { state in
            guard !state.finished, state.label != label else { return nil }
            state.label = label
            return output.isInteractive ? "\r\u{1B}[2K\(Self.frames[state.frame]) \(label)" : "\(label)...\n"
        }
        if let line { output.write(line) }
    }

    /// Writes a line of its own above the spinner (on a terminal the spinner's line is cleared
    /// first and drawn again below it), e.g. each event of a long operation.
    public func interject(_ line: String) {
        let text: String = state.withLock { state in
            guard output.isInteractive, !state.finished else { return line + "\n" }
            return "\r\u{1B}[2K\(line)\n\(Self.frames[state.frame]) \(state.label)"
        }
        output.write(text)
    }

    /// Advances the animation; a no-op when output is not a terminal.
    public func tick() {
        guard output.isInteractive else { return }
        let line: String? = state.withLock { state in
            guard !state.finished else { return nil }
            state.frame = (state.frame + 1) % Self.frames.count
            return "\r\u{1B}[2K\(Self.frames[state.frame]) \(state.label)"
        }
        if let line { output.write(line) }
    }

    /// Ends the spinner with "label: result (time)"; `label` replaces the last progress text.
    public func finish(_ result: String, succeeded: Bool = true, label: String? = nil) {
        let elapsed = clock() - started
        let line: String? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            let mark = succeeded ? "✔" : "✘"
            let text = "\(label ?? state.label): \(result) (\(Format.duration(elapsed)))"
            return output.isInteractive ? "\r\u{1B}[2K\(mark) \(text)\n" : "\(text)\n"
        }
        if let line { output.write(line) }
    }

    /// Runs `body` while a spinner labelled `label` turns; finishes with "done" or "failed".
    public static func during<T: Sendable>(_ label: String, output: TextOutput,
                                           _ body: @Sendable () async throws -> T) async throws -> T {
        try await during(label, output: output, finish: { _ in ("done", nil) }) { _ in try await body() }
    }

    /// Runs `body` while a spinner labelled `label` turns; `body` may change the label as it goes.
    /// Finishes with what `finish` makes of the value (result and final label), or "failed".
    public static func during<T: Sendable>(_ label: String, output: TextOutput,
                                           finish: @Sendable (T) -> (result: String, label: String?),
                                           _ body: @Sendable (Spinner) async throws -> T) async throws -> T {
        let spinner = Spinner(label, output: output)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                spinner.tick()
            }
        }
        defer { ticker.cancel() }
        do {
            let value = try await body(spinner)
            let (result, label) = finish(value)
            spinner.finish(result, label: label)
            return value
        } catch {
            spinner.finish("failed", succeeded: false)
            throw error
        }
    }
}
