import AWS
import Foundation
import Nuvola
import Terminal

/// One app environment (prod or dev) as it runs: its load balancer URL, its Auto Scaling
/// group's sizes and instances with their health as the group and the load balancer see them,
/// its scaling policy and what the group did lately, and the release it installs.
public struct AppEnvironmentStatus: Sendable, Encodable {
    public struct Instance: Sendable, Encodable {
        public var id: String
        public var zone: String
        /// Pending, InService, Terminating, ...
        public var lifecycle: String
        /// The group's view: Healthy or Unhealthy.
        public var health: String
        /// The load balancer's view: healthy, unhealthy, initial, draining, or nil when not registered.
        public var target: String?
        public var targetReason: String?
    }
    public struct Activity: Sendable, Encodable {
        public var description: String
        public var status: String
        public var started: Date?
    }

    public var environment: String
    public var url: String?
    public var group: String
    public var minSize: Int
    public var maxSize: Int
    public var desiredCapacity: Int
    public var instances: [Instance]
    /// Target tracking: what it tracks and its target value.
    public var scaling: [String]
    public var activities: [Activity]
    /// The release the environment's instances install (`none` before the first deploy).
    public var release: String?
    public var healthyTargets: Int { instances.filter { $0.target == "healthy" }.count }
    public var serving: Bool { healthyTargets > 0 }

    enum CodingKeys: String, CodingKey {
        case environment, url, group, minSize, maxSize, desiredCapacity, instances, scaling, activities, release, healthyTargets, serving
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(environment, forKey: .environment)
        try container.encode(url, forKey: .url)
        try container.encode(group, forKey: .group)
        try container.encode(minSize, forKey: .minSize)
        try container.encode(maxSize, forKey: .maxSize)
        try container.encode(desiredCapacity, forKey: .desiredCapacity)
        try container.encode(instances, forKey: .instances)
        try container.encode(scaling, forKey: .scaling)
        try container.encode(activities, forKey: .activities)
        try container.encode(release, forKey: .release)
        try container.encode(healthyTargets, forKey: .healthyTargets)
        try container.encode(serving, forKey: .serving)
    }

    public func render(_ policy: ColorPolicy) -> String {
        var lines = ["\(environment): \(url ?? "no load balancer URL")",
                     "release \(release ?? "unknown"); group \(group): \(instances.count) instance(s), min \(minSize), "
                        + "desired \(desiredCapacity), max \(maxSize); \(healthyTargets) healthy behind the load balancer"]
        if !scaling.isEmpty { lines.append("scaling: " + scaling.joined(separator: "; ")) }
        if !instances.isEmpty {
            lines.append(Table(headers: ["instance", "zone", "lifecycle", "health", "load balancer"], rows: instances.map {
                [$0.id, $0.zone, $0.lifecycle, $0.health, ($0.target ?? "not registered") + ($0.targetReason.map { " (\($0))" } ?? "")]
            }).render(policy).trimmingCharacters(in: .newlines))
        }
        if !activities.isEmpty {
            lines.append("recent activity:")
            lines += activities.prefix(5).map { "  \($0.started.map(Self.time) ?? "--") \($0.status): \(Printable.escaping($0.description))" }
        }
        if !serving {
            lines.append(Style.red.apply("Not serving: no instance is healthy behind the load balancer.", policy))
        }
        return lines.joined(separator: "\n")
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
        return formatter.string(from: date)
    }
}

/// `adminctl status` and `adminctl scale`: an environment's group, found by the shared stack's outputs.
public struct AppEnvironments: Sendable {
    public var session: AdminSession
    public var outputs: [String: String]

    public init(session: AdminSession) async throws {
        self.session = session
        outputs = try await session.sharedOutputs()
    }

    static func prefix(_ environment: AppEnvironment) -> String { environment == .prod ? "Prod" : "Dev" }

    func output(_ key: String) throws -> String {
        guard let value = outputs[key], !value.isEmpty else {
            throw InfraError(.stackState, "The shared stack has no \(key) output: run `adminctl infra up` to bring it up to date.")
        }
        return value
    }

    public func groupName(_ environment: AppEnvironment) throws -> String {
        try output("\(Self.prefix(environment))AutoScalingGroupName")
    }

    public func status(_ environment: AppEnvironment) async throws -> AppEnvironmentStatus {
        let client = session.client
        let name = try groupName(environment)
        guard let group = try await AutoScaling(client).group(name) else {
            throw InfraError(.stackState, "The \(environment.rawValue) Auto Scaling group \(name) is gone; `adminctl infra status --drift` shows what changed.")
        }
        let targets = try await ELBv2(client).describeTargetHealth(targetGroupARN: try output("\(Self.prefix(environment))TargetGroupArn"))
        let byInstance = Dictionary(targets.map { ($0.instanceID, $0) }, uniquingKeysWith: { first, _ in first })
        let instances = group.instances.map { member in
            AppEnvironmentStatus.Instance(id: member.id, zone: member.availabilityZone, lifecycle: member.lifecycleState,
                                          health: member.healthStatus, target: byInstance[member.id]?.state,
                                          targetReason: byInstance[member.id]?.reason)
        }.sorted { ($0.zone, $0.id) < ($1.zone, $1.id) }
        let policies = try await AutoScaling(client).describePolicies(group: name)
        let activities = try await AutoScaling(client).describeScalingActivities(group: name, maxRecords: 10)
        let releaseName = try outputs["\(Self.prefix(environment))ReleaseParameterName"]
            ?? ParameterNames(project: session.project()).release(environment)
        let release = try await SSM(client).getParameter(releaseName)?.Value
        return AppEnvironmentStatus(
            environment: environment.rawValue,
            url: outputs[environment == .prod ? "LoadBalancerUrl" : "DevUrl"],
            group: name, minSize: group.minSize, maxSize: group.maxSize, desiredCapacity: group.desiredCapacity,
            instances: instances,
            scaling: policies.map { policy in
                policy.targetValue.map { "\(policy.type) \(policy.name) at \($0.rounded() == $0 ? String(Int($0)) : String($0))" } ?? "\(policy.type) \(policy.name)"
            },
            activities: activities.map { AppEnvironmentStatus.Activity(description: $0.description, status: $0.status, started: $0.started) },
            release: release)
    }
}

/// What `adminctl scale` changed.
public struct ScaleReport: Sendable, Encodable {
    public struct Sizes: Sendable, Encodable, Equatable {
        public var min: Int
        public var max: Int
        public var desired: Int
    }
    public var environment: String
    public var group: String
    public var before: Sizes
    public var after: Sizes
    /// The sizes adminctl.toml gives (what `infra up` would set), when they differ from `after`.
    public var configured: Sizes?

    public func render(_ policy: ColorPolicy) -> String {
        var text = "\(environment) (\(group)): min \(before.min) → \(after.min), desired \(before.desired) → \(after.desired), "
            + "max \(before.max) → \(after.max)."
        if let configured, configured.min != after.min || configured.max != after.max {
            text += "\nadminctl.toml says min \(configured.min), max \(configured.max): until it says the same (\(environment).min_size, "
                + "\(environment).max_size), this is drift (`adminctl infra status --drift`), and the next change of those "
                + "settings sets them back."
        }
        text += "\nThe target-tracking policy moves the desired capacity with the load, within min and max."
        return text
    }
}

extension AppEnvironments {
    /// The rules a new size must follow; nil when fine. Production keeps two instances at
    /// least, one per zone, so that it survives the loss of one.
    public static let maximumSize = 100

    public static func sizeProblem(_ environment: AppEnvironment, _ sizes: ScaleReport.Sizes) -> String? {
        if sizes.min < 0 || sizes.max < 1 { return "sizes must be positive (min ≥ 0, max ≥ 1)" }
        if sizes.min > sizes.max { return "min \(sizes.min) is above max \(sizes.max)" }
        // A typo (an extra zero, a pasted number) would have the group launch that many instances.
        if sizes.max > maximumSize {
            return "max \(sizes.max) is above \(maximumSize), the most prod.max_size and dev.max_size in adminctl.toml allow"
        }
        if sizes.desired < sizes.min || sizes.desired > sizes.max {
            return "desired \(sizes.desired) is outside min \(sizes.min) and max \(sizes.max)"
        }
        if environment == .prod && sizes.min < 2 {
            return "production keeps at least 2 instances (one per zone) so that it survives the loss of one; min \(sizes.min) is refused"
        }
        return nil
    }

    /// Changes the group's sizes at once (UpdateAutoScalingGroup); a desired capacity left out
    /// is kept, or moved into the new min..max.
    public func scale(_ environment: AppEnvironment, min: Int?, max: Int?, desired: Int?) async throws -> ScaleReport {
        let name = try groupName(environment)
        let scaling = AutoScaling(session.client)
        guard let group = try await scaling.group(name) else {
            throw InfraError(.stackState, "The \(environment.rawValue) Auto Scaling group \(name) is gone; `adminctl infra status --drift` shows what changed.")
        }
        let before = ScaleReport.Sizes(min: group.minSize, max: group.maxSize, desired: group.desiredCapacity)
        let newMin = min ?? before.min, newMax = max ?? before.max
        let after = ScaleReport.Sizes(min: newMin, max: newMax, desired: desired ?? Swift.min(Swift.max(before.desired, newMin), newMax))
        if let problem = Self.sizeProblem(environment, after) {
            throw InfraError(.changeSet, "\(environment.rawValue) is not scaled: \(problem). Nothing was changed.")
        }
        try await scaling.updateGroup(name: name, minSize: after.min, maxSize: after.max, desiredCapacity: after.desired)
        let layers = session.config.layers
        let configured = ScaleReport.Sizes(min: layers.integer("\(environment.rawValue).min_size"),
                                           max: layers.integer("\(environment.rawValue).max_size"), desired: after.desired)
        return ScaleReport(environment: environment.rawValue, group: name, before: before, after: after, configured: configured)
    }
}
