import AdminKit
import AWS
import Foundation
import Testing
import TestSupport

/// The single-host probe onboarding's readiness wait and `devs` run through Run Command.
@Suite struct RunOnOneInstanceTests {
    /// SendCommand has no idempotency token: its answer lost after AWS took it, the probe finds the
    /// command by its comment's tag and follows it, instead of failing the onboarding (it did) or
    /// sending it twice.
    @Test func aLostSendCommandAnswerIsFoundByItsCommentAndTheScriptRunsOnce() async throws {
        let fleet = try await Fleet.start()
        defer { Task { try? await fleet.stop() } }
        let ssm = SSM(fleet.client())
        let instance = try #require(try await EC2(fleet.client()).runInstances(EC2.RunInstancesInput(imageID: "ami-12c6146b")).first).id
        try await fleet.inject(kind: "drop-after", service: "ssm", operation: "SendCommand", count: 1)
        let result = try await runOnOneInstance(ssm, instanceID: instance, commands: ["cd /", "echo probed >> probes.txt", "cat probes.txt"],
                                                timeout: .seconds(60), poll: .milliseconds(200))
        #expect(result.Status == "Success" && result.StandardOutputContent == "probed\n", "\(result)")
        #expect(try await fleet.faults().first?["hits"] as? Int == 1)
        let sent = try await ssm.listCommands().all { $0 }
        #expect(sent.count == 1 && sent.first?.Comment?.hasPrefix("adminctl probe: cd /; echo probed >> probes.txt; cat probes.txt #") == true,
                "\(sent.map(\.Comment))")
        #expect(try String(contentsOfFile: fleet.root(of: instance) + "/probes.txt", encoding: .utf8) == "probed\n")
        // A probe is adminctl's own, not one of the admin's runs.
        #expect(try await FleetHistory.list(ssm).runs.isEmpty)
    }
}
