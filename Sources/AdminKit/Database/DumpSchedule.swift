import AWS
import Foundation
import Nuvola
import Terminal

/// `adminctl db dump prod --schedule [--at HH:MM]` / `--unschedule`: an EventBridge Scheduler
/// schedule, `<project>-prod-dump`, that every day at that UTC time calls Run Command's
/// SendCommand (a universal target, with the shared stack's DumpSchedulerRole) on the prod
/// instances one at a time with the dump script: the first instance dumps and publishes, the
/// next ones find today's complete dump and stop, so one that is down is made up for by the next.
/// Scheduled dumps are expired by the dumps bucket's lifecycle rule (dumps.retention_days).
public struct DumpSchedule: Sendable {
    public var operations: DatabaseOperations
    /// The universal target of SendCommand.
    public static let target = "arn:aws:scheduler:::aws-sdk:ssm:sendCommand"

    public init(operations: DatabaseOperations) { self.operations = operations }

    public static func name(project: String) -> String { "\(project)-prod-dump" }

    /// `cron(M H * * ? *)` from "HH:MM" (UTC), or nil when it is not a time of day.
    public static func expression(at time: String) -> String? {
        let parts = time.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        return "cron(\(minute) \(hour) * * ? *)"
    }

    /// The SendCommand call the schedule makes, as JSON (Scheduler's Input for the universal target).
    static func sendCommand(script: String, outputBucket: String?) throws -> String {
        var input: [String: Any] = [
            "DocumentName": "AWS-RunShellScript",
            "Targets": [["Key": "tag:\(NuvolaTag.role)", "Values": [MachineRole.app.rawValue]],
                        ["Key": "tag:\(NuvolaTag.environment)", "Values": [AppEnvironment.prod.rawValue]]],
            "Parameters": ["commands": [script], "executionTimeout": ["10800"]],
            "MaxConcurrency": "1", "MaxErrors": "100%", "TimeoutSeconds": 86_400,
            "Comment": "adminctl db dump prod (daily schedule)",
        ]
        if let outputBucket {
            input["OutputS3BucketName"] = outputBucket
            input["OutputS3KeyPrefix"] = BucketLayout.fleetOutput
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: input, options: [.sortedKeys]), as: UTF8.self)
    }

    public func set(at time: String) async throws -> ScheduleReport {
        guard let expression = Self.expression(at: time) else {
            throw DatabaseError(.schedule, "--at takes a UTC time of day as HH:MM (03:00, 23:30), not \"\(time)\".")
        }
        let role = try operations.output("DumpSchedulerRoleArn")
        let database = try await operations.endpoint(.prod)
        let script = DatabaseScripts.dump(database, bucket: try operations.dumpsBucket(), key: nil, region: operations.region, oncePerDay: true)
        let input = try Self.sendCommand(script: script, outputBucket: operations.outputs["ArtifactsBucketName"])
        let name = Self.name(project: try operations.session.project())
        let schedule = Scheduler.Schedule(expression: expression, description: "adminctl db dump prod, daily at \(time) UTC",
                                          target: .init(arn: Self.target, roleArn: role, input: input))
        do {
            try await Scheduler(operations.session.client).put(name, schedule)
        } catch let error as AWSError {
            throw DatabaseError(.schedule, "EventBridge Scheduler refused the schedule \(name): \(error)")
        }
        return ScheduleReport(name: name, scheduled: true, expression: expression, timezone: "UTC", role: role,
                              retentionDays: operations.session.config.value("dumps.retention_days").flatMap(Int.init))
    }

    public func remove() async throws -> ScheduleReport {
        let name = Self.name(project: try operations.session.project())
        let removed = try await Scheduler(operations.session.client).delete(name)
        return ScheduleReport(name: name, scheduled: false, removed: removed)
    }
}

/// What `--schedule` / `--unschedule` did.
public struct ScheduleReport: Sendable, Encodable {
    public var name: String
    /// Whether the daily dump is scheduled now.
    public var scheduled: Bool
    public var expression: String?
    public var timezone: String?
    public var role: String?
    /// Days the bucket keeps each dump (its lifecycle rule).
    public var retentionDays: Int?
    /// `--unschedule`: whether there was a schedule to remove.
    public var removed: Bool?

    public func render(_ colors: ColorPolicy) -> String {
        if scheduled {
            return "✔ Schedule \(name): the production dump runs daily, \(expression ?? "") \(timezone ?? "UTC"), on the prod instances "
                + "one at a time (the first one dumps). Scheduled dumps expire after \(retentionDays.map(String.init) ?? "dumps.retention_days") days "
                + "(the bucket's lifecycle rule). `adminctl db dump prod --unschedule` removes it."
        }
        return removed == true ? "✔ Schedule \(name) removed: no more daily dumps." : "There was no schedule \(name): nothing to remove."
    }
}
