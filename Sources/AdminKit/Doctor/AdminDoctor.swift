import AWS
import Foundation
import HTTP
import Terminal

/// What `adminctl doctor` found: the checks, and whose identity the credentials carry.
public struct AdminDoctorReport: Sendable, Encodable {
    public var checks: [Check]
    public var ok: Bool { !checks.contains { $0.status == .failed } }
    public var arn: String?
    public var account: String?

    enum CodingKeys: String, CodingKey { case checks, ok, arn, account }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checks, forKey: .checks)
        try container.encode(ok, forKey: .ok)
        try container.encode(arn, forKey: .arn)
        try container.encode(account, forKey: .account)
    }

    public func render(_ policy: ColorPolicy) -> String { Checklist(checks).render(policy) }
}

/// `adminctl doctor`: resolves credentials, region and endpoint as every adminctl command will,
/// then asks STS who they belong to. Each failure gets one paragraph: what, why, and the fix.
public struct AdminDoctor: Sendable {
    public var environment: [String: String]
    public var regionFlag: String?
    public var http: HTTPClient
    /// How long the unsigned probe of the endpoint may take before it counts as unreachable.
    public var probeTimeout: Duration = .seconds(10)
    /// Seconds since 1970, for comparing with the endpoint's clock.
    public var now: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    public init(environment: [String: String], regionFlag: String?, http: HTTPClient) {
        self.environment = environment
        self.regionFlag = regionFlag
        self.http = http
    }

    public func run() async -> AdminDoctorReport {
        var report = AdminDoctorReport(checks: [])
        let shared = SharedConfig.load(environment: environment)
        let configuration: AWSConfiguration
        do {
            configuration = try await AWSConfiguration.resolve(regionFlag: regionFlag, environment: environment, http: http)
        } catch {
            report.checks.append(Check("region", .failed, "\(error)",
                                       fix: "export AWS_REGION=eu-west-3, pass --region, or set region in your profile"))
            return report
        }

        let credentials: Credentials
        do {
            credentials = try await configuration.credentials.credentials()
            var detail = "access key \(credentials.maskedAccessKeyID) from \(credentials.source)"
            if credentials.sessionToken != nil { detail += ", temporary" }
            if let expiration = credentials.expiration {
                detail += ", expires in \(Format.duration(expiration.timeIntervalSince(Date(timeIntervalSince1970: now()))))"
            }
            report.checks.append(Check("credentials", .ok, detail))
        } catch {
            report.checks.append(Check("credentials", .failed, "\(error)",
                                       fix: "export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, set AWS_PROFILE, or attach an instance profile"))
            return report
        }
        report.checks.append(Check("region", .ok, "\(configuration.region.name) (from \(configuration.region.source))"))
        let endpoint = Endpoint.resolve(.sts, region: configuration.region.name, environment: environment, shared: shared)
        report.checks.append(Check("endpoint", .ok, "\(endpoint.url) (from \(endpoint.source))"))

        // One unsigned request first: it tells "cannot reach" apart from "refused", and its Date
        // header shows whether this machine's clock is off (AWS refuses signatures past 15 min).
        var probe = HTTPRequest(method: .get, url: endpoint.url + "/", timeouts: HTTPTimeouts(connect: min(.seconds(5), probeTimeout), total: probeTimeout))
        probe.caBundlePath = environment["AWS_CA_BUNDLE"]
        do {
            let response = try await http.send(probe)
            report.checks.append(clockCheck(serverDate: response.headers["Date"]))
        } catch let error as HTTPError {
            report.checks.append(Check("identity", .failed,
                                       "The STS endpoint \(endpoint.url) cannot be reached: \(error.summary)"
                                       + (error.detail.map { " (\($0))" } ?? "") + ".",
                                       fix: endpoint.isCustom
                                          ? "start the endpoint (for the simulated cloud: Tests/Fleet/fleet up) or fix \(endpoint.source)"
                                          : "check network access to AWS, proxy variables (https_proxy) and the region"))
            return report
        } catch {
            report.checks.append(Check("identity", .failed, "\(error)"))
            return report
        }

        do {
            let identity = try await STS(AWSClient(configuration)).getCallerIdentity()
            report.arn = identity.arn
            report.account = identity.account
            report.checks.append(Check("identity", .ok, "\(identity.arn) (account \(identity.account))"))
        } catch let error as AWSError {
            report.checks.append(Check("identity", .failed, explain(error), fix: error.hint))
        } catch {
            report.checks.append(Check("identity", .failed, "\(error)"))
        }
        return report
    }

    /// One paragraph: what STS said, in the admin's terms.
    func explain(_ error: AWSError) -> String {
        let what: String = switch error.code {
        case "SignatureDoesNotMatch", "IncompleteSignature": "STS rejected the signature: the secret key is wrong."
        case "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure":
            "STS does not know this access key."
        case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired": "The session token has expired."
        case "RequestTimeTooSkewed", "RequestExpired", "SignatureExpired": "STS says this machine's clock is wrong."
        case AWSError.connectionFailed: "STS did not answer."
        default: "STS refused GetCallerIdentity."
        }
        var text = "\(what) \(error.code)"
        if error.httpStatus > 0 { text += " (HTTP \(error.httpStatus))" }
        if !error.message.isEmpty { text += ": \(error.message)" }
        if let id = error.requestID { text += " [request id \(id)]" }
        return text
    }

    func clockCheck(serverDate: String?) -> Check {
        guard let serverDate, let date = HTTPDate.parse(serverDate) else {
            return Check("clock", .warning, "the endpoint sent no Date header; clock not compared")
        }
        return Check.clock(skew: date.timeIntervalSince1970 - now(), against: "the endpoint")
    }
}
