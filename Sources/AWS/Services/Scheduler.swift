import Foundation
import HTTP

/// Amazon EventBridge Scheduler (REST-JSON): the daily job `adminctl db dump prod --schedule`
/// sets up, a schedule whose target is Run Command's SendCommand (a universal target).
public struct Scheduler: Sendable {
    let client: AWSClient

    public init(_ client: AWSClient) { self.client = client }

    public struct Target: Codable, Sendable, Equatable {
        /// `arn:aws:scheduler:::aws-sdk:ssm:sendCommand` for a universal target.
        public var Arn: String
        /// The role Scheduler assumes to call it.
        public var RoleArn: String
        /// The call's parameters, as JSON.
        public var Input: String?

        public init(arn: String, roleArn: String, input: String?) {
            Arn = arn
            RoleArn = roleArn
            Input = input
        }
    }

    public struct FlexibleTimeWindow: Codable, Sendable, Equatable {
        public var Mode: String
        public var MaximumWindowInMinutes: Int?
    }

    public struct Schedule: Codable, Sendable, Equatable {
        public var Name: String?
        public var Arn: String?
        public var Description: String?
        /// `cron(0 3 * * ? *)`, `rate(1 day)`, ...
        public var ScheduleExpression: String
        public var ScheduleExpressionTimezone: String?
        public var State: String?
        public var FlexibleTimeWindow: FlexibleTimeWindow
        public var Target: Target

        public init(expression: String, timezone: String = "UTC", description: String, target: Target) {
            ScheduleExpression = expression
            ScheduleExpressionTimezone = timezone
            Description = description
            State = "ENABLED"
            FlexibleTimeWindow = .init(Mode: "OFF", MaximumWindowInMinutes: nil)
            self.Target = target
        }
    }

    func call(_ method: HTTPMethod, _ name: String, operation: String, body: [UInt8]? = nil) async throws -> [UInt8] {
        // Schedule names are [0-9a-zA-Z-_.]+: nothing to encode.
        let path = "/schedules/" + name
        let request = AWSRequest(service: .scheduler, operation: operation, method: method, path: path,
                                 headers: body == nil ? [:] : ["Content-Type": "application/json"],
                                 body: body.map { .bytes($0) } ?? .empty, errorFormat: .json)
        return try await client.send(request).body
    }

    /// The schedule of that name in the default group, or nil.
    public func schedule(_ name: String) async throws -> Schedule? {
        do {
            return try JSONDecoder().decode(Schedule.self, from: Data(try await call(.get, name, operation: "GetSchedule")))
        } catch let error as AWSError where error.code == "ResourceNotFoundException" {
            return nil
        }
    }

    /// Creates the schedule, or replaces the one of that name (UpdateSchedule takes every field).
    public func put(_ name: String, _ schedule: Schedule) async throws {
        var schedule = schedule
        schedule.Name = nil
        schedule.Arn = nil
        let body = Array(try JSONEncoder().encode(schedule))
        if try await self.schedule(name) == nil {
            _ = try await call(.post, name, operation: "CreateSchedule", body: body)
        } else {
            _ = try await call(.put, name, operation: "UpdateSchedule", body: body)
        }
    }

    /// Deletes the schedule; false when there was none.
    public func delete(_ name: String) async throws -> Bool {
        do {
            _ = try await call(.delete, name, operation: "DeleteSchedule")
            return true
        } catch let error as AWSError where error.code == "ResourceNotFoundException" {
            return false
        }
    }
}
