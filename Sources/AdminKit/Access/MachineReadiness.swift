import AWS
import Foundation
import Host
import Terminal

/// Runs one shell script on one instance through Run Command and waits for its result: the
/// single-host probe onboarding and `devs` need. Its comment carries a unique tag, so a lost
/// SendCommand answer is found again, not fatal; it is a probe's, kept out of `adminctl run --history`.
public func runOnOneInstance(_ ssm: SSM, instanceID: String, commands: [String], timeout: Duration,
                             poll: Duration, lostAnswerLookups: Int = 5) async throws -> SSM.InvocationResult {
    let seconds = max(30, Int(timeout.components.seconds))
    var input = SSM.SendCommandInput.shell(commands, instanceIDs: [instanceID], executionTimeout: seconds)
    input.Comment = FleetHistory.comment(commands.joined(separator: "; "), prefix: FleetHistory.probePrefix)
    let command = try await ssm.sendCommand(input, lookingForALostAnswer: lostAnswerLookups)
    let deadline = ContinuousClock.now + timeout
    while true {
        do {
            let result = try await ssm.getCommandInvocation(commandID: command.CommandId, instanceID: instanceID)
            if !["Pending", "InProgress", "Delayed", "Cancelling"].contains(result.Status) { return result }
        } catch let error as AWSError where error.code == "InvocationDoesNotExist" {
            // AWS answers this for a moment after SendCommand.
        }
        if ContinuousClock.now >= deadline {
            try? await ssm.cancelCommand(command.CommandId)
            throw AccessError(.machineNotReady, "Run Command \(command.CommandId) on \(instanceID) did not finish in "
                + "\(Format.duration(Double(timeout.components.seconds))).")
        }
        try await Task.sleep(for: poll)
    }
}

/// Waits until a new developer machine is ready: its agent online, then `devbox doctor --json`
/// (run there through Run Command) reporting the workspace cloned on the integration branch.
public struct MachineReadiness: Sendable {
    public static let devbox = "/opt/devbox/current/bin/devbox"

    public var ssm: SSM
    public var instanceID: String
    public var poll: Duration
    public var timeout: Duration

    public init(ssm: SSM, instanceID: String, poll: Duration, timeout: Duration) {
        self.ssm = ssm
        self.instanceID = instanceID
        self.poll = poll
        self.timeout = timeout
    }

    /// What the machine said when it was ready: the doctor's checks.
    public struct Ready: Sendable, Encodable {
        public var checks: [Doctor.Check]
        public var secondsToAgent: Double
        public var secondsToReady: Double
    }

    /// The parts of `devbox doctor --json` readiness reads.
    public struct Doctor: Decodable, Sendable {
        public struct Check: Codable, Sendable {
            public var name: String
            public var status: String
            public var detail: String
        }
        public var checks: [Check]
        public var workspace: Check? { checks.first { $0.name == "workspace" } }
    }

    public func wait(progress: @Sendable (String) -> Void) async throws -> Ready {
        let started = ContinuousClock.now
        let deadline = started + timeout
        progress("waiting for the SSM agent of \(instanceID)…")
        while try await !agentOnline() {
            try await giveUp(ifPast: deadline, "its SSM agent never came online")
            try await Task.sleep(for: poll)
        }
        let agent = seconds(since: started)
        progress("agent online after \(Format.duration(agent)); waiting for the machine's setup (devbox init)…")
        var last = "devbox is not installed yet"
        while true {
            let result = try await runOnOneInstance(ssm, instanceID: instanceID, commands: [
                "test -x \(Self.devbox) || { echo 'devbox is not installed yet' >&2; exit 3; }",
                "HOME=/root \(Self.devbox) doctor --json",
            ], timeout: .seconds(60), poll: poll)
            if let output = result.StandardOutputContent, let doctor = try? JSONDecoder().decode(Doctor.self, from: Data(output.utf8)) {
                if doctor.workspace?.status == "ok" {
                    return Ready(checks: doctor.checks, secondsToAgent: agent, secondsToReady: seconds(since: started))
                }
                last = doctor.workspace.map { "workspace: \($0.detail)" } ?? "devbox doctor reported no workspace check"
            } else {
                last = (result.StandardErrorContent ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            }
            try await giveUp(ifPast: deadline, last)
            try await Task.sleep(for: poll)
        }
    }

    func agentOnline() async throws -> Bool {
        for try await page in ssm.describeInstanceInformation(filters: [.init(key: "InstanceIds", values: [instanceID])]) {
            if page.contains(where: { $0.InstanceId == instanceID && $0.PingStatus == "Online" }) { return true }
        }
        return false
    }

    func giveUp(ifPast deadline: ContinuousClock.Instant, _ reason: String) async throws {
        guard ContinuousClock.now >= deadline else { return }
        let log = try? await runOnOneInstance(ssm, instanceID: instanceID,
                                              commands: ["tail -n 15 /var/log/cloud-init-output.log"],
                                              timeout: .seconds(30), poll: poll).StandardOutputContent
        throw AccessError(.machineNotReady, "\(instanceID) was not ready after \(Format.duration(Double(timeout.components.seconds))): "
            + "\(reason)." + (log.map { $0.isEmpty ? "" : "\nThe end of its setup log (/var/log/cloud-init-output.log):\n\($0)" } ?? "")
            + "\nIts stack and IAM user are kept: look at the machine (`aws ssm start-session --target \(instanceID)`), or remove "
            + "everything with `adminctl offboard`.")
    }

    func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).seconds
    }
}
