import AWS
import Foundation
import Terminal

/// `adminctl run --history` and `run show ID`: past runs as Run Command keeps them (30 days),
/// recognised by the comment adminctl gives every command it sends.
public enum FleetHistory {
    static let prefix = "adminctl: "
    /// adminctl's own probes (onboarding's readiness wait sends one every few seconds, `devs` one
    /// per machine): tagged like every command, but not the admin's runs, so not in the history.
    static let probePrefix = "adminctl probe: "

    /// Run Command's Comment (at most 100 characters) for a command adminctl sends, ending in
    /// ` #<tag>`: SendCommand has no idempotency token, so when its answer is lost the command is
    /// found again by this (`SSM.sendCommand(_:lookingForALostAnswer:)`) instead of being sent twice.
    static func comment(_ display: String, tag: String = newTag(), prefix: String = prefix) -> String {
        let text = prefix + display.replacingOccurrences(of: "\n", with: " ")
        let room = 100 - tag.count - 2
        return (text.count <= room ? text : String(text.prefix(room - 1)) + "…") + " #" + tag
    }

    /// Eight random hex digits.
    static func newTag() -> String { String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(8)) }

    /// The command as a person gave it: the comment without the prefix and the tag.
    static func command(fromComment comment: String) -> String {
        var text = String(comment.dropFirst(prefix.count))
        if let range = text.range(of: " #[0-9a-f]{8}$", options: .regularExpression) { text.removeSubrange(range) }
        return text
    }

    public struct Entry: Sendable, Encodable {
        public var commandID: String
        public var command: String
        public var requested: Date?
        public var status: String?
        public var targets: Int
        public var completed: Int
        public var errors: Int
        public var deliveryTimedOut: Int

        enum CodingKeys: String, CodingKey { case commandID = "commandId", command, requested, status, targets, completed, errors, deliveryTimedOut }
    }

    public struct Report: Sendable, Encodable {
        public var runs: [Entry]

        public func render(_ policy: ColorPolicy) -> String {
            guard !runs.isEmpty else { return "No adminctl runs in Run Command's history (it keeps 30 days)." }
            let formatter = ISO8601DateFormatter()
            let rows = runs.map { entry in
                [entry.requested.map(formatter.string) ?? "", entry.commandID, entry.status ?? "",
                 "\(entry.targets - entry.errors - entry.deliveryTimedOut)/\(entry.targets)", Printable.escaping(entry.command)]
            }
            return Table(headers: ["requested", "command id", "status", "ok", "command"], rows: rows).render(policy)
        }
    }

    /// The newest `limit` runs adminctl sent.
    public static func list(_ ssm: SSM, limit: Int = 20) async throws -> Report {
        var runs: [Entry] = []
        for try await page in ssm.listCommands(pageSize: 50) {
            for command in page where (command.Comment ?? "").hasPrefix(prefix) {
                runs.append(Entry(commandID: command.CommandId, command: Self.command(fromComment: command.Comment ?? ""),
                                  requested: command.RequestedDateTime, status: command.Status, targets: command.TargetCount ?? 0,
                                  completed: command.CompletedCount ?? 0, errors: command.ErrorCount ?? 0,
                                  deliveryTimedOut: command.DeliveryTimedOutCount ?? 0))
            }
            if runs.count >= limit { break }
        }
        return Report(runs: Array(runs.prefix(limit)))
    }

    /// One past run with every host's result, read back from Run Command (and S3 for output AWS cut).
    public static func show(_ commandID: String, run: FleetRun) async throws -> FleetRunReport {
        let commands: [SSM.Command]
        do {
            commands = try await run.ssm.listCommands(commandID: commandID).all { $0 }
        } catch let error as AWSError where error.code == "InvalidCommandId" {
            throw FleetError(.unknownCommand, "Run Command knows no command \(commandID) (it keeps 30 days): `adminctl run --history` lists the recent ones.")
        }
        guard let command = commands.first else {
            throw FleetError(.unknownCommand, "Run Command knows no command \(commandID): `adminctl run --history` lists the recent ones.")
        }
        let invocations = try await run.ssm.listCommandInvocations(commandID: commandID, details: true, pageSize: 50).all { $0 }
        var hosts: [String: FleetHost] = [:]
        let ids = invocations.map(\.InstanceId)
        for start in stride(from: 0, to: ids.count, by: 100) {
            let batch = Array(ids[start..<min(start + 100, ids.count)])
            if let found = try? await run.ec2.describeInstances(ids: batch).all({ $0 }) {
                for instance in found { hosts[instance.id] = FleetHost(instance) }
            }
        }
        var report = FleetRunReport(command: Self.command(fromComment: command.Comment ?? ""), selection: nil, limits: nil)
        report.commandIDs = [commandID]
        for invocation in invocations {
            let host = hosts[invocation.InstanceId] ?? FleetHost(instanceID: invocation.InstanceId)
            if let outcome = HostOutcome.of(status: invocation.Status, details: invocation.StatusDetails) {
                report.hosts.append(await run.result(of: invocation, host: host, outcome: outcome))
            } else {
                report.hosts.append(HostResult(host: host, commandID: commandID, outcome: .running, status: invocation.Status ?? "",
                                               statusDetails: invocation.StatusDetails ?? ""))
            }
        }
        return report
    }
}
