import Foundation
import Host
import Terminal

/// Everything one fleet run did: the command, the machines, each host's result (in the order
/// they completed), a summary and the exit status it implies. `--json` prints it whole.
public struct FleetRunReport: Sendable, Encodable {
    public var command: String
    public var commandIDs: [String] = []
    public var selection: FleetSelection?
    public var limits: FleetLimits?
    public var hosts: [HostResult] = []
    /// Ctrl-C stopped it: CancelCommand was sent for what had not finished.
    public var interrupted = false
    public var seconds: Double = 0

    public init(command: String, selection: FleetSelection?, limits: FleetLimits?) {
        self.command = command
        self.selection = selection
        self.limits = limits
    }

    mutating func finish(_ started: ContinuousClock.Instant) {
        seconds = (ContinuousClock.now - started).seconds
    }

    public var failed: [HostResult] { hosts.filter { $0.outcome.isFailure } }

    /// The number of hosts that did not succeed, capped at 125 (126 and up mean other things to shells).
    public var exitStatus: Int32 { Int32(min(failed.count, 125)) }

    public struct Summary: Sendable, Encodable {
        public var total: Int
        public var ok: Int
        public var failed: Int
        public var timedOut: Int
        public var undeliverable: Int
        public var offline: Int
        public var cancelled: Int
        public var running: Int
        public var lost: Int
    }

    public var summary: Summary {
        func count(_ outcome: HostOutcome) -> Int { hosts.filter { $0.outcome == outcome }.count }
        return Summary(total: hosts.count, ok: count(.ok), failed: count(.failed), timedOut: count(.timedOut),
                       undeliverable: count(.undeliverable), offline: count(.offline), cancelled: count(.cancelled), running: count(.running),
                       lost: count(.lost))
    }

    enum CodingKeys: String, CodingKey {
        case command, commandIDs = "commandIds", selection, limits, hosts, summary, failedHosts, exitStatus, interrupted, seconds
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encode(commandIDs, forKey: .commandIDs)
        try container.encodeIfPresent(selection, forKey: .selection)
        try container.encodeIfPresent(limits, forKey: .limits)
        try container.encode(hosts, forKey: .hosts)
        try container.encode(summary, forKey: .summary)
        try container.encode(failed.map(\.host.label), forKey: .failedHosts)
        try container.encode(exitStatus, forKey: .exitStatus)
        try container.encode(interrupted, forKey: .interrupted)
        try container.encode(seconds, forKey: .seconds)
    }

    // MARK: Text

    /// "5 machines: 3 ok, 1 failed, 1 offline (12.3 s). Failed: bob (exit 3), ..."
    public func renderSummary(_ policy: ColorPolicy) -> String {
        let counts = summary
        var parts = ["\(counts.ok) ok"]
        for (count, name) in [(counts.failed, "failed"), (counts.timedOut, "timed out"), (counts.undeliverable, "undeliverable"),
                              (counts.offline, "offline"), (counts.cancelled, "cancelled"), (counts.running, "still running"),
                              (counts.lost, "lost")] where count > 0 {
            parts.append("\(count) \(name)")
        }
        var text = "\(counts.total) machine\(counts.total == 1 ? "" : "s"): \(parts.joined(separator: ", ")) in \(HostResult.seconds(seconds))."
        text = (failed.isEmpty ? Style.green : Style.red).apply(text, policy)
        if !failed.isEmpty {
            let listed = failed.map { result -> String in
                let why = result.exitCode.map { "exit \($0)" } ?? result.outcome.rawValue
                return "\(Printable.escaping(result.host.label)) (\(why))"
            }
            text += "\nNot ok: " + listed.joined(separator: ", ")
        }
        if interrupted { text += "\nInterrupted: CancelCommand was sent for what had not finished." }
        if !commandIDs.isEmpty { text += "\nCommand: \(commandIDs.joined(separator: ", ")) (`adminctl run show ID` shows it again)" }
        return text
    }

    /// The whole report as `--group` prints it: hosts with identical results in one block.
    public func renderGrouped(_ policy: ColorPolicy) -> String {
        var blocks: [(key: OutputKey, hosts: [HostResult])] = []
        for result in hosts {
            let key = OutputKey(result)
            if let index = blocks.firstIndex(where: { $0.key == key }) { blocks[index].hosts.append(result) }
            else { blocks.append((key, [result])) }
        }
        var lines: [String] = []
        for block in blocks {
            let first = block.hosts[0]
            let names = block.hosts.map { Printable.escaping($0.host.label) }.sorted().joined(separator: ", ")
            let headline = block.hosts.count == 1 ? first.headline : "\(first.outcome.rawValue)\(first.exitCode.map { ", exit \($0)" } ?? "")"
            lines.append(Style.bold.apply("== \(names)", policy) + " (\(block.hosts.count)): " + HostLine.colour(first.outcome, headline, policy))
            lines += HostLine.outputLines(first, prefix: "   ", policy)
        }
        lines.append(renderSummary(policy))
        return lines.joined(separator: "\n")
    }

    /// Every host as the live view prints them, then the summary (for `run show`).
    public func renderLines(_ policy: ColorPolicy) -> String {
        var printer = HostLine.Printer()
        return (hosts.map { printer.render($0, policy) } + [renderSummary(policy)]).joined(separator: "\n")
    }

    struct OutputKey: Equatable {
        var outcome: HostOutcome
        var exitCode: Int?
        var stdout: String
        var stderr: String
        var reason: String?
        init(_ result: HostResult) {
            outcome = result.outcome
            exitCode = result.exitCode
            stdout = result.stdout
            stderr = result.stderr
            reason = result.reason
        }
    }
}

/// How one host's result reads in the live view: its output lines prefixed with its label,
/// then a status line; an output identical to an earlier host's is not repeated.
public enum HostLine {
    public struct Printer: Sendable {
        var seen: [String: String] = [:]   // output -> the first host that printed it
        public init() {}

        public mutating func render(_ result: HostResult, _ policy: ColorPolicy) -> String {
            let label = Printable.escaping(result.host.label)
            var lines: [String] = []
            let output = result.stdout + "\u{0}" + result.stderr
            let hasOutput = !result.stdout.isEmpty || !result.stderr.isEmpty
            var same = ""
            if hasOutput, let first = seen[output] {
                same = ", same output as \(first)"
            } else {
                if hasOutput { seen[output] = label }
                lines += HostLine.outputLines(result, prefix: "\(label) | ", policy)
            }
            lines.append(Style.bold.apply(label, policy) + ": " + HostLine.colour(result.outcome, result.headline + same, policy))
            return lines.joined(separator: "\n")
        }
    }

    static func colour(_ outcome: HostOutcome, _ text: String, _ policy: ColorPolicy) -> String {
        switch outcome {
        case .ok: Style.green.apply(text, policy)
        case .failed, .timedOut, .lost: Style.red.apply(text, policy)
        default: Style.yellow.apply(text, policy)
        }
    }

    static func outputLines(_ result: HostResult, prefix: String, _ policy: ColorPolicy) -> [String] {
        func split(_ text: String) -> [String] {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            return lines.map { Printable.escaping($0) }
        }
        let errPrefix = prefix.hasSuffix("| ") ? String(prefix.dropLast(2)) + "! " : prefix + "! "
        return split(result.stdout).map { prefix + $0 } + split(result.stderr).map { Style.dim.apply(errPrefix, policy) + $0 }
    }
}
