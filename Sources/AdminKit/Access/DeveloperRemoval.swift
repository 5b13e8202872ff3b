import AWS
import Foundation
import Nuvola

/// Removes whatever exists of one developer: their access keys (deactivated first, so a key is
/// dead even if deleting fails and no new session can start), their open Session Manager sessions
/// (on their machine, and any they started elsewhere), their stack (machine, group, role, user,
/// policies), and an IAM user left outside a stack. Used by `offboard` and by a failed `onboard`'s
/// rollback; each step tolerates what is already gone, so running it twice is harmless.
public struct DeveloperRemoval: Sendable {
    public var access: DeveloperAccess
    public var developer: String
    /// Snapshot the machine's volumes before its stack goes (`offboard --keep-volume`).
    public var keepVolume = false

    public init(access: DeveloperAccess, developer: String, keepVolume: Bool = false) {
        self.access = access
        self.developer = developer
        self.keepVolume = keepVolume
    }

    /// What was removed, one line each, in order.
    public func run(progress: @Sendable (String) -> Void) async throws -> [String] {
        // IAM reads a missing user name as the caller: "" would delete the admin's own keys.
        if let problem = DeveloperName.problem(developer) {
            throw AccessError(.invalidName, "\(problem): nothing was removed.")
        }
        var removed: [String] = []
        let iam = access.iam
        let user = try await iam.getUser(developer)
        if user != nil {
            for key in try await iam.listAccessKeys(user: developer) {
                if key.status == "Active" { try await iam.updateAccessKey(user: developer, accessKeyID: key.accessKeyID, active: false) }
                try await iam.deleteAccessKey(user: developer, accessKeyID: key.accessKeyID)
                removed.append("access key \(key.accessKeyID)")
            }
        }
        let stack = DeveloperStack(project: access.project, developer: developer)
        let found = try await access.cloudFormation.stack(stack.name)
        // A deactivated key starts no new session, but one already open keeps its shell until ended.
        removed += try await endSessions(owner: user?.arn, machine: found?.outputs["InstanceId"], progress: progress)
        if let found, found.status != "DELETE_COMPLETE" {
            progress("deleting stack \(stack.name) (\(found.status))…")
            if found.status.hasSuffix("_IN_PROGRESS") && found.status != "REVIEW_IN_PROGRESS" {
                _ = try await settle(stack.name)
            }
            let outputs = found.outputs
            if keepVolume, let instance = outputs["InstanceId"] {
                for volume in try await access.ec2.volumeIDs(filters: [EC2.Filter("attachment.instance-id", [instance])]) {
                    let snapshot = try await access.ec2.createSnapshot(
                        volumeID: volume, description: "Workspace of \(developer)'s devbox \(instance) (adminctl offboard --keep-volume)",
                        tags: [NuvolaTag.owner: developer, NuvolaTag.project: access.project, NuvolaTag.managedBy: "adminctl"])
                    removed.append("kept volume \(volume) of \(instance) as snapshot \(snapshot)")
                }
            }
            try await access.cloudFormation.deleteStack(stack.name)
            let settled = try await settle(stack.name)
            if let settled, settled.status == "DELETE_FAILED" {
                throw AccessError(.stackFailed, "Stack \(stack.name) could not be deleted: \(settled.statusReason ?? "DELETE_FAILED"). "
                    + "Remove what blocks it and run `adminctl offboard \(developer)` again.")
            }
            removed.append("stack \(stack.name)" + (outputs["InstanceId"].map { " (machine \($0), its security group, role and user)" } ?? ""))
        }
        // A copy of the bundle kept for one retrieval and never retrieved (`onboard --store-bundle`).
        let parameter = AccessBundle.parameterName(project: access.project, developer: developer)
        if try await access.ssm.getParameter(parameter, decrypt: false) != nil {
            try await access.ssm.deleteParameter(parameter)
            removed.append("stored access bundle \(parameter)")
        }
        // A user the stack did not take with it (made by hand, or a stack that never got that far).
        if try await iam.getUser(developer) != nil {
            for arn in try await iam.attachedUserPolicies(user: developer) {
                try await iam.detachUserPolicy(user: developer, policyARN: arn)
            }
            for name in try await iam.listUserPolicies(user: developer) {
                try await iam.deleteUserPolicy(user: developer, name: name)
            }
            for key in try await iam.listAccessKeys(user: developer) {
                try await iam.deleteAccessKey(user: developer, accessKeyID: key.accessKeyID)
                removed.append("access key \(key.accessKeyID)")
            }
            try await iam.deleteUser(developer)
            removed.append("IAM user \(developer)")
        }
        return removed
    }

    /// Ends every active session on the developer's machine and every one they started anywhere.
    func endSessions(owner: String?, machine: String?, progress: @Sendable (String) -> Void) async throws -> [String] {
        var sessions: [String: SSM.Session] = [:]
        for filter in [machine.map(SSM.SessionFilter.target), owner.map(SSM.SessionFilter.owner)].compactMap({ $0 }) {
            for try await page in access.ssm.describeSessions(active: true, filters: [filter]) {
                for session in page { sessions[session.SessionId] = session }
            }
        }
        var ended: [String] = []
        for session in sessions.values.sorted(by: { $0.SessionId < $1.SessionId }) {
            progress("ending session \(session.SessionId)…")
            try await access.ssm.terminateSession(session.SessionId)
            ended.append("session \(session.SessionId) on \(session.Target ?? "?")"
                + (session.Owner.map { $0 == owner ? "" : " (opened by \($0))" } ?? ""))
        }
        return ended
    }

    /// The stack once settled, or nil once gone (DescribeStacks by name no longer finds it).
    func settle(_ name: String) async throws -> CloudFormation.Stack? {
        while true {
            guard let stack = try await access.cloudFormation.stack(name) else { return nil }
            if stack.isSettled { return stack.status == "DELETE_COMPLETE" ? nil : stack }
            try await Task.sleep(for: access.pollInterval)
        }
    }
}
