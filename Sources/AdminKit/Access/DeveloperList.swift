import AWS
import Foundation
import Nuvola
import Terminal

/// `adminctl devs`: every developer, their machine's state and agent, key ages, and what the
/// machine itself says (devbox version, through Run Command with a short timeout; offline
/// machines are shown as such).
public struct DeveloperList: Sendable {
    public var access: DeveloperAccess
    public var now: Date = Date()

    public init(access: DeveloperAccess) { self.access = access }

    public struct Developer: Sendable, Encodable {
        public var name: String
        public var stack: String
        public var stackStatus: String
        public var instanceId: String?
        public var instanceState: String?
        public var agent: String
        public var keyAgesDays: [Int]
        public var devboxVersion: String?
    }

    public struct Report: Sendable, Encodable {
        public var developers: [Developer]

        public func render(_ policy: ColorPolicy) -> String {
            guard !developers.isEmpty else { return "No developer is onboarded: `adminctl onboard NAME` adds one." }
            var table = Table(headers: ["developer", "machine", "state", "agent", "key age (days)", "devbox", "stack"])
            for item in developers {
                table.append([item.name, item.instanceId ?? "-", item.instanceState ?? "-", item.agent,
                              item.keyAgesDays.map(String.init).joined(separator: ", "), item.devboxVersion ?? "-",
                              item.stackStatus])
            }
            return table.render(policy)
        }
    }

    public func run() async throws -> Report {
        var developers: [Developer] = []
        for stack in try await access.developerStacks() {
            guard let name = DeveloperStackNaming.developer(ofStack: stack.name, project: access.project) else { continue }
            let instance = stack.outputs["InstanceId"]
            var item = Developer(name: name, stack: stack.name, stackStatus: stack.status, instanceId: instance, agent: "-",
                                 keyAgesDays: [])
            item.keyAgesDays = ((try? await access.iam.listAccessKeys(user: name)) ?? []).compactMap { key in
                key.created.map { Int(now.timeIntervalSince($0) / 86_400) }
            }
            if let instance {
                var found: [EC2.Instance] = []
                for try await page in access.ec2.describeInstances(ids: [instance]) { found += page }
                item.instanceState = found.first?.state
                var online = false
                for try await page in access.ssm.describeInstanceInformation(filters: [.init(key: "InstanceIds", values: [instance])]) {
                    online = online || page.contains { $0.PingStatus == "Online" }
                }
                item.agent = online ? "online" : "offline"
                if online, let result = try? await runOnOneInstance(access.ssm, instanceID: instance,
                                                                    commands: ["\(MachineReadiness.devbox) --version"],
                                                                    timeout: .seconds(15), poll: access.pollInterval),
                   result.Status == "Success" {
                    // `devbox --version` goes on with the libraries it links: the first line is devbox's.
                    item.devboxVersion = result.StandardOutputContent?.split(whereSeparator: \.isNewline).first
                        .map { $0.trimmingCharacters(in: .whitespaces) }
                }
            }
            developers.append(item)
        }
        return Report(developers: developers)
    }
}
