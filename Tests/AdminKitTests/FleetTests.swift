import AWS
@testable import AdminKit
import Nuvola
import Terminal
import Testing

/// The fleet engine's pure parts: which machines a selection means, Run Command's statuses as
/// outcomes, the agent's plugin output split back, limits, and how results read.
@Suite struct FleetTests {
    @Test func allMeansDeveloperMachinesAndEnvMeansAppInstances() {
        let all = FleetSelection(all: true)
        #expect(all.problem == nil)
        #expect(all.ssmTargets == [.tag("Role", ["devbox"])])
        #expect(all.summary == "Role=devbox")
        let prod = FleetSelection(environment: .prod)
        #expect(prod.ssmTargets == [.tag("Role", ["app"]), .tag("Env", ["prod"])])
        let developers = FleetSelection(developers: ["ana", "bob"], tags: ["Team": ["web"]])
        #expect(developers.ssmTargets == [.tag("Role", ["devbox"]), .tag("Owner", ["ana", "bob"]), .tag("Team", ["web"])])
        let ids = FleetSelection(instanceIDs: ["i-1", "i-2"])
        #expect(ids.ssmTargets == nil && ids.tagConditions.isEmpty)
        #expect(FleetSelection(all: true, environment: .prod).problem?.contains("never app instances") == true)
        #expect(FleetSelection().problem?.hasPrefix("say which machines") == true)
        #expect(FleetSelection(all: true, instanceIDs: ["i-1"]).problem != nil)
        #expect(FleetSelection(tags: ["Role": ["app"]]).problem?.contains("--tag Role=... is not taken") == true)
        #expect(FleetSelection.parseTags(["Team=web", "Team=api", "Zone=a=b"]).tags == ["Team": ["web", "api"], "Zone": ["a=b"]])
        #expect(FleetSelection.parseTags(["oops"]).problem?.contains("KEY=VALUE") == true)
    }

    /// `--dev ''` or `--dev 'a;b'` names nobody onboarding could have made: a usage error, not "no instance matches".
    @Test func devTakesOnlyDeveloperNames() {
        #expect(FleetSelection(developers: ["ana", ""]).problem == "--dev takes a developer's name: '' has 0 characters; a developer name has 2 to 32")
        #expect(FleetSelection(developers: ["a;b"]).problem?.hasPrefix("--dev takes a developer's name: 'a;b' holds ';'") == true)
        #expect(FleetSelection(developers: ["ana", "bob2"]).problem == nil)
    }

    @Test func statusesAreOutcomes() {
        #expect(HostOutcome.of(status: "Success", details: "Success") == .ok)
        #expect(HostOutcome.of(status: "Failed", details: "Failed") == .failed)
        #expect(HostOutcome.of(status: "Failed", details: "Undeliverable") == .undeliverable)
        #expect(HostOutcome.of(status: "TimedOut", details: "DeliveryTimedOut") == .undeliverable)
        #expect(HostOutcome.of(status: "TimedOut", details: "ExecutionTimedOut") == .timedOut)
        #expect(HostOutcome.of(status: "Cancelled", details: "Terminated") == .cancelled)
        #expect(HostOutcome.of(status: "InProgress", details: "InProgress") == nil)
        #expect(HostOutcome.of(status: "Pending", details: "Pending") == nil)
        #expect(HostOutcome.of(status: "Cancelling", details: "Cancelling") == nil)
    }

    @Test func pluginOutputSplitsIntoStreamsAndNoticesCuts() {
        #expect(PluginOutput("out\n\n----------ERROR-------\nerr\n") == PluginOutput(stdout: "out\n", stderr: "err\n", truncated: false))
        #expect(PluginOutput("only\n") == PluginOutput(stdout: "only\n", stderr: "", truncated: false))
        #expect(PluginOutput("xxx\n---Output truncated---") == PluginOutput(stdout: "xxx", stderr: "", truncated: true))
        #expect(PluginOutput("a\n---Output truncated---\n----------ERROR-------\nb\n---Error truncated----").truncated)
    }

    @Test func limitsAreCheckedAndTheDeliveryTimeoutCoversEveryWave() {
        #expect(FleetLimits.problem("10", name: "--concurrency", allowsZero: false) == nil)
        #expect(FleetLimits.problem("25%", name: "--concurrency", allowsZero: false) == nil)
        #expect(FleetLimits.problem("0", name: "--concurrency", allowsZero: false) != nil)
        #expect(FleetLimits.problem("0", name: "--max-errors", allowsZero: true) == nil)
        #expect(FleetLimits.problem("101%", name: "--max-errors", allowsZero: true) != nil)
        #expect(FleetLimits.problem("ten", name: "--max-errors", allowsZero: true) != nil)
        // Int.max trapped in deliveryTimeout's sum (SIGILL); SendCommand takes at most seven characters anyway.
        #expect(FleetLimits.problem("9223372036854775807", name: "--concurrency", allowsZero: false)
            == "--concurrency takes a count (1 to 9999999) or a percentage such as 10%, not \"9223372036854775807\"")
        #expect(FleetLimits.problem("9999999", name: "--max-errors", allowsZero: true) == nil)
        #expect(FleetLimits.problem("10000000", name: "--max-errors", allowsZero: true) != nil)
        #expect(FleetLimits(timeoutSeconds: 60).deliveryTimeout(hosts: 500) == 120)
        #expect(FleetLimits(concurrency: "10", timeoutSeconds: 60).deliveryTimeout(hosts: 95) == 660)
        #expect(FleetLimits(concurrency: "25%", timeoutSeconds: 60).deliveryTimeout(hosts: 7) == 300)
        #expect(FleetLimits(timeoutSeconds: 1, deliveryTimeoutSeconds: 5).deliveryTimeout(hosts: 1) == 30)
    }

    @Test func limitsResolveOverTheWholeRunAsRunCommandResolvesThem() {
        #expect(FleetLimits.count("5%", of: 120) == 6)
        #expect(FleetLimits.count("5%", of: 121) == 7)      // rounded up
        #expect(FleetLimits.count("1%", of: 3) == 1)        // a non-zero percentage is at least one
        #expect(FleetLimits.count("0%", of: 500) == 0 && FleetLimits.count("0", of: 500) == 0)
        #expect(FleetLimits.count("12", of: 3) == 12 && FleetLimits.count("x%", of: 3) == nil)
    }

    @Test func aLostMachineCountsAsNotOkAndIsSummarised() {
        var report = FleetRunReport(command: "true", selection: nil, limits: nil)
        report.hosts = [result("ana", .ok, code: 0, stdout: ""),
                        HostResult(host: FleetHost(instanceID: "i-bob", owner: "bob"), commandID: "c", outcome: .lost, status: "InProgress",
                                   statusDetails: "terminated", reason: "the machine was terminated while the command ran")]
        #expect(report.exitStatus == 1 && report.summary.lost == 1)
        #expect(report.renderSummary(ColorPolicy(enabled: false)).hasPrefix("2 machines: 1 ok, 1 lost in "), "\(report.renderSummary(ColorPolicy(enabled: false)))")
        #expect(report.hosts[1].headline == "lost: the machine was terminated while the command ran")
    }

    func result(_ name: String, _ outcome: HostOutcome, code: Int?, stdout: String, stderr: String = "") -> HostResult {
        HostResult(host: FleetHost(instanceID: "i-\(name)", owner: name), commandID: "c", outcome: outcome, status: "", statusDetails: "",
                   exitCode: code, seconds: 0.25, stdout: stdout, stderr: stderr)
    }

    @Test func resultsReadAsPrefixedLinesAndIdenticalOutputIsNotRepeated() {
        let plain = ColorPolicy(enabled: false)
        var printer = HostLine.Printer()
        #expect(printer.render(result("ana", .ok, code: 0, stdout: "a\nb\n"), plain) == "ana | a\nana | b\nana: ok, exit 0, 0.25 s")
        #expect(printer.render(result("bob", .ok, code: 0, stdout: "a\nb\n"), plain) == "bob: ok, exit 0, 0.25 s, same output as ana")
        #expect(printer.render(result("cy", .failed, code: 3, stdout: "", stderr: "boom\n"), plain) == "cy ! boom\ncy: failed, exit 3, 0.25 s")
        var report = FleetRunReport(command: "x", selection: nil, limits: nil)
        report.hosts = [result("bob", .ok, code: 0, stdout: "same\n"), result("ana", .ok, code: 0, stdout: "same\n"),
                        result("cy", .failed, code: 3, stdout: "", stderr: "boom\n")]
        #expect(report.exitStatus == 1)
        #expect(report.renderGrouped(plain).hasPrefix("== ana, bob (2): ok, exit 0\n   same\n== cy (1): failed, exit 3, 0.25 s\n   ! boom\n3 machines: 2 ok, 1 failed in "))
        report.hosts += (0..<200).map { result("h\($0)", .offline, code: nil, stdout: "") }
        #expect(report.exitStatus == 125)
    }

    @Test func installOutputIsParsedPerPackage() {
        let lines = "noise\nadminctl-install\tjq\tpresent\t1.6\nadminctl-install\tnosuch\tfailed\tE: Unable to locate package nosuch (exit 100)\n"
        #expect(FleetInstall.parse(lines) == [.init(package: "jq", state: "present", message: "1.6"),
                                              .init(package: "nosuch", state: "failed", message: "E: Unable to locate package nosuch (exit 100)")])
        #expect(FleetInstall.problem("libssl3:amd64") == nil)
        #expect(FleetInstall.problem("-rf") != nil && FleetInstall.problem("a;b") != nil)
    }

    @Test func commandLinesAreQuotedAsBashReadsThem() {
        #expect(FleetCommand.shellLine(["echo hi; ls"]) == "echo hi; ls")
        #expect(FleetCommand.shellLine(["devbox", "status", "--json"]) == "devbox status --json")
        #expect(FleetCommand.shellLine(["echo", "it's here"]) == "echo 'it'\\''s here'")
        #expect(FleetHistory.comment(String(repeating: "x", count: 200)).count == 100)
    }

    /// Every command's comment ends in a tag of its own (how a SendCommand whose answer was lost is
    /// found again); `run --history` shows the command without it.
    @Test func commentsAreTaggedUniquelyAndHistoryShowsTheCommandWithoutTheTag() {
        let first = FleetHistory.comment("deploy: switch to 20261201T000001Z-aaaaaaa")
        let second = FleetHistory.comment("deploy: switch to 20261201T000001Z-aaaaaaa")
        #expect(first != second && first.range(of: " #[0-9a-f]{8}$", options: .regularExpression) != nil, "\(first)")
        #expect(FleetHistory.command(fromComment: first) == "deploy: switch to 20261201T000001Z-aaaaaaa")
        #expect(FleetHistory.command(fromComment: "adminctl: uptime") == "uptime")
        let long = FleetHistory.comment(String(repeating: "x", count: 200), tag: "0123abcd")
        #expect(long.count == 100 && long.hasSuffix("… #0123abcd"), "\(long)")
    }
}
