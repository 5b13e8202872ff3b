import AWS
import Foundation
import HTTP
import Terminal

/// `adminctl doctor`: credentials, region, endpoint and a reachable STS, each explained.
public struct AdminDoctor: Sendable {
    public var environment: [String: String]
    public var regionFlag: String?
    public var http: HTTPClient

    public init(environment: [String: String], regionFlag: String?, http: HTTPClient) {
        self.environment = environment
        self.regionFlag = regionFlag
        self.http = http
    }

    public func run() async -> Checklist {
        let shared = SharedConfig.load(environment: environment)
        var checks = [credentials(shared)]
        let region = Region.resolve(flag: regionFlag, environment: environment, shared: shared)
        if let region {
            checks.append(Check("region", .ok, "\(region.name) (from \(region.source))"))
        } else {
            checks.append(Check("region", .failed, "no region configured",
                                fix: "export AWS_REGION=eu-west-3, pass --region, or set region in your profile"))
        }
        let endpoint = Endpoint.resolve(.sts, region: region?.name ?? "us-east-1", environment: environment, shared: shared)
        if region == nil && !endpoint.isCustom {
            // Without a region the public endpoint is a guess; do not send anything to it.
            checks.append(Check("sts", .failed, "not contacted: no region and no AWS_ENDPOINT_URL",
                                fix: "set a region (or AWS_ENDPOINT_URL for the simulated cloud) and run again"))
            return Checklist(checks)
        }
        checks.append(Check("endpoint", .ok, "\(endpoint.url) (from \(endpoint.source))"))
        checks.append(await reachability(endpoint))
        return Checklist(checks)
    }

    func credentials(_ shared: SharedConfig) -> Check {
        if let found = Credentials.fromEnvironment(environment) {
            return Check("credentials", .ok, "access key \(found.maskedAccessKeyID) from the environment"
                         + (found.sessionToken != nil ? " (with session token)" : ""))
        }
        let profile = SharedConfig.profileName(environment: environment)
        if let found = Credentials.fromProfile(profile, shared: shared) {
            return Check("credentials", .ok, "access key \(found.maskedAccessKeyID) from profile \(profile)")
        }
        if let settings = shared.profile(profile) {
            if let role = settings["role_arn"] {
                return Check("credentials", .ok, "profile \(profile) assumes \(role)")
            }
            if settings["credential_process"] != nil {
                return Check("credentials", .ok, "profile \(profile) runs a credential_process")
            }
        }
        if environment["AWS_PROFILE"] != nil {
            return Check("credentials", .failed, "profile \(profile) not found in \(shared.configPath) or \(shared.credentialsPath)",
                         fix: "check AWS_PROFILE, or create it with `aws configure --profile \(profile)`")
        }
        return Check("credentials", .warning, "none in the environment or profile \(profile); instance metadata (IMDSv2) will be tried",
                     fix: "on the admin machine this is normal; elsewhere export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or set AWS_PROFILE")
    }

    func reachability(_ endpoint: Endpoint) async -> Check {
        var request = HTTPRequest(method: .post, url: endpoint.url + "/",
                                  headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                  body: .string("Action=GetCallerIdentity&Version=2011-06-15"),
                                  timeouts: HTTPTimeouts(connect: .seconds(5), total: .seconds(10)))
        request.caBundlePath = environment["AWS_CA_BUNDLE"]
        do {
            let response = try await http.send(request)
            let millis = Int(response.metrics.total.seconds * 1000)
            return Check("sts", .ok, "STS endpoint answered HTTP \(response.status) in \(millis) ms")
        } catch let error as HTTPError {
            return Check("sts", .failed, "STS endpoint \(endpoint.url) is unreachable: \(error.summary)"
                         + (error.detail.map { " (\($0))" } ?? ""),
                         fix: endpoint.isCustom
                            ? "start the endpoint (for the simulated cloud: Tests/Fleet/fleet up) or fix \(endpoint.source)"
                            : "check network access to AWS, proxy variables (https_proxy) and the region")
        } catch {
            return Check("sts", .failed, "STS endpoint \(endpoint.url) is unreachable: \(error)")
        }
    }
}
