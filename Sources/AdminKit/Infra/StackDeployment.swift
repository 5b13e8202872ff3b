import AWS
import Foundation
import Terminal

/// A stack adminctl deploys: its name, the tags every resource carries, and the command that
/// applies it again once a failure is fixed (shown in errors).
public protocol DeployableStack: Sendable {
    var name: String { get }
    var tags: [String: String] { get }
    /// The command that creates or changes it again after a fix.
    var retryCommand: String { get }
    /// The command that deletes it (a stack whose first creation rolled back must go first).
    var deleteCommand: String { get }
}

extension SharedStack: DeployableStack {
    public var retryCommand: String { "adminctl infra up" }
    public var deleteCommand: String { "adminctl infra down --confirm \(name)" }
}

/// One change to a stack through a change set: plan (create it and read what it will do), then
/// either discard it or execute it and follow the stack's events until it settles.
public struct StackDeployment: Sendable {
    public let cloudFormation: CloudFormation
    public var stack: any DeployableStack
    public var template: String
    public var parameters: [String: String]
    /// How often events and the change set are polled (the simulator settles in seconds).
    public var pollInterval: Duration = .seconds(2)

    public init(cloudFormation: CloudFormation, stack: any DeployableStack, template: String, parameters: [String: String]) {
        self.cloudFormation = cloudFormation
        self.stack = stack
        self.template = template
        self.parameters = parameters
    }

    /// Creates the change set and waits for it. A change set with nothing to change is deleted
    /// at once (the plan then has no changes); one CloudFormation refused is deleted and thrown.
    public func plan() async throws -> StackPlan {
        let existing = try await cloudFormation.stack(stack.name)
        if let existing, let problem = Self.problem(name: existing.name, status: existing.status, reason: existing.statusReason,
                                                    retry: stack.retryCommand, delete: stack.deleteCommand) {
            throw problem
        }
        // A stack only a CREATE change set made (REVIEW_IN_PROGRESS) has no resources yet.
        let type = existing == nil || existing?.status == "REVIEW_IN_PROGRESS" ? "CREATE" : "UPDATE"
        let name = Self.changeSetName()
        let plan: StackPlan
        do {
            // Inside the cleanup: a Ctrl-C while CreateChangeSet is answered leaves a change set
            // (and, for a new stack, an empty REVIEW_IN_PROGRESS stack) that CloudFormation made.
            _ = try await cloudFormation.createChangeSet(stack: stack.name, name: name, template: template, parameters: parameters,
                                                         tags: stack.tags, type: type)
            let changeSet = try await cloudFormation.waitForChangeSet(stack: stack.name, name: name, every: pollInterval)
            if changeSet.hasNoChanges {
                plan = StackPlan(stack: stack.name, changeSet: name, type: type, changes: [])
            } else if changeSet.status != "CREATE_COMPLETE" {
                throw InfraError(.changeSet, "CloudFormation could not plan the change to \(stack.name): "
                    + "\(changeSet.statusReason ?? changeSet.status). Nothing was changed; fix adminctl.toml or the template "
                    + "and run `adminctl infra diff` again.")
            } else {
                return StackPlan(stack: stack.name, changeSet: name, type: type, changes: changeSet.changes)
            }
        } catch {
            await discard(StackPlan(stack: stack.name, changeSet: name, type: type, changes: []))
            throw error
        }
        await discard(plan)
        return plan
    }

    /// Deletes the plan's change set (and the empty stack a CREATE change set made), even when
    /// the task was cancelled: Ctrl-C during a plan leaves nothing behind.
    public func discard(_ plan: StackPlan) async {
        let cloudFormation = cloudFormation
        await Task.detached {
            try? await cloudFormation.deleteChangeSet(stack: plan.stack, name: plan.changeSet)
            if plan.type == "CREATE", let empty = try? await cloudFormation.stack(plan.stack), empty.status == "REVIEW_IN_PROGRESS" {
                try? await cloudFormation.deleteStack(plan.stack)
            }
        }.value
    }

    /// Executes the plan and reports each new stack event as it happens; returns the settled
    /// stack when it is healthy, else throws the first failure and its reason (after the rollback).
    public func execute(_ plan: StackPlan, event report: @Sendable (CloudFormation.Event) -> Void) async throws -> CloudFormation.Stack {
        // A new stack has only its REVIEW_IN_PROGRESS event yet (not reported): nothing to skip.
        var seen = plan.type == "CREATE" ? [] : Set(try await firstEvents(of: plan.stack).map(\.id))
        do {
            try await cloudFormation.executeChangeSet(stack: plan.stack, name: plan.changeSet)
        } catch let error as AWSError where error.code == "ChangeSetNotFound" {
            // CloudFormation removes a stack's other change sets when it executes one.
            throw InfraError(.changeSet, "Change set \(plan.changeSet) is gone: \(plan.stack) was changed by another "
                + "`adminctl infra up` (or by hand) since this one was planned, and CloudFormation then removes the stack's other "
                + "change sets. Nothing of this one was applied: `adminctl infra diff` shows what is still to change, "
                + "`adminctl infra up` applies it.")
        }
        let (settled, failures) = try await follow(plan.stack, seen: &seen, event: report)
        if settled.isHealthy { return settled }
        throw Self.failure(of: settled, failures: failures, retry: stack.retryCommand, delete: stack.deleteCommand)
    }

    /// Reports the stack's new events until it settles; returns it with the failed events seen.
    /// `stack` is a name or, to follow a deletion to its end, the stack's id (a deleted stack is
    /// described only by id).
    func follow(_ stack: String, seen: inout Set<String>,
                event report: @Sendable (CloudFormation.Event) -> Void) async throws -> (CloudFormation.Stack, [CloudFormation.Event]) {
        var failures: [CloudFormation.Event] = []
        while true {
            // Events first, then the status: an event written before the stack settled is never missed.
            let fresh = try await newEvents(of: stack, after: &seen).filter { $0.status != "REVIEW_IN_PROGRESS" }
            for event in fresh { report(event) }
            failures += fresh.filter { $0.status.hasSuffix("_FAILED") }
            guard let current = try await cloudFormation.stack(stack) else {
                throw InfraError(.deployFailed, "Stack \(stack) disappeared while it was being changed.")
            }
            if current.isSettled && current.status != "REVIEW_IN_PROGRESS" {
                let last = try await newEvents(of: stack, after: &seen).filter { $0.status != "REVIEW_IN_PROGRESS" }
                for event in last { report(event) }
                failures += last.filter { $0.status.hasSuffix("_FAILED") }
                return (current, failures)
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    func firstEvents(of stack: String) async throws -> [CloudFormation.Event] {
        guard try await cloudFormation.stack(stack) != nil else { return [] }
        var iterator = cloudFormation.describeStackEvents(stack).makeAsyncIterator()
        return try await iterator.next() ?? []
    }

    /// Events not seen before, oldest first; pages are read only until a seen one appears.
    func newEvents(of stack: String, after seen: inout Set<String>) async throws -> [CloudFormation.Event] {
        var fresh: [CloudFormation.Event] = []
        pages: for try await page in cloudFormation.describeStackEvents(stack) {
            for event in page {
                if seen.contains(event.id) { break pages }
                fresh.append(event)
            }
        }
        for event in fresh { seen.insert(event.id) }
        return fresh.reversed()
    }

    /// The first resource that failed (not the ones cancelled because of it) and CloudFormation's reason.
    /// `retry` and `delete` are the commands that change and delete the stack (the shared stack's by default).
    static func failure(of stack: CloudFormation.Stack, failures: [CloudFormation.Event],
                        retry: String = "adminctl infra up", delete: String? = nil) -> InfraError {
        let cancelled = ["Resource creation cancelled", "Resource update cancelled"]
        let first = failures.first { event in event.logicalID != stack.name && !cancelled.contains { event.reason?.contains($0) == true } }
            ?? failures.first
        var text = "The change to \(stack.name) failed"
        if let first {
            text += ": \(first.logicalID) (\(first.resourceType)) \(first.status)"
            if let reason = first.reason, !reason.isEmpty { text += ": \(reason)" }
        } else if let reason = stack.statusReason {
            text += ": \(reason)"
        }
        text += ". The stack is now \(stack.status)"
        if stack.status == "ROLLBACK_COMPLETE" {
            text += ": its first creation was rolled back, and CloudFormation cannot update such a stack. Fix the cause, delete it "
                + "(`\(delete ?? "adminctl infra down --confirm \(stack.name)")`), then run `\(retry)` again."
        } else if stack.status == "UPDATE_ROLLBACK_COMPLETE" {
            text += ": the previous version is running again, unchanged. Fix the cause and run `\(retry)` again."
        } else {
            text += "."
        }
        return InfraError(.deployFailed, text)
    }

    /// States CloudFormation will not take a change set in, each with the fix.
    static func problem(name: String, status: String, reason: String?, retry: String = "adminctl infra up",
                        delete: String? = nil) -> InfraError? {
        switch status {
        case "ROLLBACK_COMPLETE", "ROLLBACK_FAILED":
            return InfraError(.stackState, "Stack \(name) is \(status): its first creation failed and was rolled back, "
                + "and CloudFormation cannot update such a stack. It holds no running infrastructure; delete it, then run "
                + "`\(retry)` again: \(delete ?? "adminctl infra down --confirm \(name)")")
        case "UPDATE_ROLLBACK_FAILED":
            return InfraError(.stackState, "Stack \(name) is UPDATE_ROLLBACK_FAILED: a rollback could not finish"
                + (reason.map { " (\($0))" } ?? "") + ". Fix what blocked it, then finish the rollback: "
                + "aws cloudformation continue-update-rollback --stack-name \(name)")
        case "DELETE_FAILED":
            return InfraError(.stackState, "Stack \(name) is DELETE_FAILED" + (reason.map { " (\($0))" } ?? "")
                + ". Remove what blocks the deletion (`aws cloudformation describe-stack-events --stack-name \(name)` names it) "
                + "and delete it again: \(delete ?? "adminctl infra down --confirm \(name)")")
        case "REVIEW_IN_PROGRESS":
            return nil
        case let status where status.hasSuffix("_IN_PROGRESS"):
            return InfraError(.busy, "Stack \(name) is \(status): another change is under way. Wait for it to finish "
                + "(`adminctl infra status`), then run this again.")
        default:
            return nil
        }
    }

    static func changeSetName(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "adminctl-\(formatter.string(from: now))-\(UUID().uuidString.prefix(8).lowercased())"
    }
}
