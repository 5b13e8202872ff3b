import AWS
import Foundation
import Testing
import TestSupport

@Suite("SSM Run Command against the simulator's agents, authentication on")
struct RunCommandTests {
    /// Polls until every invocation of `command` has finished (AWS answers InvocationDoesNotExist
    /// for a moment after SendCommand; callers have to cope).
    func finished(_ ssm: SSM, _ command: String, count: Int) async throws -> [SSM.Invocation] {
        for _ in 0..<200 {
            let invocations = try await ssm.listCommandInvocations(commandID: command, details: true).all { $0 }
            if invocations.count == count,
               invocations.allSatisfy({ ["Success", "Failed", "TimedOut", "Cancelled"].contains($0.Status ?? "") }) {
                return invocations
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let last = try await ssm.listCommandInvocations(commandID: command, details: true).all { $0 }
        throw FleetError(message: "command \(command) did not finish: \(last.map { "\($0.InstanceId) \($0.Status ?? "")" })")
    }

    @Test func commandsRunInEachInstancesRootAndReportOutput() async throws {
        let fleet = try await Fleet.shared()
        let ec2 = EC2(fleet.client())
        let ssm = SSM(fleet.client())
        let role = unique("web")
        var input = EC2.RunInstancesInput(imageID: "ami-12c6146b")
        input.count = 12
        input.tags = ["Role": role]
        let instances = try await ec2.runInstances(input).map(\.id)

        // Pages of 5 (AWS's smallest MaxResults here): 5, 5, 2.
        var pages = 0
        var agents: [SSM.InstanceInformation] = []
        for try await page in ssm.describeInstanceInformation(filters: [.init(key: "tag:Role", values: [role])], pageSize: 5) {
            pages += 1
            agents += page
        }
        #expect(pages == 3)
        #expect(Set(agents.map(\.InstanceId)) == Set(instances))
        #expect(agents.allSatisfy { $0.PingStatus == "Online" && $0.PlatformType == "Linux" })

        // A working directory of its own: AWS's default is the agent's orchestration directory.
        let command = try await ssm.sendCommand(.shell(["echo \"release r42 on $FLEET_INSTANCE_ID\" > deployed.txt",
                                                        "cat deployed.txt", "echo warning >&2"],
                                                       targets: [.tag("Role", [role])], workingDirectory: "/"))
        #expect(command.TargetCount == 12)
        let invocations = try await finished(ssm, command.CommandId, count: 12)
        #expect(invocations.allSatisfy { $0.Status == "Success" })
        #expect(invocations.allSatisfy { $0.CommandPlugins?.first?.ResponseCode == 0 })
        for instance in instances {
            let written = try String(contentsOfFile: fleet.root(of: instance) + "/deployed.txt", encoding: .utf8)
            #expect(written == "release r42 on \(instance)\n")
        }
        let one = try await ssm.getCommandInvocation(commandID: command.CommandId, instanceID: instances[0])
        #expect(one.Status == "Success")
        #expect(one.StandardOutputContent == "release r42 on \(instances[0])\n")
        #expect(one.StandardErrorContent == "warning\n")
        let page = try await ssm.listCommandInvocations(commandID: command.CommandId, pageSize: 2).all { $0 }
        #expect(page.count == 12)
        #expect(try await ssm.listCommands(commandID: command.CommandId).all { $0 }.first?.Status == "Success")
        try await ec2.terminateInstances(instances)
    }

    @Test func offlineAgentsAreUndeliverableAndLongCommandsCanBeCancelled() async throws {
        let fleet = try await Fleet.shared()
        let ec2 = EC2(fleet.client())
        let ssm = SSM(fleet.client())
        var input = EC2.RunInstancesInput(imageID: "ami-12c6146b")
        input.count = 2
        let instances = try await ec2.runInstances(input).map(\.id)
        _ = try await ssm.describeInstanceInformation().all { $0 }  // agents register
        try await fleet.setAgent(instances[1], online: false)
        let info = try await ssm.describeInstanceInformation(filters: [.init(key: "InstanceIds", values: instances)]).all { $0 }
        #expect(info.first { $0.InstanceId == instances[1] }?.PingStatus == "ConnectionLost")

        var send = SSM.SendCommandInput.shell(["echo hi"], instanceIDs: instances)
        send.MaxErrors = "1"
        let reached = try await ssm.sendCommand(send)
        let results = try await finished(ssm, reached.CommandId, count: 2)
        #expect(results.first { $0.InstanceId == instances[0] }?.Status == "Success")
        // AWS's CommandInvocationStatus has no Undeliverable: it is Failed, the reason in StatusDetails.
        #expect(results.first { $0.InstanceId == instances[1] }?.Status == "Failed")
        #expect(results.first { $0.InstanceId == instances[1] }?.StatusDetails == "Undeliverable")
        try await fleet.setAgent(instances[1], online: true)

        let long = try await ssm.sendCommand(.shell(["sleep 30"], instanceIDs: [instances[0]]))
        try await Task.sleep(for: .milliseconds(600))
        try await ssm.cancelCommand(long.CommandId)
        let cancelled = try await finished(ssm, long.CommandId, count: 1)
        #expect(cancelled.first?.Status == "Cancelled")
        #expect(try await ssm.listCommands(commandID: long.CommandId).all { $0 }.first?.Status == "Cancelled")
        try await ec2.terminateInstances(instances)
    }
}

@Suite("AutoScaling instance refresh against the simulator")
struct InstanceRefreshTests {
    func settle(_ scaling: AutoScaling, _ group: String, _ id: String) async throws -> AutoScaling.InstanceRefresh {
        for _ in 0..<300 {
            if let refresh = try await scaling.describeInstanceRefreshes(group: group, ids: [id]).first,
               !["Pending", "InProgress", "Cancelling", "RollbackInProgress"].contains(refresh.status) {
                return refresh
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FleetError(message: "refresh \(id) did not settle")
    }

    @Test func refreshReplacesEveryInstanceAndRollsBackABadRelease() async throws {
        let fleet = try await Fleet.shared()
        let ec2 = EC2(fleet.client())
        let scaling = AutoScaling(fleet.client())
        let template = try await ec2.createLaunchTemplate(name: unique("prod"), data: .init(imageID: "ami-12c6146b",
                                                                                         userData: "echo r1 > release"))
        let group = unique("prod-asg")
        var settings = AutoScaling.GroupSettings(minSize: 4, maxSize: 8, desiredCapacity: 4, launchTemplateID: template.id)
        settings.launchTemplateVersion = "1"
        settings.availabilityZones = ["eu-west-3a", "eu-west-3b"]
        try await scaling.createGroup(name: group, settings)
        let before = Set(try #require(try await scaling.group(group)).instances.map(\.id))

        let good = try await ec2.createLaunchTemplateVersion(templateID: template.id, data: .init(imageID: "ami-12c6146b",
                                                                                                  userData: "echo r2 > release"))
        let id = try await scaling.startInstanceRefresh(group: group, preferences: .init(minHealthyPercentage: 75),
                                                        launchTemplateID: template.id, launchTemplateVersion: String(good))
        let done = try await settle(scaling, group, id)
        #expect(done.status == "Successful")
        #expect(done.percentageComplete == 100)
        let after = try #require(try await scaling.group(group))
        #expect(after.instances.count == 4)
        #expect(Set(after.instances.map(\.id)).isDisjoint(with: before))
        for member in after.instances {
            #expect(try String(contentsOfFile: fleet.root(of: member.id) + "/release", encoding: .utf8) == "r2\n")
        }

        let bad = try await ec2.createLaunchTemplateVersion(templateID: template.id, data: .init(imageID: "ami-12c6146b",
                                                                                                 userData: "exit 1"))
        let failing = try await scaling.startInstanceRefresh(group: group, preferences: .init(minHealthyPercentage: 75, autoRollback: true),
                                                             launchTemplateID: template.id, launchTemplateVersion: String(bad))
        let rolledBack = try await settle(scaling, group, failing)
        #expect(rolledBack.status == "RollbackSuccessful")
        let kept = try #require(try await scaling.group(group))
        #expect(Set(kept.instances.map(\.id)) == Set(after.instances.map(\.id)))
        #expect(kept.launchTemplateVersion == String(good))

        // Cancel and roll back on request, and the errors when nothing is running.
        let slow = try await ec2.createLaunchTemplateVersion(templateID: template.id, data: .init(imageID: "ami-12c6146b",
                                                                                                  userData: "sleep 2; echo r3 > release"))
        let cancelled = try await scaling.startInstanceRefresh(group: group, preferences: .init(minHealthyPercentage: 75),
                                                               launchTemplateID: template.id, launchTemplateVersion: String(slow))
        try await scaling.cancelInstanceRefresh(group: group)
        #expect(try await settle(scaling, group, cancelled).status == "Cancelled")
        let rolling = try await scaling.startInstanceRefresh(group: group, preferences: .init(minHealthyPercentage: 75),
                                                             launchTemplateID: template.id, launchTemplateVersion: String(slow))
        try await scaling.rollbackInstanceRefresh(group: group)
        #expect(try await settle(scaling, group, rolling).status.hasPrefix("Rollback"))
        let error = await #expect(throws: AWSError.self) { try await scaling.cancelInstanceRefresh(group: group) }
        #expect(error?.code == "ActiveInstanceRefreshNotFound")
        try await scaling.deleteGroup(group)
    }
}
