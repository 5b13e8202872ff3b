import AWS
import Foundation

/// How one host's part of a fleet command ended, in the words the summary uses.
public enum HostOutcome: String, Sendable, Encodable, CaseIterable {
    /// Ran and exited 0.
    case ok
    /// Ran and exited non-zero (or the agent failed running it).
    case failed
    /// Ran past `--timeout` and was stopped.
    case timedOut = "timed-out"
    /// Never ran: the agent was offline or never picked the command up in time.
    case undeliverable
    /// Not sent: the machine was offline or unmanaged before sending.
    case offline
    /// Stopped or never started because of Ctrl-C, or skipped after `--max-errors` was reached.
    case cancelled
    /// Not finished yet (`run show` of a command still under way).
    case running
    /// The machine stopped or was terminated while the command ran: Run Command would keep the
    /// invocation InProgress until its timeout (the agent that reports is gone), so it is told now.
    case lost

    /// Whether it counts in the exit status (every outcome but ok).
    public var isFailure: Bool { self != .ok }

    /// Run Command's Status / StatusDetails as an outcome; nil while not final.
    public static func of(status: String?, details: String?) -> HostOutcome? {
        switch (status ?? "", details ?? "") {
        case ("Success", _): .ok
        case ("Failed", "Undeliverable"), ("Undeliverable", _): .undeliverable
        case ("Failed", _): .failed
        case ("TimedOut", "DeliveryTimedOut"), ("DeliveryTimedOut", _): .undeliverable
        case ("TimedOut", _), ("ExecutionTimedOut", _): .timedOut
        case ("Cancelled", _), ("Terminated", _): .cancelled
        default: nil
        }
    }
}

/// One host's result: who, how it ended, its exit code, how long it ran and what it printed.
public struct HostResult: Sendable, Encodable {
    public var host: FleetHost
    public var commandID: String?
    public var outcome: HostOutcome
    /// Run Command's own words: Status and StatusDetails ("Failed", "Undeliverable", ...).
    public var status: String
    public var statusDetails: String
    /// The command's exit code; nil when it never ran (AWS says -1).
    public var exitCode: Int?
    public var seconds: Double?
    public var stdout: String
    public var stderr: String
    /// The output shown is only what AWS kept (no output bucket to read the rest from).
    public var truncated: Bool
    /// Where the output came from: "invocation" (ListCommandInvocations), "s3" (in full),
    /// "get-command-invocation" (24,000 / 8,000 characters), "none".
    public var outputSource: String
    /// Why it did not run, for the hosts that never did (offline, unmanaged, not picked up).
    public var reason: String?

    public init(host: FleetHost, commandID: String?, outcome: HostOutcome, status: String, statusDetails: String,
                exitCode: Int? = nil, seconds: Double? = nil, stdout: String = "", stderr: String = "",
                truncated: Bool = false, outputSource: String = "none", reason: String? = nil) {
        self.host = host
        self.commandID = commandID
        self.outcome = outcome
        self.status = status
        self.statusDetails = statusDetails
        self.exitCode = exitCode
        self.seconds = seconds
        self.stdout = stdout
        self.stderr = stderr
        self.truncated = truncated
        self.outputSource = outputSource
        self.reason = reason
    }

    /// A host that was not sent the command.
    static func notSent(_ host: FleetHost) -> HostResult {
        HostResult(host: host, commandID: nil, outcome: .offline, status: "NotSent", statusDetails: "Offline",
                   reason: host.unreachable ?? "offline")
    }

    /// One line about how it ended: "ok, exit 0, 0.4 s", "failed, exit 3, 1.2 s", "undeliverable: agent is ConnectionLost".
    public var headline: String {
        var parts = [outcome.rawValue.replacingOccurrences(of: "-", with: " ")]
        if let exitCode { parts.append("exit \(exitCode)") }
        if let seconds { parts.append(Self.seconds(seconds)) }
        var text = parts.joined(separator: ", ")
        if let reason { text += ": \(reason)" }
        else if outcome == .undeliverable || outcome == .cancelled { text += " (\(statusDetails))" }
        if truncated { text += " [output truncated by AWS]" }
        return text
    }

    static func seconds(_ value: Double) -> String {
        value < 1 ? String(format: "%.2f s", value) : value < 10 ? String(format: "%.1f s", value) : String(format: "%.0f s", value)
    }

    enum CodingKeys: String, CodingKey {
        case instanceID = "instanceId", label, owner, environment, commandID = "commandId", outcome, status, statusDetails,
             exitCode, durationSeconds, stdout, stderr, truncated, outputSource, reason
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(host.instanceID, forKey: .instanceID)
        try container.encode(host.label, forKey: .label)
        try container.encodeIfPresent(host.owner, forKey: .owner)
        try container.encodeIfPresent(host.environment, forKey: .environment)
        try container.encodeIfPresent(commandID, forKey: .commandID)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(status, forKey: .status)
        try container.encode(statusDetails, forKey: .statusDetails)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(seconds, forKey: .durationSeconds)
        try container.encode(stdout, forKey: .stdout)
        try container.encode(stderr, forKey: .stderr)
        try container.encode(truncated, forKey: .truncated)
        try container.encode(outputSource, forKey: .outputSource)
        try container.encodeIfPresent(reason, forKey: .reason)
    }
}

/// The SSM agent's plugin `Output` (stdout, an error title, stderr; 2,500 bytes in all, cuts
/// marked) split back into its streams.
struct PluginOutput: Equatable {
    static let errorTitle = "\n----------ERROR-------\n"
    static let outputCut = "\n---Output truncated---"
    static let errorCut = "\n---Error truncated----"

    var stdout: String
    var stderr: String
    var truncated: Bool

    init(stdout: String, stderr: String, truncated: Bool) {
        self.stdout = stdout
        self.stderr = stderr
        self.truncated = truncated
    }

    init(_ text: String) {
        var out = text
        var err = ""
        if let range = text.range(of: Self.errorTitle) {
            out = String(text[..<range.lowerBound])
            err = String(text[range.upperBound...])
        }
        truncated = false
        if out.hasSuffix(Self.outputCut) {
            out.removeLast(Self.outputCut.count)
            truncated = true
        }
        if err.hasSuffix(Self.errorCut) {
            err.removeLast(Self.errorCut.count)
            truncated = true
        }
        stdout = out
        stderr = err
    }
}
