import AWS
import Foundation
import Host
import HTTP
import Synchronization
import Terminal

/// `adminctl infra diff|up|status`: the project's shared stack, from adminctl.toml and the
/// shared template, over CloudFormation in the configured region.
public struct SharedInfrastructure: Sendable {
    public var stack: SharedStack
    public var deployment: StackDeployment
    public var templatePath: String
    /// The AWS client every call of the infrastructure goes through (CloudFormation, RDS, S3).
    var client: AWSClient
    var cloudFormation: CloudFormation { deployment.cloudFormation }

    /// Reads adminctl.toml (from `directory` upwards), the template and the AWS settings.
    public static func open(directory: String, environment: [String: String], http: HTTPClient) async throws -> SharedInfrastructure {
        let session = try await AdminSession.open(directory: directory, environment: environment, http: http)
        let parameters = try session.config.stackParameters()
        let stack = SharedStack(project: try session.project())
        let template = try SharedStack.template(environment: environment)
        let body = TemplateBody.compacted(template.body)
        guard body.utf8.count <= TemplateBody.limit else {
            throw InfraError(.template, "\(template.path) is \(body.utf8.count) bytes without its comments, and CloudFormation "
                + "takes at most \(TemplateBody.limit) in a request: shorten it (or move a part into a nested stack).")
        }
        var deployment = StackDeployment(cloudFormation: CloudFormation(session.client), stack: stack, template: body, parameters: parameters)
        deployment.pollInterval = session.pollInterval(standard: deployment.pollInterval)
        return SharedInfrastructure(stack: stack, deployment: deployment, templatePath: template.path, client: session.client)
    }

    /// `infra diff`: what `infra up` would change; the change set is deleted afterwards.
    public func diff() async throws -> StackPlan {
        try await checkRegionHasTwoZones()
        try await checkBucketNamesAreFree()
        let plan = try await deployment.plan()
        if plan.changed { await deployment.discard(plan) }
        return plan
    }

    /// What `infra up` did.
    public struct UpReport: Sendable, Encodable {
        public var plan: StackPlan
        public var status: String?
        public var outputs: [String: String]

        public func render(_ policy: ColorPolicy) -> String {
            guard plan.changed else { return plan.render(policy) }
            return "Stack \(plan.stack) is \(status ?? "?").\n" + StackOutputs(outputs).render(policy)
        }
    }

    /// `infra up`: plans, shows the plan through `show`, asks `confirm` (false: nothing is done,
    /// the change set is deleted), executes and follows the events on `console`'s stderr.
    public func up(console: Console, show: @Sendable (StackPlan) -> Void,
                   confirm: @Sendable (StackPlan) async throws -> Bool) async throws -> UpReport {
        try await checkRegionHasTwoZones()
        try await checkBucketNamesAreFree()
        let plan = try await deployment.plan()
        guard plan.changed else { return UpReport(plan: plan, status: try await cloudFormation.stack(stack.name)?.status, outputs: [:]) }
        show(plan)
        let go: Bool
        do {
            go = try await confirm(plan)
        } catch {
            await deployment.discard(plan)
            throw error
        }
        guard go else {
            await deployment.discard(plan)
            throw InfraError(.changeSet, "Not confirmed: stack \(stack.name) is unchanged, and the change set was deleted.")
        }
        let started = ContinuousClock.now
        console.note("Applying \(plan.changeSet) to \(stack.name)…")
        let progress = StackProgress(console: console, stack: stack.name, verb: plan.type == "CREATE" ? "creating" : "updating",
                                     total: plan.changes.count)
        let settled: CloudFormation.Stack
        do {
            settled = try await deployment.execute(plan) { event in progress.event(event) }
            progress.finish(settled.status, succeeded: true)
        } catch is CancellationError {
            progress.finish("stopped following", succeeded: false)
            // Stopped before ExecuteChangeSet went out, the change set is still only AVAILABLE:
            // it is deleted and that is said (not "CloudFormation carries on"). Still there after
            // the deletion, an ExecuteChangeSet on its way took it first.
            let cloudFormation = cloudFormation
            let unchanged = await Task.detached { () -> Bool in
                guard (try? await cloudFormation.describeChangeSet(stack: plan.stack, name: plan.changeSet))?.executionStatus
                        == "AVAILABLE" else { return false }
                try? await cloudFormation.deleteChangeSet(stack: plan.stack, name: plan.changeSet)
                do {
                    _ = try await cloudFormation.describeChangeSet(stack: plan.stack, name: plan.changeSet)
                    return false
                } catch let error as AWSError where error.code == "ChangeSetNotFound" {
                    return true
                } catch {
                    return false
                }
            }.value
            if !unchanged {
                console.note("Stopped following \(stack.name); CloudFormation carries on with the change. "
                    + "`adminctl infra status` shows where it is.")
            } else {
                await deployment.discard(plan)   // a new stack's empty REVIEW_IN_PROGRESS stack goes too
                console.note("Stopped before \(plan.changeSet) was applied: stack \(stack.name) is "
                    + "\(plan.type == "CREATE" ? "not created" : "unchanged") and the change set was deleted. "
                    + "`adminctl infra up` applies the change.")
            }
            throw CancellationError()
        } catch {
            progress.finish("failed", succeeded: false)
            throw error
        }
        let seconds = (ContinuousClock.now - started).seconds
        console.note("\(stack.name): \(settled.status) in \(Format.duration(seconds)).")
        return UpReport(plan: plan, status: settled.status, outputs: settled.outputs)
    }

    /// The template spreads everything over the region's first two zones (Fn::GetAZs); a region
    /// with fewer would fail the change set with a template error about Fn::Select.
    func checkRegionHasTwoZones() async throws {
        let zones = try await EC2(client).describeAvailabilityZones()
        if let problem = Self.zoneProblem(zones, region: client.region) { throw problem }
    }

    static func zoneProblem(_ zones: [EC2.AvailabilityZone], region: String) -> InfraError? {
        let usable = zones.filter { $0.state == "available" && ($0.zoneType ?? "availability-zone") == "availability-zone" }
        guard usable.count < 2 else { return nil }
        let listed = usable.isEmpty ? "none" : usable.map(\.name).joined(separator: ", ")
        return InfraError(.changeSet, "Region \(region) has \(usable.count) available availability zone(s) (\(listed)); the shared "
            + "infrastructure needs two, so that production survives the loss of one. Choose another region "
            + "(aws.region in adminctl.toml, or ADMINCTL_AWS_REGION). Nothing was changed.")
    }

    /// Before a stack is first created: CloudFormation cannot create a bucket whose name exists
    /// (S3 names are global), which a stack would only find out after minutes, rolling everything
    /// back. Buckets kept by `infra down` are the usual case.
    func checkBucketNamesAreFree() async throws {
        if let existing = try await cloudFormation.stack(stack.name), existing.status != "REVIEW_IN_PROGRESS",
           existing.status != "DELETE_COMPLETE" { return }
        let s3 = S3(client)
        for (parameter, setting) in [("ArtifactsBucketName", "buckets.artifacts"), ("DumpsBucketName", "buckets.dumps"),
                                     ("LogsBucketName", "buckets.logs")] {
            guard let bucket = deployment.parameters[parameter], !bucket.isEmpty else { continue }
            let exists: Bool
            do {
                exists = try await s3.bucketExists(bucket)
            } catch let error as AWSError where error.httpStatus == 403 {
                // S3 answers 403 to HEAD both for another account's bucket and for missing rights.
                throw InfraError(.changeSet, "S3 refused to say whether bucket \(bucket) (\(setting) in adminctl.toml) exists "
                    + "(HeadBucket: HTTP 403). Either it belongs to another AWS account (bucket names are global: set another "
                    + "name for \(setting)), or these credentials lack s3:ListBucket on it. Nothing was changed.")
            }
            if exists {
                throw InfraError(.changeSet, "Bucket \(bucket) (\(setting) in adminctl.toml) already exists in this account, "
                    + "kept by an earlier `adminctl infra down` with its contents, and CloudFormation cannot create a bucket "
                    + "that exists. Set another name for \(setting) (`adminctl config show` lists them), or, once its contents "
                    + "are no longer needed, delete it: aws s3 rb s3://\(bucket) --force. Nothing was changed.")
            }
        }
    }

    /// What `infra status` reports.
    public struct StatusReport: Sendable, Encodable {
        public var stack: String
        public var exists: Bool
        public var status: String?
        public var statusReason: String?
        public var lastUpdated: Date?
        public var outputs: [String: String]
        /// Whether the deployed template and parameters are what adminctl.toml and the template
        /// give now (false: `adminctl infra diff` shows the change `infra up` would make).
        public var matchesConfig: Bool?
        /// With --drift: the resources changed outside CloudFormation (hand edits), per property.
        public var drift: Drift?

        public struct Drift: Sendable, Encodable {
            /// DRIFTED or IN_SYNC.
            public var status: String
            public var resources: [Resource]
            public struct Resource: Sendable, Encodable {
                public var logicalId: String
                public var physicalId: String
                public var type: String
                /// MODIFIED or DELETED.
                public var status: String
                public var differences: [Difference]
            }
            public struct Difference: Sendable, Encodable {
                public var property: String
                public var expected: String
                public var actual: String
                public var change: String
            }
        }

        public var drifted: Bool { drift?.status == "DRIFTED" }

        public func render(_ policy: ColorPolicy) -> String {
            guard exists, let status else {
                return "Stack \(stack) is not created yet: run `adminctl infra up`."
            }
            var text = "Stack \(stack): \(status)"
            if let statusReason, !statusReason.isEmpty { text += " (\(Printable.escaping(statusReason)))" }
            if let lastUpdated { text += ", last changed \(ISO8601DateFormatter().string(from: lastUpdated))" }
            text += "."
            if let problem = StackDeployment.problem(name: stack, status: status, reason: statusReason) {
                text += "\n" + problem.message
            }
            if matchesConfig == false {
                text += "\nadminctl.toml or the template changed since the last `adminctl infra up`: `adminctl infra diff` shows how."
            }
            if let drift {
                if drift.resources.isEmpty {
                    text += "\nNo drift: every checked resource is as the stack last set it."
                } else {
                    text += "\n" + Style.red.apply("Drift: \(drift.resources.count) resource(s) changed outside CloudFormation:", policy)
                    for resource in drift.resources {
                        text += "\n  \(resource.logicalId) (\(resource.type)) \(resource.status)"
                        for difference in resource.differences {
                            text += "\n    \(difference.property): expected \(Printable.escaping(difference.expected)), "
                                + "actual \(Printable.escaping(difference.actual))"
                        }
                    }
                    text += "\n`adminctl infra up` does not undo drift (CloudFormation changes only what the template changes): "
                        + "undo the hand edit, or make the template say it."
                }
            }
            return outputs.isEmpty ? text : text + "\n" + StackOutputs(outputs).render(policy)
        }
    }

    public func status(drift checkDrift: Bool = false) async throws -> StatusReport {
        guard let found = try await cloudFormation.stack(stack.name), found.status != "REVIEW_IN_PROGRESS" else {
            return StatusReport(stack: stack.name, exists: false, outputs: [:])
        }
        var report = StatusReport(stack: stack.name, exists: true, status: found.status, statusReason: found.statusReason,
                                  lastUpdated: found.lastUpdated ?? found.created, outputs: found.outputs)
        if found.isHealthy {
            let deployed = try await cloudFormation.template(of: found.id)
            report.matchesConfig = deployed == deployment.template
                && deployment.parameters.allSatisfy { found.parameters[$0.key] == $0.value }
        }
        if checkDrift { report.drift = try await detectDrift(found) }
        return report
    }

    /// Runs CloudFormation's drift detection and waits for it (it takes seconds to minutes on AWS).
    func detectDrift(_ found: CloudFormation.Stack) async throws -> StatusReport.Drift {
        let detection = try await cloudFormation.detectStackDrift(found.id)
        var state = try await cloudFormation.driftDetectionStatus(detection)
        while state.detectionStatus == "DETECTION_IN_PROGRESS" {
            try await Task.sleep(for: deployment.pollInterval)
            state = try await cloudFormation.driftDetectionStatus(detection)
        }
        if state.detectionStatus == "DETECTION_FAILED" && state.stackDriftStatus == nil {
            throw InfraError(.stackState, "CloudFormation could not detect drift on \(found.name): \(state.reason ?? "no reason given").")
        }
        let drifted = try await cloudFormation.resourceDrifts(found.id, statuses: ["MODIFIED", "DELETED"])
        return StatusReport.Drift(status: drifted.isEmpty ? "IN_SYNC" : "DRIFTED", resources: drifted.map { resource in
            StatusReport.Drift.Resource(logicalId: resource.logicalID, physicalId: resource.physicalID, type: resource.resourceType,
                                        status: resource.status, differences: resource.differences.map {
                                            StatusReport.Drift.Difference(property: $0.path, expected: $0.expected,
                                                                          actual: $0.actual, change: $0.type)
                                        })
        })
    }
}

/// A stack's outputs as a table, what an admin looks for first at the top.
struct StackOutputs {
    static let first = ["LoadBalancerUrl", "DevUrl", "ProdDatabaseAddress", "DevDatabaseAddress",
                        "ArtifactsBucketName", "DumpsBucketName", "LogsBucketName"]
    var outputs: [String: String]
    init(_ outputs: [String: String]) { self.outputs = outputs }

    func render(_ policy: ColorPolicy) -> String {
        let keys = Self.first.filter { outputs[$0] != nil } + outputs.keys.filter { !Self.first.contains($0) }.sorted()
        return Table(headers: ["output", "value"], rows: keys.map { [$0, Printable.escaping(outputs[$0] ?? "")] }).render(policy)
    }
}

/// A stack change followed live on stderr: each event as a line and, on a terminal, a line
/// below them that says how many resources are done and turns while CloudFormation works.
final class StackProgress: Sendable {
    let console: Console
    let stack: String
    let verb: String
    let spinner: Spinner?
    let total: Int
    let done = Mutex<Set<String>>([])
    let ticker: Task<Void, Never>?

    init(console: Console, stack: String, verb: String, total: Int) {
        self.console = console
        self.stack = stack
        self.verb = verb
        self.total = total
        if console.err.isInteractive {
            let spinner = Spinner("\(stack): \(verb), 0/\(total) resources", output: console.err)
            self.spinner = spinner
            ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(120))
                    spinner.tick()
                }
            }
        } else {
            spinner = nil
            ticker = nil
        }
    }

    func event(_ event: CloudFormation.Event) {
        let line = StackEventLine(event).text
        guard let spinner else { return console.note(line) }
        spinner.interject(Printable.escaping(line))
        if event.logicalID != stack, event.status.hasSuffix("_COMPLETE") || event.status.hasSuffix("_SKIPPED") {
            let count = done.withLock { $0.insert(event.logicalID); return $0.count }
            spinner.update("\(stack): \(verb), \(min(count, total))/\(total) resources")
        }
    }

    func finish(_ status: String, succeeded: Bool) {
        ticker?.cancel()
        spinner?.finish(status, succeeded: succeeded)
    }
}

/// One stack event as one stderr line: time, status, resource, type, reason.
struct StackEventLine {
    var text: String
    init(_ event: CloudFormation.Event) {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss"
        let time = event.timestamp.map(formatter.string) ?? "--:--:--"
        let status = event.status.padding(toLength: max(event.status.count, 20), withPad: " ", startingAt: 0)
        var line = "  \(time)  \(status)  \(event.logicalID) (\(event.resourceType))"
        if let reason = event.reason, !reason.isEmpty { line += ": \(reason)" }
        text = line
    }
}
