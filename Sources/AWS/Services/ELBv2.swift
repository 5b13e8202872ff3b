import Foundation

/// Elastic Load Balancing v2: the ALB in front of prod and dev, its target groups and health.
public struct ELBv2: QueryService {
    let client: AWSClient
    static let version = "2015-12-01"
    static let service = AWSService.elasticLoadBalancingV2

    public init(_ client: AWSClient) { self.client = client }


    public struct LoadBalancer: Sendable, Equatable {
        public var arn: String
        public var name: String
        public var dnsName: String
        public var state: String
    }

    public func describeLoadBalancers(names: [String]? = nil) -> Paginator<[LoadBalancer]> {
        Paginator { marker in
            var parameters = QueryParameters()
            parameters.list("Names", names)
            parameters.set("Marker", marker)
            let result = try await call("DescribeLoadBalancers", parameters)
            let balancers = result.list("LoadBalancers").map {
                LoadBalancer(arn: $0.string("LoadBalancerArn") ?? "", name: $0.string("LoadBalancerName") ?? "",
                             dnsName: $0.string("DNSName") ?? "", state: $0["State", "Code"]?.text ?? "")
            }
            return (balancers, result.string("NextMarker"))
        }
    }

    public func createLoadBalancer(name: String, subnetIDs: [String], securityGroupIDs: [String] = []) async throws -> LoadBalancer {
        var parameters = QueryParameters()
        parameters.set("Name", name)
        parameters.list("Subnets", subnetIDs)
        parameters.list("SecurityGroups", securityGroupIDs.isEmpty ? nil : securityGroupIDs)
        let node = try await call("CreateLoadBalancer", parameters).list("LoadBalancers").first ?? XMLNode(name: "")
        return LoadBalancer(arn: node.string("LoadBalancerArn") ?? "", name: node.string("LoadBalancerName") ?? "",
                            dnsName: node.string("DNSName") ?? "", state: node["State", "Code"]?.text ?? "")
    }

    public struct TargetGroup: Sendable, Equatable {
        public var arn: String
        public var name: String
        public var port: Int
        public var healthCheckPath: String?
        public var loadBalancerARNs: [String]
    }

    static func targetGroup(_ node: XMLNode) -> TargetGroup {
        TargetGroup(arn: node.string("TargetGroupArn") ?? "", name: node.string("TargetGroupName") ?? "",
                    port: node.int("Port") ?? 0, healthCheckPath: node.string("HealthCheckPath"),
                    loadBalancerARNs: node.list("LoadBalancerArns").map(\.text))
    }

    public func createTargetGroup(name: String, vpcID: String, port: Int = 80, healthCheckPath: String = "/health") async throws -> TargetGroup {
        var parameters = QueryParameters()
        parameters.set("Name", name)
        parameters.set("Protocol", "HTTP")
        parameters.set("Port", port)
        parameters.set("VpcId", vpcID)
        parameters.set("HealthCheckPath", healthCheckPath)
        parameters.set("TargetType", "instance")
        return Self.targetGroup(try await call("CreateTargetGroup", parameters).list("TargetGroups").first ?? XMLNode(name: ""))
    }

    public func describeTargetGroups(names: [String]? = nil, arns: [String]? = nil) -> Paginator<[TargetGroup]> {
        Paginator { marker in
            var parameters = QueryParameters()
            parameters.list("Names", names)
            parameters.list("TargetGroupArns", arns)
            parameters.set("Marker", marker)
            let result = try await call("DescribeTargetGroups", parameters)
            return (result.list("TargetGroups").map(Self.targetGroup), result.string("NextMarker"))
        }
    }

    public func createListener(loadBalancerARN: String, targetGroupARN: String, port: Int = 80) async throws -> String {
        var parameters = QueryParameters()
        parameters.set("LoadBalancerArn", loadBalancerARN)
        parameters.set("Protocol", "HTTP")
        parameters.set("Port", port)
        parameters.set("DefaultActions.member.1.Type", "forward")
        parameters.set("DefaultActions.member.1.TargetGroupArn", targetGroupARN)
        return try await call("CreateListener", parameters).list("Listeners").first?.string("ListenerArn") ?? ""
    }

    public func registerTargets(targetGroupARN: String, instanceIDs: [String]) async throws {
        var parameters = QueryParameters()
        parameters.set("TargetGroupArn", targetGroupARN)
        parameters.structures("Targets", instanceIDs) { params, prefix, id in params.set("\(prefix).Id", id) }
        _ = try await call("RegisterTargets", parameters)
    }

    public func deregisterTargets(targetGroupARN: String, instanceIDs: [String]) async throws {
        var parameters = QueryParameters()
        parameters.set("TargetGroupArn", targetGroupARN)
        parameters.structures("Targets", instanceIDs) { params, prefix, id in params.set("\(prefix).Id", id) }
        _ = try await call("DeregisterTargets", parameters)
    }

    public struct TargetHealth: Sendable, Equatable {
        public var instanceID: String
        public var port: Int?
        /// initial, healthy, unhealthy, unused, draining, unavailable.
        public var state: String
        public var reason: String?
    }

    public func describeTargetHealth(targetGroupARN: String) async throws -> [TargetHealth] {
        var parameters = QueryParameters()
        parameters.set("TargetGroupArn", targetGroupARN)
        return try await call("DescribeTargetHealth", parameters).list("TargetHealthDescriptions").map {
            TargetHealth(instanceID: $0["Target", "Id"]?.text ?? "", port: $0["Target", "Port"].flatMap { Int($0.text) },
                         state: $0["TargetHealth", "State"]?.text ?? "", reason: $0["TargetHealth", "Reason"]?.text)
        }
    }
}
