import AWS
import Foundation
import HTTP

/// What every adminctl command that talks to AWS starts from: adminctl.toml (from the current
/// directory upwards, else ~/.config/adminctl/), the AWS client for its region, and the shared
/// stack's outputs when asked. One place, so every command finds the project, the region and
/// the infrastructure the same way and says the same thing when one is missing.
public struct AdminSession: Sendable {
    public var config: AdminConfig
    public var client: AWSClient
    /// The process environment (ADMINCTL_POLL_SECONDS, ADMINCTL_TEMPLATES, ...).
    public var environment: [String: String]

    public static func open(directory: String, environment: [String: String], http: HTTPClient) async throws -> AdminSession {
        let config = try AdminConfig.load(directory: directory, environment: environment)
        let configuration = try await AWSConfiguration.resolve(regionFlag: config.region, environment: environment, http: http)
        return AdminSession(config: config, client: AWSClient(configuration), environment: environment)
    }

    /// The project's name, or the error that says how to set it.
    public func project() throws -> String { try config.requiredProjectName() }

    /// The shared stack's outputs (VPC, subnets, groups, buckets, URLs); an error naming the fix
    /// when the stack is not there or not usable.
    public func sharedOutputs() async throws -> [String: String] {
        let stack = SharedStack(project: try project())
        guard let found = try await CloudFormation(client).stack(stack.name), found.status != "REVIEW_IN_PROGRESS",
              found.status != "DELETE_COMPLETE" else {
            throw InfraError(.stackState, "The shared infrastructure (stack \(stack.name)) is not created yet: run `adminctl infra up`.")
        }
        guard found.isHealthy || found.status.hasPrefix("UPDATE_") else {
            throw StackDeployment.problem(name: found.name, status: found.status, reason: found.statusReason)
                ?? InfraError(.stackState, "Stack \(stack.name) is \(found.status): `adminctl infra status` says more.")
        }
        return found.outputs
    }

    /// ADMINCTL_POLL_SECONDS: how often long operations poll AWS, when set (the simulator
    /// settles in milliseconds where AWS takes seconds).
    public var pollOverride: Duration? { Self.pollOverride(environment) }

    /// The same, for what opens without a session. Up to an hour: `inf` or `1e300` trapped
    /// converting to milliseconds (a crash instead of a setting ignored).
    public static func pollOverride(_ environment: [String: String]) -> Duration? {
        guard let seconds = environment["ADMINCTL_POLL_SECONDS"].flatMap(Double.init), seconds > 0, seconds <= 3600 else { return nil }
        return .milliseconds(Int(seconds * 1000))
    }

    /// `pollOverride`, else `standard`.
    public func pollInterval(standard: Duration) -> Duration { pollOverride ?? standard }
}
