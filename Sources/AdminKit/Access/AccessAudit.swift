import AWS
import Foundation
import Host
import Nuvola
import Terminal

/// `adminctl audit`: checks the isolation promises against what is deployed. Policies are read
/// from IAM and evaluated here (PolicyEvaluation), security groups and tags from EC2, key ages
/// from IAM; each finding comes with the command that fixes it.
public struct AccessAudit: Sendable {
    public var access: DeveloperAccess
    public var maxKeyAgeDays: Int
    public var now: Date

    public init(access: DeveloperAccess, maxKeyAgeDays: Int = 90, now: Date = Date()) {
        self.access = access
        self.maxKeyAgeDays = maxKeyAgeDays
        self.now = now
    }

    public struct Finding: Sendable, Encodable, Equatable {
        /// session-elsewhere, run-command, artifacts-read, iam-rights, group-member, ingress, missing-owner, old-key
        public var kind: String
        public var developer: String?
        public var resource: String
        public var detail: String
        public var fix: String
    }

    /// What one developer may do on one instance (the isolation matrix).
    public struct Cell: Sendable, Encodable {
        public var developer: String
        public var instance: String
        public var owner: String?
        public var startSession: Bool
    }

    public struct Report: Sendable, Encodable {
        public var developers: [String]
        public var instances: Int
        public var matrix: [Cell]
        public var findings: [Finding]
        public var seconds: Double
        public var clean: Bool { findings.isEmpty }

        enum CodingKeys: String, CodingKey { case developers, instances, matrix, findings, seconds, clean }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(developers, forKey: .developers)
            try container.encode(instances, forKey: .instances)
            try container.encode(matrix, forKey: .matrix)
            try container.encode(findings, forKey: .findings)
            try container.encode(seconds, forKey: .seconds)
            try container.encode(clean, forKey: .clean)
        }

        public func render(_ policy: ColorPolicy) -> String {
            let head = "Audited \(developers.count) developer(s) against \(instances) instance(s) in \(Format.duration(seconds)): "
            guard !clean else { return head + "no finding. Each developer can open sessions on their own machine only." }
            var lines = [head + "\(findings.count) finding(s)."]
            for finding in findings {
                lines.append(Style.red.apply("✘", policy) + " \(finding.detail)")
                lines.append("    " + Style.dim.apply("fix: \(finding.fix)", policy))
            }
            return lines.joined(separator: "\n")
        }
    }

    struct Developer {
        var name: String
        var stack: CloudFormation.Stack
        var documents: [PolicyEvaluation.Document]
        var groups: [String]
        var keys: [IAM.AccessKeyMetadata]
    }

    public func run() async throws -> Report {
        let started = ContinuousClock.now
        let account = try await STS(AWSClient(access.configuration)).getCallerIdentity().account
        let region = access.region
        let stacks = try await access.developerStacks()
        var developers: [Developer] = []
        for stack in stacks {
            guard let name = DeveloperStackNaming.developer(ofStack: stack.name, project: access.project) else { continue }
            developers.append(try await read(name, stack: stack))
        }
        var instances: [EC2.Instance] = []
        for try await page in access.ec2.describeInstances(filters: [EC2.Filter("instance-state-name", ["pending", "running", "stopping", "stopped"])]) {
            instances += page
        }
        let artifacts = (try? await access.sharedOutputs())?["ArtifactsBucketName"]
        var findings: [Finding] = []
        var matrix: [Cell] = []
        for developer in developers {
            let (cells, reached) = sessionFindings(developer, instances: instances, account: account, region: region)
            matrix += cells
            findings += reached + rightsFindings(developer, account: account, artifacts: artifacts)
        }
        findings += try await groupFindings(developers)
        for instance in instances where instance.tags[NuvolaTag.role] == MachineRole.devbox.rawValue && instance.tags[NuvolaTag.owner] == nil {
            let developer = developers.first { $0.stack.outputs["InstanceId"] == instance.id }?.name
            findings.append(Finding(kind: "missing-owner", developer: developer, resource: instance.id,
                                    detail: "Developer machine \(instance.id) has no Owner tag: its owner cannot open a session on it, "
                                        + "and nothing says whose it is.",
                                    fix: "aws ec2 create-tags --resources \(instance.id) --tags Key=Owner,Value=\(developer ?? "<developer>")"))
        }
        return Report(developers: developers.map(\.name), instances: instances.count, matrix: matrix, findings: findings,
                      seconds: (ContinuousClock.now - started).seconds)
    }

    /// Every instance's row of the session matrix for `developer`, and a finding for each session
    /// on a machine not theirs and each instance they could run commands on.
    func sessionFindings(_ developer: Developer, instances: [EC2.Instance], account: String, region: String) -> ([Cell], [Finding]) {
        var matrix: [Cell] = [], findings: [Finding] = []
        for instance in instances {
            var keys = ["aws:username": developer.name]
            for (key, value) in instance.tags { keys["ssm:resourceTag/\(key)"] = value; keys["aws:ResourceTag/\(key)"] = value }
            let arn = "arn:aws:ec2:\(region):\(account):instance/\(instance.id)"
            let session = PolicyEvaluation.decide(.init(action: "ssm:StartSession", resource: arn, context: keys), developer.documents)
            let owner = instance.tags[NuvolaTag.owner]
            matrix.append(Cell(developer: developer.name, instance: instance.id, owner: owner, startSession: session.allowed))
            if session.allowed, owner != developer.name {
                findings.append(Finding(kind: "session-elsewhere", developer: developer.name, resource: instance.id,
                                        detail: "\(developer.name) can open a session on \(instance.id) (owner \(owner ?? "none"), "
                                            + "role \(instance.tags[NuvolaTag.role] ?? "none")) through \(Self.source(session)).",
                                        fix: Self.fix(session, developer: developer.name)))
            }
            let command = PolicyEvaluation.decide(.init(action: "ssm:SendCommand", resource: arn, context: keys), developer.documents)
            if command.allowed {
                findings.append(Finding(kind: "run-command", developer: developer.name, resource: instance.id,
                                        detail: "\(developer.name) can run commands on \(instance.id) (ssm:SendCommand) through "
                                            + "\(Self.source(command)).", fix: Self.fix(command, developer: developer.name)))
            }
        }
        return (matrix, findings)
    }

    /// What `developer` may do beyond their machine: read the release artifacts, widen their own
    /// rights, inherit a group's policies; and access keys older than the limit.
    func rightsFindings(_ developer: Developer, account: String, artifacts: String?) -> [Finding] {
        let context = ["aws:username": developer.name]
        var findings: [Finding] = []
        if let artifacts {
            let read = PolicyEvaluation.decide(.init(action: "s3:GetObject", resource: "arn:aws:s3:::\(artifacts)/artifacts/prod/release.tar.gz",
                                                     context: context), developer.documents)
            if read.allowed {
                findings.append(Finding(kind: "artifacts-read", developer: developer.name, resource: "s3://\(artifacts)/artifacts/",
                                        detail: "\(developer.name) can read the release artifacts through \(Self.source(read)).",
                                        fix: Self.fix(read, developer: developer.name)))
            }
        }
        for action in ["iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:CreatePolicyVersion", "iam:CreateAccessKey"] {
            let decision = PolicyEvaluation.decide(.init(action: action, resource: "arn:aws:iam::\(account):user/\(developer.name)",
                                                         context: context), developer.documents)
            if decision.allowed {
                findings.append(Finding(kind: "iam-rights", developer: developer.name, resource: "user/\(developer.name)",
                                        detail: "\(developer.name) may call \(action) on their own user, which widens their rights, "
                                            + "through \(Self.source(decision)).", fix: Self.fix(decision, developer: developer.name)))
                break
            }
        }
        for group in developer.groups {
            findings.append(Finding(kind: "group-member", developer: developer.name, resource: "group/\(group)",
                                    detail: "\(developer.name) is in IAM group \(group), whose policies add to theirs.",
                                    fix: "aws iam remove-user-from-group --user-name \(developer.name) --group-name \(group)"))
        }
        for key in developer.keys {
            if let created = key.created, now.timeIntervalSince(created) > Double(maxKeyAgeDays) * 86_400 {
                let days = Int(now.timeIntervalSince(created) / 86_400)
                findings.append(Finding(kind: "old-key", developer: developer.name, resource: key.accessKeyID,
                                        detail: "\(developer.name)'s access key \(key.accessKeyID) is \(days) days old (at most \(maxKeyAgeDays)).",
                                        fix: "adminctl rotate \(developer.name)"))
            }
        }
        return findings
    }

    func read(_ name: String, stack: CloudFormation.Stack) async throws -> Developer {
        let iam = access.iam
        var documents: [PolicyEvaluation.Document] = []
        for arn in try await iam.attachedUserPolicies(user: name) {
            if let json = try await iam.policyDocument(arn: arn) { documents.append(try PolicyEvaluation.parse(json, name: arn)) }
        }
        for policy in try await iam.listUserPolicies(user: name) {
            if let json = try await iam.getUserPolicy(user: name, name: policy) {
                documents.append(try PolicyEvaluation.parse(json, name: "inline:\(policy)"))
            }
        }
        return Developer(name: name, stack: stack, documents: documents, groups: try await iam.groups(ofUser: name),
                         keys: try await iam.listAccessKeys(user: name))
    }

    /// Ingress into a developer's group: the template gives none, so any rule is a finding.
    func groupFindings(_ developers: [Developer]) async throws -> [Finding] {
        let ids = developers.compactMap { $0.stack.outputs["SecurityGroupId"] }
        guard !ids.isEmpty else { return [] }
        let owners = Dictionary(developers.compactMap { d in d.stack.outputs["SecurityGroupId"].map { ($0, d.name) } }) { a, _ in a }
        var findings: [Finding] = []
        for try await page in access.ec2.describeSecurityGroups(ids: ids) {
            for group in page {
                let developer = owners[group.id]
                for rule in group.ingress {
                    let ports = rule.fromPort.map { from in rule.toPort.map { $0 == from ? "port \(from)" : "ports \(from)-\($0)" } ?? "port \(from)" }
                        ?? "all ports"
                    let sources = rule.sourceGroupIDs.map { source in owners[source].map { "\($0)'s group \(source)" } ?? "group \(source)" }
                        + rule.cidrs.map { $0 == "0.0.0.0/0" ? "the internet (0.0.0.0/0)" : $0 }
                    var revoke = "aws ec2 revoke-security-group-ingress --group-id \(group.id) --protocol \(rule.ipProtocol)"
                    if let from = rule.fromPort { revoke += " --port \(from)" + (rule.toPort.map { $0 == from ? "" : "-\($0)" } ?? "") }
                    revoke += rule.sourceGroupIDs.first.map { " --source-group \($0)" } ?? rule.cidrs.first.map { " --cidr \($0)" } ?? ""
                    findings.append(Finding(kind: "ingress", developer: developer, resource: group.id,
                                            detail: "\(developer ?? "A developer")'s security group \(group.id) admits \(rule.ipProtocol) "
                                                + "\(ports) from \(sources.joined(separator: ", ")); developer machines take no ingress.",
                                            fix: revoke))
                }
            }
        }
        return findings
    }

    static func source(_ decision: PolicyEvaluation.Decision) -> String {
        if case let .allow(policy, statement) = decision { return "\(policy) (statement \(statement))" }
        return "nothing"
    }

    static func fix(_ decision: PolicyEvaluation.Decision, developer: String) -> String {
        guard case let .allow(policy, _) = decision else { return "" }
        if policy.hasPrefix("inline:") {
            return "aws iam delete-user-policy --user-name \(developer) --policy-name \(policy.dropFirst("inline:".count))"
        }
        return "restore the policy adminctl's template gives (`adminctl offboard \(developer) && adminctl onboard \(developer)`), "
            + "or detach this one: aws iam detach-user-policy --user-name \(developer) --policy-arn \(policy)"
    }
}
