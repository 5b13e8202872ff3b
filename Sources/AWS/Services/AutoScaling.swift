import Foundation

/// EC2 Auto Scaling: the prod and dev groups, their instance refreshes (deploys that replace
/// instances) and target-tracking policies.
public struct AutoScaling: QueryService {
    let client: AWSClient
    static let version = "2011-01-01"
    static let service = AWSService.autoScaling

    public init(_ client: AWSClient) { self.client = client }


    public struct Group: Sendable, Equatable {
        public struct Member: Sendable, Equatable {
            public var id: String
            /// Pending, InService, Terminating, ...
            public var lifecycleState: String
            public var healthStatus: String
            public var availabilityZone: String
            public var launchTemplateVersion: String?
        }

        public var name: String
        public var minSize: Int
        public var maxSize: Int
        public var desiredCapacity: Int
        public var instances: [Member]
        public var targetGroupARNs: [String]
        public var launchTemplateID: String?
        public var launchTemplateVersion: String?
        public var availabilityZones: [String]
        public var tags: [String: String]

        init(_ node: XMLNode) {
            name = node.string("AutoScalingGroupName") ?? ""
            minSize = node.int("MinSize") ?? 0
            maxSize = node.int("MaxSize") ?? 0
            desiredCapacity = node.int("DesiredCapacity") ?? 0
            instances = node.list("Instances").map {
                Member(id: $0.string("InstanceId") ?? "", lifecycleState: $0.string("LifecycleState") ?? "",
                       healthStatus: $0.string("HealthStatus") ?? "", availabilityZone: $0.string("AvailabilityZone") ?? "",
                       launchTemplateVersion: $0["LaunchTemplate", "Version"]?.text)
            }
            targetGroupARNs = node.list("TargetGroupARNs").map(\.text)
            launchTemplateID = node["LaunchTemplate", "LaunchTemplateId"]?.text
            launchTemplateVersion = node["LaunchTemplate", "Version"]?.text
            availabilityZones = node.list("AvailabilityZones").map(\.text)
            var tags: [String: String] = [:]
            for tag in node.list("Tags") { tags[tag.string("Key") ?? ""] = tag.string("Value") ?? "" }
            self.tags = tags
        }
    }

    public func describeGroups(names: [String]? = nil, pageSize: Int? = nil) -> Paginator<[Group]> {
        Paginator { token in
            var parameters = QueryParameters()
            parameters.list("AutoScalingGroupNames", names)
            parameters.set("MaxRecords", pageSize)
            parameters.set("NextToken", token)
            let result = try await call("DescribeAutoScalingGroups", parameters)
            return (result.list("AutoScalingGroups").map(Group.init), result.string("NextToken"))
        }
    }

    public func group(_ name: String) async throws -> Group? {
        try await describeGroups(names: [name]).all { $0 }.first
    }

    public struct GroupSettings: Sendable {
        public var minSize: Int
        public var maxSize: Int
        public var desiredCapacity: Int
        public var launchTemplateID: String
        public var launchTemplateVersion: String = "$Latest"
        public var subnetIDs: [String] = []
        public var availabilityZones: [String] = []
        public var targetGroupARNs: [String] = []
        public var healthCheckType: String = "ELB"
        public var healthCheckGracePeriod: Int = 60
        public var tags: [String: String] = [:]

        public init(minSize: Int, maxSize: Int, desiredCapacity: Int, launchTemplateID: String) {
            self.minSize = minSize
            self.maxSize = maxSize
            self.desiredCapacity = desiredCapacity
            self.launchTemplateID = launchTemplateID
        }
    }

    public func createGroup(name: String, _ settings: GroupSettings) async throws {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", name)
        parameters.set("MinSize", settings.minSize)
        parameters.set("MaxSize", settings.maxSize)
        parameters.set("DesiredCapacity", settings.desiredCapacity)
        parameters.set("LaunchTemplate.LaunchTemplateId", settings.launchTemplateID)
        parameters.set("LaunchTemplate.Version", settings.launchTemplateVersion)
        parameters.set("VPCZoneIdentifier", settings.subnetIDs.isEmpty ? nil : settings.subnetIDs.joined(separator: ","))
        parameters.list("AvailabilityZones", settings.availabilityZones.isEmpty ? nil : settings.availabilityZones)
        parameters.list("TargetGroupARNs", settings.targetGroupARNs.isEmpty ? nil : settings.targetGroupARNs)
        parameters.set("HealthCheckType", settings.healthCheckType)
        parameters.set("HealthCheckGracePeriod", settings.healthCheckGracePeriod)
        parameters.structures("Tags", settings.tags.sorted { $0.key < $1.key }) { params, prefix, tag in
            params.set("\(prefix).Key", tag.key)
            params.set("\(prefix).Value", tag.value)
            params.set("\(prefix).PropagateAtLaunch", true)
        }
        _ = try await call("CreateAutoScalingGroup", parameters)
    }

    public func updateGroup(name: String, minSize: Int? = nil, maxSize: Int? = nil, desiredCapacity: Int? = nil,
                            launchTemplateID: String? = nil, launchTemplateVersion: String? = nil) async throws {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", name)
        parameters.set("MinSize", minSize)
        parameters.set("MaxSize", maxSize)
        parameters.set("DesiredCapacity", desiredCapacity)
        parameters.set("LaunchTemplate.LaunchTemplateId", launchTemplateID)
        parameters.set("LaunchTemplate.Version", launchTemplateVersion)
        _ = try await call("UpdateAutoScalingGroup", parameters)
    }

    public func setDesiredCapacity(group: String, _ capacity: Int) async throws {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", group)
        parameters.set("DesiredCapacity", capacity)
        _ = try await call("SetDesiredCapacity", parameters)
    }

    /// Terminates one instance of its group; with `decrement` the group's desired capacity goes
    /// down by one, otherwise the group launches a replacement.
    public func terminateInstance(_ instanceID: String, decrementDesiredCapacity decrement: Bool) async throws {
        var parameters = QueryParameters()
        parameters.set("InstanceId", instanceID)
        parameters.set("ShouldDecrementDesiredCapacity", decrement)
        _ = try await call("TerminateInstanceInAutoScalingGroup", parameters)
    }

    public func deleteGroup(_ name: String, force: Bool = true) async throws {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", name)
        parameters.set("ForceDelete", force)
        _ = try await call("DeleteAutoScalingGroup", parameters)
    }

    // MARK: Instance refresh

    public struct RefreshPreferences: Sendable {
        public var minHealthyPercentage: Int = 90
        public var instanceWarmup: Int?
        public var skipMatching: Bool = false
        public var autoRollback: Bool = true
        public init(minHealthyPercentage: Int = 90, instanceWarmup: Int? = nil, skipMatching: Bool = false,
                    autoRollback: Bool = true) {
            self.minHealthyPercentage = minHealthyPercentage
            self.instanceWarmup = instanceWarmup
            self.skipMatching = skipMatching
            self.autoRollback = autoRollback
        }
    }

    /// Starts replacing the group's instances; returns the refresh id.
    public func startInstanceRefresh(group: String, preferences: RefreshPreferences = RefreshPreferences(),
                                     launchTemplateID: String? = nil, launchTemplateVersion: String? = nil) async throws -> String {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", group)
        parameters.set("Strategy", "Rolling")
        parameters.set("Preferences.MinHealthyPercentage", preferences.minHealthyPercentage)
        parameters.set("Preferences.InstanceWarmup", preferences.instanceWarmup)
        parameters.set("Preferences.SkipMatching", preferences.skipMatching)
        parameters.set("Preferences.AutoRollback", preferences.autoRollback)
        parameters.set("DesiredConfiguration.LaunchTemplate.LaunchTemplateId", launchTemplateID)
        parameters.set("DesiredConfiguration.LaunchTemplate.Version", launchTemplateVersion)
        return try await call("StartInstanceRefresh", parameters).string("InstanceRefreshId") ?? ""
    }

    public struct InstanceRefresh: Sendable, Equatable {
        public var id: String
        /// Pending, InProgress, Successful, Failed, Cancelling, Cancelled, RollbackInProgress, ...
        public var status: String
        public var statusReason: String?
        public var percentageComplete: Int
        public var instancesToUpdate: Int
        public var startTime: Date?
        public var endTime: Date?
        /// The launch template version it replaces instances with (its DesiredConfiguration), when it names one.
        public var desiredVersion: String? = nil
    }

    public func describeInstanceRefreshes(group: String, ids: [String]? = nil) async throws -> [InstanceRefresh] {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", group)
        parameters.list("InstanceRefreshIds", ids)
        return try await call("DescribeInstanceRefreshes", parameters).list("InstanceRefreshes").map {
            InstanceRefresh(id: $0.string("InstanceRefreshId") ?? "", status: $0.string("Status") ?? "",
                            statusReason: $0.string("StatusReason"), percentageComplete: $0.int("PercentageComplete") ?? 0,
                            instancesToUpdate: $0.int("InstancesToUpdate") ?? 0, startTime: $0.date("StartTime"),
                            endTime: $0.date("EndTime"),
                            desiredVersion: $0.child("DesiredConfiguration")?.child("LaunchTemplate")?.string("Version"))
        }
    }

    public func cancelInstanceRefresh(group: String) async throws {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", group)
        _ = try await call("CancelInstanceRefresh", parameters)
    }

    public func rollbackInstanceRefresh(group: String) async throws {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", group)
        _ = try await call("RollbackInstanceRefresh", parameters)
    }

    // MARK: Scaling policies

    /// A target-tracking policy on average CPU (or `metric`), e.g. 50 %.
    public func putTargetTrackingPolicy(group: String, name: String, targetValue: Double,
                                        metric: String = "ASGAverageCPUUtilization") async throws -> String {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", group)
        parameters.set("PolicyName", name)
        parameters.set("PolicyType", "TargetTrackingScaling")
        parameters.set("TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType", metric)
        parameters.set("TargetTrackingConfiguration.TargetValue", String(targetValue))
        return try await call("PutScalingPolicy", parameters).string("PolicyARN") ?? ""
    }

    public struct Policy: Sendable, Equatable {
        public var name: String
        public var type: String
        public var targetValue: Double?
    }

    public func describePolicies(group: String) async throws -> [Policy] {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", group)
        return try await call("DescribePolicies", parameters).list("ScalingPolicies").map {
            Policy(name: $0.string("PolicyName") ?? "", type: $0.string("PolicyType") ?? "",
                   targetValue: $0["TargetTrackingConfiguration", "TargetValue"].flatMap { Double($0.text) })
        }
    }

    /// One thing the group did (launch, terminate) and why, from DescribeScalingActivities.
    public struct Activity: Sendable, Equatable {
        public var description: String
        public var cause: String
        /// Successful, InProgress, Failed, Cancelled, ...
        public var status: String
        public var started: Date?
        public var ended: Date?
    }

    /// The group's activities, newest first (AWS keeps six weeks of them).
    public func describeScalingActivities(group: String, maxRecords: Int = 10) async throws -> [Activity] {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", group)
        parameters.set("MaxRecords", maxRecords)
        return try await call("DescribeScalingActivities", parameters).list("Activities").map {
            Activity(description: $0.string("Description") ?? "", cause: $0.string("Cause") ?? "",
                     status: $0.string("StatusCode") ?? "", started: $0.date("StartTime"), ended: $0.date("EndTime"))
        }
    }
}
