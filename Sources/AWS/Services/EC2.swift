import Foundation

/// Amazon EC2 (its own query dialect): instances and tags, security groups, launch templates,
/// and the network lookups provisioning needs.
public struct EC2: QueryService {
    let client: AWSClient
    static let version = "2016-11-15"
    static let service = AWSService.ec2

    public init(_ client: AWSClient) { self.client = client }


    public struct Filter: Sendable {
        public var name: String
        public var values: [String]
        public init(_ name: String, _ values: [String]) {
            self.name = name
            self.values = values
        }
        public static func tag(_ key: String, _ values: [String]) -> Filter { Filter("tag:\(key)", values) }
    }

    static func add(_ filters: [Filter]?, to parameters: inout QueryParameters) {
        parameters.structures("Filter", filters, member: nil) { params, prefix, filter in
            params.set("\(prefix).Name", filter.name)
            params.list("\(prefix).Value", filter.values, member: nil)
        }
    }

    static func tags(_ node: XMLNode) -> [String: String] {
        var tags: [String: String] = [:]
        for item in node.list("tagSet") { tags[item.string("key") ?? ""] = item.string("value") ?? "" }
        return tags
    }

    // MARK: Instances

    public struct Instance: Sendable, Equatable {
        public var id: String
        /// pending, running, shutting-down, terminated, stopping, stopped.
        public var state: String
        public var instanceType: String
        public var imageID: String
        public var privateIP: String?
        public var subnetID: String?
        public var vpcID: String?
        public var launchTime: Date?
        public var securityGroupIDs: [String]
        public var instanceProfileARN: String?
        public var tags: [String: String]

        init(_ node: XMLNode) {
            id = node.string("instanceId") ?? ""
            state = node["instanceState", "name"]?.text ?? ""
            instanceType = node.string("instanceType") ?? ""
            imageID = node.string("imageId") ?? ""
            privateIP = node.string("privateIpAddress")
            subnetID = node.string("subnetId")
            vpcID = node.string("vpcId")
            launchTime = node.date("launchTime")
            securityGroupIDs = node.list("groupSet").compactMap { $0.string("groupId") }
            instanceProfileARN = node["iamInstanceProfile", "arn"]?.text
            tags = EC2.tags(node)
        }
    }

    /// Instances matching `filters` (or `ids`), page by page.
    public func describeInstances(ids: [String]? = nil, filters: [Filter]? = nil,
                                  pageSize: Int? = nil) -> Paginator<[Instance]> {
        Paginator { token in
            var parameters = QueryParameters()
            parameters.list("InstanceId", ids, member: nil)
            Self.add(filters, to: &parameters)
            parameters.set("MaxResults", pageSize)
            parameters.set("NextToken", token)
            let result = try await call("DescribeInstances", parameters)
            let instances = result.list("reservationSet").flatMap { $0.list("instancesSet").map(Instance.init) }
            return (instances, result.string("nextToken"))
        }
    }

    public struct RunInstancesInput: Sendable {
        public var imageID: String
        public var instanceType: String = "t3.micro"
        public var count: Int = 1
        public var subnetID: String?
        public var securityGroupIDs: [String] = []
        public var instanceProfileName: String?
        public var userData: String?
        public var tags: [String: String] = [:]
        public var launchTemplateID: String?
        /// EC2's idempotency token: a retried RunInstances starts the instances only once. Nil
        /// makes a fresh one for each `runInstances` call (resent on that call's retries); set
        /// it to make a call repeated after a restart of the caller the same request.
        public var clientToken: String?

        public init(imageID: String) { self.imageID = imageID }
    }

    public func runInstances(_ input: RunInstancesInput) async throws -> [Instance] {
        var parameters = QueryParameters()
        parameters.set("ImageId", input.imageID)
        parameters.set("InstanceType", input.instanceType)
        parameters.set("MinCount", input.count)
        parameters.set("MaxCount", input.count)
        parameters.set("SubnetId", input.subnetID)
        parameters.list("SecurityGroupId", input.securityGroupIDs.isEmpty ? nil : input.securityGroupIDs, member: nil)
        parameters.set("IamInstanceProfile.Name", input.instanceProfileName)
        parameters.set("UserData", input.userData.map { Data($0.utf8).base64EncodedString() })
        parameters.set("LaunchTemplate.LaunchTemplateId", input.launchTemplateID)
        parameters.set("ClientToken", input.clientToken ?? UUID().uuidString)
        if !input.tags.isEmpty {
            parameters.set("TagSpecification.1.ResourceType", "instance")
            parameters.tags("TagSpecification.1.Tag", input.tags, member: nil)
        }
        return try await call("RunInstances", parameters).list("instancesSet").map(Instance.init)
    }

    public func terminateInstances(_ ids: [String]) async throws {
        var parameters = QueryParameters()
        parameters.list("InstanceId", ids, member: nil)
        _ = try await call("TerminateInstances", parameters)
    }

    public func stopInstances(_ ids: [String]) async throws {
        var parameters = QueryParameters()
        parameters.list("InstanceId", ids, member: nil)
        _ = try await call("StopInstances", parameters)
    }

    public func startInstances(_ ids: [String]) async throws {
        var parameters = QueryParameters()
        parameters.list("InstanceId", ids, member: nil)
        _ = try await call("StartInstances", parameters)
    }

    // MARK: Tags

    public func createTags(resources: [String], tags: [String: String]) async throws {
        var parameters = QueryParameters()
        parameters.list("ResourceId", resources, member: nil)
        parameters.tags("Tag", tags, member: nil)
        _ = try await call("CreateTags", parameters)
    }

    /// The ids of the EBS volumes matching `filters` (`attachment.instance-id`, ...).
    public func volumeIDs(filters: [Filter]) async throws -> [String] {
        var parameters = QueryParameters()
        Self.add(filters, to: &parameters)
        return try await call("DescribeVolumes", parameters).list("volumeSet").compactMap { $0.string("volumeId") }
    }

    /// Starts a snapshot of a volume, tagged; returns its id.
    public func createSnapshot(volumeID: String, description: String, tags: [String: String]) async throws -> String {
        var parameters = QueryParameters()
        parameters.set("VolumeId", volumeID)
        parameters.set("Description", description)
        parameters.set("TagSpecification.1.ResourceType", "snapshot")
        parameters.tags("TagSpecification.1.Tag", tags, member: nil)
        return try await call("CreateSnapshot", parameters).string("snapshotId") ?? ""
    }

    public func deleteTags(resources: [String], keys: [String]) async throws {
        var parameters = QueryParameters()
        parameters.list("ResourceId", resources, member: nil)
        parameters.structures("Tag", keys, member: nil) { params, prefix, key in params.set("\(prefix).Key", key) }
        _ = try await call("DeleteTags", parameters)
    }

    public struct Tag: Sendable, Equatable {
        public var resourceID: String
        public var resourceType: String
        public var key: String
        public var value: String
    }

    public func describeTags(filters: [Filter]? = nil) -> Paginator<[Tag]> {
        Paginator { token in
            var parameters = QueryParameters()
            Self.add(filters, to: &parameters)
            parameters.set("NextToken", token)
            let result = try await call("DescribeTags", parameters)
            let tags = result.list("tagSet").map {
                Tag(resourceID: $0.string("resourceId") ?? "", resourceType: $0.string("resourceType") ?? "",
                    key: $0.string("key") ?? "", value: $0.string("value") ?? "")
            }
            return (tags, result.string("nextToken"))
        }
    }

    // MARK: Security groups

    public struct SecurityGroup: Sendable, Equatable {
        public var id: String
        public var name: String
        public var vpcID: String?
        public var ingress: [Permission]
        public var tags: [String: String]
    }

    /// One ingress rule: a protocol and port range, from CIDR ranges or other security groups.
    public struct Permission: Sendable, Equatable {
        public var ipProtocol: String
        public var fromPort: Int?
        public var toPort: Int?
        public var cidrs: [String]
        public var sourceGroupIDs: [String]

        public init(ipProtocol: String = "tcp", fromPort: Int?, toPort: Int?, cidrs: [String] = [], sourceGroupIDs: [String] = []) {
            self.ipProtocol = ipProtocol
            self.fromPort = fromPort
            self.toPort = toPort
            self.cidrs = cidrs
            self.sourceGroupIDs = sourceGroupIDs
        }
    }

    public func createSecurityGroup(name: String, description: String, vpcID: String?,
                                    tags: [String: String] = [:]) async throws -> String {
        var parameters = QueryParameters()
        parameters.set("GroupName", name)
        parameters.set("GroupDescription", description)
        parameters.set("VpcId", vpcID)
        if !tags.isEmpty {
            parameters.set("TagSpecification.1.ResourceType", "security-group")
            parameters.tags("TagSpecification.1.Tag", tags, member: nil)
        }
        return try await call("CreateSecurityGroup", parameters).string("groupId") ?? ""
    }

    public func describeSecurityGroups(ids: [String]? = nil, filters: [Filter]? = nil) -> Paginator<[SecurityGroup]> {
        Paginator { token in
            var parameters = QueryParameters()
            parameters.list("GroupId", ids, member: nil)
            Self.add(filters, to: &parameters)
            parameters.set("NextToken", token)
            let result = try await call("DescribeSecurityGroups", parameters)
            let groups = result.list("securityGroupInfo").map { node in
                SecurityGroup(id: node.string("groupId") ?? "", name: node.string("groupName") ?? "",
                              vpcID: node.string("vpcId"),
                              ingress: node.list("ipPermissions").map { permission in
                                  Permission(ipProtocol: permission.string("ipProtocol") ?? "",
                                             fromPort: permission.int("fromPort"), toPort: permission.int("toPort"),
                                             cidrs: permission.list("ipRanges").compactMap { $0.string("cidrIp") },
                                             sourceGroupIDs: permission.list("groups").compactMap { $0.string("groupId") })
                              },
                              tags: EC2.tags(node))
            }
            return (groups, result.string("nextToken"))
        }
    }

    static func add(_ permissions: [Permission], to parameters: inout QueryParameters) {
        parameters.structures("IpPermissions", permissions, member: nil) { params, prefix, permission in
            params.set("\(prefix).IpProtocol", permission.ipProtocol)
            params.set("\(prefix).FromPort", permission.fromPort)
            params.set("\(prefix).ToPort", permission.toPort)
            params.structures("\(prefix).IpRanges", permission.cidrs, member: nil) { params, prefix, cidr in
                params.set("\(prefix).CidrIp", cidr)
            }
            params.structures("\(prefix).Groups", permission.sourceGroupIDs, member: nil) { params, prefix, group in
                params.set("\(prefix).GroupId", group)
            }
        }
    }

    public func authorizeIngress(groupID: String, _ permissions: [Permission]) async throws {
        var parameters = QueryParameters()
        parameters.set("GroupId", groupID)
        Self.add(permissions, to: &parameters)
        _ = try await call("AuthorizeSecurityGroupIngress", parameters)
    }

    public func revokeIngress(groupID: String, _ permissions: [Permission]) async throws {
        var parameters = QueryParameters()
        parameters.set("GroupId", groupID)
        Self.add(permissions, to: &parameters)
        _ = try await call("RevokeSecurityGroupIngress", parameters)
    }

    public func deleteSecurityGroup(id: String) async throws {
        var parameters = QueryParameters()
        parameters.set("GroupId", id)
        _ = try await call("DeleteSecurityGroup", parameters)
    }

    // MARK: Launch templates

    public struct LaunchTemplate: Sendable, Equatable {
        public var id: String
        public var name: String
        public var defaultVersion: Int
        public var latestVersion: Int
    }

    public struct LaunchTemplateData: Sendable {
        public var imageID: String
        public var instanceType: String
        public var userData: String?
        public var securityGroupIDs: [String]
        public var instanceProfileName: String?
        public var tags: [String: String]

        public init(imageID: String, instanceType: String = "t3.small", userData: String? = nil,
                    securityGroupIDs: [String] = [], instanceProfileName: String? = nil, tags: [String: String] = [:]) {
            self.imageID = imageID
            self.instanceType = instanceType
            self.userData = userData
            self.securityGroupIDs = securityGroupIDs
            self.instanceProfileName = instanceProfileName
            self.tags = tags
        }

        func add(to parameters: inout QueryParameters) {
            parameters.set("LaunchTemplateData.ImageId", imageID)
            parameters.set("LaunchTemplateData.InstanceType", instanceType)
            parameters.set("LaunchTemplateData.UserData", userData.map { Data($0.utf8).base64EncodedString() })
            parameters.list("LaunchTemplateData.SecurityGroupId", securityGroupIDs.isEmpty ? nil : securityGroupIDs, member: nil)
            parameters.set("LaunchTemplateData.IamInstanceProfile.Name", instanceProfileName)
            if !tags.isEmpty {
                parameters.set("LaunchTemplateData.TagSpecification.1.ResourceType", "instance")
                parameters.tags("LaunchTemplateData.TagSpecification.1.Tag", tags, member: nil)
            }
        }
    }

    static func template(_ node: XMLNode) -> LaunchTemplate {
        LaunchTemplate(id: node.string("launchTemplateId") ?? "", name: node.string("launchTemplateName") ?? "",
                       defaultVersion: node.int("defaultVersionNumber") ?? 0, latestVersion: node.int("latestVersionNumber") ?? 0)
    }

    /// `clientToken` (EC2's idempotency token) is made once per call and resent on retries.
    public func createLaunchTemplate(name: String, data: LaunchTemplateData,
                                     clientToken: String = UUID().uuidString) async throws -> LaunchTemplate {
        var parameters = QueryParameters()
        parameters.set("LaunchTemplateName", name)
        parameters.set("ClientToken", clientToken)
        data.add(to: &parameters)
        let result = try await call("CreateLaunchTemplate", parameters)
        return Self.template(result.child("launchTemplate") ?? result)
    }

    /// A new version of the template; returns its number.
    public func createLaunchTemplateVersion(templateID: String, data: LaunchTemplateData,
                                            description: String? = nil, clientToken: String = UUID().uuidString) async throws -> Int {
        var parameters = QueryParameters()
        parameters.set("LaunchTemplateId", templateID)
        parameters.set("VersionDescription", description)
        parameters.set("ClientToken", clientToken)
        data.add(to: &parameters)
        let result = try await call("CreateLaunchTemplateVersion", parameters)
        return result["launchTemplateVersion", "versionNumber"].flatMap { Int($0.text) } ?? 0
    }

    /// A new version that inherits every launch parameter of `sourceVersion` (a number, or
    /// `$Latest`/`$Default`), with `imageID` and `userData` (plain text) overwriting its own when
    /// given; returns the new version's number.
    public func createLaunchTemplateVersion(templateID: String, sourceVersion: String, imageID: String? = nil,
                                            userData: String? = nil, description: String? = nil,
                                            clientToken: String = UUID().uuidString) async throws -> Int {
        var parameters = QueryParameters()
        parameters.set("LaunchTemplateId", templateID)
        parameters.set("SourceVersion", sourceVersion)
        parameters.set("VersionDescription", description)
        parameters.set("ClientToken", clientToken)
        parameters.set("LaunchTemplateData.ImageId", imageID)
        parameters.set("LaunchTemplateData.UserData", userData.map { Data($0.utf8).base64EncodedString() })
        let result = try await call("CreateLaunchTemplateVersion", parameters)
        return result["launchTemplateVersion", "versionNumber"].flatMap { Int($0.text) } ?? 0
    }

    public struct LaunchTemplateVersion: Sendable, Equatable {
        public var templateID: String
        public var number: Int
        public var description: String?
        public var isDefault: Bool
        public var imageID: String?
        /// The user data as text (EC2 holds it base64-encoded).
        public var userData: String?
    }

    /// Versions of one template: numbers, `$Latest` or `$Default`.
    public func describeLaunchTemplateVersions(templateID: String, versions: [String]) async throws -> [LaunchTemplateVersion] {
        var parameters = QueryParameters()
        parameters.set("LaunchTemplateId", templateID)
        parameters.list("LaunchTemplateVersion", versions, member: nil)
        return try await call("DescribeLaunchTemplateVersions", parameters).list("launchTemplateVersionSet").map { node in
            let encoded = node["launchTemplateData", "userData"]?.text
            return LaunchTemplateVersion(
                templateID: node.string("launchTemplateId") ?? templateID, number: node.int("versionNumber") ?? 0,
                description: node.string("versionDescription"), isDefault: node.string("defaultVersion") == "true",
                imageID: node["launchTemplateData", "imageId"]?.text,
                userData: encoded.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    public func setDefaultLaunchTemplateVersion(templateID: String, version: Int) async throws {
        var parameters = QueryParameters()
        parameters.set("LaunchTemplateId", templateID)
        parameters.set("SetDefaultVersion", String(version))
        _ = try await call("ModifyLaunchTemplate", parameters)
    }

    public func describeLaunchTemplates(names: [String]? = nil, ids: [String]? = nil) async throws -> [LaunchTemplate] {
        var parameters = QueryParameters()
        parameters.list("LaunchTemplateName", names, member: nil)
        parameters.list("LaunchTemplateId", ids, member: nil)
        return try await call("DescribeLaunchTemplates", parameters).list("launchTemplates").map(Self.template)
    }

    public func deleteLaunchTemplate(id: String) async throws {
        var parameters = QueryParameters()
        parameters.set("LaunchTemplateId", id)
        _ = try await call("DeleteLaunchTemplate", parameters)
    }

    // MARK: Network and images

    public struct Subnet: Sendable, Equatable {
        public var id: String
        public var vpcID: String
        public var availabilityZone: String
        public var cidr: String
    }

    public func describeVPCs(filters: [Filter]? = nil) async throws -> [(id: String, cidr: String, isDefault: Bool)] {
        var parameters = QueryParameters()
        Self.add(filters, to: &parameters)
        return try await call("DescribeVpcs", parameters).list("vpcSet").map {
            ($0.string("vpcId") ?? "", $0.string("cidrBlock") ?? "", $0.bool("isDefault") ?? false)
        }
    }

    public func describeSubnets(filters: [Filter]? = nil) async throws -> [Subnet] {
        var parameters = QueryParameters()
        Self.add(filters, to: &parameters)
        return try await call("DescribeSubnets", parameters).list("subnetSet").map {
            Subnet(id: $0.string("subnetId") ?? "", vpcID: $0.string("vpcId") ?? "",
                   availabilityZone: $0.string("availabilityZone") ?? "", cidr: $0.string("cidrBlock") ?? "")
        }
    }

    public struct AvailabilityZone: Sendable, Equatable {
        public var name: String
        /// available, information, impaired, unavailable.
        public var state: String
        /// availability-zone, local-zone or wavelength-zone.
        public var zoneType: String?
    }

    /// The region's zones (only those enabled for the account unless all are asked for).
    public func describeAvailabilityZones() async throws -> [AvailabilityZone] {
        try await call("DescribeAvailabilityZones").list("availabilityZoneInfo").map {
            AvailabilityZone(name: $0.string("zoneName") ?? "", state: $0.string("zoneState") ?? "", zoneType: $0.string("zoneType"))
        }
    }

    /// Image ids matching `filters` (e.g. the Debian 12 AMI by name).
    public func describeImages(owners: [String]? = nil, filters: [Filter]? = nil) async throws -> [(id: String, name: String)] {
        var parameters = QueryParameters()
        parameters.list("Owner", owners, member: nil)
        Self.add(filters, to: &parameters)
        return try await call("DescribeImages", parameters).list("imagesSet").map {
            ($0.string("imageId") ?? "", $0.string("name") ?? "")
        }
    }
}
