import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A monotonic clock in seconds; tests pass their own.
public typealias SecondsClock = @Sendable () -> Double

/// Seconds since an arbitrary fixed point, never going backwards.
public let monotonicSeconds: SecondsClock = {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// What a progress bar counts.
public enum ProgressUnit: Sendable, Equatable {
    case bytes
    /// Plain counts, e.g. `.items("rows")`.
    case items(String)

    func format(_ value: Int64) -> String {
        switch self {
        case .bytes: Format.bytes(value)
        case .items(let noun): "\(value) \(noun)"
        }
    }

    func rate(_ perSecond: Double) -> String {
        switch self {
        case .bytes: "\(Format.bytes(Int64(perSecond)))/s"
        case .items(let noun): "\(Int(perSecond)) \(noun)/s"
        }
    }
}

/// A progress line on stderr with amount, rate and ETA. On a terminal it redraws in place (at
/// most ten times a second); otherwise it prints a plain line every few seconds, so logs of CI
/// runs and pipes stay readable. Safe to update from any thread.
public final class ProgressBar: Sendable {
    struct State {
        var completed: Int64 = 0
        var total: Int64?
        var started: Double
        var lastDraw: Double = -.infinity
        /// (time, completed) samples of the last few seconds, for the rate.
        var samples: [(Double, Int64)] = []
        var finished = false
    }

    public let label: String
    public let unit: ProgressUnit
    private let output: TextOutput
    private let clock: SecondsClock
    private let plainInterval: Double
    private let width: Int
    private let state: Mutex<State>

    public init(label: String, total: Int64?, unit: ProgressUnit = .bytes, output: TextOutput,
                clock: @escaping SecondsClock = monotonicSeconds, plainInterval: Double = 5, width: Int = 80) {
        self.label = label
        self.unit = unit
        self.output = output
        self.clock = clock
        self.plainInterval = plainInterval
        self.width = width
        let now = clock()
        state = Mutex(State(total: total, started: now, samples: [(now, 0)]))
    }

    public func update(completed: Int64, total: Int64? = nil) {
        let now = clock()
        let line: String? = state.withLock { state in
            guard !state.finished else { return nil }
            state.completed = completed
            if let total { state.total = total }
            // One sample per 100 ms at most: callers such as libgit2's indexer report a hundred
            // thousand times a second, and the rate needs only the last few seconds' shape.
            if now - (state.samples.last?.0 ?? -.infinity) >= 0.1 {
                state.samples.append((now, completed))
                while state.samples.count > 2, now - state.samples[1].0 > 3 { state.samples.removeFirst() }
            }
            let interval = output.isInteractive ? 0.1 : plainInterval
            guard now - state.lastDraw >= interval else { return nil }
            state.lastDraw = now
            return output.isInteractive ? "\r\u{1B}[2K" + render(state, now: now) : plainLine(state, now: now) + "\n"
        }
        if let line { output.write(line) }
    }

    /// Draws the final state and ends the line; `summary` replaces the default "done" text.
    public func finish(_ summary: String? = nil) {
        let now = clock()
        let line: String? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            let elapsed = max(now - state.started, 1e-9)
            let text = summary ?? "done, \(unit.format(state.completed)) in \(Format.duration(elapsed))"
                + (unit == .bytes ? " (\(unit.rate(Double(state.completed) / elapsed)))" : "")
            return output.isInteractive ? "\r\u{1B}[2K\(label): \(text)\n" : "\(label): \(text)\n"
        }
        if let line { output.write(line) }
    }

    func rate(_ state: State, now: Double) -> Double? {
        guard let first = state.samples.first, now - first.0 > 0.2 else { return nil }
        return Double(state.completed - first.1) / (now - first.0)
    }

    func eta(_ state: State, now: Double) -> Double? {
        guard let total = state.total, let rate = rate(state, now: now), rate > 0 else { return nil }
        return Double(max(0, total - state.completed)) / rate
    }

    /// The interactive line: "label [=====>    ]  45%  450.0 MiB / 1.0 GiB  112.3 MiB/s  ETA 5.0 s".
    func render(_ state: State, now: Double) -> String {
        var tail = ""
        if let total = state.total, total > 0 {
            tail += "  \(percent(state.completed, total))  \(unit.format(state.completed)) / \(unit.format(total))"
        } else {
            tail += "  \(unit.format(state.completed))"
        }
        if let rate = rate(state, now: now) { tail += "  \(unit.rate(rate))" }
        if let eta = eta(state, now: now) { tail += "  ETA \(Format.duration(eta))" }
        guard let total = state.total, total > 0 else { return label + tail }
        let barWidth = max(10, min(40, width - label.count - tail.count - 3))
        let filled = Int(Double(barWidth) * min(1, Double(state.completed) / Double(total)))
        let bar = String(repeating: "=", count: filled) + (filled < barWidth ? ">" : "")
            + String(repeating: " ", count: max(0, barWidth - filled - 1))
        return "\(label) [\(bar)]" + tail
    }

    /// The non-interactive line: "label: 45% (450.0 MiB of 1.0 GiB), 112.3 MiB/s, ETA 5.0 s".
    func plainLine(_ state: State, now: Double) -> String {
        var text = "\(label): "
        if let total = state.total, total > 0 {
            text += "\(percent(state.completed, total)) (\(unit.format(state.completed)) of \(unit.format(total)))"
        } else {
            text += unit.format(state.completed)
        }
        if let rate = rate(state, now: now) { text += ", \(unit.rate(rate))" }
        if let eta = eta(state, now: now) { text += ", ETA \(Format.duration(eta))" }
        return text
    }

    private func percent(_ completed: Int64, _ total: Int64) -> String {
        "\(Int(min(100, (Double(completed) * 100 / Double(total)).rounded(.down))))%"
    }
}
