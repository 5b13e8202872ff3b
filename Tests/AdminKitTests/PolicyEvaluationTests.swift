import AdminKit
import Foundation
import Testing

/// The audit's own IAM evaluation, over the developer policy as the template gives it
/// (adminctl/policies/developer-session.json, rendered as CloudFormation renders it) and the
/// mistakes the audit must catch.
@Suite struct PolicyEvaluationTests {
    static let developerPolicy: PolicyEvaluation.Document = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("adminctl/policies/developer-session.json").path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let rendered = text.replacingOccurrences(of: "${AWS::Partition}", with: "aws")
            .replacingOccurrences(of: "${AWS::Region}", with: "eu-west-3")
            .replacingOccurrences(of: "${AWS::AccountId}", with: "123456789012")
            .replacingOccurrences(of: "${!", with: "${")
        return try! PolicyEvaluation.parse(rendered, name: "developer-session")
    }()

    static func session(_ user: String, on instance: String, owner: String?, document: Bool = false) -> PolicyEvaluation.Request {
        var context = ["aws:username": user]
        if let owner { context["ssm:resourceTag/Owner"] = owner }
        if document { context["ssm:SessionDocumentAccessCheck"] = "true" }
        return .init(action: "ssm:StartSession", resource: "arn:aws:ec2:eu-west-3:123456789012:instance/\(instance)", context: context)
    }

    @Test func theMatrixAllowsOnlyTheOwnersMachine() {
        let users = ["alice", "bob", "carol"]
        let machines: [(String, String?)] = [("i-a", "alice"), ("i-b", "bob"), ("i-c", "carol"), ("i-admin", nil), ("i-app", nil)]
        for user in users {
            for (instance, owner) in machines {
                let decision = PolicyEvaluation.decide(Self.session(user, on: instance, owner: owner), [Self.developerPolicy])
                #expect(decision.allowed == (owner == user), "\(user) on \(instance)")
            }
        }
        // Tag values are compared exactly: `Alice` is not alice.
        #expect(!PolicyEvaluation.decide(Self.session("alice", on: "i-x", owner: "Alice"), [Self.developerPolicy]).allowed)
    }

    @Test func onlyTheStandardShellDocumentAndOnlyOwnSessions() {
        let policy = [Self.developerPolicy]
        let document = { (name: String) in
            PolicyEvaluation.Request(action: "ssm:StartSession", resource: "arn:aws:ssm:eu-west-3:123456789012:document/\(name)",
                                     context: ["aws:username": "alice", "ssm:SessionDocumentAccessCheck": "true"])
        }
        #expect(PolicyEvaluation.decide(document("SSM-SessionManagerRunShell"), policy).allowed)
        #expect(!PolicyEvaluation.decide(document("AWS-StartPortForwardingSession"), policy).allowed)
        let end = { (session: String) in
            PolicyEvaluation.Request(action: "ssm:TerminateSession", resource: "arn:aws:ssm:eu-west-3:123456789012:session/\(session)",
                                     context: ["aws:username": "alice"])
        }
        #expect(PolicyEvaluation.decide(end("alice-0a1b2c"), policy).allowed)
        #expect(!PolicyEvaluation.decide(end("bob-0a1b2c"), policy).allowed)
        #expect(!PolicyEvaluation.decide(end("alice2-0a1b2c"), policy).allowed)
        for action in ["ssm:SendCommand", "iam:AttachUserPolicy", "iam:CreateAccessKey", "s3:GetObject"] {
            let request = PolicyEvaluation.Request(action: action, resource: "*", context: ["aws:username": "alice"])
            #expect(PolicyEvaluation.decide(request, policy) == .implicitDeny, "\(action)")
        }
    }

    @Test func aWidenedPolicyIsSeenAndAnExplicitDenyWins() throws {
        let wide = try PolicyEvaluation.parse(#"{"Version": "2012-10-17", "Statement": [{"Sid": "Wide", "Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]}"#,
                                              name: "inline:wide")
        let decision = PolicyEvaluation.decide(Self.session("alice", on: "i-b", owner: "bob"), [Self.developerPolicy, wide])
        #expect(decision == .allow(policy: "inline:wide", statement: "Wide"))
        let deny = try PolicyEvaluation.parse(#"{"Statement": {"Effect": "Deny", "NotAction": "sts:*", "Resource": "*", "Condition": {"StringNotEquals": {"ssm:resourceTag/Owner": "${aws:username}"}}}}"#,
                                              name: "guard")
        #expect(PolicyEvaluation.decide(Self.session("alice", on: "i-b", owner: "bob"), [wide, deny]) == .explicitDeny(policy: "guard", statement: "#1"))
        // StringNotEquals on an absent key holds: an untagged machine is denied too.
        #expect(!PolicyEvaluation.decide(Self.session("alice", on: "i-admin", owner: nil), [wide, deny]).allowed)
        #expect(PolicyEvaluation.decide(Self.session("alice", on: "i-a", owner: "alice"), [wide, deny]).allowed)
    }

    @Test func anUnknownConditionCountsAsMatchingInAnAllowOnly() throws {
        let odd = try PolicyEvaluation.parse(#"{"Statement": [{"Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}"#,
                                             name: "odd")
        #expect(PolicyEvaluation.decide(Self.session("alice", on: "i-b", owner: "bob"), [odd]).allowed)
    }
}
