import AWS
import Foundation
import Terminal

/// A stack adminctl deploys: its name, the tags every resource carries, and the command that
/// applies it again once a failure is fixed (shown in errors).
public protocol DeployableStack: Sendable {
    var name: String { get }
    var tags: [String: String] { get }
    var retryCommand: String { get }
}

extension SharedStack: DeployableStack {
    public var retryCommand: String { "adminctl infra up" }
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
                                                    retry: stack.retryCommand) {
            throw problem
        }
        // A stack only a CREATE change set made (REVIEW_IN_PROGRESS) has no resources yet.
        let type = existing == nil || existing?.status == "REVIEW_IN_PROGRESS" ? "CREATE" : "UPDATE"
        let name = Self.changeSetName()
        _ = try await cloudFormation.createChangeSet(stack: stack.name, name: name, template: template, parameters: parameters,
                                                     tags: stack.tags, type: type)
        let plan: StackPlan
        do {
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
        var seen = Set(try await firstEvents().map(\.id))
        try await cloudFormation.executeChangeSet(stack: plan.stack, name: plan.changeSet)
        var failures: [CloudFormation.Event] = []
        while true {
            // Events first, then the status: an event written before the stack settled is never missed.
            let fresh = try await newEvents(after: &seen)
            for event in fresh { report(event) }
            failures += fresh.filter { $0.status.hasSuffix("_FAILED") }
            guard let current = try await cloudFormation.stack(plan.stack) else {
                throw InfraError(.deployFailed, "Stack \(plan.stack) disappeared while it was being changed.")
            }
            if current.isSettled && current.status != "REVIEW_IN_PROGRESS" {
                let last = try await newEvents(after: &seen)
                for event in last { report(event) }
                failures += last.filter { $0.status.hasSuffix("_FAILED") }
                if current.isHealthy { return current }
                throw Self.failure(of: current, failures: failures, retry: stack.retryCommand)
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    func firstEvents() async throws -> [CloudFormation.Event] {
        guard try await cloudFormation.stack(stack.name) != nil else { return [] }
        var iterator = cloudFormation.describeStackEvents(stack.name).makeAsyncIterator()
        return try await iterator.next() ?? []
    }

    /// Events not seen before, oldest first; pages are read only until a seen one appears.
    func newEvents(after seen: inout Set<String>) async throws -> [CloudFormation.Event] {
        var fresh: [CloudFormation.Event] = []
        pages: for try await page in cloudFormation.describeStackEvents(stack.name) {
            for event in page {
                if seen.contains(event.id) { break pages }
                fresh.append(event)
            }
        }
        for event in fresh { seen.insert(event.id) }
        return fresh.reversed()
    }

    /// The first resource that failed (not the ones cancelled because of it) and CloudFormation's reason.
    static func failure(of stack: CloudFormation.Stack, failures: [CloudFormation.Event],
                        retry: String = "adminctl infra up") -> InfraError {
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
                + "(`aws cloudformation delete-stack --stack-name \(stack.name)`), then run `\(retry)` again."
        } else if stack.status == "UPDATE_ROLLBACK_COMPLETE" {
            text += ": the previous version is running again, unchanged. Fix the cause and run `\(retry)` again."
        } else {
            text += "."
        }
        return InfraError(.deployFailed, text)
    }

    /// States CloudFormation will not take a change set in, each with the fix.
    static func problem(name: String, status: String, reason: String?, retry: String = "adminctl infra up") -> InfraError? {
        switch status {
        case "ROLLBACK_COMPLETE", "ROLLBACK_FAILED":
            return InfraError(.stackState, "Stack \(name) is \(status): its first creation failed and was rolled back, "
                + "and CloudFormation cannot update such a stack. It holds no running infrastructure; delete it, then run "
                + "`\(retry)` again: aws cloudformation delete-stack --stack-name \(name)")
        case "UPDATE_ROLLBACK_FAILED":
            return InfraError(.stackState, "Stack \(name) is UPDATE_ROLLBACK_FAILED: a rollback could not finish"
                + (reason.map { " (\($0))" } ?? "") + ". Fix what blocked it, then finish the rollback: "
                + "aws cloudformation continue-update-rollback --stack-name \(name)")
        case "DELETE_FAILED":
            return InfraError(.stackState, "Stack \(name) is DELETE_FAILED" + (reason.map { " (\($0))" } ?? "")
                + ". Remove what blocks the deletion and delete it again: aws cloudformation delete-stack --stack-name \(name)")
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
