import AWS
import Foundation
import Nuvola

/// What to run on each host: a shell script (AWS-RunShellScript), where, as whom.
public struct FleetCommand: Sendable {
    /// The script's text, as bash runs it.
    public var script: String
    /// What people see: the command line or "script deploy.sh".
    public var display: String
    public var workingDirectory: String?
    /// Run as this user (setpriv, with the user's groups and a clean environment) instead of root.
    public var runAs: String?

    public init(script: String, display: String, workingDirectory: String? = nil, runAs: String? = nil) {
        self.script = script
        self.display = display
        self.workingDirectory = workingDirectory
        self.runAs = runAs
    }

    /// A command line's words joined as bash reads them: each word quoted unless it is plain.
    public static func shellLine(_ words: [String]) -> String {
        words.count == 1 ? words[0] : words.map(Shell.quoteIfNeeded).joined(separator: " ")
    }
}

/// How hard a run may push: Run Command's MaxConcurrency and MaxErrors (a count or a
/// percentage), the execution timeout and how long a command may wait to be picked up.
public struct FleetLimits: Sendable, Encodable {
    public var concurrency: String?
    public var maxErrors: String?
    public var timeoutSeconds: Int
    public var deliveryTimeoutSeconds: Int?

    public init(concurrency: String? = nil, maxErrors: String? = nil, timeoutSeconds: Int = 600, deliveryTimeoutSeconds: Int? = nil) {
        self.concurrency = concurrency
        self.maxErrors = maxErrors
        self.timeoutSeconds = timeoutSeconds
        self.deliveryTimeoutSeconds = deliveryTimeoutSeconds
    }

    /// "N" or "P%" as Run Command takes them (1-100 %, counts from 1, or 0 for max errors; at most
    /// seven characters, so counts up to 9999999: a larger one trapped in the delivery timeout's sum).
    public static func problem(_ value: String, name: String, allowsZero: Bool) -> String? {
        let number = value.hasSuffix("%") ? String(value.dropLast()) : value
        guard let count = Int(number), count >= (allowsZero ? 0 : 1), count <= (value.hasSuffix("%") ? 100 : 9_999_999) else {
            return "\(name) takes a count (\(allowsZero ? "0" : "1") to 9999999) or a percentage such as 10%, not \"\(value)\""
        }
        return nil
    }

    /// A count or percentage resolved over `hosts` machines as Run Command resolves it: a
    /// percentage rounds up, and a non-zero one is at least 1. nil for a value that is neither.
    static func count(_ value: String, of hosts: Int) -> Int? {
        guard value.hasSuffix("%") else { return Int(value) }
        guard let percent = Int(value.dropLast()) else { return nil }
        return percent == 0 ? 0 : max(1, (hosts * percent + 99) / 100)
    }

    /// Seconds Run Command may hold a command back before it starts (TimeoutSeconds): every
    /// wave of `concurrency` hosts may take the whole execution timeout.
    func deliveryTimeout(hosts: Int) -> Int {
        if let deliveryTimeoutSeconds { return min(max(30, deliveryTimeoutSeconds), 2_592_000) }
        var waves = 1
        if let concurrency {
            if concurrency.hasSuffix("%"), let percent = Int(concurrency.dropLast()), percent > 0 {
                waves = (100 + percent - 1) / percent
            } else if let count = Int(concurrency), count > 0 {
                waves = (hosts + count - 1) / count
            }
        }
        return min(max(30, timeoutSeconds * max(1, waves) + 60), 2_592_000)
    }
}

/// The fan-out engine every adminctl fleet operation goes through (`run`, `cp`, `install`,
/// deploy waves, onboarding's readiness check): resolves the machines, reports the ones that
/// cannot be reached before sending, sends one SendCommand by tags where it can (instance ids
/// in batches of 50 otherwise), follows the invocations and hands each host's result to
/// `onResult` as it completes; Ctrl-C (task cancellation) cancels what has not finished.
public struct FleetRun: Sendable {
    public var ssm: SSM
    public var ec2: EC2
    public var s3: S3
    /// Where Run Command writes every host's full output (the shared stack's artifacts bucket by default).
    public var outputBucket: String?
    /// Where files for hosts (cp, large scripts) are staged; usually the same bucket.
    public var stagingBucket: String?
    /// Fastest and slowest polling of ListCommandInvocations.
    public var pollInterval: (fastest: Duration, slowest: Duration) = (.milliseconds(250), .seconds(3))
    /// Scripts longer than this go to the hosts through S3 (SendCommand refuses large parameters).
    public var inlineLimit = 32 * 1024
    /// How many times `send` looks for a command whose SendCommand answer was lost (a second apart).
    public var lostAnswerLookups = 5
    /// Instance ids per SendCommand (Run Command's limit).
    public static let batchSize = 50

    public init(ssm: SSM, ec2: EC2, s3: S3, outputBucket: String? = nil, stagingBucket: String? = nil) {
        self.ssm = ssm
        self.ec2 = ec2
        self.s3 = s3
        self.outputBucket = outputBucket
        self.stagingBucket = stagingBucket ?? outputBucket
    }

    // MARK: Targets

    /// Every instance the selection names (not terminated), with its agent's ping status.
    public func resolve(_ selection: FleetSelection) async throws -> [FleetHost] {
        if let problem = selection.problem { throw FleetError(.usage, problem) }
        guard !selection.instanceIDs.isEmpty else { return try await resolveByTags(selection) }
        let states = EC2.Filter("instance-state-name", ["pending", "running", "stopping", "stopped"])
        var instances: [EC2.Instance]
        do {
            instances = try await ec2.describeInstances(ids: selection.instanceIDs, filters: [states]).all { $0 }
        } catch let error as AWSError where error.code.hasPrefix("InvalidInstanceID") {
            throw FleetError(.noTargets, "No such instance: \(error.message) Check the ids (`adminctl run --all -- hostname` lists the developer machines).")
        }
        let conditions = selection.tagConditions
        instances = instances.filter { instance in conditions.allSatisfy { $0.values.contains(instance.tags[$0.key] ?? "") } }
        var hosts = instances.map(FleetHost.init)
        try await addPing(to: &hosts)
        return try finish(hosts, selection)
    }

    /// The machines a tag selection names, from their tags alone (DescribeTags: a few lines per
    /// instance where DescribeInstances is a page of XML each), then the agents' ping status;
    /// only the machines whose agent is not online are looked up in EC2 for their state.
    func resolveByTags(_ selection: FleetSelection) async throws -> [FleetHost] {
        let conditions = selection.tagConditions
        let keys = Array(Set([NuvolaTag.role, NuvolaTag.owner, NuvolaTag.environment] + conditions.map(\.key))).sorted()
        var tags: [String: [String: String]] = [:]
        for try await page in ec2.describeTags(filters: [EC2.Filter("resource-type", ["instance"]), EC2.Filter("key", keys)]) {
            for tag in page { tags[tag.resourceID, default: [:]][tag.key] = tag.value }
        }
        var hosts = tags.filter { _, carried in conditions.allSatisfy { $0.values.contains(carried[$0.key] ?? "") } }.map { id, carried in
            FleetHost(instanceID: id, owner: carried[NuvolaTag.owner].flatMap { $0.isEmpty ? nil : $0 },
                      environment: carried[NuvolaTag.environment], role: carried[NuvolaTag.role], state: "running")
        }
        try await addPing(to: &hosts)
        let unsure = Set(hosts.filter { $0.ping != "Online" }.map(\.instanceID))
        if !unsure.isEmpty {
            var states: [String: String] = [:]
            let ids = unsure.sorted()
            for start in stride(from: 0, to: ids.count, by: 200) {
                let batch = Array(ids[start..<min(start + 200, ids.count)])
                for instance in try await ec2.describeInstances(filters: [EC2.Filter("instance-id", batch)]).all({ $0 }) {
                    states[instance.id] = instance.state
                }
            }
            // Tags outlive terminated instances for a while: those are no longer targets.
            hosts = hosts.compactMap { host in
                guard unsure.contains(host.instanceID) else { return host }
                guard let state = states[host.instanceID], !["terminated", "shutting-down"].contains(state) else { return nil }
                var host = host
                host.state = state
                return host
            }
        }
        return try finish(hosts, selection)
    }

    /// Labels made unique, sorted; an empty selection is an error naming the filter.
    func finish(_ found: [FleetHost], _ selection: FleetSelection) throws -> [FleetHost] {
        var hosts = found
        let owners = Dictionary(grouping: hosts.compactMap(\.owner), by: { $0 })
        for index in hosts.indices { hosts[index].sharesOwner = (owners[hosts[index].owner ?? ""]?.count ?? 0) > 1 }
        hosts.sort { ($0.label, $0.instanceID) < ($1.label, $1.instanceID) }
        guard !hosts.isEmpty else {
            let hint = selection.environment == nil && selection.instanceIDs.isEmpty
                ? " Developer machines carry \(NuvolaTag.role)=\(MachineRole.devbox.rawValue) from onboarding; app instances are reached with --env prod|dev."
                : ""
            throw FleetError(.noTargets, "No instance matches \(selection.summary).\(hint)")
        }
        return hosts
    }

    /// Fills in each host's Systems Manager ping status (DescribeInstanceInformation by ids, 50 at a time).
    func addPing(to hosts: inout [FleetHost]) async throws {
        var ping: [String: String] = [:]
        for batch in stride(from: 0, to: hosts.count, by: Self.batchSize).map({ Array(hosts[$0..<min($0 + Self.batchSize, hosts.count)]) }) {
            let filter = SSM.InstanceInformationFilter(key: "InstanceIds", values: batch.map(\.instanceID))
            for try await page in ssm.describeInstanceInformation(filters: [filter], pageSize: 50) {
                for item in page { ping[item.InstanceId] = item.PingStatus }
            }
        }
        for index in hosts.indices { hosts[index].ping = ping[hosts[index].instanceID] }
    }

    /// Waits up to `seconds` for the unreachable hosts to come online; returns the hosts as they are then.
    public func waitOnline(_ hosts: [FleetHost], seconds: Double, onNote: @Sendable (String) -> Void) async throws -> [FleetHost] {
        var hosts = hosts
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while hosts.contains(where: { !$0.isOnline }), ContinuousClock.now < deadline {
            let waiting = hosts.filter { !$0.isOnline }.map(\.label)
            onNote("Waiting for \(waiting.count) machine(s) to come online: \(waiting.prefix(5).joined(separator: ", "))\(waiting.count > 5 ? ", …" : "")")
            try await Task.sleep(for: .seconds(2))
            var refreshed = try await ec2.describeInstances(ids: hosts.map(\.instanceID)).all { $0 }.map(FleetHost.init)
            try await addPing(to: &refreshed)
            let byID = Dictionary(refreshed.map { ($0.instanceID, $0) }, uniquingKeysWith: { first, _ in first })
            hosts = hosts.map { byID[$0.instanceID] ?? $0 }
        }
        return hosts
    }

    // MARK: Running

    /// Runs `command` on `hosts` (from `resolve`): hosts that cannot be reached are reported
    /// first and not sent to; each result goes to `onResult` as it completes. Cancellation
    /// (Ctrl-C) sends CancelCommand and returns what ran, with `interrupted` set.
    public func run(_ command: FleetCommand, on hosts: [FleetHost], selection: FleetSelection, limits: FleetLimits = FleetLimits(),
                    onNote: @escaping @Sendable (String) -> Void = { _ in },
                    onResult: @escaping @Sendable (HostResult) -> Void) async throws -> FleetRunReport {
        let started = ContinuousClock.now
        var report = FleetRunReport(command: command.display, selection: selection, limits: limits)
        let reachable = hosts.filter(\.isOnline)
        for host in hosts where !host.isOnline {
            let result = HostResult.notSent(host)
            report.hosts.append(result)
            onResult(result)
        }
        guard !reachable.isEmpty else {
            report.finish(started)
            return report
        }
        let script = try await prepare(command)
        let byTags = reachable.count == hosts.count ? selection.ssmTargets : nil
        let batches: [[FleetHost]] = byTags != nil ? [reachable]
            : stride(from: 0, to: reachable.count, by: Self.batchSize).map { Array(reachable[$0..<min($0 + Self.batchSize, reachable.count)]) }
        // With limits, batches go one after another so --concurrency and --max-errors hold across
        // them: both are resolved over the whole run (a percentage of every machine sent to), each
        // batch gets the errors the run has left, and once the run has more errors than allowed
        // no further batch is sent.
        let sequential = batches.count > 1 && (limits.concurrency != nil || limits.maxErrors != nil)
        let errorBudget = sequential ? limits.maxErrors.flatMap { FleetLimits.count($0, of: reachable.count) } : nil
        let concurrency = sequential ? limits.concurrency.flatMap { FleetLimits.count($0, of: reachable.count) }.map(String.init) : nil
        let follower = Follower(run: self, hosts: Dictionary(reachable.map { ($0.instanceID, $0) }, uniquingKeysWith: { a, _ in a }),
                                limits: limits, onResult: onResult, onNote: onNote)
        var sent: [(id: String, hosts: [FleetHost])] = []
        var errorsSoFar = 0
        for (index, batch) in batches.enumerated() {
            if let budget = errorBudget, errorsSoFar > budget {
                let rest = Array(batches[index...].joined())
                onNote("\(errorsSoFar) machine(s) failed, more than --max-errors \(limits.maxErrors ?? "") allows over the run "
                    + "(\(budget) of \(reachable.count)): the other \(rest.count) are not sent the command.")
                for host in rest {
                    let result = HostResult(host: host, commandID: nil, outcome: .cancelled, status: "NotSent", statusDetails: "Terminated",
                                            reason: "not run: \(errorsSoFar) machines failed, more than --max-errors \(limits.maxErrors ?? "") "
                                                + "allows (\(budget) of the run's \(reachable.count))")
                    report.hosts.append(result)
                    onResult(result)
                }
                break
            }
            let maxErrors = errorBudget.map { String(max(0, $0 - errorsSoFar)) } ?? limits.maxErrors ?? "100%"
            let input = SSM.SendCommandInput(
                instanceIDs: byTags == nil ? batch.map(\.instanceID) : nil, targets: byTags,
                parameters: parameters(script, command: command, limits: limits),
                comment: FleetHistory.comment(command.display), timeoutSeconds: limits.deliveryTimeout(hosts: batch.count),
                maxConcurrency: concurrency ?? limits.concurrency ?? "100%", maxErrors: maxErrors,
                outputS3Bucket: outputBucket, outputS3KeyPrefix: outputBucket == nil ? nil : BucketLayout.fleetOutput)
            let sentCommand = try await send(input)
            report.commandIDs.append(sentCommand.CommandId)
            sent.append((sentCommand.CommandId, batch))
            onNote("Sent \(sentCommand.CommandId) to \(batch.count) machine(s)\(byTags != nil ? " by tags (\(selection.summary))" : "").")
            if sequential || index == batches.count - 1 {
                let toFollow = sequential ? [sent.last!] : sent
                let results = try await follower.follow(toFollow)
                report.hosts += results.results
                // What Run Command counts against MaxErrors: failed and timed-out executions (a lost
                // machine's invocation ends timed out), not undeliverable ones.
                errorsSoFar += results.results.filter { [.failed, .timedOut, .lost].contains($0.outcome) }.count
                if results.interrupted {
                    report.interrupted = true
                    break
                }
            }
        }
        report.finish(started)
        return report
    }

    /// SendCommand, once; a lost answer is found again by the comment's unique tag (`FleetHistory.comment`).
    func send(_ input: SSM.SendCommandInput) async throws -> SSM.Command {
        try await ssm.sendCommand(input, lookingForALostAnswer: lostAnswerLookups)
    }

    /// The script as sent: run as another user if asked, and through S3 when too large to send inline.
    func prepare(_ command: FleetCommand) async throws -> String {
        var script = command.script
        if let user = command.runAs {
            // setpriv (util-linux, on every Linux AMI) needs no PAM session, unlike runuser and su.
            let quoted = Shell.quote(user)
            script = "exec setpriv --reuid=\(quoted) --regid=\"$(id -g \(quoted))\" --init-groups --reset-env bash -c \(Shell.quote(script))"
        }
        guard script.utf8.count > inlineLimit else { return script }
        guard let bucket = stagingBucket else {
            throw FleetError(.noBucket, "The command is \(script.utf8.count) bytes, more than SendCommand takes (\(inlineLimit)); "
                + "it would go to the hosts through S3, but no bucket is known: create the shared stack (`adminctl infra up`) or pass --bucket NAME.")
        }
        let staged = try await FleetTransfer(s3: s3, bucket: bucket).stage(bytes: Array(script.utf8), name: "script.sh")
        return FleetTransfer.runStaged(staged)
    }

    func parameters(_ script: String, command: FleetCommand, limits: FleetLimits) -> [String: [String]] {
        var parameters = ["commands": [script], "executionTimeout": [String(limits.timeoutSeconds)]]
        if let directory = command.workingDirectory { parameters["workingDirectory"] = [directory] }
        return parameters
    }

    /// Turns an invocation into a host's result, reading output AWS cut short from S3 (or,
    /// without a bucket, the 24,000 / 8,000 characters GetCommandInvocation keeps).
    func result(of invocation: SSM.Invocation, host: FleetHost, outcome: HostOutcome) async -> HostResult {
        let plugin = invocation.CommandPlugins?.first
        let code = plugin?.ResponseCode.flatMap { $0 < 0 ? nil : $0 }
        var seconds: Double?
        if let start = plugin?.ResponseStartDateTime, let end = plugin?.ResponseFinishDateTime {
            seconds = max(0, end.timeIntervalSince(start))
        }
        let output = PluginOutput(plugin?.Output ?? "")
        var result = HostResult(host: host, commandID: invocation.CommandId, outcome: outcome, status: invocation.Status ?? "",
                                statusDetails: invocation.StatusDetails ?? "", exitCode: code, seconds: seconds,
                                stdout: output.stdout, stderr: output.stderr, truncated: false,
                                outputSource: plugin?.Output == nil ? "none" : "invocation")
        if outcome == .undeliverable {
            result.reason = invocation.StatusDetails == "DeliveryTimedOut" ? "the agent did not pick the command up in time" : "the agent could not be reached"
        }
        guard output.truncated else { return result }
        if let bucket = outputBucket {
            let base = "\(BucketLayout.fleetOutput)\(invocation.CommandId)/\(invocation.InstanceId)/awsrunShellScript/0.awsrunShellScript/"
            if let stdout = try? await s3.getObject(bucket: bucket, key: base + "stdout") {
                result.stdout = String(decoding: stdout, as: UTF8.self)
                let stderr = (try? await s3.getObject(bucket: bucket, key: base + "stderr")) ?? []
                result.stderr = String(decoding: stderr, as: UTF8.self)
                result.outputSource = "s3"
                return result
            }
        }
        if let full = try? await ssm.getCommandInvocation(commandID: invocation.CommandId, instanceID: invocation.InstanceId) {
            result.stdout = full.StandardOutputContent ?? result.stdout
            result.stderr = full.StandardErrorContent ?? result.stderr
            result.outputSource = "get-command-invocation"
            result.truncated = result.stdout.count >= 24_000 || result.stderr.count >= 8_000
        } else {
            result.truncated = true
        }
        return result
    }
}

/// Follows sent commands until every invocation has finished, polling ListCommandInvocations
/// (details, every page) faster while results arrive and slower while nothing changes.
struct Follower: Sendable {
    var run: FleetRun
    var hosts: [String: FleetHost]
    var limits: FleetLimits
    var onResult: @Sendable (HostResult) -> Void
    var onNote: @Sendable (String) -> Void = { _ in }

    struct Outcome { var results: [HostResult]; var interrupted: Bool }
    /// How often the machines still running are looked up in EC2 (a stopped or terminated one
    /// would stay InProgress in Run Command until its timeout).
    var goneCheck: Duration = .seconds(3)

    func follow(_ commands: [(id: String, hosts: [FleetHost])]) async throws -> Outcome {
        var reported: [String: HostResult] = [:]
        var order: [String] = []
        let expected = Set(commands.flatMap { $0.hosts.map(\.instanceID) })
        let deadline = ContinuousClock.now + .seconds(limits.deliveryTimeout(hosts: expected.count) + limits.timeoutSeconds + 60)
        var interval = run.pollInterval.fastest
        var settledSince: ContinuousClock.Instant?
        var failures = 0
        var completedSeen: [String: Int] = [:]   // command id -> final invocations at the last listing
        var lost: Set<String> = []                // machines gone under the command, reported already
        var lastGoneCheck = ContinuousClock.now
        do {
            while true {
                try await Task.sleep(for: interval)
                var fresh = 0
                var open = 0
                for command in commands {
                    // One ListCommands call says whether anything finished since the last listing;
                    // the invocations (ceil(N/50) pages) are read only when something did.
                    if let seen = completedSeen[command.id],
                       let summary = try? await run.ssm.listCommands(commandID: command.id).all({ $0 }).first,
                       summary.CompletedCount == seen {
                        let lostHere = command.hosts.filter { lost.contains($0.instanceID) }.count
                        open += max(0, (summary.TargetCount ?? 0) - seen - lostHere)
                        continue
                    }
                    // Right after SendCommand the list is empty (or misses some hosts) for a while:
                    // an empty answer means "not yet", never "done".
                    let invocations: [SSM.Invocation]
                    do {
                        invocations = try await run.ssm.listCommandInvocations(commandID: command.id, details: true, pageSize: 50).all { $0 }
                        failures = 0
                    } catch let error as AWSError where failures < 5 {
                        // Throttling or a 5xx the client's own retries did not get past: the
                        // command runs on regardless, so ask again at the next poll.
                        failures += 1
                        interval = run.pollInterval.slowest
                        onNote("Following \(command.id): \(error.code) from ListCommandInvocations; asking again.")
                        open += 1
                        continue
                    }
                    if !invocations.isEmpty {
                        completedSeen[command.id] = invocations.filter { HostOutcome.of(status: $0.Status, details: $0.StatusDetails) != nil }.count
                    }
                    for invocation in invocations where reported[invocation.InstanceId] == nil {
                        guard let outcome = HostOutcome.of(status: invocation.Status, details: invocation.StatusDetails) else {
                            open += 1
                            continue
                        }
                        let host = hosts[invocation.InstanceId] ?? FleetHost(instanceID: invocation.InstanceId)
                        let result = await run.result(of: invocation, host: host, outcome: outcome)
                        reported[invocation.InstanceId] = result
                        order.append(invocation.InstanceId)
                        onResult(result)
                        fresh += 1
                    }
                }
                // After the listing, so a machine whose command finished before it went away keeps its result.
                if ContinuousClock.now - lastGoneCheck >= goneCheck {
                    lastGoneCheck = .now
                    for result in await gone(expected.subtracting(reported.keys), commands) {
                        reported[result.host.instanceID] = result
                        order.append(result.host.instanceID)
                        lost.insert(result.host.instanceID)
                        onResult(result)
                        fresh += 1
                        open = max(0, open - 1)
                    }
                }
                let missing = expected.subtracting(reported.keys)
                if missing.isEmpty && open == 0 { break }
                // Every listed invocation is done but some hosts never appeared (their tags changed
                // after we looked): give Run Command a few seconds, then say so.
                if open == 0 && !reported.isEmpty {
                    settledSince = settledSince ?? .now
                    if ContinuousClock.now - settledSince! > .seconds(10) {
                        for id in missing.sorted() { report(notTargeted: id, &reported, &order) }
                        break
                    }
                } else {
                    settledSince = nil
                }
                if ContinuousClock.now > deadline {
                    for id in missing.sorted() { report(notTargeted: id, &reported, &order, reason: "no answer from Run Command before the deadline") }
                    break
                }
                interval = fresh > 0 ? run.pollInterval.fastest : min(interval * 3 / 2, run.pollInterval.slowest)
            }
        } catch {
            // Ctrl-C: Task.sleep throws CancellationError, a request under way its own error.
            guard Task.isCancelled else { throw error }
            let done = reported
            let rest = try await Task.detached { [self] in
                try await self.cancel(commands, keeping: done)
            }.value
            for result in rest {
                reported[result.host.instanceID] = result
                order.append(result.host.instanceID)
            }
            return Outcome(results: order.compactMap { reported[$0] }, interrupted: true)
        }
        return Outcome(results: order.compactMap { reported[$0] }, interrupted: false)
    }

    /// The machines among `open` that stopped or were terminated, each as a lost host's result.
    /// Run Command would report them only when their invocation times out (up to --timeout):
    /// the agent that reports went with the machine. A failed lookup is tried at the next check.
    func gone(_ open: Set<String>, _ commands: [(id: String, hosts: [FleetHost])]) async -> [HostResult] {
        guard !open.isEmpty else { return [] }
        let ids = open.sorted()
        var results: [HostResult] = []
        for start in stride(from: 0, to: ids.count, by: 200) {
            let batch = Array(ids[start..<min(start + 200, ids.count)])
            let filters = [EC2.Filter("instance-id", batch),
                           EC2.Filter("instance-state-name", ["shutting-down", "terminated", "stopping", "stopped"])]
            guard let instances = try? await run.ec2.describeInstances(filters: filters).all({ $0 }) else { continue }
            for instance in instances where open.contains(instance.id) {
                let host = hosts[instance.id] ?? FleetHost(instanceID: instance.id)
                let how = ["shutting-down", "terminated"].contains(instance.state) ? "terminated" : "stopped"
                let command = commands.first { $0.hosts.contains { $0.instanceID == instance.id } }?.id
                results.append(HostResult(host: host, commandID: command, outcome: .lost, status: "InProgress",
                                          statusDetails: instance.state,
                                          reason: "the machine was \(how) while the command ran (EC2 state \(instance.state)); "
                                            + "its output and exit code are lost with it"))
            }
        }
        return results
    }

    func report(notTargeted id: String, _ reported: inout [String: HostResult], _ order: inout [String],
                reason: String = "Run Command did not target it (its tags changed since adminctl looked?)") {
        let host = hosts[id] ?? FleetHost(instanceID: id)
        let result = HostResult(host: host, commandID: nil, outcome: .undeliverable, status: "NotTargeted", statusDetails: "NotTargeted", reason: reason)
        reported[id] = result
        order.append(id)
        onResult(result)
    }

    /// After Ctrl-C: CancelCommand for every command, then what each unfinished host ended as
    /// (a few seconds of polling; a second Ctrl-C leaves at once).
    func cancel(_ commands: [(id: String, hosts: [FleetHost])], keeping done: [String: HostResult]) async throws -> [HostResult] {
        for command in commands { try? await run.ssm.cancelCommand(command.id) }
        var results: [String: HostResult] = [:]
        let expected = Set(commands.flatMap { $0.hosts.map(\.instanceID) }).subtracting(done.keys)
        for _ in 0..<40 where !expected.subtracting(results.keys).isEmpty {
            for command in commands {
                let invocations = (try? await run.ssm.listCommandInvocations(commandID: command.id, details: true, pageSize: 50).all { $0 }) ?? []
                for invocation in invocations where expected.contains(invocation.InstanceId) && results[invocation.InstanceId] == nil {
                    guard let outcome = HostOutcome.of(status: invocation.Status, details: invocation.StatusDetails) else { continue }
                    let host = hosts[invocation.InstanceId] ?? FleetHost(instanceID: invocation.InstanceId)
                    let result = await run.result(of: invocation, host: host, outcome: outcome)
                    results[invocation.InstanceId] = result
                    onResult(result)
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        for id in expected.subtracting(results.keys).sorted() {
            let host = hosts[id] ?? FleetHost(instanceID: id)
            let result = HostResult(host: host, commandID: commands.first?.id, outcome: .cancelled, status: "Cancelling",
                                    statusDetails: "Cancelling", reason: "interrupted; Run Command had not confirmed the cancel yet")
            results[id] = result
            onResult(result)
        }
        return expected.sorted().compactMap { results[$0] }
    }
}

/// Quoting for the scripts adminctl writes for hosts.
public enum Shell {
    /// `value` in single quotes, as bash reads it back unchanged.
    public static func quote(_ value: String) -> String { "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    public static func quoteIfNeeded(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "-_./=:,@%+".unicodeScalars.contains($0)
        }
        return plain ? value : quote(value)
    }
}
