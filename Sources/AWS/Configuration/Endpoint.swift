/// The services we call, with the names the SDKs use for endpoint variables and signing.
public enum AWSService: String, Sendable, CaseIterable {
    case sts, s3, ec2, iam, ssm, autoScaling, elasticLoadBalancingV2, cloudFormation, rds, scheduler

    /// How each service is named: in errors, in `AWS_ENDPOINT_URL_<ID>` (the SDKs' service id,
    /// upper-cased with underscores), and in SigV4's credential scope and default host names.
    private var names: (display: String, environment: String, signing: String) {
        switch self {
        case .sts: ("STS", "STS", "sts")
        case .s3: ("S3", "S3", "s3")
        case .ec2: ("EC2", "EC2", "ec2")
        case .iam: ("IAM", "IAM", "iam")
        case .ssm: ("SSM", "SSM", "ssm")
        case .autoScaling: ("AutoScaling", "AUTO_SCALING", "autoscaling")
        case .elasticLoadBalancingV2: ("ELBv2", "ELASTIC_LOAD_BALANCING_V2", "elasticloadbalancing")
        case .cloudFormation: ("CloudFormation", "CLOUDFORMATION", "cloudformation")
        case .rds: ("RDS", "RDS", "rds")
        case .scheduler: ("Scheduler", "SCHEDULER", "scheduler")
        }
    }

    /// How errors name the service: "STS", "S3", "AutoScaling".
    public var displayName: String { names.display }

    /// The suffix of `AWS_ENDPOINT_URL_<ID>`.
    public var environmentSuffix: String { names.environment }

    /// The name used in SigV4's credential scope and in default host names.
    public var signingName: String { names.signing }

    /// IAM is global: one endpoint, signed for us-east-1.
    public var isGlobal: Bool { self == .iam }
}

/// The URL a service is reached at, and where that came from.
public struct Endpoint: Sendable, Equatable {
    public var url: String
    public var source: SettingSource
    /// True when the URL was configured (simulated cloud, VPC endpoint): S3 then uses path-style.
    public var isCustom: Bool { source != .defaultValue }

    public init(url: String, source: SettingSource) {
        self.url = url
        self.source = source
    }

    /// `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`,
    /// unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`; else the public AWS endpoint.
    public static func resolve(_ service: AWSService, region: String, environment: [String: String],
                               shared: SharedConfig) -> Endpoint {
        if environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() != "true" {
            for name in ["AWS_ENDPOINT_URL_\(service.environmentSuffix)", "AWS_ENDPOINT_URL"] {
                if let value = environment[name], !value.isEmpty {
                    return Endpoint(url: trimmed(value), source: .environment(name))
                }
            }
            let profile = SharedConfig.profileName(environment: environment)
            if let value = shared.profile(profile)?["endpoint_url"], !value.isEmpty {
                return Endpoint(url: trimmed(value), source: .profile(profile))
            }
        }
        return Endpoint(url: defaultURL(service, region: region), source: .defaultValue)
    }

    static func defaultURL(_ service: AWSService, region: String) -> String {
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        if service.isGlobal { return "https://iam.\(suffix)" }
        return "https://\(service.signingName).\(region).\(suffix)"
    }

    private static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
