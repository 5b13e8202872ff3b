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
               invocations.allSatisfy({ ["Success", "Failed", "TimedOut", "Cancelled", "Undeliverable"].contains($0.Status ?? "") }) {
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
        input.count = 5
        input.tags = ["Role": role]
        let instances = try await ec2.runInstances(input).map(\.id)

        var pages = 0
        var agents: [SSM.InstanceInformation] = []
        for try await page in ssm.describeInstanceInformation(filters: [.init(key: "tag:Role", values: [role])], pageSize: 2) {
            pages += 1
            agents += page
        }
        #expect(pages == 3)
        #expect(Set(agents.map(\.InstanceId)) == Set(instances))
        #expect(agents.allSatisfy { $0.PingStatus == "Online" && $0.PlatformType == "Linux" })

        let command = try await ssm.sendCommand(.shell(["echo \"release r42 on $FLEET_INSTANCE_ID\" > deployed.txt",
                                                        "cat deployed.txt", "echo warning >&2"],
                                                       targets: [.tag("Role", [role])]))
        #expect(command.TargetCount == 5)
        let invocations = try await finished(ssm, command.CommandId, count: 5)
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
        #expect(page.count == 5)
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
        #expect(results.first { $0.InstanceId == instances[1] }?.Status == "Undeliverable")
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
